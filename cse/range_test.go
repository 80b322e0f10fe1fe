package cse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// fetch returns what a ranged GET of r would.
func fetch(obj []byte, r Range) io.Reader {
	return bytes.NewReader(obj[r.Offset : r.Offset+r.Length])
}

func checkRange(t *testing.T, name string, obj, pt, key, iv []byte, r Range, off, n int64) {
	t.Helper()
	rd, err := newRangeReader(fetch(obj, r), key, iv, r)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	got, err := io.ReadAll(rd)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	lo := min(off, int64(len(pt)))
	hi := min(off+n, int64(len(pt)))
	if !bytes.Equal(got, pt[lo:hi]) {
		t.Fatalf("%s: range [%d,+%d) of %d bytes: got %d bytes, want %d (fetch %s)", name, off, n, len(pt), len(got), hi-lo, r.HTTPRange())
	}
}

func TestGCMRangeRandom(t *testing.T) {
	key, iv := testKey(30)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 15, 16, 17, 100, 1000, 4096 + 3} {
		pt := randBytes(uint64(size), size)
		ct := stdSeal(key, iv, nil, pt)
		for i := 0; i < 200; i++ {
			off := rng.Int64N(int64(size) + 20)
			n := rng.Int64N(int64(size) + 20)
			r, err := gcmRange(off, n, int64(len(ct)))
			if err != nil {
				t.Fatal(err)
			}
			if r.Offset+r.Length > int64(size) {
				t.Fatalf("range %+v reaches into the tag of a %d-byte plaintext", r, size)
			}
			checkRange(t, fmt.Sprintf("gcm size=%d", size), ct, pt, key, iv, r, off, n)
		}
	}
}

func TestCBCRangeRandom(t *testing.T) {
	key, iv := cbcKey(31)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{0, 1, 15, 16, 17, 100, 1000, 4096 + 3} {
		pt := randBytes(uint64(size), size)
		ct := cbcEncrypt(key, iv, pt)
		for i := 0; i < 200; i++ {
			off := rng.Int64N(int64(size) + 20)
			n := rng.Int64N(int64(size) + 20)
			r, err := cbcRange(off, n, int64(len(ct)))
			if err != nil {
				t.Fatal(err)
			}
			checkRange(t, fmt.Sprintf("cbc size=%d", size), ct, pt, key, iv, r, off, n)
		}
	}
}

func TestRangeParquetFooter(t *testing.T) {
	// The last 64 KiB of an object: only the blocks holding it are fetched.
	key, iv := testKey(32)
	pt := randBytes(5, 1<<20+5)
	ct := stdSeal(key, iv, nil, pt)
	off := int64(len(pt) - 64<<10)
	r, err := gcmRange(off, 64<<10, int64(len(ct)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Length > 64<<10+16 {
		t.Fatalf("fetches %d bytes for a 64 KiB range", r.Length)
	}
	if r.HTTPRange() != fmt.Sprintf("bytes=%d-%d", r.Offset, r.Offset+r.Length-1) {
		t.Fatalf("HTTPRange %q", r.HTTPRange())
	}
	checkRange(t, "footer", ct, pt, key, iv, r, off, 64<<10)
}

func TestRangeShortBody(t *testing.T) {
	key, iv := testKey(33)
	ct := stdSeal(key, iv, nil, make([]byte, 100))
	r, _ := gcmRange(10, 50, int64(len(ct)))
	rd, _ := newRangeReader(bytes.NewReader(ct[r.Offset:r.Offset+r.Length-20]), key, iv, r)
	if _, err := io.ReadAll(rd); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short body: got %v", err)
	}
	if _, err := gcmRange(-1, 5, 100); err == nil {
		t.Fatal("negative offset accepted")
	}
	if r, _ := gcmRange(200, 5, 116); r.Length != 0 || r.HTTPRange() != "" {
		t.Fatalf("range past the end: %+v", r)
	}
}
