package cse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
)

// partSource is a landingSource over ciphertext held in memory: it cuts
// the stream into parts (the first one streams, as emrfs's first GET does,
// and is not landed), lands the others concurrently before the first Read
// and returns them in order. A pure-logic fake of emrfs's partsReader.
type partSource struct {
	ct       []byte // copy of the stream; landed parts are rewritten in place
	first    int    // the first part's length (not landed)
	partSize int
	land     func(off int64, b []byte)
	once     sync.Once
	off      int
}

func (s *partSource) StreamSize() int64                   { return int64(len(s.ct)) }
func (s *partSource) OnLand(fn func(off int64, b []byte)) { s.land = fn }

func (s *partSource) Read(p []byte) (int, error) {
	s.once.Do(func() {
		if s.land == nil {
			return
		}
		var wg sync.WaitGroup
		for off := s.first; off < len(s.ct); off += s.partSize {
			end := min(off+s.partSize, len(s.ct))
			wg.Go(func() { s.land(int64(off), s.ct[off:end:end]) })
		}
		wg.Wait()
	})
	if s.off >= len(s.ct) {
		return 0, io.EOF
	}
	n := copy(p, s.ct[s.off:])
	s.off += n
	return n, nil
}

// TestGCMDecryptLanding decrypts through a landingSource at sizes around
// chunk and part boundaries (a tag that straddles two parts, a last part
// shorter than the tag), authenticated and delayed, spooled and not, with
// a chunk table, and checks that a flipped byte anywhere fails with
// ErrNotAuthentic and, when authenticating, releases nothing.
func TestGCMDecryptLanding(t *testing.T) {
	key, iv := testKey(11)
	const part = 4 * testChunk
	sizes := []int{0, 1, testChunk - 16, testChunk, testChunk + 1, part - 16, part - 8, part, part + 8, part + 16,
		3*part - 1, 3*part + testChunk, 5*part + 7}
	for _, n := range sizes {
		pt := randBytes(uint64(n), n)
		ct := stdSeal(key, iv, nil, pt)
		for _, first := range []int{part, 2 * part} {
			for _, mode := range []string{"verified", "spooled", "delayed"} {
				name := fmt.Sprintf("%d/first%d/%s", n, first, mode)
				opts := func(o *StreamOptions) {
					o.Concurrency = 3
					o.ChunkSize = testChunk
					o.TempDir = t.TempDir()
					o.DelayedAuthentication = mode == "delayed"
					if mode == "spooled" {
						o.MemoryLimit = testChunk
					}
				}
				t.Run(name, func(t *testing.T) {
					tab := &ChunkTable{}
					src := &partSource{ct: bytes.Clone(ct), first: first, partSize: part}
					dr, err := newGCMDecryptReader(src, key, iv, nil, opts, func(o *StreamOptions) { o.ChunkTable = tab })
					if err != nil {
						t.Fatal(err)
					}
					got, err := readAllWith(dr, []int{7, 100, 4096})
					l := dr.(*gcmDecrypter).landings
					dr.Close()
					if (l != nil) != (n > testChunk) {
						t.Fatalf("landings %v", l != nil)
					}
					if n >= first+testChunk && !bytes.Equal(src.ct[first:first+testChunk], pt[first:first+testChunk]) {
						t.Fatal("the parts were not decrypted where they landed")
					}
					if l != nil && len(l.m) != 0 {
						t.Fatalf("%d landed chunks were never taken", len(l.m))
					}
					if err != nil || !bytes.Equal(got, pt) {
						t.Fatalf("got %d bytes, %v; want %d bytes", len(got), err, len(pt))
					}
					if !tab.Complete() {
						t.Fatal("the chunk table is not complete")
					}
					for _, at := range []int{0, len(ct) / 2, len(ct) - 17, len(ct) - 1} {
						if at < 0 {
							continue
						}
						bad := bytes.Clone(ct)
						bad[at] ^= 1
						src := &partSource{ct: bad, first: first, partSize: part}
						dr, err := newGCMDecryptReader(src, key, iv, nil, opts)
						if err != nil {
							t.Fatal(err)
						}
						got, err := readAllWith(dr, []int{7, 100, 4096})
						dr.Close()
						if !errors.Is(err, ErrNotAuthentic) {
							t.Fatalf("byte %d flipped: %v, want ErrNotAuthentic", at, err)
						}
						if mode != "delayed" && len(got) > 0 {
							t.Fatalf("byte %d flipped: %d bytes released", at, len(got))
						}
					}
				})
			}
		}
	}
}
