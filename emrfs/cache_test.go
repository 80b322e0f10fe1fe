package emrfs_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs"
)

// TestCSEDataKeyCache proves that re-opening a CSE object within the data
// key cache's TTL costs no KMS call, and one when the cache is off.
func TestCSEDataKeyCache(t *testing.T) {
	for _, ttl := range []int64{0, -1} {
		st, c := cseStack(t, func(o *emrfs.Options) { o.DataKeyCacheTTL = time.Duration(ttl) })
		ctx := context.Background()
		data := randomData(31, 10_000)
		if err := put(t, c, ctx, "s3://data/k", data); err != nil {
			t.Fatal(err)
		}
		var calls []int
		for range 3 {
			k, n := len(st.KMS.Audit()), len(st.S3.Requests())
			got, err := read(c, ctx, "s3://data/k")
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read: %v", err)
			}
			calls = append(calls, len(st.KMS.Audit())-k)
			if s3n := len(st.S3.Requests()) - n; s3n != 1 {
				t.Errorf("ttl %d: %d S3 requests per open and read, want 1", ttl, s3n)
			}
		}
		want := []int{1, 0, 0}
		if ttl < 0 {
			want = []int{1, 1, 1}
		}
		for i := range want {
			if calls[i] != want[i] {
				t.Errorf("ttl %d: KMS calls per open %v, want %v", ttl, calls, want)
				break
			}
		}
	}
}

// TestListPlaintextSizesNoKMS lists GCM objects with plaintext sizes: the
// sizes are right and no KMS call is made.
func TestListPlaintextSizesNoKMS(t *testing.T) {
	st, c := cseStack(t, func(o *emrfs.Options) { o.DataKeyCacheTTL = -1 })
	ctx := context.Background()
	sizes := map[string]int{"s3://data/l/a": 0, "s3://data/l/b": 1, "s3://data/l/c": 300_000}
	for uri, n := range sizes {
		if err := put(t, c, ctx, uri, randomData(1, n)); err != nil {
			t.Fatal(err)
		}
	}
	// Without x-amz-unencrypted-content-length too: the size then comes
	// from the ciphertext size and the content algorithm.
	api := s3.NewFromConfig(st.Config, st.S3Options)
	body, meta := rawGet(t, api, "l/c")
	delete(meta, "x-amz-unencrypted-content-length")
	rawPut(t, api, "l/c", body, meta)
	k := len(st.KMS.Audit())
	seen := 0
	for fi, err := range c.List(ctx, "s3://data/l/", func(o *emrfs.ListOptions) { o.PlaintextSizes = true }) {
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(sizes[fi.URI()]); fi.Size() != want {
			t.Errorf("%s: size %d, want %d", fi.URI(), fi.Size(), want)
		}
		seen++
	}
	if seen != len(sizes) {
		t.Errorf("listed %d objects, want %d", seen, len(sizes))
	}
	if calls := len(st.KMS.Audit()) - k; calls != 0 {
		t.Errorf("List with plaintext sizes made %d KMS calls, want 0", calls)
	}
}
