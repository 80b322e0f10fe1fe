package emrfs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/emrs3/emrs3/cse"
)

// TestCSECompatibilityDamagedEnvelope (issue 11 item 6): with
// fs.s3a.encryption.cse.v1.compatibility.enabled an object whose envelope
// is partial or mixed is an error matching cse.ErrNotAuthentic, never its
// ciphertext and tag returned as data; only an object with no envelope key
// at all reads as it is stored, as S3A reads it.
func TestCSECompatibilityDamagedEnvelope(t *testing.T) {
	st, _, keyID := cseStackKey(t)
	ctx := context.Background()
	api := s3.NewFromConfig(st.Config, st.S3Options)
	compat := newClient(t, st, []string{"fs.s3a.encryption.algorithm", "CSE-KMS", "fs.s3a.encryption.key", keyID,
		"fs.s3a.encryption.cse.v1.compatibility.enabled", "true"})
	data := randomData(5, 40_000)
	w, err := compat.Create(ctx, "s3://data/obj")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("obj")})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := out.Metadata["x-amz-key-v2"]; !ok {
		t.Fatalf("envelope not in metadata: %v", out.Metadata)
	}
	put := func(key string, meta map[string]string) string {
		if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(key),
			Body: bytes.NewReader(stored), Metadata: meta}); err != nil {
			t.Fatal(err)
		}
		return "s3://data/" + key
	}
	edit := func(kv ...string) map[string]string {
		m := maps.Clone(out.Metadata)
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	for name, meta := range map[string]map[string]string{
		"x-amz-key-v2 removed":  edit("x-amz-key-v2", ""),
		"x-amz-iv removed":      edit("x-amz-iv", ""),
		"stray V1 x-amz-key":    edit("x-amz-key", out.Metadata["x-amz-key-v2"]),
		"V3 x-amz-d next to V2": edit("x-amz-d", "AAAA"),
	} {
		uri := put("damaged", meta)
		got, err := read(compat, ctx, uri)
		if !errors.Is(err, cse.ErrNotAuthentic) || len(got) != 0 {
			t.Errorf("%s: read %d bytes, err = %v; want no bytes and an error matching cse.ErrNotAuthentic", name, len(got), err)
		}
		var me *cse.AuthenticationError
		if !errors.As(err, &me) || me.Check != "envelope" {
			t.Errorf("%s: err = %T %v, want an envelope *cse.AuthenticationError", name, err, err)
		}
	}
	// Untouched, it reads back; with no envelope key at all it is read as
	// stored (the object is not client-side encrypted as far as anyone can
	// tell).
	if got, err := read(compat, ctx, "s3://data/obj"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("untouched: %d bytes, %v", len(got), err)
	}
	uri := put("bare", map[string]string{"owner": "a"})
	if got, err := read(compat, ctx, uri); err != nil || !bytes.Equal(got, stored) {
		t.Fatalf("no envelope key: %d bytes, %v; want the %d stored bytes", len(got), err, len(stored))
	}
}
