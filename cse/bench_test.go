package cse

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"io"
	"testing"
)

var benchSizes = []struct {
	name string
	n    int
}{{"1KiB", 1 << 10}, {"64KiB+3", 64<<10 + 3}, {"1MiB", 1 << 20}, {"64MiB", 64 << 20}}

func sequential(o *StreamOptions) { o.Concurrency = 1 }

// drain copies r to io.Discard the way io.Copy does: through WriteTo.
func drain(b *testing.B, r io.Reader, buf []byte) {
	if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkGCMEncrypt(b *testing.B) {
	key, iv := testKey(60)
	block, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(block)
	buf := make([]byte, 256<<10)
	for _, mode := range []string{"stream", "parallel", "stdlib"} {
		for _, s := range benchSizes {
			b.Run(mode+"/"+s.name, func(b *testing.B) {
				pt := make([]byte, s.n)
				dst := make([]byte, 0, s.n+16)
				src := bytes.NewReader(pt)
				b.SetBytes(int64(s.n))
				b.ReportAllocs()
				for b.Loop() {
					switch mode {
					case "stdlib":
						dst = g.Seal(dst[:0], iv, pt, nil)
					default:
						src.Reset(pt)
						var opts []func(*StreamOptions)
						if mode == "stream" {
							opts = append(opts, sequential)
						}
						r, err := newGCMEncryptReader(src, key, iv, nil, opts...)
						if err != nil {
							b.Fatal(err)
						}
						drain(b, r, buf)
						r.Close()
					}
				}
			})
		}
	}
}

func BenchmarkGCMDecrypt(b *testing.B) {
	key, iv := testKey(61)
	block, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(block)
	buf := make([]byte, 256<<10)
	for _, mode := range []string{"authenticated", "delayed", "parallel", "authenticated-parallel", "stdlib"} {
		for _, s := range benchSizes {
			b.Run(mode+"/"+s.name, func(b *testing.B) {
				ct := g.Seal(nil, iv, make([]byte, s.n), nil)
				dst := make([]byte, 0, s.n)
				src := bytes.NewReader(ct)
				b.SetBytes(int64(s.n))
				b.ReportAllocs()
				for b.Loop() {
					if mode == "stdlib" {
						var err error
						if dst, err = g.Open(dst[:0], iv, ct, nil); err != nil {
							b.Fatal(err)
						}
						continue
					}
					src.Reset(ct)
					r, err := newGCMDecryptReader(src, key, iv, nil, func(o *StreamOptions) {
						switch mode {
						case "authenticated":
							o.Concurrency = 1
						case "delayed":
							o.Concurrency = 1
							o.DelayedAuthentication = true
						case "parallel":
							o.DelayedAuthentication = true
						case "authenticated-parallel":
							// The default mode on every core.
						}
					})
					if err != nil {
						b.Fatal(err)
					}
					drain(b, r, buf)
					r.Close()
				}
			})
		}
	}
}

// BenchmarkGCMDecryptSpool decrypts 64 MiB in the default mode with a
// 16 MiB memory limit: 48 MiB go through the sealed spool file, under the
// random key or (keysource) a key from a SpoolKeySource.
func BenchmarkGCMDecryptSpool(b *testing.B) {
	key, iv := testKey(64)
	block, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(block)
	buf := make([]byte, 256<<10)
	const n = 64 << 20
	ct := g.Seal(nil, iv, make([]byte, n), nil)
	dir := b.TempDir()
	for _, mode := range []string{"sequential", "parallel", "parallel-keysource"} {
		b.Run(mode+"/64MiB", func(b *testing.B) {
			src := bytes.NewReader(ct)
			b.SetBytes(n)
			b.ReportAllocs()
			keys := &countingKeys{}
			for b.Loop() {
				src.Reset(ct)
				r, err := newGCMDecryptReader(src, key, iv, nil, func(o *StreamOptions) {
					o.MemoryLimit, o.TempDir = 16<<20, dir
					if mode == "sequential" {
						o.Concurrency = 1
					}
					if mode == "parallel-keysource" {
						o.SpoolKeys = keys.SpoolKey
					}
				})
				if err != nil {
					b.Fatal(err)
				}
				drain(b, r, buf)
				r.Close()
			}
		})
	}
}

func BenchmarkCBCDecrypt(b *testing.B) {
	key, iv := cbcKey(62)
	block, _ := aes.NewCipher(key)
	buf := make([]byte, 256<<10)
	for _, mode := range []string{"stream", "parallel", "stdlib"} {
		for _, s := range benchSizes {
			b.Run(mode+"/"+s.name, func(b *testing.B) {
				ct := cbcEncrypt(key, iv, make([]byte, s.n))
				dst := make([]byte, len(ct))
				src := bytes.NewReader(ct)
				b.SetBytes(int64(s.n))
				b.ReportAllocs()
				for b.Loop() {
					if mode == "stdlib" {
						cipher.NewCBCDecrypter(block, iv).CryptBlocks(dst, ct)
						if _, ok := unpad(dst); !ok {
							b.Fatal("bad padding")
						}
						continue
					}
					src.Reset(ct)
					var opts []func(*StreamOptions)
					if mode == "stream" {
						opts = append(opts, sequential)
					}
					r, err := newCBCDecryptReader(src, key, iv, opts...)
					if err != nil {
						b.Fatal(err)
					}
					drain(b, r, buf)
					r.Close()
				}
			})
		}
	}
}

// BenchmarkCTRRange reads the last 64 KiB of a 64 MiB GCM object (the Parquet
// footer read) from a ranged fetch, against decrypting the whole object.
func BenchmarkCTRRange(b *testing.B) {
	key, iv := testKey(63)
	pt := make([]byte, 64<<20)
	ct := stdSeal(key, iv, nil, pt)
	buf := make([]byte, 64<<10)
	for _, n := range []int{4 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("footer/%dKiB", n>>10), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				r, err := gcmRange(int64(len(pt)-n), int64(n), int64(len(ct)))
				if err != nil {
					b.Fatal(err)
				}
				rd, err := newRangeReader(bytes.NewReader(ct[r.Offset:r.Offset+r.Length]), key, iv, r)
				if err != nil {
					b.Fatal(err)
				}
				drain(b, rd, buf)
			}
		})
	}
}
