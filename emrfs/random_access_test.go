package emrfs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// fetched returns the bytes the GETs of data/key in reqs asked for (a GET
// without Range counts the whole stored object), skipping the first skip
// GETs.
func fetched(t *testing.T, reqs []emrfstest.S3Request, key string, stored int64, skip int) int64 {
	t.Helper()
	var total int64
	for _, r := range reqs {
		if r.Method != "GET" || r.Key != key {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		rg := r.Header.Get("Range")
		if rg == "" {
			total += stored
			continue
		}
		var a, b int64
		if _, err := fmt.Sscanf(rg, "bytes=%d-%d", &a, &b); err != nil {
			t.Fatalf("range %q: %v", rg, err)
		}
		total += min(b, stored-1) - a + 1
	}
	return total
}

// TestCSEParquetPattern reads a footer and then 8 column ranges with
// ReadAt under the default (authenticating) policy: the first File fetches
// the object once plus only the chunks of the ranges (≤ 1.1× the object),
// and a second File on the same Client fetches only those chunks.
func TestCSEParquetPattern(t *testing.T) {
	st, c := cseStack(t, func(o *emrfs.Options) { o.PartSize = 8 << 20 })
	ctx := context.Background()
	const size = 24 << 20
	data := randomData(11, size)
	if err := put(t, c, ctx, "s3://data/table.parquet", data); err != nil {
		t.Fatal(err)
	}
	stored := int64(size + 16)
	cs := int64(cse.DefaultChunkSize)
	type rng struct{ off, n int64 }
	ranges := []rng{{size - 8, 8}, {size - 64<<10, 64<<10 - 8}}
	for i := range int64(8) {
		ranges = append(ranges, rng{i*(3<<20) + 1000, 128 << 10})
	}
	var spans int64
	for _, r := range ranges[1:] {
		first, last := r.off/cs*cs, min((r.off+r.n+cs-1)/cs*cs, size)
		spans += last - first
	}
	for i, name := range []string{"first File", "second File"} {
		n := len(st.S3.Requests())
		f, err := c.Open(ctx, "s3://data/table.parquet")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range ranges {
			b := make([]byte, r.n)
			if k, err := f.ReadAt(b, r.off); err != nil || !bytes.Equal(b, data[r.off:r.off+r.n]) {
				t.Fatalf("%s: ReadAt(%d, %d): %d, %v", name, r.n, r.off, k, err)
			}
		}
		f.Close()
		got := fetched(t, st.S3.Requests()[n:], "table.parquet", stored, 0)
		want := spans
		if i == 0 {
			// The pass reads the object once and serves the first
			// range (the 8-byte footer length) from it.
			want += stored
			if float64(got) > 1.1*float64(stored) {
				t.Errorf("%s fetched %d bytes, more than 1.1× the %d-byte object", name, got, stored)
			}
		} else {
			// The footer range now costs its own chunk, and Open's GET,
			// left unread, one chunk (not a part: the Client knows the
			// object is read at random).
			want += 2 * cs
		}
		if got != want {
			t.Errorf("%s fetched %d bytes, want %d (%.3f× the object)", name, got, want, float64(got)/float64(stored))
		}
		t.Logf("%s fetched %d bytes (%.3f× the object)", name, got, float64(got)/float64(stored))
	}
}

// TestCSEConcurrentReadAt runs ReadAt from several goroutines on one File,
// before and after the object's chunk table exists (run it with -race).
func TestCSEConcurrentReadAt(t *testing.T) {
	_, c := cseStack(t)
	ctx := context.Background()
	const size = 3<<20 + 5
	data := randomData(12, size)
	if err := put(t, c, ctx, "s3://data/obj", data); err != nil {
		t.Fatal(err)
	}
	f, err := c.Open(ctx, "s3://data/obj")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 6 {
				off := r.Int64N(size)
				n := r.Int64N(300_000) + 1
				b := make([]byte, n)
				k, err := f.ReadAt(b, off)
				want := data[off:min(off+n, size)]
				if (err != nil && err != io.EOF) || !bytes.Equal(b[:k], want) {
					errs <- fmt.Errorf("ReadAt(%d, %d): %d bytes, %v", n, off, k, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Seek then Read uses the table too.
	if _, err := f.Seek(size-100_000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(b, data[size-100_000:]) {
		t.Fatalf("Seek+Read: %d bytes, %v", len(b), err)
	}
}

// flipTransport flips one byte of the body of every GET response while on
// is set: a server that sends other bytes under the same ETag.
type flipTransport struct {
	base aws.HTTPClient
	on   atomic.Bool
}

func (t *flipTransport) Do(req *http.Request) (*http.Response, error) {
	resp, err := t.base.Do(req)
	if err != nil || req.Method != http.MethodGet || !t.on.Load() || resp.StatusCode/100 != 2 {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(b) > 0 {
		b[len(b)/2] ^= 0x40
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// TestCSEChunkCheckedAfterTable has the server send modified bytes once
// the chunk table exists: ReadAt and Seek+Read, which now fetch only
// chunks, reject them with cse.ErrNotAuthentic and release nothing of a
// modified chunk (ReadAt nothing at all).
func TestCSEChunkCheckedAfterTable(t *testing.T) {
	st, _, keyID := cseStackKey(t)
	ft := &flipTransport{}
	api := s3.NewFromConfig(st.Config, st.S3Options, func(o *s3.Options) {
		ft.base = o.HTTPClient
		o.HTTPClient = ft
	})
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", keyID)
	cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
	c, err := emrfs.New(api, cfg, func(o *emrfs.Options) { o.KMS = kms.NewFromConfig(st.Config) })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := randomData(13, 2<<20)
	if err := put(t, c, ctx, "s3://data/obj", data); err != nil {
		t.Fatal(err)
	}
	f, err := c.Open(ctx, "s3://data/obj")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1000)
	if _, err := f.ReadAt(b, 10); err != nil || !bytes.Equal(b, data[10:1010]) {
		t.Fatalf("ReadAt before tampering: %v", err)
	}
	ft.on.Store(true)
	clear(b)
	n, err := f.ReadAt(b, 1<<20)
	var pe *fs.PathError
	if n != 0 || !errors.Is(err, cse.ErrNotAuthentic) || !errors.As(err, &pe) || !bytes.Equal(b, make([]byte, 1000)) {
		t.Fatalf("ReadAt of a modified chunk: %d bytes, %v", n, err)
	}
	if _, err := f.Seek(1<<20, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	// Seek+Read streams chunk by chunk: the chunks before the modified
	// one verify against the table and are released (they are the
	// object's own bytes); nothing of the modified chunk (the 6th, where
	// the flipped byte in the middle of the GET lands) is.
	got, err := io.ReadAll(f)
	if !errors.Is(err, cse.ErrNotAuthentic) || len(got) > 6*cse.DefaultChunkSize-1<<20 || !bytes.Equal(got, data[1<<20:1<<20+len(got)]) {
		t.Fatalf("Seek+Read of a modified chunk: %d bytes, %v", len(got), err)
	}
}
