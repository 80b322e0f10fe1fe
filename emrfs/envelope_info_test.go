package emrfs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// envelopeClient returns a CSE-KMS client of keyID on st with the extra
// properties kv.
func envelopeClient(t *testing.T, st *emrfstest.Stack, keyID string, kv ...string) *emrfs.Client {
	t.Helper()
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", keyID)
	for i := 0; i+1 < len(kv); i += 2 {
		cfg.Set(kv[i], kv[i+1])
	}
	c, err := emrfs.New(s3.NewFromConfig(st.Config, st.S3Options), cfg, func(o *emrfs.Options) {
		o.KMS = kms.NewFromConfig(st.Config)
		o.TempDir = t.TempDir()
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeObject(t *testing.T, c *emrfs.Client, uri, data string) {
	t.Helper()
	w, err := c.Create(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestEnvelope(t *testing.T) {
	st := emrfstest.Start(t)
	ctx := context.Background()
	if _, err := s3.NewFromConfig(st.Config, st.S3Options).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("env")}); err != nil {
		t.Fatal(err)
	}
	keyID := st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
	v2 := envelopeClient(t, st, keyID, "fs.s3.cse.encryptionV2.enabled", "true")
	legacy := envelopeClient(t, st, keyID)
	instr := envelopeClient(t, st, keyID, "fs.s3.cse.encryptionV2.enabled", "true", "fs.s3.cse.cryptoStorageMode", "InstructionFile")
	plain, err := emrfs.New(s3.NewFromConfig(st.Config, st.S3Options), nil)
	if err != nil {
		t.Fatal(err)
	}
	writeObject(t, v2, "s3://env/v2", "twelve bytes")
	writeObject(t, legacy, "s3://env/legacy", "twelve bytes")
	writeObject(t, instr, "s3://env/instr", "twelve bytes")
	writeObject(t, plain, "s3://env/plain", "twelve bytes")

	// The envelope is read whatever the reading client's configuration:
	// the plain client describes them all.
	for _, tc := range []struct {
		uri                string
		wrap               string
		instruction, keyed bool
	}{
		{"s3://env/v2", cse.WrapKMSContext, false, false},
		{"s3://env/legacy", cse.WrapKMS, false, true},
		{"s3://env/instr", cse.WrapKMSContext, true, false},
	} {
		info, err := plain.Envelope(ctx, tc.uri)
		if err != nil {
			t.Fatalf("%s: %v", tc.uri, err)
		}
		if !info.Encrypted || info.Format != 2 || info.ContentAlgorithm != "AES/GCM/NoPadding" || !info.Authenticated ||
			info.KeyCommitment || info.WrapAlgorithm != tc.wrap || info.InstructionFile != tc.instruction || info.PlaintextSize != 12 || info.Size != 28 || info.Unwrapped {
			t.Errorf("%s: %+v", tc.uri, info)
		}
		if tc.wrap == cse.WrapKMSContext && info.EncryptionContext["aws:x-amz-cek-alg"] != "AES/GCM/NoPadding" {
			t.Errorf("%s: context %v", tc.uri, info.EncryptionContext)
		}
		if tc.keyed != (info.KMSKeyID != "") {
			t.Errorf("%s: KMSKeyID %q", tc.uri, info.KMSKeyID)
		}
		// Unwrap asks KMS, which names the key.
		info, err = v2.Envelope(ctx, tc.uri, func(o *emrfs.EnvelopeOptions) { o.Unwrap = true })
		if err != nil {
			t.Fatalf("%s: Unwrap: %v", tc.uri, err)
		}
		if !info.Unwrapped || !strings.Contains(info.KMSKeyID, keyID) {
			t.Errorf("%s: Unwrap: unwrapped %v, key %q, want %q", tc.uri, info.Unwrapped, info.KMSKeyID, keyID)
		}
	}

	info, err := plain.Envelope(ctx, "s3://env/plain")
	if err != nil || info.Encrypted || info.Size != 12 || info.Format != 0 {
		t.Errorf("plain: %+v, %v", info, err)
	}
	if _, err := plain.Envelope(ctx, "s3://env/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := plain.Envelope(ctx, "s3://env/dir/"); err == nil {
		t.Error("directory: no error")
	}
	// Without KMS, Unwrap says what is missing.
	if _, err := plain.Envelope(ctx, "s3://env/v2", func(o *emrfs.EnvelopeOptions) { o.Unwrap = true }); err == nil || !strings.Contains(err.Error(), "Options.KMS") {
		t.Errorf("Unwrap without KMS: %v", err)
	}
}

// Describe the client-side encryption of an object without decrypting it.
func ExampleClient_Envelope() {
	ctx := context.Background()
	st, err := emrfstest.New(ctx) // a local S3 + KMS; use your AWS config instead
	if err != nil {
		panic(err)
	}
	defer st.Close()
	api := s3.NewFromConfig(st.Config, st.S3Options)
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sales")}); err != nil {
		panic(err)
	}
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault))
	cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
	c, err := emrfs.New(api, cfg, func(o *emrfs.Options) { o.KMS = kms.NewFromConfig(st.Config) })
	if err != nil {
		panic(err)
	}
	w, err := c.Create(ctx, "s3://sales/2026/q4.csv")
	if err != nil {
		panic(err)
	}
	io.WriteString(w, "region,total\nemea,42\n")
	if err := w.Close(); err != nil {
		panic(err)
	}

	info, err := c.Envelope(ctx, "s3://sales/2026/q4.csv")
	if err != nil {
		panic(err)
	}
	fmt.Printf("format: V%d, content: %s, authenticated: %v\n", info.Format, info.ContentAlgorithm, info.Authenticated)
	fmt.Println("wrap:", info.WrapAlgorithm, "context:", info.EncryptionContext)
	fmt.Println("sizes:", info.PlaintextSize, "plaintext,", info.Size, "stored")
	// Output:
	// format: V2, content: AES/GCM/NoPadding, authenticated: true
	// wrap: kms+context context: map[aws:x-amz-cek-alg:AES/GCM/NoPadding]
	// sizes: 21 plaintext, 37 stored
}
