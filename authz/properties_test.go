package authz

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
)

// props is a property getter over a map, like emrfs.Config.Get.
type props map[string]string

func (p props) get(name string) (string, bool) {
	v, ok := p[name]
	return v, ok
}

const propMapping = "arn:aws:iam::123456789101:role/r1=u:user1;user2,arn:aws:iam::123456789101:role/r2=p:s3://b/"

func TestReadProperties(t *testing.T) {
	tests := []struct {
		name string
		in   props
		want Properties
	}{
		{"unset", props{}, Properties{}},
		{"blank", props{PropertyRoleMapping: " ", PropertySTSEndpoint: "", PropertySessionDuration: " ", PropertyCustomProvider: " "}, Properties{}},
		{"all", props{
			PropertyRoleMapping:     propMapping,
			PropertySTSEndpoint:     " sts.eu-west-1.amazonaws.com ",
			PropertySessionDuration: "3600",
			PropertyCustomProvider:  " com.example.Provider ",
		}, Properties{
			Mappings: []Mapping{
				{"arn:aws:iam::123456789101:role/r1", User, []string{"user1", "user2"}},
				{"arn:aws:iam::123456789101:role/r2", Prefix, []string{"s3://b/"}},
			},
			STSEndpoint: "https://sts.eu-west-1.amazonaws.com", STSRegion: "eu-west-1",
			Duration: time.Hour, CustomProvider: "com.example.Provider",
		}},
		{"global sts", props{PropertySTSEndpoint: "https://sts.amazonaws.com"}, Properties{STSEndpoint: "https://sts.amazonaws.com", STSRegion: "us-east-1"}},
		{"fips sts", props{PropertySTSEndpoint: "sts-fips.us-gov-west-1.amazonaws.com"}, Properties{STSEndpoint: "https://sts-fips.us-gov-west-1.amazonaws.com", STSRegion: "us-gov-west-1"}},
		{"china sts", props{PropertySTSEndpoint: "sts.cn-north-1.amazonaws.com.cn"}, Properties{STSEndpoint: "https://sts.cn-north-1.amazonaws.com.cn", STSRegion: "cn-north-1"}},
		{"private endpoint", props{PropertySTSEndpoint: "http://127.0.0.1:8080"}, Properties{STSEndpoint: "http://127.0.0.1:8080"}},
		{"vpc endpoint", props{PropertySTSEndpoint: "vpce-1a2b.sts.us-east-1.vpce.amazonaws.com"}, Properties{STSEndpoint: "https://vpce-1a2b.sts.us-east-1.vpce.amazonaws.com"}},
		{"bounds", props{PropertySessionDuration: "900"}, Properties{Duration: 15 * time.Minute}},
		{"upper bound", props{PropertySessionDuration: "43200"}, Properties{Duration: 12 * time.Hour}},
	}
	for _, tt := range tests {
		got, err := ReadProperties(tt.in.get)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

func TestReadPropertiesErrors(t *testing.T) {
	tests := []struct {
		name, prop, value, msg string
	}{
		{"duration text", PropertySessionDuration, "1h", "whole number of seconds"},
		{"duration fraction", PropertySessionDuration, "900.5", "whole number of seconds"},
		{"duration short", PropertySessionDuration, "899", "900 to 43200"},
		{"duration long", PropertySessionDuration, "43201", "900 to 43200"},
		{"duration negative", PropertySessionDuration, "-900", "900 to 43200"},
		{"endpoint scheme", PropertySTSEndpoint, "ftp://sts.amazonaws.com", "not an STS endpoint"},
		{"endpoint no host", PropertySTSEndpoint, "https://", "not an STS endpoint"},
		{"endpoint user info", PropertySTSEndpoint, "https://user:pw@sts.amazonaws.com", "not an STS endpoint"},
		{"endpoint query", PropertySTSEndpoint, "https://sts.amazonaws.com/?Action=x", "not an STS endpoint"},
		{"endpoint garbage", PropertySTSEndpoint, "%zz", "not an STS endpoint"},
		{"mapping", PropertyRoleMapping, "arn:aws:iam::123456789101:role/r=x:a", "role mapping #1 (index 0): IdentifierType"},
	}
	for _, tt := range tests {
		_, err := ReadProperties(props{tt.prop: tt.value}.get)
		var pe *PropertyError
		if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidProperty) {
			t.Errorf("%s: %v is not a *PropertyError", tt.name, err)
			continue
		}
		if pe.Property != tt.prop || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), tt.prop) {
			t.Errorf("%s: %q (property %s) does not name %s and say %q", tt.name, err, pe.Property, tt.prop, tt.msg)
		}
		if strings.Contains(err.Error(), "authz: authz:") {
			t.Errorf("%s: doubled prefix in %q", tt.name, err)
		}
		if strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: %q prints the password of the URL", tt.name, err)
		}
	}
	_, err := ReadProperties(props{PropertyRoleMapping: "arn:aws:iam::123456789101:role/r=u:", PropertySessionDuration: "1"}.get)
	var me *MappingError
	if !errors.As(err, &me) || me.Field != "Identifiers" || !strings.Contains(err.Error(), PropertySessionDuration) {
		t.Fatalf("want both errors, the mapping one as a *MappingError: %v", err)
	}
}

func TestNewFromPropertiesConfiguresSTS(t *testing.T) {
	cluster := credentials.NewStaticCredentialsProvider("AKIACLUSTER", "cluster-secret", "")
	awsCfg := aws.Config{Region: "us-east-1", Credentials: cluster}
	r, err := NewFromProperties(context.Background(), awsCfg, props{
		PropertyRoleMapping:     propMapping,
		PropertySTSEndpoint:     "sts.eu-west-1.amazonaws.com",
		PropertySessionDuration: "1800",
	}.get, func(o *PropertiesOptions) {
		o.Resolver = append(o.Resolver, func(o *Options) { o.ExternalID = "ext-id" })
	})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := r.client.(*sts.Client)
	if !ok {
		t.Fatalf("client is %T", r.client)
	}
	o := c.Options()
	if aws.ToString(o.BaseEndpoint) != "https://sts.eu-west-1.amazonaws.com" || o.Region != "eu-west-1" {
		t.Fatalf("STS client endpoint %q region %q", aws.ToString(o.BaseEndpoint), o.Region)
	}
	if r.opts.Duration != 30*time.Minute || r.opts.ExternalID != "ext-id" || secret(t, r.opts.Default) != "cluster-secret" || len(r.mappings) != 2 {
		t.Fatalf("options %+v, %d mappings", r.opts, len(r.mappings))
	}

	// Without the endpoint property the aws.Config decides.
	r, err = NewFromProperties(context.Background(), awsCfg, props{}.get)
	if err != nil {
		t.Fatal(err)
	}
	if o := r.client.(*sts.Client).Options(); o.BaseEndpoint != nil || o.Region != "us-east-1" {
		t.Fatalf("STS client endpoint %v region %q", o.BaseEndpoint, o.Region)
	}

	// Invalid properties and resolver options fail construction.
	if _, err := NewFromProperties(context.Background(), awsCfg, props{PropertySessionDuration: "60"}.get); !errors.Is(err, ErrInvalidProperty) {
		t.Fatalf("short duration: %v", err)
	}
	if _, err := NewFromProperties(context.Background(), aws.Config{}, props{PropertyRoleMapping: propMapping}.get); err == nil {
		t.Fatal("no default credentials and no DenyUnmapped accepted")
	}
}

func TestNewFromPropertiesMappingsPrecedence(t *testing.T) {
	var buf bytes.Buffer
	r, err := NewFromProperties(context.Background(), aws.Config{Credentials: defaultCreds}, props{PropertyRoleMapping: propMapping}.get,
		func(o *PropertiesOptions) {
			o.Mappings = seedMappings
			o.Resolver = []func(*Options){func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&buf, nil)) }}
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.mappings) != len(seedMappings) || r.mappings[0].Role != seedMappings[0].Role {
		t.Fatalf("mappings %+v, want the given ones", r.mappings)
	}
	if !strings.Contains(buf.String(), PropertyRoleMapping+" is ignored") {
		t.Fatalf("no warning that the property is ignored: %s", buf.String())
	}
	// A malformed property is still an error when it is ignored, so that a
	// typo is not hidden.
	if _, err := NewFromProperties(context.Background(), aws.Config{Credentials: defaultCreds}, props{PropertyRoleMapping: "bad"}.get,
		func(o *PropertiesOptions) { o.Mappings = seedMappings }); !errors.Is(err, ErrInvalidMapping) {
		t.Fatalf("malformed property: %v", err)
	}
}

func TestNewFromPropertiesCustomProvider(t *testing.T) {
	const name = "com.example.BucketCredentialsProvider"
	var reg ProviderRegistry
	reg.Register(name, func(_ context.Context, cfg ProviderConfig) (CustomFunc, error) {
		key, _ := cfg.Get("my.accessKey")
		secret, _ := cfg.Get("my.secretKey")
		if key == "" {
			return nil, errors.New("my.accessKey is not set")
		}
		p := credentials.NewStaticCredentialsProvider(key, secret, "")
		return func(_ context.Context, _ Identity, uri string) (aws.CredentialsProvider, bool, error) {
			return p, strings.HasPrefix(uri, "s3://partner/"), nil
		}, nil
	})
	reg.Register("broken", func(context.Context, ProviderConfig) (CustomFunc, error) { return nil, nil })
	if got := reg.Names(); !reflect.DeepEqual(got, []string{"broken", name}) {
		t.Fatalf("Names = %v", got)
	}
	cfg := props{PropertyCustomProvider: name, "my.accessKey": "AKIAPARTNER", "my.secretKey": "partner-secret", PropertyRoleMapping: propMapping}
	f := &fakeSTS{}
	r, err := NewFromProperties(context.Background(), aws.Config{Credentials: defaultCreds}, cfg.get, func(o *PropertiesOptions) {
		o.Providers = &reg
	})
	if err != nil {
		t.Fatal(err)
	}
	r.client = f // keep the STS traffic in process
	d, p, err := r.Resolve(asUser("user1"), "s3://partner/x")
	if err != nil || secret(t, p) != "partner-secret" || d.Reason != "custom credentials provider "+name || d.Index != -1 {
		t.Fatalf("custom: %+v, %v", d, err)
	}
	if d, _, err := r.Resolve(asUser("user1"), "s3://other/x"); err != nil || d.Index != 0 || f.count() != 1 {
		t.Fatalf("declined by the custom provider: %+v, %v, %d STS calls", d, err, f.count())
	}

	for _, tt := range []struct {
		name  string
		props props
		want  error
		msg   string
	}{
		{"unknown", props{PropertyCustomProvider: "com.example.Nope"}, ErrUnknownProvider, "registered: broken, " + name},
		{"factory error", props{PropertyCustomProvider: name}, ErrInvalidProperty, "my.accessKey is not set"},
		{"nil provider", props{PropertyCustomProvider: "broken"}, ErrInvalidProperty, "returned no provider"},
	} {
		_, err := NewFromProperties(context.Background(), aws.Config{Credentials: defaultCreds}, tt.props.get, func(o *PropertiesOptions) { o.Providers = &reg })
		var pe *PropertyError
		if !errors.Is(err, tt.want) || !errors.As(err, &pe) || pe.Property != PropertyCustomProvider || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}

	// The default registry is used when none is given.
	DefaultProviders.Register("test-default-provider", func(context.Context, ProviderConfig) (CustomFunc, error) {
		return func(context.Context, Identity, string) (aws.CredentialsProvider, bool, error) {
			return defaultCreds, true, nil
		}, nil
	})
	r, err = NewFromProperties(context.Background(), aws.Config{Credentials: defaultCreds}, props{PropertyCustomProvider: "test-default-provider"}.get)
	if err != nil {
		t.Fatal(err)
	}
	if d, _, err := r.Resolve(asUser("u"), "s3://b/k"); err != nil || d.Reason != "custom credentials provider test-default-provider" {
		t.Fatalf("default registry: %+v, %v", d, err)
	}
}
