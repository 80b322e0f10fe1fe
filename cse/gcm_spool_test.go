package cse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// TestGCMAuthenticatedMemorySplit decrypts messages whose sizes straddle the
// memory limit, so that the split between the chunks held in memory and the
// chunks sealed into the spool falls on every kind of boundary.
func TestGCMAuthenticatedMemorySplit(t *testing.T) {
	key, iv := testKey(90)
	limits := []int64{1, testChunk - 1, testChunk, testChunk + 1, 2 * testChunk, 3*testChunk + 5}
	for _, m := range modes {
		for _, limit := range limits {
			for _, size := range []int{testChunk - 1, testChunk, testChunk + 1, 2*testChunk - 1, 2 * testChunk, 3*testChunk + 4, 3*testChunk + 5, 3*testChunk + 6, 7 * testChunk} {
				for _, aad := range [][]byte{nil, {0x00, 0x73}} {
					pt := randBytes(uint64(size), size)
					ct := stdSeal(key, iv, aad, pt)
					r, err := newGCMDecryptReader(bytes.NewReader(ct), key, iv, aad, decOpts(m.opt, func(o *StreamOptions) {
						o.MemoryLimit = limit
						o.TempDir = t.TempDir()
					})...)
					if err != nil {
						t.Fatal(err)
					}
					got, err := readAllWith(r, []int{7, 64, 1000})
					r.Close()
					if err != nil || !bytes.Equal(got, pt) {
						t.Fatalf("%s limit=%d size=%d aad=%x: err=%v, plaintext differs", m.name, limit, size, aad, err)
					}
				}
			}
		}
	}
}

// failingReader returns its data, then err.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestGCMSpoolSourceError(t *testing.T) {
	key, iv := testKey(91)
	pt := randBytes(3, 20*testChunk)
	ct := stdSeal(key, iv, nil, pt)
	boom := errors.New("connection reset")
	for _, m := range modes {
		dir := t.TempDir()
		src := &failingReader{r: bytes.NewReader(ct[:15*testChunk]), err: boom}
		r, err := newGCMDecryptReader(src, key, iv, nil, decOpts(m.opt, func(o *StreamOptions) {
			o.MemoryLimit = 2 * testChunk
			o.TempDir = dir
		})...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if !errors.Is(err, boom) || len(got) != 0 {
			t.Fatalf("%s: got %d bytes, err %v; want no plaintext and the source's error", m.name, len(got), err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("%s: spool file left after a source error: %v", m.name, ents)
		}
		r.Close()
	}
}

func TestGCMSpoolUnwritableTempDir(t *testing.T) {
	key, iv := testKey(92)
	pt := randBytes(4, 10*testChunk)
	ct := stdSeal(key, iv, nil, pt)
	for _, m := range modes {
		r, err := newGCMDecryptReader(bytes.NewReader(ct), key, iv, nil, decOpts(m.opt, func(o *StreamOptions) {
			o.MemoryLimit = testChunk
			o.TempDir = t.TempDir() + "/does-not-exist"
		})...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err == nil || !strings.Contains(err.Error(), "TempDir") || len(got) != 0 {
			t.Fatalf("%s: got %d bytes, err %v; want no plaintext and an error naming TempDir", m.name, len(got), err)
		}
		r.Close()
	}
}

// TestGCMSpoolCloseWhileServing closes authenticated readers while they
// serve from the spool, and checks that nothing is left behind.
func TestGCMSpoolCloseWhileServing(t *testing.T) {
	key, iv := testKey(93)
	pt := randBytes(5, 1<<20)
	ct := stdSeal(key, iv, nil, pt)
	dir := t.TempDir()
	before := runtime.NumGoroutine()
	for i := range 10 {
		r, err := newGCMDecryptReader(bytes.NewReader(ct), key, iv, nil, func(o *StreamOptions) {
			o.ChunkSize, o.Concurrency = 4096, 1+i%3
			o.MemoryLimit = 64 << 10
			o.TempDir = dir
		})
		if err != nil {
			t.Fatal(err)
		}
		// Past the part held in memory, into the spool.
		buf := make([]byte, 200<<10)
		if _, err := io.ReadFull(r, buf); err != nil || !bytes.Equal(buf, pt[:len(buf)]) {
			t.Fatalf("partial read: %v", err)
		}
		r.Close()
		if _, err := r.Read(buf); err == nil {
			t.Fatal("Read after Close succeeded")
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("spool files left after Close: %v", ents)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines left running after Close (before: %d)", n, before)
	}
}

// TestGCMSpoolOneByteSource feeds the spooling decrypter one byte per Read,
// so that chunk boundaries never coincide with source reads.
func TestGCMSpoolOneByteSource(t *testing.T) {
	key, iv := testKey(94)
	for _, size := range []int{5*testChunk + 3, 9 * testChunk} {
		pt := randBytes(6, size)
		ct := stdSeal(key, iv, nil, pt)
		for _, m := range modes {
			r, err := newGCMDecryptReader(iotest.OneByteReader(bytes.NewReader(ct)), key, iv, nil, decOpts(m.opt, func(o *StreamOptions) {
				o.MemoryLimit = testChunk + 1
				o.TempDir = t.TempDir()
			})...)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if _, err := io.Copy(&got, r); err != nil || !bytes.Equal(got.Bytes(), pt) {
				t.Fatalf("%s size=%d: %v", m.name, size, fmt.Sprint(err))
			}
			r.Close()
		}
	}
}
