package aesgcm

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"testing"
)

// fusedSeal encrypts with SealChunk, chunk by chunk, in place.
func fusedSeal(k *Key, iv, aad, pt []byte, chunk int) []byte {
	out := make([]byte, len(pt), len(pt)+16)
	copy(out, pt)
	h := k.NewHash(aad)
	for off := 0; off < len(pt); off += chunk {
		end := min(off+chunk, len(pt))
		// In place, as the stream encrypter does: the 16 bytes after
		// the chunk are clobbered, so save and restore them.
		var after [16]byte
		saved := copy(after[:], out[end:cap(out)][:min(16, cap(out)-end)])
		ct, sum := k.SealChunk(out[off:end:cap(out)], out[off:end], iv, uint64(off/16))
		copy(out[end:cap(out)], after[:saved])
		if &ct[0] != &out[off] {
			panic("SealChunk did not write into dst")
		}
		h.Add(sum, end-off)
	}
	tag := h.Tag(iv)
	return append(out, tag[:]...)
}

func TestFusedMatchesStdlibAndComposed(t *testing.T) {
	key := make([]byte, 32)
	iv := make([]byte, 12)
	rand.Read(key)
	rand.Read(iv)
	k, err := NewKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if k.fusedKernel() == nil {
		t.Skip("no 16-byte-nonce GCM on this platform (FIPS-only mode): the composed path is used")
	}
	for _, aad := range [][]byte{nil, {0x00, 0x73}, bytes.Repeat([]byte{7}, 33)} {
		for _, size := range []int{1, 15, 16, 17, 31, 32, 33, 100, 1024, 4095, 4096, 4097, 10000} {
			for _, chunk := range []int{16, 32, 64, 4096} {
				pt := make([]byte, size)
				rand.Read(pt)
				want := k.AEAD().Seal(nil, iv, pt, aad)
				if got := fusedSeal(k, iv, aad, pt, chunk); !bytes.Equal(got, want) {
					t.Fatalf("aad %d size %d chunk %d: fused GCM differs from crypto/cipher", len(aad), size, chunk)
				}
				if got := composedSeal(t, k, iv, aad, pt, chunk); !bytes.Equal(got, want) {
					t.Fatalf("aad %d size %d chunk %d: composed GCM differs from crypto/cipher", len(aad), size, chunk)
				}
			}
		}
	}
}

// TestFusedChunkEqualsComposedChunk compares one chunk far into a message
// (large block numbers, including where the low counter byte carries) with
// the composed path: same ciphertext, same partial hash.
func TestFusedChunkEqualsComposedChunk(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	k, _ := NewKey(key)
	if k.fusedKernel() == nil {
		t.Skip("no fused kernel here")
	}
	for _, ivTail := range []uint32{0, 0xffffffff} {
		iv := make([]byte, 12)
		rand.Read(iv)
		binary.BigEndian.PutUint32(iv[8:], ivTail)
		// 1<<32-9: the chunk's 7 blocks end at counter 2^32-1, the last GCM allows.
		for _, b := range []uint64{0, 1, 254, 255, 65535, 1<<24 - 1, 1<<32 - 9} {
			pt := make([]byte, 100)
			rand.Read(pt)
			dst := make([]byte, 0, 116)
			ct, sum := k.SealChunk(dst, pt, iv, b)
			want := make([]byte, len(pt))
			k.CTR(iv, b).XORKeyStream(want, pt)
			if !bytes.Equal(ct, want) {
				t.Fatalf("block %d: fused ciphertext differs from AES-CTR", b)
			}
			if ref := k.ChunkHash(want, nil); sum != ref {
				t.Fatalf("block %d: fused partial hash differs from ChunkHash", b)
			}
		}
	}
}

func TestInverse(t *testing.T) {
	for _, x := range []element{one, {lo: 0x0123456789abcdef, hi: 0xfedcba9876543210}, {hi: 1}, {lo: 1}} {
		if x == one {
			if inverse(x) != one {
				t.Fatal("1⁻¹ != 1")
			}
		}
		if got := mul(x, inverse(x)); got != one {
			t.Fatalf("x·x⁻¹ = %x, want 1", got)
		}
	}
}

func TestSealChunkEmpty(t *testing.T) {
	key := make([]byte, 32)
	k, _ := NewKey(key)
	ct, sum := k.SealChunk(make([]byte, 0, 16), nil, make([]byte, 12), 3)
	if len(ct) != 0 || sum != ([16]byte{}) {
		t.Fatalf("empty chunk: %x %x", ct, sum)
	}
}

func BenchmarkSealChunk(b *testing.B) {
	key := make([]byte, 32)
	k, _ := NewKey(key)
	iv := make([]byte, 12)
	buf := make([]byte, 256<<10, 256<<10+16)
	for _, kind := range []string{"fused", "composed"} {
		b.Run(kind, func(b *testing.B) {
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if kind == "fused" {
					k.SealChunk(buf, buf, iv, 5)
				} else {
					k.CTR(iv, 5).XORKeyStream(buf, buf)
					k.ChunkHash(buf, buf[len(buf):len(buf):cap(buf)])
				}
			}
		})
	}
	b.Run("newkey+inverse", func(b *testing.B) {
		for b.Loop() {
			k, _ := NewKey(key)
			k.fusedKernel()
		}
	})
}

func TestSealChunkAllocates(t *testing.T) {
	key := make([]byte, 32)
	k, _ := NewKey(key)
	iv := make([]byte, 12)
	buf := make([]byte, 4096, 4096+16)
	k.SealChunk(buf, buf, iv, 1)
	if n := testing.AllocsPerRun(100, func() { k.SealChunk(buf, buf, iv, 1) }); n > 0 {
		t.Fatalf("SealChunk allocates %v times per call", n)
	}
}

func TestXORChunkIsCTR(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	k, _ := NewKey(key)
	iv := make([]byte, 12)
	rand.Read(iv)
	for _, n := range []int{0, 1, 16, 100, 4096} {
		src := make([]byte, n)
		rand.Read(src)
		want := make([]byte, n)
		k.CTR(iv, 7).XORKeyStream(want, src)
		got := make([]byte, n, n+16)
		k.XORChunk(got, src, iv, 7)
		if !bytes.Equal(got, want) {
			t.Fatalf("n=%d: XORChunk differs from AES-CTR", n)
		}
		copy(got, src)
		k.XORChunk(got, got, iv, 7) // in place
		if !bytes.Equal(got, want) {
			t.Fatalf("n=%d: XORChunk in place differs from AES-CTR", n)
		}
	}
}
