package emrfs

import (
	"context"
	"errors"
	"strings"
	"testing"

	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/emrs3/emrs3/cse"
)

// TestNewChecksClients: New fails when the global settings or the
// settings of a bucket named by per-bucket properties, a security
// configuration override or Options.Bucket need a KMS client or a CSE
// provider that Options does not give; the error names the bucket, the
// property and the Options field.
func TestNewChecksClients(t *testing.T) {
	const secCSEKMS = `{"EncryptionConfiguration":{"EnableAtRestEncryption":true,"AtRestEncryptionConfiguration":{"S3EncryptionConfiguration":{"EncryptionMode":"SSE-S3","Overrides":[{"BucketName":"sec-bucket","EncryptionMode":"CSE-KMS","AwsKmsKey":"arn:aws:kms:us-east-1:111122223333:key/k1"}]}}}}`
	kmsProps := []string{"fs.s3.cse.encryptionMaterialsProvider", KMSMaterialsProvider, "fs.s3.cse.kms.keyId", "k1"}
	custom := &Providers{}
	custom.RegisterMaterials("com.example.Provider", func(context.Context, ProviderConfig) (cse.MaterialsProvider, error) {
		return nil, errors.New("unused")
	})
	tests := []struct {
		name  string
		props []string
		sec   string
		opts  func(*Options)
		want  []string // substrings of the error; nil: New succeeds
	}{
		{name: "no encryption"},
		{name: "global CSE-KMS", props: append([]string{"fs.s3.cse.enabled", "true"}, kmsProps...),
			want: []string{"fs.s3.cse.enabled", "Options.KMS"}},
		{name: "global CSE-KMS with a KMS client", props: append([]string{"fs.s3.cse.enabled", "true"}, kmsProps...),
			opts: func(o *Options) { o.KMS = fakeKMSAPI{} }},
		{name: "global CSE-KMS with a provider for it", props: append([]string{"fs.s3.cse.enabled", "true"}, kmsProps...),
			opts: func(o *Options) {
				o.MaterialsProviders = map[string]cse.MaterialsProvider{KMSMaterialsProvider: cse.NewKMSProvider(fakeKMSAPI{}, "k1")}
			}},
		{name: "per-bucket EMRFS", props: append([]string{"fs.s3.bucket.b1.cse.enabled", "true"}, kmsProps...),
			want: []string{`bucket "b1"`, "fs.s3.bucket.b1.cse.enabled", "Options.KMS"}},
		{name: "per-bucket S3A (dotted bucket name)", props: []string{"fs.s3a.bucket.my.bucket.encryption.algorithm", "CSE-KMS", "fs.s3a.bucket.my.bucket.encryption.key", "k1"},
			want: []string{`bucket "my.bucket"`, "fs.s3a.bucket.my.bucket.encryption.algorithm", "Options.KMS"}},
		{name: "global CSE turned off for the named bucket", props: append([]string{"fs.s3.cse.enabled", "true", "fs.s3.bucket.b1.cse.enabled", "false"}, kmsProps...),
			want: []string{"fs.s3.cse.enabled", "Options.KMS"}},
		{name: "CSE only for a bucket turned off globally", props: append([]string{"fs.s3.bucket.b1.cse.enabled", "false"}, kmsProps...)},
		{name: "security configuration override", sec: secCSEKMS,
			want: []string{`bucket "sec-bucket"`, "Overrides[0].EncryptionMode", "Options.KMS"}},
		{name: "Options.Bucket turns CSE-KMS on", props: []string{"fs.s3.bucket.b1.enableServerSideEncryption", "false"},
			opts: func(o *Options) {
				o.Bucket = func(b *Bucket) { b.CSE = &CSE{Provider: KMSMaterialsProvider, KMSKeyID: "k1"} }
			},
			want: []string{`bucket "b1"`, "Options.Bucket", "Options.KMS"}},
		{name: "unregistered custom provider", props: []string{"fs.s3.bucket.b2.cse.enabled", "true", "fs.s3.bucket.b2.cse.encryptionMaterialsProvider", "com.example.Provider"},
			want: []string{`bucket "b2"`, "com.example.Provider", "Options.MaterialsProviders", "Options.Providers"}},
		{name: "registered custom provider", props: []string{"fs.s3.bucket.b2.cse.enabled", "true", "fs.s3.bucket.b2.cse.encryptionMaterialsProvider", "com.example.Provider"},
			opts: func(o *Options) { o.Providers = custom }},
		{name: "invalid settings are left to the operations", props: []string{"fs.s3.bucket.b3.cse.enabled", "true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := NewConfig()
			for i := 0; i+1 < len(tc.props); i += 2 {
				cfg.Set(tc.props[i], tc.props[i+1])
			}
			if tc.sec != "" {
				if err := cfg.ApplySecurityConfiguration([]byte(tc.sec)); err != nil {
					t.Fatal(err)
				}
			}
			var opts []func(*Options)
			if tc.opts != nil {
				opts = append(opts, tc.opts)
			}
			_, err := New(nopS3{}, cfg, opts...)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("New = %v, want success", err)
				}
				return
			}
			if err == nil {
				t.Fatal("New succeeded")
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("errors.Is(%v, ErrInvalidConfig) = false", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// nopS3 is an S3API that is never called (New makes no requests).
type nopS3 struct{ S3API }

// fakeKMSAPI is a cse.KMSAPI that is never called.
type fakeKMSAPI struct{ cse.KMSAPI }

// TestKMSKeyRotation: objects written under key A stay readable after the
// configuration moves fs.s3.cse.kms.keyId to key B only with
// CSE.KMSAnyKey; new objects are written under B either way.
func TestKMSKeyRotation(t *testing.T) {
	e := newCSEEnv(t)
	ctx := context.Background()
	keyB := e.stack.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
	props := map[string]string{
		"fs.s3.cse.enabled":                     "true",
		"fs.s3.cse.encryptionMaterialsProvider": KMSMaterialsProvider,
		"fs.s3.cse.kms.keyId":                   "KEY",
		"fs.s3.cse.encryptionV2.enabled":        "true",
	}
	old := "s3://" + testBucket + "/rotation/old"
	writeObject(t, e.client(t, props), old, []byte("written under key A"))

	rotated := withProps(props, "fs.s3.cse.kms.keyId", keyB)
	strict := e.client(t, rotated)
	if _, err := strict.Open(ctx, old); err == nil {
		t.Fatal("an object written under key A opened with fs.s3.cse.kms.keyId = key B and no opt-in")
	} else if !errors.Is(err, cse.ErrWrongKey) || !strings.Contains(err.Error(), "CSE.KMSAnyKey") {
		t.Errorf("refusal = %v, want cse.ErrWrongKey naming the opt-in CSE.KMSAnyKey", err)
	}

	anyKey := e.client(t, rotated, func(o *Options) {
		o.Bucket = func(b *Bucket) {
			if b.CSE != nil {
				b.CSE.KMSAnyKey = true // the one setting
			}
		}
	})
	if got := string(readObject(t, anyKey, old)); got != "written under key A" {
		t.Errorf("old object with KMSAnyKey reads %q", got)
	}
	fresh := "s3://" + testBucket + "/rotation/new"
	writeObject(t, anyKey, fresh, []byte("written under key B"))
	if got := string(readObject(t, strict, fresh)); got != "written under key B" {
		t.Errorf("new object reads %q under key B without the opt-in", got)
	}
	var gdk []string
	for _, call := range e.stack.KMS.Audit() {
		if call.Operation == "GenerateDataKey" {
			gdk = append(gdk, call.KeyID)
		}
	}
	if len(gdk) != 2 || gdk[0] != e.keyID || gdk[1] != keyB {
		t.Errorf("data keys generated under %v, want key A then key B", gdk)
	}
}

// TestKMSSkipKeyCheck: CSE.KMSSkipKeyCheck removes the DescribeKey call
// made before the first data key.
func TestKMSSkipKeyCheck(t *testing.T) {
	for _, skip := range []bool{false, true} {
		e := newCSEEnv(t)
		c := e.client(t, s3aCSE, func(o *Options) {
			o.Bucket = func(b *Bucket) {
				if b.CSE != nil {
					b.CSE.KMSSkipKeyCheck = skip
				}
			}
		})
		writeObject(t, c, "s3://"+testBucket+"/skip", []byte("data"))
		var describes int
		for _, call := range e.stack.KMS.Audit() {
			if call.Operation == "DescribeKey" {
				describes++
			}
		}
		if want := map[bool]int{false: 1, true: 0}[skip]; describes != want {
			t.Errorf("KMSSkipKeyCheck=%v: %d DescribeKey calls, want %d", skip, describes, want)
		}
	}
}
