package cse

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"testing/iotest"
)

func testKey(seed uint64) (key, iv []byte) {
	r := rand.New(rand.NewPCG(seed, 1))
	key = make([]byte, 32)
	iv = make([]byte, 12)
	for i := range key {
		key[i] = byte(r.Uint32())
	}
	for i := range iv {
		iv[i] = byte(r.Uint32())
	}
	return key, iv
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func stdSeal(key, iv, aad, pt []byte) []byte {
	block, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(block)
	return g.Seal(nil, iv, pt, aad)
}

// readAllWith reads r with a fixed pattern of buffer sizes.
func readAllWith(r io.Reader, sizes []int) ([]byte, error) {
	var out []byte
	for i := 0; ; i++ {
		buf := make([]byte, sizes[i%len(sizes)])
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

const testChunk = 64

var (
	testSizes   = []int{0, 1, 15, 16, 17, testChunk - 1, testChunk, testChunk + 1, 3*testChunk - 1, 3 * testChunk, 5*testChunk + 7, 1000}
	readPattern = [][]int{{1}, {15}, {16}, {17}, {4096}, {3, 7, 29, 1, 100}}
	modes       = []struct {
		name string
		opt  func(*StreamOptions)
	}{
		{"sequential", func(o *StreamOptions) { o.Concurrency = 1; o.ChunkSize = testChunk }},
		{"parallel", func(o *StreamOptions) { o.Concurrency = 3; o.ChunkSize = testChunk }},
	}
)

func decOpts(m func(*StreamOptions), fns ...func(*StreamOptions)) []func(*StreamOptions) {
	return append([]func(*StreamOptions){func(o *StreamOptions) { m(o) }}, fns...)
}

func TestGCMEncryptMatchesStdlib(t *testing.T) {
	key, iv := testKey(1)
	for _, aad := range [][]byte{nil, {0x00, 0x73}} {
		for _, m := range modes {
			for _, size := range testSizes {
				for _, pat := range readPattern {
					pt := randBytes(uint64(size), size)
					want := stdSeal(key, iv, aad, pt)
					r, err := newGCMEncryptReader(iotest.HalfReader(bytes.NewReader(pt)), key, iv, aad, m.opt)
					if err != nil {
						t.Fatal(err)
					}
					got, err := readAllWith(r, pat)
					r.Close()
					if err != nil || !bytes.Equal(got, want) {
						t.Fatalf("%s aad=%d size=%d reads=%v: err=%v, output differs from crypto/cipher Seal", m.name, len(aad), size, pat, err)
					}
				}
			}
		}
	}
}

func TestGCMEncryptWriterMatchesStdlib(t *testing.T) {
	key, iv := testKey(2)
	for _, m := range modes {
		for _, size := range testSizes {
			pt := randBytes(uint64(size), size)
			var buf bytes.Buffer
			w, err := newGCMEncryptWriter(&buf, key, iv, nil, m.opt)
			if err != nil {
				t.Fatal(err)
			}
			for rest := pt; len(rest) > 0; {
				n := min(len(rest), 1+len(rest)/3)
				if _, err := w.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), stdSeal(key, iv, nil, pt)) {
				t.Fatalf("%s size %d: writer output differs from crypto/cipher Seal", m.name, size)
			}
		}
	}
}

func TestGCMDecryptRoundTrip(t *testing.T) {
	key, iv := testKey(3)
	for _, aad := range [][]byte{nil, {0x00, 0x73}} {
		for _, m := range modes {
			for _, delayed := range []bool{false, true} {
				for _, limit := range []int64{0, -1} { // memory, spool
					for _, size := range testSizes {
						for _, pat := range readPattern {
							pt := randBytes(uint64(size)+7, size)
							ct := stdSeal(key, iv, aad, pt)
							dir := t.TempDir()
							r, err := newGCMDecryptReader(iotest.OneByteReader(bytes.NewReader(ct)), key, iv, aad, decOpts(m.opt, func(o *StreamOptions) {
								o.DelayedAuthentication = delayed
								o.MemoryLimit = limit
								o.TempDir = dir
							})...)
							if err != nil {
								t.Fatal(err)
							}
							got, err := readAllWith(r, pat)
							if err != nil || !bytes.Equal(got, pt) {
								t.Fatalf("%s delayed=%v limit=%d size=%d reads=%v: err=%v, plaintext differs", m.name, delayed, limit, size, pat, err)
							}
							r.Close()
							if ents, _ := os.ReadDir(dir); len(ents) != 0 {
								t.Fatalf("spool file left after Close: %v", ents)
							}
						}
					}
				}
			}
		}
	}
}

type tamper struct {
	name string
	fn   func(ct []byte) []byte
}

func tamperMatrix(ptLen int) []tamper {
	flip := func(i int) func([]byte) []byte {
		return func(ct []byte) []byte {
			c := append([]byte(nil), ct...)
			c[i] ^= 0x01
			return c
		}
	}
	return []tamper{
		{"first block", flip(0)},
		{"middle block", flip(ptLen / 2)},
		{"last partial block", flip(ptLen - 1)},
		{"tag", flip(ptLen + 15)},
		{"truncated by 1", func(c []byte) []byte { return c[:len(c)-1] }},
		{"truncated by 16", func(c []byte) []byte { return c[:len(c)-16] }},
		{"byte appended", func(c []byte) []byte { return append(append([]byte(nil), c...), 0) }},
		{"empty", func(c []byte) []byte { return nil }},
	}
}

func TestGCMTamperMatrix(t *testing.T) {
	key, iv := testKey(4)
	for _, size := range []int{1, 17, 3*testChunk + 5, 1000} {
		pt := randBytes(9, size)
		ct := stdSeal(key, iv, nil, pt)
		for _, tc := range tamperMatrix(size) {
			for _, m := range modes {
				for _, delayed := range []bool{false, true} {
					for _, limit := range []int64{0, -1} {
						dir := t.TempDir()
						r, err := newGCMDecryptReader(bytes.NewReader(tc.fn(ct)), key, iv, nil, decOpts(m.opt, func(o *StreamOptions) {
							o.DelayedAuthentication = delayed
							o.MemoryLimit = limit
							o.TempDir = dir
						})...)
						if err != nil {
							t.Fatal(err)
						}
						got, err := io.ReadAll(r)
						name := fmt.Sprintf("%s size=%d %s delayed=%v limit=%d", tc.name, size, m.name, delayed, limit)
						var ae *AuthenticationError
						if !errors.Is(err, ErrNotAuthentic) || !errors.As(err, &ae) {
							t.Fatalf("%s: got %v, want an *AuthenticationError", name, err)
						}
						if !delayed && len(got) != 0 {
							t.Fatalf("%s: %d plaintext bytes released before authentication", name, len(got))
						}
						if _, err2 := r.Read(make([]byte, 10)); !errors.Is(err2, ErrNotAuthentic) {
							t.Fatalf("%s: error is not sticky: %v", name, err2)
						}
						if ents, _ := os.ReadDir(dir); len(ents) != 0 {
							t.Fatalf("%s: spool file left after failure: %v", name, ents)
						}
						r.Close()
					}
				}
			}
		}
	}
}

func TestGCMWrongKeyAndAAD(t *testing.T) {
	key, iv := testKey(5)
	other, _ := testKey(6)
	ct := stdSeal(key, iv, []byte{0, 0x73}, randBytes(1, 500))
	for name, args := range map[string][2][]byte{"key": {other, {0, 0x73}}, "aad": {key, nil}} {
		r, _ := newGCMDecryptReader(bytes.NewReader(ct), args[0], iv, args[1], func(o *StreamOptions) { o.ChunkSize = testChunk })
		if got, err := io.ReadAll(r); !errors.Is(err, ErrNotAuthentic) || len(got) != 0 {
			t.Fatalf("wrong %s: %d bytes, %v", name, len(got), err)
		}
	}
}

func TestGCMReadErrorPassesThrough(t *testing.T) {
	key, iv := testKey(7)
	boom := errors.New("connection reset")
	for _, m := range modes {
		r, _ := newGCMDecryptReader(io.MultiReader(bytes.NewReader(make([]byte, 300)), iotest.ErrReader(boom)), key, iv, nil, decOpts(m.opt)...)
		if _, err := io.ReadAll(r); !errors.Is(err, boom) || errors.Is(err, ErrNotAuthentic) {
			t.Fatalf("%s: got %v, want the source's error", m.name, err)
		}
		r.Close()
	}
}

func TestMisuse(t *testing.T) {
	key, iv := testKey(8)
	cases := map[string]func() error{
		"short key": func() error { _, err := newGCMEncryptReader(nil, key[:16], iv, nil); return err },
		"long iv":   func() error { _, err := newGCMDecryptReader(nil, key, make([]byte, 16), nil); return err },
		"chunk": func() error {
			_, err := newGCMEncryptReader(nil, key, iv, nil, func(o *StreamOptions) { o.ChunkSize = 100 })
			return err
		},
		"cbc iv": func() error { _, err := newCBCDecryptReader(nil, key, iv); return err },
	}
	for name, fn := range cases {
		err := fn()
		if err == nil || errors.Is(err, ErrNotAuthentic) {
			t.Fatalf("%s: got %v, want a misuse error", name, err)
		}
	}
}
