package cse

import (
	"crypto/sha256"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// patternReader yields n bytes of a cheap, position-dependent pattern without
// holding them.
type patternReader struct{ off, n int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		x := p.off + int64(i)
		b[i] = byte(x ^ x>>8 ^ x>>16)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// peakHeap samples HeapInuse while fn runs and returns the peak above the
// level before it started.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base && ms.HeapInuse-base > peak.Load() {
				peak.Store(ms.HeapInuse - base)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}

// TestLargeStreamMemory streams 1 GiB, generated and never held, through
// encryption and decryption and checks the peak heap in use.
func TestLargeStreamMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("streams 1 GiB; run without -short and without -race")
	}
	const size = 1 << 30
	key, iv := testKey(70)
	want := sha256.New()
	io.Copy(want, &patternReader{n: size})
	cases := []struct {
		name    string
		opts    func(*StreamOptions)
		ceiling uint64
	}{
		{"delayed/sequential", func(o *StreamOptions) { o.DelayedAuthentication, o.Concurrency = true, 1 }, 32 << 20},
		{"delayed/parallel", func(o *StreamOptions) { o.DelayedAuthentication = true }, 32 << 20},
		// Above the 64 MiB default limit the plaintext is spooled.
		{"authenticated/spool", func(o *StreamOptions) { o.TempDir = t.TempDir() }, DefaultMemoryLimit + 32<<20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := sha256.New()
			peak := peakHeap(func() {
				enc, err := newGCMEncryptReader(&patternReader{n: size}, key, iv, nil)
				if err != nil {
					t.Fatal(err)
				}
				dec, err := newGCMDecryptReader(enc, key, iv, nil, c.opts)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.Copy(got, dec); err != nil {
					t.Fatal(err)
				}
				dec.Close()
				enc.Close()
			})
			if string(got.Sum(nil)) != string(want.Sum(nil)) {
				t.Fatal("1 GiB round trip: plaintext differs")
			}
			t.Logf("peak heap in use: %.1f MiB (ceiling %d MiB)", float64(peak)/(1<<20), c.ceiling>>20)
			if peak > c.ceiling {
				t.Fatalf("peak heap %d MiB above the %d MiB ceiling", peak>>20, c.ceiling>>20)
			}
		})
	}
}
