package aesgcm

import (
	"bytes"
	"crypto/rand"
	"testing"
)

// composedSeal encrypts with the composed path, chunk by chunk.
func composedSeal(t testing.TB, k *Key, iv, aad, pt []byte, chunk int) []byte {
	t.Helper()
	out := make([]byte, len(pt), len(pt)+16)
	h := k.NewHash(aad)
	scratch := make([]byte, 0, 16)
	for off := 0; off < len(pt) || off == 0; off += chunk {
		end := min(off+chunk, len(pt))
		k.CTR(iv, uint64(off/16)).XORKeyStream(out[off:end], pt[off:end])
		h.Add(k.ChunkHash(out[off:end], scratch), end-off)
		if end == len(pt) {
			break
		}
	}
	tag := h.Tag(iv)
	return append(out, tag[:]...)
}

func TestComposedMatchesStdlib(t *testing.T) {
	key := make([]byte, 32)
	iv := make([]byte, 12)
	rand.Read(key)
	rand.Read(iv)
	k, err := NewKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, aad := range [][]byte{nil, {0x00, 0x73}, bytes.Repeat([]byte{7}, 33)} {
		for _, size := range []int{0, 1, 15, 16, 17, 31, 32, 33, 100, 1024, 4095, 4096, 4097, 10000} {
			for _, chunk := range []int{16, 32, 64, 4096} {
				pt := make([]byte, size)
				rand.Read(pt)
				want := k.AEAD().Seal(nil, iv, pt, aad)
				got := composedSeal(t, k, iv, aad, pt, chunk)
				if !bytes.Equal(got, want) {
					t.Fatalf("aad %d size %d chunk %d: composed GCM differs from crypto/cipher", len(aad), size, chunk)
				}
			}
		}
	}
}

func TestReferenceGHASHMatchesChunkHash(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	k, _ := NewKey(key)
	for _, n := range []int{1, 16, 17, 64, 1000} {
		data := make([]byte, n)
		rand.Read(data)
		// The reference GHASH of (A = data, C = empty) equals P ⊕ L·H.
		ref := ghashReference(k.h, data, nil)
		p := k.ChunkHash(data, nil)
		l := element{lo: uint64(n) * 8}
		got := load(p[:]).xor(k.hTab.mul(l))
		if got != ref {
			t.Fatalf("n=%d: chunk hash disagrees with the pure-Go reference", n)
		}
	}
}

func TestPow(t *testing.T) {
	x := element{lo: 0x0123456789abcdef, hi: 0xfedcba9876543210}
	r := one
	for n := uint64(0); n < 40; n++ {
		if pow(x, n) != r {
			t.Fatalf("pow(x, %d) wrong", n)
		}
		r = mul(r, x)
	}
	if mul(one, x) != x {
		t.Fatal("one is not the identity")
	}
}
