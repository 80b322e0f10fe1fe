package aesgcm

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
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

// gfMulSpec multiplies two blocks in GF(2^128) bit by bit, exactly as
// Algorithm 1 of NIST SP 800-38D describes it. It shares no code with
// field.go and is the independent reference for the table arithmetic.
func gfMulSpec(x, y [16]byte) [16]byte {
	var z [2]uint64
	v := [2]uint64{binary.BigEndian.Uint64(y[:8]), binary.BigEndian.Uint64(y[8:])}
	for i := range 128 {
		if x[i/8]>>(7-i%8)&1 == 1 {
			z[0] ^= v[0]
			z[1] ^= v[1]
		}
		lsb := v[1] & 1
		v[1] = v[1]>>1 | v[0]<<63
		v[0] >>= 1
		if lsb == 1 {
			v[0] ^= 0xe1 << 56
		}
	}
	var out [16]byte
	binary.BigEndian.PutUint64(out[:8], z[0])
	binary.BigEndian.PutUint64(out[8:], z[1])
	return out
}

func gfPowSpec(x [16]byte, n uint64) [16]byte {
	r := [16]byte{0: 0x80} // the polynomial 1
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			r = gfMulSpec(r, x)
		}
		x = gfMulSpec(x, x)
	}
	return r
}

func xor16(a, b [16]byte) [16]byte {
	for i := range a {
		a[i] ^= b[i]
	}
	return a
}

func toBytes(e element) [16]byte {
	var b [16]byte
	e.store(b[:])
	return b
}

func randElement(r *mrand.Rand) element { return element{lo: r.Uint64(), hi: r.Uint64()} }

func TestFieldMatchesSpec(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	for range 200 {
		x, y := randElement(r), randElement(r)
		if got, want := toBytes(mul(x, y)), gfMulSpec(toBytes(x), toBytes(y)); got != want {
			t.Fatalf("mul(%x, %x) = %x; SP 800-38D Algorithm 1 gives %x", toBytes(x), toBytes(y), got, want)
		}
	}
	// Block counts up to and past what one GCM message can hold: the
	// largest is (2^36-32)/16 = 2^32-2 blocks.
	counts := []uint64{0, 1, 2, 3, 255, 1 << 16, 1<<16 + 1, MaxPlaintext/16 - 1, MaxPlaintext / 16, 1<<32 - 1, 1 << 32, 1<<32 + 1, 1<<33 | 1<<20 | 7, 1<<63 + 12345, 1<<64 - 1}
	for range 10 {
		counts = append(counts, r.Uint64())
	}
	for _, n := range counts {
		x := randElement(r)
		if got, want := toBytes(pow(x, n)), gfPowSpec(toBytes(x), n); got != want {
			t.Fatalf("pow(x, %d) = %x; the bitwise reference gives %x", n, got, want)
		}
	}
}

// splitChunks cuts n bytes into chunks whose sizes cycle through pattern
// (each a multiple of 16, zero allowed), the last one taking the rest.
func splitChunks(n int, pattern []int) []int {
	var out []int
	for i := 0; n > 0; i++ {
		c := min(pattern[i%len(pattern)], n)
		if c < pattern[i%len(pattern)] {
			c = n // the last chunk: the rest, any length
		}
		out = append(out, c)
		n -= c
	}
	return append(out, 0) // a trailing empty chunk must not change the hash
}

// TestReferenceGHASHMatchesTags checks the pure-Go reference GHASH against
// whole tags: the tag computed by Hash from chunk hashes added in unequal
// chunks, crypto/cipher's Seal, and ghashReference ⊕ E(K, J0) must agree.
func TestReferenceGHASHMatchesTags(t *testing.T) {
	key := make([]byte, 32)
	iv := make([]byte, 12)
	rand.Read(key)
	rand.Read(iv)
	k, err := NewKey(key)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key) // E(K, J0) computed apart from Key
	var ej0 [16]byte
	copy(ej0[:], iv)
	ej0[15] = 1
	block.Encrypt(ej0[:], ej0[:])

	patterns := [][]int{{16}, {48, 16, 160}, {16, 0, 32, 0, 4096}, {4096, 16, 1024, 64}, {1 << 16}}
	scratch := make([]byte, 0, 16)
	for _, aad := range [][]byte{nil, {0x00, 0x73}, bytes.Repeat([]byte{7}, 33), bytes.Repeat([]byte{9}, 90)} {
		for _, size := range []int{0, 1, 15, 16, 17, 100, 1000, 4097, 70000} {
			pt := make([]byte, size)
			rand.Read(pt)
			sealed := k.AEAD().Seal(nil, iv, pt, aad)
			ct, stdTag := sealed[:size], sealed[size:]
			ref := xor16(toBytes(ghashReference(k.h, aad, ct)), ej0)
			if !bytes.Equal(ref[:], stdTag) {
				t.Fatalf("aad %d size %d: reference GHASH tag %x, crypto/cipher Seal %x", len(aad), size, ref, stdTag)
			}
			for _, pat := range patterns {
				h := k.NewHash(aad)
				off := 0
				for _, c := range splitChunks(size, pat) {
					h.Add(k.ChunkHash(ct[off:off+c], scratch), c)
					off += c
				}
				if h.Len() != uint64(size) {
					t.Fatalf("Hash.Len = %d after %d bytes", h.Len(), size)
				}
				if tag := h.Tag(iv); tag != ref {
					t.Fatalf("aad %d size %d chunks %v: Hash.Tag %x, reference %x", len(aad), size, pat, tag, ref)
				}
			}
		}
	}
}

// TestHashLargeBlockCounts drives Hash.Add with chunk lengths far larger
// than any buffer (up to the GCM limit) and checks its accumulator and tag
// against the bitwise field reference: acc = acc·H^blocks ⊕ P per chunk,
// then tag = (acc ⊕ L)·H ⊕ E(K, J0), with L the bit lengths of AAD and
// ciphertext. No data of that size is allocated: P is a random partial hash.
func TestHashLargeBlockCounts(t *testing.T) {
	key := make([]byte, 32)
	iv := make([]byte, 12)
	rand.Read(key)
	rand.Read(iv)
	k, _ := NewKey(key)
	hb := toBytes(k.h)
	block, _ := aes.NewCipher(key)
	var ej0 [16]byte
	copy(ej0[:], iv)
	ej0[15] = 1
	block.Encrypt(ej0[:], ej0[:])

	r := mrand.New(mrand.NewPCG(3, 4))
	aad := []byte("additional data")
	for _, lens := range [][]int64{
		{1 << 30, 1 << 30, 5},
		{MaxPlaintext - 32, 32},
		{16, MaxPlaintext - 48, 31},
		{1 << 20, 1 << 24, 1 << 20, 1<<32 + 16, 17},
	} {
		h := k.NewHash(aad)
		p0 := k.ChunkHash(aad, nil)
		acc := xor16(p0, [16]byte{}) // the AAD's partial hash starts the sum
		var total uint64
		for _, n := range lens {
			var p [16]byte
			for i := range p {
				p[i] = byte(r.Uint32())
			}
			h.Add(p, int(n))
			blocks := (uint64(n) + 15) / 16
			acc = xor16(gfMulSpec(acc, gfPowSpec(hb, blocks)), p)
			total += uint64(n)
		}
		var l [16]byte
		binary.BigEndian.PutUint64(l[:8], uint64(len(aad))*8)
		binary.BigEndian.PutUint64(l[8:], total*8)
		// Tag = acc ⊕ L·H ⊕ E(K, J0): the partial hashes already include
		// the final multiplication by H.
		want := xor16(xor16(acc, gfMulSpec(l, hb)), ej0)
		if got := h.Tag(iv); got != want {
			t.Fatalf("chunks %v: Hash.Tag %x, bitwise reference %x", lens, got, want)
		}
	}
}
