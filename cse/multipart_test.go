package cse

import (
	"bytes"
	"errors"
	"testing"
)

func TestMultipartMatchesStdlib(t *testing.T) {
	key, iv := testKey(40)
	for _, aad := range [][]byte{nil, {0, 0x73}} {
		for _, m := range modes {
			for _, parts := range [][]int{{0}, {5}, {16, 1}, {64, 64, 0}, {128, 3}, {1024, 512, 17}, {48, 16, 1000}} {
				var pt []byte
				for i, n := range parts {
					pt = append(pt, randBytes(uint64(i*7+n), n)...)
				}
				enc, err := newMultipartEncryptor(key, iv, aad, m.opt)
				if err != nil {
					t.Fatal(err)
				}
				var out []byte
				off := 0
				for i, n := range parts {
					part := append([]byte(nil), pt[off:off+n]...)
					off += n
					got, err := enc.EncryptPart(part, i == len(parts)-1)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, got...)
				}
				if !bytes.Equal(out, stdSeal(key, iv, aad, pt)) {
					t.Fatalf("%s parts %v: concatenated parts differ from Seal", m.name, parts)
				}
			}
		}
	}
}

func TestMultipartMisuse(t *testing.T) {
	key, iv := testKey(41)
	enc, _ := newMultipartEncryptor(key, iv, nil)
	if _, err := enc.EncryptPart(make([]byte, 17), false); !errors.Is(err, errPartSize) {
		t.Fatalf("unaligned part: %v", err)
	}
	if _, err := enc.EncryptPart(make([]byte, 17), true); err != nil {
		t.Fatal(err)
	}
	if _, err := enc.EncryptPart(nil, true); err == nil {
		t.Fatal("a part after the last was accepted")
	}
}

// TestMultipartCapacities encrypts parts with no spare capacity and with
// some, on one to five workers, so that chunks are sealed both in place and
// through a worker's buffer, with runs of every length.
func TestMultipartCapacities(t *testing.T) {
	key, iv := testKey(42)
	parts := []int{7 * testChunk, 13*testChunk + 16, 5*testChunk + 9}
	var pt []byte
	for i, n := range parts {
		pt = append(pt, randBytes(uint64(100+i), n)...)
	}
	want := stdSeal(key, iv, nil, pt)
	for workers := 1; workers <= 5; workers++ {
		for _, spare := range []int{0, 1, 16, 100} {
			enc, err := newMultipartEncryptor(key, iv, nil, func(o *StreamOptions) { o.ChunkSize, o.Concurrency = testChunk, workers })
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			off := 0
			for i, n := range parts {
				part := make([]byte, n, n+spare)
				copy(part, pt[off:off+n])
				off += n
				got, err := enc.EncryptPart(part, i == len(parts)-1)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, got...)
			}
			if !bytes.Equal(out, want) {
				t.Fatalf("workers=%d spare=%d: concatenated parts differ from Seal", workers, spare)
			}
		}
	}
}
