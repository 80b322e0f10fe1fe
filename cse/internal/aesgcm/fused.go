package aesgcm

import (
	"crypto/cipher"
	"encoding/binary"
	"sync"
)

// The fused chunk kernel encrypts a chunk and hashes its ciphertext in one
// pass of crypto/cipher's own AES-GCM assembly, where the composed path
// makes two (AES-CTR, then GHASH).
//
// It uses a GCM with 16-byte nonces. For such a nonce N the pre-counter
// block is J0 = GHASH_H(N ‖ 0^64 ‖ [128]_64) = N·H² ⊕ L·H, where L is that
// length block; the first block is encrypted with the counter inc32(J0).
// Choosing N = (J0' ⊕ L·H)·H⁻² with J0' = IV ‖ uint32be(1+b) makes Seal
// encrypt the chunk with exactly the counters of block b onward of the
// message (IV ‖ uint32be(2+b), ...; inc32 wraps as GCM's does), and its tag
// E(K, J0') ⊕ GHASH_H(C, [0]_64 ‖ [8·len(C)]_64) gives the chunk's partial
// hash once E(K, J0') and the length term are removed.
//
// The composed path stays as the reference (and the fallback where a
// 16-byte-nonce GCM is refused, e.g. in FIPS-only mode); tests hold the two
// to each other and to crypto/cipher's one-shot Seal.
type fused struct {
	aead  cipher.AEAD
	hInv2 *table  // table of H⁻²
	lenH  element // L·H for the length block of a 16-byte nonce
}

func newFused(block cipher.Block, h element, hTab *table) *fused {
	aead, err := cipher.NewGCMWithNonceSize(block, 16)
	if err != nil {
		return nil
	}
	h2 := hTab.mul(h)
	return &fused{
		aead:  aead,
		hInv2: newTable(inverse(h2)),
		lenH:  hTab.mul(element{lo: 0, hi: 16 * 8}),
	}
}

// inverse returns x⁻¹ = x^(2^128−2) = (x^(2^127−1))² in GF(2^128), by the
// Itoh–Tsujii addition chain 1, 2, 3, 6, 7, 14, 15, 30, 31, 62, 63, 126, 127
// on exponents of the form 2^k−1: 127 squarings and 12 multiplications.
// x must not be zero.
func inverse(x element) element {
	// sq returns y^(2^n).
	sq := func(y element, n int) element {
		for range n {
			y = mul(y, y)
		}
		return y
	}
	a1 := x
	a2 := mul(sq(a1, 1), a1)
	a3 := mul(sq(a2, 1), a1)
	a6 := mul(sq(a3, 3), a3)
	a7 := mul(sq(a6, 1), a1)
	a14 := mul(sq(a7, 7), a7)
	a15 := mul(sq(a14, 1), a1)
	a30 := mul(sq(a15, 15), a15)
	a31 := mul(sq(a30, 1), a1)
	a62 := mul(sq(a31, 31), a31)
	a63 := mul(sq(a62, 1), a1)
	a126 := mul(sq(a63, 63), a63)
	a127 := mul(sq(a126, 1), a1)
	return sq(a127, 1)
}

// chunkScratch holds SealChunk's blocks: passed to crypto/cipher's
// interfaces they would escape, so they are pooled rather than allocated
// per chunk.
type chunkScratch struct{ j0, nonce, mask [16]byte }

var scratchPool = sync.Pool{New: func() any { return new(chunkScratch) }}

// fusedKernel returns the fused kernel, or nil where it is not available.
func (k *Key) fusedKernel() *fused {
	k.fusedOnce.Do(func() {
		if k.h != (element{}) {
			k.fused = newFused(k.block, k.h, k.hTab)
		}
	})
	return k.fused
}

// SealChunk encrypts chunk, the plaintext of 16-byte block b onward of the
// message with the given IV, into dst and returns the ciphertext (dst's
// first len(chunk) bytes) and its partial hash, as ChunkHash would return
// it. dst must have a capacity of at least len(chunk)+16: the 16 bytes after
// the ciphertext are overwritten. dst and chunk may be the same slice.
func (k *Key) SealChunk(dst, chunk, iv []byte, b uint64) ([]byte, [16]byte) {
	n := len(chunk)
	if cap(dst) < n+TagSize {
		panic("aesgcm: SealChunk: dst too small")
	}
	f := k.fusedKernel()
	if f == nil || n == 0 {
		out := dst[:n]
		k.CTR(iv, b).XORKeyStream(out, chunk)
		return out, k.ChunkHash(out, dst[n:n:n+TagSize])
	}
	sc := scratchPool.Get().(*chunkScratch)
	defer scratchPool.Put(sc)
	copy(sc.j0[:], iv[:NonceSize])
	binary.BigEndian.PutUint32(sc.j0[12:], uint32(1+b))
	f.hInv2.mul(load(sc.j0[:]).xor(f.lenH)).store(sc.nonce[:])
	sealed := f.aead.Seal(dst[:0], sc.nonce[:], chunk, nil)
	k.block.Encrypt(sc.mask[:], sc.j0[:])
	g := load(sealed[n:]).xor(load(sc.mask[:])).xor(k.hTab.mul(element{hi: uint64(n) * 8}))
	var sum [16]byte
	g.store(sum[:])
	return sealed[:n], sum
}

// XORChunk applies the keystream of 16-byte block b onward of the message
// with the given IV to src, writing to dst (which may be src) — what
// CTR(iv, b).XORKeyStream(dst, src) does, without its allocations: it runs
// the fused kernel and discards the tag. dst must have a capacity of at
// least len(src)+16; the 16 bytes after the output are overwritten.
func (k *Key) XORChunk(dst, src, iv []byte, b uint64) {
	if k.fusedKernel() == nil {
		k.CTR(iv, b).XORKeyStream(dst[:len(src)], src)
		return
	}
	k.SealChunk(dst, src, iv, b)
}
