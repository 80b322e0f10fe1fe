package emrfstest_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// user1 assumes role1, which may read bucket/user1/ only.
func TestSTSAssumedRoleWithS3AndKMS(t *testing.T) {
	ctx := context.Background()
	st, admin := newS3(t)
	for _, k := range []string{"user1/data", "admin/secret"} {
		if _, err := admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	user1 := st.AddUser("user1")
	role1 := emrfstest.RoleARN("role1")
	st.STS.CreateRole(role1, emrfstest.UserARN("user1"))
	st.S3.Grant(role1, "bucket", "user1/", false)
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault, role1)

	u1 := st.ConfigFor(user1)
	roleCfg := u1.Copy()
	roleCfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(u1), role1, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "emrfs-user1"
		o.ExternalID = aws.String("ext-123")
	}))
	c := s3.NewFromConfig(roleCfg, st.S3Options)

	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("user1/data")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(b) != "user1/data" {
		t.Fatalf("read %q", b)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("admin/secret")})
	if apiCode(err) != "AccessDenied" {
		t.Fatalf("role1 reading admin/: %v", err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("user1/new"), Body: strings.NewReader("x")})
	if apiCode(err) != "AccessDenied" {
		t.Fatalf("role1 writing with a read grant: %v", err)
	}

	// KMS accepts the temporary credentials; the key trusts the role.
	kc := kms.NewFromConfig(roleCfg)
	if _, err := kc.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: &keyID, KeySpec: types.DataKeySpecAes256}); err != nil {
		t.Fatal(err)
	}
	_, err = kms.NewFromConfig(u1).GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: &keyID, KeySpec: types.DataKeySpecAes256})
	if apiCode(err) != "AccessDeniedException" {
		t.Fatalf("user1 itself using the role's key: %v", err)
	}

	id, err := sts.NewFromConfig(roleCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:sts::111122223333:assumed-role/role1/emrfs-user1" {
		t.Fatalf("GetCallerIdentity: %v %v", err, aws.ToString(id.Arn))
	}

	var principals []string
	for _, r := range st.S3.Requests() {
		if r.Key == "user1/data" && r.Method == "GET" {
			principals = append(principals, r.Principal)
		}
	}
	if len(principals) != 1 || principals[0] != role1 {
		t.Fatalf("logged principals %v, want the role ARN", principals)
	}
	audit := st.KMS.Audit()
	if audit[0].Principal != role1 || audit[0].Err != "" {
		t.Fatalf("KMS audit %+v", audit[0])
	}
	calls := st.STS.Calls()
	if len(calls) != 2 || calls[0].Action != "AssumeRole" || calls[0].ExternalID != "ext-123" || calls[0].Principal != emrfstest.UserARN("user1") ||
		calls[0].RoleSessionName != "emrfs-user1" || !strings.HasPrefix(calls[0].AccessKeyID, "ASIA") {
		t.Fatalf("STS calls %+v", calls)
	}
}

func TestSTSAssumeRoleErrors(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	user1 := st.AddUser("user1")
	user2 := st.AddUser("user2")
	st.STS.CreateRole(emrfstest.RoleARN("role1"), emrfstest.UserARN("user1"))
	c1 := sts.NewFromConfig(st.ConfigFor(user1))
	tests := []struct {
		name   string
		client *sts.Client
		in     sts.AssumeRoleInput
		code   string
	}{
		{"untrusted principal", sts.NewFromConfig(st.ConfigFor(user2)), sts.AssumeRoleInput{RoleArn: aws.String(emrfstest.RoleARN("role1")), RoleSessionName: aws.String("s1")}, "AccessDenied"},
		{"unknown role", c1, sts.AssumeRoleInput{RoleArn: aws.String(emrfstest.RoleARN("nope")), RoleSessionName: aws.String("s1")}, "AccessDenied"},
		{"session name too short", c1, sts.AssumeRoleInput{RoleArn: aws.String(emrfstest.RoleARN("role1")), RoleSessionName: aws.String("s")}, "ValidationError"},
		{"session name bad char", c1, sts.AssumeRoleInput{RoleArn: aws.String(emrfstest.RoleARN("role1")), RoleSessionName: aws.String("a b")}, "ValidationError"},
		{"duration too short", c1, sts.AssumeRoleInput{RoleArn: aws.String(emrfstest.RoleARN("role1")), RoleSessionName: aws.String("ok"), DurationSeconds: aws.Int32(60)}, "ValidationError"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.client.AssumeRole(ctx, &tc.in)
			if apiCode(err) != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
		})
	}
	out, err := c1.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(emrfstest.RoleARN("role1")), RoleSessionName: aws.String("ok"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 14*time.Minute || d > 16*time.Minute {
		t.Fatalf("expiration in %s, want 15m", d)
	}
	st.STS.FailNext(1)
	if _, err := c1.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(emrfstest.RoleARN("role1")), RoleSessionName: aws.String("ok")}); apiCode(err) != "AccessDenied" || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("FailNext: %v", err)
	}
	if _, err := c1.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(emrfstest.RoleARN("role1")), RoleSessionName: aws.String("ok")}); err != nil {
		t.Fatalf("after the injected failure: %v", err)
	}
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestSTSCredentialsExpire(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	st := emrfstest.Start(t, func(o *emrfstest.Options) { o.Now = clk.Now })
	st.STS.CreateRole(emrfstest.RoleARN("r"))
	st.STS.SetDuration(10 * time.Minute)
	out, err := sts.NewFromConfig(st.Config).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(emrfstest.RoleARN("r")), RoleSessionName: aws.String("s1")})
	if err != nil {
		t.Fatal(err)
	}
	cr := out.Credentials
	creds := aws.Credentials{AccessKeyID: *cr.AccessKeyId, SecretAccessKey: *cr.SecretAccessKey, SessionToken: *cr.SessionToken}
	kc := kms.NewFromConfig(st.ConfigFor(creds))
	keyID := st.KMS.CreateKey("")
	if _, err := kc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &keyID}); err != nil {
		t.Fatal(err)
	}
	noToken := creds
	noToken.SessionToken = ""
	if _, err := kms.NewFromConfig(st.ConfigFor(noToken)).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &keyID}); apiCode(err) != "UnrecognizedClientException" {
		t.Fatalf("without session token: %v", err)
	}
	// The signer dates requests by the real clock; keep the stack's clock
	// within the allowed skew but past the credentials' expiry.
	clk.Add(11 * time.Minute)
	if _, err := kc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &keyID}); apiCode(err) != "ExpiredTokenException" {
		t.Fatalf("after expiry: %v", err)
	}
	if _, err := s3.NewFromConfig(st.ConfigFor(creds), st.S3Options).ListBuckets(ctx, &s3.ListBucketsInput{}); apiCode(err) != "ExpiredToken" {
		t.Fatalf("S3 after expiry: %v", err)
	}
}

func TestSTSRequireExternalID(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	user1 := st.AddUser("user1")
	role := emrfstest.RoleARN("partner")
	st.STS.CreateRole(role, emrfstest.UserARN("user1"))
	st.STS.RequireExternalID(role, "ext-123")
	c := sts.NewFromConfig(st.ConfigFor(user1))
	for _, ext := range []*string{nil, aws.String("ext-999")} {
		_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1"), ExternalId: ext})
		if apiCode(err) != "AccessDenied" || !strings.Contains(err.Error(), "ExternalId") {
			t.Fatalf("ExternalId %v: %v", aws.ToString(ext), err)
		}
	}
	// The admin's exemption from the trust table does not cover the
	// condition.
	if _, err := sts.NewFromConfig(st.Config).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")}); apiCode(err) != "AccessDenied" {
		t.Fatalf("admin without ExternalId: %v", err)
	}
	if _, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1"), ExternalId: aws.String("ext-123")}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("RequireExternalID of an unknown role did not panic")
		}
	}()
	st.STS.RequireExternalID(emrfstest.RoleARN("nope"), "x")
}

func TestSTSRejectsBadSignature(t *testing.T) {
	st := emrfstest.Start(t)
	user1 := st.AddUser("user1")
	st.STS.CreateRole(emrfstest.RoleARN("r"), emrfstest.UserARN("user1"))
	forged := user1
	forged.SecretAccessKey = strings.Repeat("x", len(user1.SecretAccessKey))
	_, err := sts.NewFromConfig(st.ConfigFor(forged)).AssumeRole(context.Background(),
		&sts.AssumeRoleInput{RoleArn: aws.String(emrfstest.RoleARN("r")), RoleSessionName: aws.String("s1")})
	if apiCode(err) != "SignatureDoesNotMatch" {
		t.Fatalf("forged signature: %v", err)
	}
	if calls := st.STS.Calls(); len(calls) != 0 {
		t.Fatalf("STS answered %+v", calls)
	}
}

// TestS3DeniesUngrantedPrincipals: assumed roles have no S3 access until
// granted, and a restricted user none at all, so a request signed with
// the wrong credentials is refused rather than silently allowed.
func TestS3DeniesUngrantedPrincipals(t *testing.T) {
	ctx := context.Background()
	st, admin := newS3(t)
	if _, err := admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	cluster := st.AddUser("emr-ec2")
	free := st.AddUser("free")
	st.S3.Restrict(emrfstest.UserARN("emr-ec2"))
	role := emrfstest.RoleARN("bare")
	st.STS.CreateRole(role, emrfstest.UserARN("emr-ec2"))
	clusterCfg := st.ConfigFor(cluster)
	roleCfg := clusterCfg.Copy()
	roleCfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(clusterCfg), role))

	get := func(cfg aws.Config) error {
		out, err := s3.NewFromConfig(cfg, st.S3Options).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k")})
		if err == nil {
			out.Body.Close()
		}
		return err
	}
	for name, cfg := range map[string]aws.Config{"restricted user": clusterCfg, "ungranted role": roleCfg} {
		if err := get(cfg); apiCode(err) != "AccessDenied" {
			t.Errorf("%s GET: %v, want AccessDenied", name, err)
		}
		if _, err := s3.NewFromConfig(cfg, st.S3Options).ListBuckets(ctx, &s3.ListBucketsInput{}); apiCode(err) != "AccessDenied" {
			t.Errorf("%s ListBuckets: %v, want AccessDenied", name, err)
		}
	}
	// An unrestricted user without grants keeps full access.
	if err := get(st.ConfigFor(free)); err != nil {
		t.Errorf("unrestricted user: %v", err)
	}
	// A grant opens exactly its prefix.
	st.S3.Grant(role, "bucket", "k", false)
	st.S3.Grant(emrfstest.UserARN("emr-ec2"), "bucket", "k", false)
	for name, cfg := range map[string]aws.Config{"restricted user": clusterCfg, "role": roleCfg} {
		if err := get(cfg); err != nil {
			t.Errorf("%s after Grant: %v", name, err)
		}
	}
}
