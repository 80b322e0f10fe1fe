package emrfs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/emrs3/emrs3/authz"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

const (
	propRoleMapping = "fs.s3.authorization.roleMapping"
	propSTSEndpoint = "fs.s3.sts.endpoint"
	propDuration    = "fs.s3.sts.sessionDurationSeconds"
	propCustom      = "fs.s3.customAWSCredentialsProvider"
	testMapping     = "arn:aws:iam::123456789101:role/r1=u:user1;user2,arn:aws:iam::123456789101:role/r2=p:s3://b/"
)

func configWith(props map[string]string) *emrfs.Config {
	c := emrfs.NewConfig()
	for k, v := range props {
		c.Set(k, v)
	}
	return c
}

// builtResolver is what NewRoleResolver configured, seen through the hooks
// of RoleOptions (applied after the properties).
type builtResolver struct {
	endpoint, region string
	opts             authz.Options
}

func buildResolver(t *testing.T, cfg *emrfs.Config, awsCfg aws.Config, optFns ...func(*emrfs.RoleOptions)) (*authz.Resolver, builtResolver, error) {
	t.Helper()
	var b builtResolver
	fns := append(optFns, func(o *emrfs.RoleOptions) {
		o.STS = append(o.STS, func(so *sts.Options) { b.endpoint, b.region = aws.ToString(so.BaseEndpoint), so.Region })
		o.Resolver = append(o.Resolver, func(ro *authz.Options) { b.opts = *ro })
	})
	r, err := emrfs.NewRoleResolver(context.Background(), cfg, awsCfg, fns...)
	return r, b, err
}

// TestRoleProperties: the credential properties, read by emrfs (authz
// knows no property names), configure the STS client and the resolver.
func TestRoleProperties(t *testing.T) {
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIACLUSTER", "cluster-secret", "")}
	tests := []struct {
		name             string
		props            map[string]string
		endpoint, region string
		duration         time.Duration
	}{
		{"unset", nil, "", "us-east-1", 0},
		{"blank", map[string]string{propRoleMapping: " ", propSTSEndpoint: "", propDuration: " ", propCustom: " "}, "", "us-east-1", 0},
		{"all", map[string]string{propRoleMapping: testMapping, propSTSEndpoint: " sts.eu-west-1.amazonaws.com ", propDuration: "3600"},
			"https://sts.eu-west-1.amazonaws.com", "eu-west-1", time.Hour},
		{"global sts", map[string]string{propSTSEndpoint: "https://sts.amazonaws.com"}, "https://sts.amazonaws.com", "us-east-1", 0},
		{"fips sts", map[string]string{propSTSEndpoint: "sts-fips.us-gov-west-1.amazonaws.com"}, "https://sts-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1", 0},
		{"china sts", map[string]string{propSTSEndpoint: "sts.cn-north-1.amazonaws.com.cn"}, "https://sts.cn-north-1.amazonaws.com.cn", "cn-north-1", 0},
		{"private endpoint", map[string]string{propSTSEndpoint: "http://127.0.0.1:8080"}, "http://127.0.0.1:8080", "us-east-1", 0},
		{"vpc endpoint", map[string]string{propSTSEndpoint: "vpce-1a2b.sts.us-east-1.vpce.amazonaws.com"}, "https://vpce-1a2b.sts.us-east-1.vpce.amazonaws.com", "us-east-1", 0},
		{"lower bound", map[string]string{propDuration: "900"}, "", "us-east-1", 15 * time.Minute},
		{"upper bound", map[string]string{propDuration: "43200"}, "", "us-east-1", 12 * time.Hour},
	}
	for _, tt := range tests {
		_, b, err := buildResolver(t, configWith(tt.props), awsCfg, func(o *emrfs.RoleOptions) {
			o.Resolver = append(o.Resolver, func(ro *authz.Options) { ro.ExternalID = "ext-id" })
		})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if b.endpoint != tt.endpoint || b.region != tt.region || b.opts.Duration != tt.duration || b.opts.ExternalID != "ext-id" || b.opts.Default == nil {
			t.Errorf("%s: endpoint %q region %q duration %v external id %q", tt.name, b.endpoint, b.region, b.opts.Duration, b.opts.ExternalID)
		}
	}
	ms, err := configWith(map[string]string{propRoleMapping: testMapping}).RoleMappings()
	want := []authz.Mapping{
		{Role: "arn:aws:iam::123456789101:role/r1", IdentifierType: authz.User, Identifiers: []string{"user1", "user2"}},
		{Role: "arn:aws:iam::123456789101:role/r2", IdentifierType: authz.Prefix, Identifiers: []string{"s3://b/"}},
	}
	if err != nil || !reflect.DeepEqual(ms, want) {
		t.Fatalf("RoleMappings = %+v, %v", ms, err)
	}
	// No default credentials and no DenyUnmapped: authz.New refuses.
	if _, _, err := buildResolver(t, configWith(map[string]string{propRoleMapping: testMapping}), aws.Config{}); err == nil {
		t.Fatal("no default credentials and no DenyUnmapped accepted")
	}
}

func TestRolePropertyErrors(t *testing.T) {
	tests := []struct {
		name, prop, value, msg string
	}{
		{"duration text", propDuration, "1h", "whole number of seconds"},
		{"duration fraction", propDuration, "900.5", "whole number of seconds"},
		{"duration short", propDuration, "899", "900 to 43200"},
		{"duration long", propDuration, "43201", "900 to 43200"},
		{"duration negative", propDuration, "-900", "900 to 43200"},
		{"endpoint scheme", propSTSEndpoint, "ftp://sts.amazonaws.com", "not an STS endpoint"},
		{"endpoint no host", propSTSEndpoint, "https://", "not an STS endpoint"},
		{"endpoint user info", propSTSEndpoint, "https://user:pw@sts.amazonaws.com", "not an STS endpoint"},
		{"endpoint query", propSTSEndpoint, "https://sts.amazonaws.com/?Action=x", "not an STS endpoint"},
		{"endpoint garbage", propSTSEndpoint, "%zz", "not an STS endpoint"},
		{"mapping", propRoleMapping, "arn:aws:iam::123456789101:role/r=x:a", "role mapping #1 (index 0): IdentifierType"},
	}
	awsCfg := aws.Config{Credentials: credentials.NewStaticCredentialsProvider("AKIA", "s", "")}
	for _, tt := range tests {
		_, _, err := buildResolver(t, configWith(map[string]string{tt.prop: tt.value}), awsCfg)
		var ce *emrfs.ConfigError
		if !errors.As(err, &ce) || !errors.Is(err, emrfs.ErrInvalidConfig) {
			t.Errorf("%s: %v is not a *ConfigError", tt.name, err)
			continue
		}
		if ce.Property != tt.prop || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), tt.prop) {
			t.Errorf("%s: %q (property %s) does not name %s and say %q", tt.name, err, ce.Property, tt.prop, tt.msg)
		}
		if strings.Contains(err.Error(), "authz: authz:") || strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: doubled prefix or password in %q", tt.name, err)
		}
	}
	// Every problem is reported; the mapping one unwraps to its
	// *authz.MappingError.
	_, _, err := buildResolver(t, configWith(map[string]string{propRoleMapping: "arn:aws:iam::123456789101:role/r=u:", propDuration: "1"}), awsCfg)
	var me *authz.MappingError
	if !errors.As(err, &me) || me.Field != "Identifiers" || !strings.Contains(err.Error(), propDuration) {
		t.Fatalf("want both errors, the mapping one as a *MappingError: %v", err)
	}
	// A property value over 1 MiB matches ErrTooLarge, as the other
	// oversized configuration inputs do.
	big := "arn:aws:iam::123456789101:role/r=u:" + strings.Repeat("u", 1<<20)
	_, _, err = buildResolver(t, configWith(map[string]string{propRoleMapping: big}), awsCfg)
	var ce *emrfs.ConfigError
	if !errors.As(err, &ce) || !errors.Is(err, emrfs.ErrTooLarge) || !errors.Is(err, emrfs.ErrInvalidConfig) || !strings.Contains(err.Error(), "1 MiB") {
		t.Fatalf("oversized %s: %v, want a *ConfigError matching ErrTooLarge", propRoleMapping, err)
	}
}

// TestRoleMappingsSecurityConfigurationPrecedence: the security
// configuration's mappings win over the property, with a warning; a
// malformed property is still an error, so that a typo is not hidden.
func TestRoleMappingsSecurityConfigurationPrecedence(t *testing.T) {
	st := emrfstest.Start(t)
	sec := emrfstest.RoleARN("sec")
	st.STS.CreateRole(sec, emrfstest.AdminARN)
	cfg := configWith(map[string]string{propRoleMapping: testMapping})
	if err := cfg.ApplySecurityConfiguration([]byte(`{"AuthorizationConfiguration":{"EmrFsConfiguration":{"RoleMappings":[
		{"Role":"` + sec + `","IdentifierType":"User","Identifiers":["u"]}]}}}`)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	r, _, err := buildResolver(t, cfg, st.Config, func(o *emrfs.RoleOptions) {
		o.Resolver = []func(*authz.Options){func(o *authz.Options) { o.Logger = slog.New(slog.NewTextHandler(&buf, nil)) }}
	})
	if err != nil {
		t.Fatal(err)
	}
	if d, _, err := r.Resolve(authz.WithIdentity(context.Background(), authz.Identity{User: "u"}), "s3://b/k"); err != nil || d.Role != sec {
		t.Fatalf("%+v, %v; want the security configuration's mapping", d, err)
	}
	if d, _, err := r.Resolve(authz.WithIdentity(context.Background(), authz.Identity{User: "user1"}), "s3://x/k"); err != nil || d.Index != -1 {
		t.Fatalf("%+v, %v; the property's mappings should be ignored", d, err)
	}
	if !strings.Contains(buf.String(), propRoleMapping+" is ignored") {
		t.Fatalf("no warning that the property is ignored: %s", buf.String())
	}
	cfg.Set(propRoleMapping, "bad")
	if _, _, err := buildResolver(t, cfg, st.Config); !errors.Is(err, authz.ErrInvalidMapping) {
		t.Fatalf("malformed property: %v", err)
	}
}

// TestRoleCustomCredentialsProvider: fs.s3.customAWSCredentialsProvider
// names a factory of the one provider registry.
func TestRoleCustomCredentialsProvider(t *testing.T) {
	st := emrfstest.Start(t)
	r1 := emrfstest.RoleARN("custom-r1")
	st.STS.CreateRole(r1, emrfstest.AdminARN)
	const name = "com.example.BucketCredentialsProvider"
	reg := &emrfs.Providers{}
	reg.RegisterCredentials(name, func(_ context.Context, cfg emrfs.ProviderConfig) (authz.CustomFunc, error) {
		key, _ := cfg.Get("my.accessKey")
		secret, _ := cfg.Get("my.secretKey")
		if key == "" {
			return nil, errors.New("my.accessKey is not set")
		}
		p := credentials.NewStaticCredentialsProvider(key, secret, "")
		return func(_ context.Context, _ authz.Identity, uri string) (aws.CredentialsProvider, bool, error) {
			return p, strings.HasPrefix(uri, "s3://partner/"), nil
		}, nil
	})
	reg.RegisterCredentials("broken", func(context.Context, emrfs.ProviderConfig) (authz.CustomFunc, error) { return nil, nil })
	if got := reg.CredentialsNames(); !reflect.DeepEqual(got, []string{"broken", name}) {
		t.Fatalf("CredentialsNames = %v", got)
	}
	cfg := configWith(map[string]string{propCustom: name, "my.accessKey": "AKIAPARTNER", "my.secretKey": "${my.secret}", "my.secret": "partner-secret",
		propRoleMapping: r1 + "=u:user1"})
	r, err := emrfs.NewRoleResolver(context.Background(), cfg, st.Config, func(o *emrfs.RoleOptions) { o.Providers = reg })
	if err != nil {
		t.Fatal(err)
	}
	user1 := authz.WithIdentity(context.Background(), authz.Identity{User: "user1"})
	d, p, err := r.Resolve(user1, "s3://partner/x")
	if err != nil || d.Reason != "custom credentials provider "+name || d.Index != -1 {
		t.Fatalf("custom: %+v, %v", d, err)
	}
	if c, err := p.Retrieve(context.Background()); err != nil || c.SecretAccessKey != "partner-secret" {
		t.Fatalf("custom credentials: %v (${...} expanded by ProviderConfig.Get)", err)
	}
	if d, _, err := r.Resolve(user1, "s3://other/x"); err != nil || d.Index != 0 {
		t.Fatalf("declined by the custom provider: %+v, %v", d, err)
	}

	for _, tt := range []struct {
		name  string
		props map[string]string
		want  error
		msg   string
	}{
		{"unknown", map[string]string{propCustom: "com.example.Nope"}, emrfs.ErrUnknownProvider, "registered: broken, " + name},
		{"factory error", map[string]string{propCustom: name}, emrfs.ErrInvalidConfig, "my.accessKey is not set"},
		{"nil provider", map[string]string{propCustom: "broken"}, emrfs.ErrInvalidConfig, "returned no provider"},
	} {
		_, err := emrfs.NewRoleResolver(context.Background(), configWith(tt.props), st.Config, func(o *emrfs.RoleOptions) { o.Providers = reg })
		var ce *emrfs.ConfigError
		if !errors.Is(err, tt.want) || !errors.As(err, &ce) || ce.Property != propCustom || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}

	// DefaultProviders is used when none is given.
	emrfs.DefaultProviders.RegisterCredentials("test-default-provider", func(context.Context, emrfs.ProviderConfig) (authz.CustomFunc, error) {
		return func(context.Context, authz.Identity, string) (aws.CredentialsProvider, bool, error) {
			return st.Config.Credentials, true, nil
		}, nil
	})
	r, err = emrfs.NewRoleResolver(context.Background(), configWith(map[string]string{propCustom: "test-default-provider"}), st.Config)
	if err != nil {
		t.Fatal(err)
	}
	if d, _, err := r.Resolve(user1, "s3://b/k"); err != nil || d.Reason != "custom credentials provider test-default-provider" {
		t.Fatalf("default registry: %+v, %v", d, err)
	}
}

// TestRoleResolverTracerProvider: a resolver built with
// RoleOptions.TracerProvider puts the SDK's STS span inside an
// authz.AssumeRole span.
func TestRoleResolverTracerProvider(t *testing.T) {
	st := emrfstest.Start(t)
	role := emrfstest.RoleARN("traced-props")
	st.STS.CreateRole(role, emrfstest.AdminARN)
	rec := &recorder{}
	r, err := emrfs.NewRoleResolver(context.Background(), configWith(map[string]string{propRoleMapping: role + "=u:alice"}), st.Config,
		func(o *emrfs.RoleOptions) { o.TracerProvider = rec })
	if err != nil {
		t.Fatal(err)
	}
	ctx := authz.WithIdentity(context.Background(), authz.Identity{User: "alice", Groups: []string{}})
	_, p, err := r.Resolve(ctx, "s3://bucket/key")
	if err != nil || p == nil {
		t.Fatalf("Resolve: %v, %v", p, err)
	}
	if _, err := p.Retrieve(ctx); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var paths []string
	for _, s := range rec.spans {
		if s.path() == "authz.AssumeRole > STS.AssumeRole" {
			return
		}
		paths = append(paths, s.path())
	}
	t.Errorf("no STS.AssumeRole span inside authz.AssumeRole:\n%s", strings.Join(paths, "\n"))
}

// TestSecurityConfigurationRoleMappingsOnce: the security configuration is
// parsed once, by emrfs; its RoleMappings array goes to
// rolemap.ParseRoleMappings.
func TestSecurityConfigurationRoleMappingsOnce(t *testing.T) {
	const seed = `{ "AuthorizationConfiguration": { "EmrFsConfiguration": { "RoleMappings": [{ "Role": "arn:aws:iam::123456789101:role/allow_EMRFS_access_for_user1", "IdentifierType": "User", "Identifiers": [ "user1" ] },{ "Role": "arn:aws:iam::123456789101:role/allow_EMRFS_access_to_MyBuckets", "IdentifierType": "Prefix", "Identifiers": [ "s3://MyBucket/","s3://MyOtherBucket/" ] },{ "Role": "arn:aws:iam::123456789101:role/allow_EMRFS_access_for_AdminGroup", "IdentifierType": "Group", "Identifiers": [ "AdminGroup" ] }] } } }`
	cfg := emrfs.NewConfig()
	if err := cfg.ApplySecurityConfiguration([]byte(seed)); err != nil {
		t.Fatal(err)
	}
	want := []authz.Mapping{
		{Role: "arn:aws:iam::123456789101:role/allow_EMRFS_access_for_user1", IdentifierType: authz.User, Identifiers: []string{"user1"}},
		{Role: "arn:aws:iam::123456789101:role/allow_EMRFS_access_to_MyBuckets", IdentifierType: authz.Prefix, Identifiers: []string{"s3://MyBucket/", "s3://MyOtherBucket/"}},
		{Role: "arn:aws:iam::123456789101:role/allow_EMRFS_access_for_AdminGroup", IdentifierType: authz.Group, Identifiers: []string{"AdminGroup"}},
	}
	if ms, err := cfg.RoleMappings(); err != nil || !reflect.DeepEqual(ms, want) {
		t.Fatalf("RoleMappings = %+v, %v", ms, err)
	}
	// No AuthorizationConfiguration: no mappings, no error.
	cfg = emrfs.NewConfig()
	if err := cfg.ApplySecurityConfiguration([]byte(`{"EncryptionConfiguration": {"EnableAtRestEncryption": true}}`)); err != nil {
		t.Fatal(err)
	}
	if ms, err := cfg.RoleMappings(); ms != nil || err != nil {
		t.Fatalf("no authorization section: %v, %v", ms, err)
	}
	for name, doc := range map[string]string{
		"no RoleMappings": `{"AuthorizationConfiguration": {}}`,
		"field twice in a mapping": `{"AuthorizationConfiguration": {"EmrFsConfiguration": {"RoleMappings": [{"Role": "arn:aws:iam::123456789101:role/r",
			"IdentifierType": "User", "Identifiers": ["u"], "role": "x"}]}}}`,
	} {
		err := emrfs.NewConfig().ApplySecurityConfiguration([]byte(doc))
		if !errors.Is(err, emrfs.ErrInvalidConfig) || !strings.Contains(err.Error(), "RoleMappings") {
			t.Errorf("%s: %v", name, err)
		}
		var me *authz.MappingError
		if name == "field twice in a mapping" && !errors.As(err, &me) {
			t.Errorf("%s: %v, want a *authz.MappingError", name, err)
		}
	}
}
