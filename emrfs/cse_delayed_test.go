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
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// cseClient returns a client of st whose buckets use CSE-KMS under keyID
// (EMRFS properties, V2), with the extra properties kv (name, value, ...).
func cseClient(t *testing.T, st *emrfstest.Stack, keyID string, kv []string, optFns ...func(*emrfs.Options)) *emrfs.Client {
	t.Helper()
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", keyID)
	cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
	for i := 0; i+1 < len(kv); i += 2 {
		cfg.Set(kv[i], kv[i+1])
	}
	c, err := emrfs.New(s3.NewFromConfig(st.Config, st.S3Options), cfg, append([]func(*emrfs.Options){func(o *emrfs.Options) {
		o.KMS = kms.NewFromConfig(st.Config)
		o.TempDir = t.TempDir()
	}}, optFns...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tamper rewrites the stored object bucket/key with edit applied to its
// body, keeping its metadata (the envelope).
func tamper(t *testing.T, api *s3.Client, bucket, key string, edit func([]byte)) {
	t.Helper()
	ctx := context.Background()
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	edit(raw)
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(raw), Metadata: out.Metadata}); err != nil {
		t.Fatal(err)
	}
}

func exists(t *testing.T, api *s3.Client, bucket, key string) bool {
	t.Helper()
	_, err := api.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var nf *s3types.NotFound
	if errors.As(err, &nf) {
		return false
	}
	if err != nil {
		t.Fatalf("HEAD %s/%s: %v", bucket, key, err)
	}
	return true
}

// TestCSETamperedObjectsFail: a modified GCM object never reads without an
// error matching cse.ErrNotAuthentic — with delayed authentication (the
// final Read reports the tag) as without, whatever its size, from Read,
// ReadAt and through the re-encrypting Copy and Rename, which leave nothing
// at the destination.
func TestCSETamperedObjectsFail(t *testing.T) {
	for _, delayed := range []bool{true, false} {
		st, _, keyID := cseStackKey(t)
		c := cseClient(t, st, keyID, []string{"fs.s3.bucket.plain.cse.enabled", "false"}, func(o *emrfs.Options) { o.DelayedAuthentication = delayed })
		api := s3.NewFromConfig(st.Config, st.S3Options)
		ctx := context.Background()
		if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("plain")}); err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1<<20 + 5, 2 << 20, 3 << 20} {
			data := randomData(uint64(size), size)
			for _, tc := range []struct {
				name string
				edit func([]byte)
			}{
				{"tag", func(b []byte) { b[len(b)-1] ^= 0x80 }},
				{"last byte", func(b []byte) { b[len(b)-17] ^= 1 }},
				{"middle byte", func(b []byte) { b[len(b)/2] ^= 1 }},
			} {
				name := fmt.Sprintf("delayed=%v/%d/%s", delayed, size, tc.name)
				key := fmt.Sprintf("tampered-%d-%d-%v", size, len(tc.name), delayed)
				uri := "s3://data/" + key
				if err := put(t, c, ctx, uri, data); err != nil {
					t.Fatal(err)
				}
				tamper(t, api, "data", key, tc.edit)

				got, err := read(c, ctx, uri)
				if !errors.Is(err, cse.ErrNotAuthentic) {
					t.Errorf("%s: ReadAll = %d bytes, %v; want cse.ErrNotAuthentic", name, len(got), err)
				}
				if delayed && len(got) >= len(data) {
					t.Errorf("%s: ReadAll released all %d bytes of a forged object", name, len(got))
				}

				f, err := c.Open(ctx, uri)
				if err != nil {
					t.Fatal(err)
				}
				tail := make([]byte, 4096)
				if _, err := f.ReadAt(tail, int64(size-len(tail))); !errors.Is(err, cse.ErrNotAuthentic) {
					t.Errorf("%s: ReadAt of the tail = %v; want cse.ErrNotAuthentic", name, err)
				}
				head := make([]byte, 100)
				if _, err := f.ReadAt(head, 0); !errors.Is(err, cse.ErrNotAuthentic) {
					t.Errorf("%s: ReadAt of the head = %v; want cse.ErrNotAuthentic (partial reads authenticate)", name, err)
				}
				f.Close()

				// A copy to a bucket without CSE decrypts by streaming.
				dst := "s3://plain/" + key
				if err := c.Copy(ctx, uri, dst); !errors.Is(err, cse.ErrNotAuthentic) {
					t.Errorf("%s: Copy = %v; want cse.ErrNotAuthentic", name, err)
				}
				if err := c.Rename(ctx, uri, dst); !errors.Is(err, cse.ErrNotAuthentic) {
					t.Errorf("%s: Rename = %v; want cse.ErrNotAuthentic", name, err)
				}
				if exists(t, api, "plain", key) {
					t.Errorf("%s: the forged plaintext was written to the destination", name)
				}
				if !exists(t, api, "data", key) {
					t.Errorf("%s: Rename removed its source after failing", name)
				}
			}
		}
		// An intact object still reads, to the last byte.
		data := randomData(5, 3<<20)
		if err := put(t, c, ctx, "s3://data/intact", data); err != nil {
			t.Fatal(err)
		}
		if got, err := read(c, ctx, "s3://data/intact"); err != nil || !bytes.Equal(got, data) {
			t.Errorf("delayed=%v: intact object: %d bytes, %v", delayed, len(got), err)
		}
	}
}

// TestCSECloseMidRead closes Files while their decrypter is still
// streaming the object (delayed authentication releases plaintext at once):
// the GET body is closed under the decrypter's reader without a race.
func TestCSECloseMidRead(t *testing.T) {
	st, _, keyID := cseStackKey(t)
	c := cseClient(t, st, keyID, nil, func(o *emrfs.Options) { o.DelayedAuthentication = true })
	ctx := context.Background()
	data := randomData(8, 3<<20)
	if err := put(t, c, ctx, "s3://data/big", data); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		f, err := c.Open(ctx, "s3://data/big")
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, 1000*(i+1))
		if _, err := io.ReadFull(f, p); err != nil || !bytes.Equal(p, data[:len(p)]) {
			t.Fatalf("first %d bytes: %v", len(p), err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
