package emrfs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

func cseStack(t *testing.T, optFns ...func(*emrfs.Options)) (*emrfstest.Stack, *emrfs.Client) {
	st, c, _ := cseStackKey(t, optFns...)
	return st, c
}

func cseStackKey(t *testing.T, optFns ...func(*emrfs.Options)) (*emrfstest.Stack, *emrfs.Client, string) {
	t.Helper()
	st := emrfstest.Start(t)
	if _, err := s3.NewFromConfig(st.Config, st.S3Options).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	keyID := st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
	cfg.Set("fs.s3.cse.kms.keyId", keyID)
	cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
	c, err := emrfs.New(s3.NewFromConfig(st.Config, st.S3Options), cfg, append([]func(*emrfs.Options){func(o *emrfs.Options) {
		o.KMS = kms.NewFromConfig(st.Config)
		o.TempDir = t.TempDir()
	}}, optFns...)...)
	if err != nil {
		t.Fatal(err)
	}
	return st, c, keyID
}

// TestCSEAuthenticatedReadResumes cuts the connection in the middle of an
// authenticated whole-object read: the ciphertext is resumed with a ranged
// GET pinned to the ETag, no byte is lost or duplicated, and the tag still
// verifies — in memory and through the spool.
func TestCSEAuthenticatedReadResumes(t *testing.T) {
	for _, limit := range []int64{0, 64 << 10} {
		st, c := cseStack(t, func(o *emrfs.Options) { o.DecryptMemoryLimit = limit })
		ctx := context.Background()
		data := bytes.Repeat([]byte("0123456789abcdef"), 40_000) // 640 KB
		if err := put(t, c, ctx, "s3://data/obj", data); err != nil {
			t.Fatal(err)
		}
		st.S3.BreakNextGet(200_003)
		n := len(st.S3.Requests())
		got, err := read(c, ctx, "s3://data/obj")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("limit %d: resumed read: %v (%d bytes)", limit, err, len(got))
		}
		var resumed bool
		for _, r := range st.S3.Requests()[n:] {
			// The client resumes from the offset it received, at most
			// where the server cut the body.
			var from, to int64
			if r.Method == "GET" && r.Header.Get("If-Match") != "" {
				if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &from, &to); err == nil && from > 0 && from <= 200_003 && to == int64(len(data)+15) {
					resumed = true
				}
			}
		}
		if !resumed {
			t.Fatalf("limit %d: no ranged GET with If-Match resumed the ciphertext", limit)
		}
	}
}

// TestCSELegacyModesAreOptIn: by default a CBC object (EMRFS's default
// format) is refused with an error that names the option, and ranged reads
// do not bypass authentication.
func TestCSELegacyModesAreOptIn(t *testing.T) {
	st, c, keyID := cseStackKey(t)
	ctx := context.Background()
	// A client that opted in to EMRFS's legacy modes (ranged reads).
	api := s3.NewFromConfig(st.Config, st.S3Options)
	legacy, err := emrfs.New(api, func() *emrfs.Config {
		cfg := emrfs.NewConfig()
		cfg.Set("fs.s3.cse.enabled", "true")
		cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
		cfg.Set("fs.s3.cse.kms.keyId", keyID)
		cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
		return cfg
	}(), func(o *emrfs.Options) {
		o.KMS = kms.NewFromConfig(st.Config)
		p := cse.EMRFSCompatible()
		o.CSEPolicy = &p
	})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte{1, 2, 3}, 10_000)
	if err := put(t, legacy, ctx, "s3://data/gcm", data); err != nil {
		t.Fatal(err)
	}
	// Tamper with the last block of the stored object: a ranged read of the
	// first bytes would not notice; an authenticated read must.
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("gcm")})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(out.Body)
	out.Body.Close()
	raw[len(raw)-20] ^= 1
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("gcm"), Body: bytes.NewReader(raw), Metadata: out.Metadata}); err != nil {
		t.Fatal(err)
	}
	f, err := c.Open(ctx, "s3://data/gcm")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := make([]byte, 10)
	if _, err := f.ReadAt(p, 0); !errors.Is(err, cse.ErrNotAuthentic) {
		t.Fatalf("default policy: ReadAt of a tampered object = %v, want cse.ErrNotAuthentic", err)
	}
	lf, err := legacy.Open(ctx, "s3://data/gcm")
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if _, err := lf.ReadAt(p, 0); err != nil {
		t.Fatalf("opted-in ranged read: %v", err)
	}
	if _, err := io.ReadAll(lf); !errors.Is(err, cse.ErrNotAuthentic) {
		t.Fatalf("opted-in whole read of a tampered object = %v, want cse.ErrNotAuthentic", err)
	}
}
