package emrfs_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

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
	const size = 32 << 20
	data := randomData(11, size)
	if err := put(t, c, ctx, "s3://data/table.parquet", data); err != nil {
		t.Fatal(err)
	}
	stored := int64(size + 16)
	cs := int64(cse.DefaultChunkSize)
	type rng struct{ off, n int64 }
	ranges := []rng{{size - 8, 8}, {size - 64<<10, 64<<10 - 8}}
	for i := range int64(8) {
		ranges = append(ranges, rng{i*(4<<20) + 1000, 128 << 10})
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
		skip := 0
		if i == 1 {
			// The second Open's GET of the first part is left unread
			// (closed once ReadAt finds the chunk table): not counted.
			skip = 1
		}
		got := fetched(t, st.S3.Requests()[n:], "table.parquet", stored, skip)
		want := spans
		if i == 0 {
			// The pass reads the object once and serves the first
			// range (the 8-byte footer length) from it.
			want += stored
			if float64(got) > 1.1*float64(stored) {
				t.Errorf("%s fetched %d bytes, more than 1.1× the %d-byte object", name, got, stored)
			}
		} else {
			// The footer range now costs its own chunk.
			want += cs
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
