// Copyright 2013 The Go Authors (the table-driven multiplication below is
// adapted from Go's crypto/internal/fips140/aes/gcm/ghash.go, BSD licence).

package aesgcm

import "encoding/binary"

// element is a GF(2^128) element in GCM's bit-reflected representation:
// lo holds the first eight bytes of the block (big-endian), hi the last eight.
type element struct {
	lo, hi uint64
}

func load(b []byte) element {
	return element{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:16])}
}

func (e element) store(b []byte) {
	binary.BigEndian.PutUint64(b[:8], e.lo)
	binary.BigEndian.PutUint64(b[8:16], e.hi)
}

func (e element) xor(f element) element { return element{e.lo ^ f.lo, e.hi ^ f.hi} }

// table holds the sixteen multiples of one field element, indexed in
// bit-reversed order, for 4-bit-at-a-time multiplication.
type table [16]element

func reverseBits(i int) int {
	i = ((i << 2) & 0xc) | ((i >> 2) & 0x3)
	i = ((i << 1) & 0xa) | ((i >> 1) & 0x5)
	return i
}

func double(x element) element {
	msb := x.hi&1 == 1
	d := element{lo: x.lo >> 1, hi: x.hi>>1 | x.lo<<63}
	if msb {
		d.lo ^= 0xe100000000000000
	}
	return d
}

func newTable(x element) *table {
	t := makeTable(x)
	return &t
}

// makeTable returns the table of x by value, for a one-off multiplication
// that need not allocate.
func makeTable(x element) (t table) {
	t[reverseBits(1)] = x
	for i := 2; i < 16; i += 2 {
		t[reverseBits(i)] = double(t[reverseBits(i/2)])
		t[reverseBits(i+1)] = t[reverseBits(i)].xor(x)
	}
	return t
}

var reduction = [16]uint16{
	0x0000, 0x1c20, 0x3840, 0x2460, 0x7080, 0x6ca0, 0x48c0, 0x54e0,
	0xe100, 0xfd20, 0xd940, 0xc560, 0x9180, 0x8da0, 0xa9c0, 0xb5e0,
}

// mul returns y·x, where t is the table of x.
func (t *table) mul(y element) element {
	var z element
	for i := 0; i < 2; i++ {
		word := y.hi
		if i == 1 {
			word = y.lo
		}
		for j := 0; j < 64; j += 4 {
			msw := z.hi & 0xf
			z.hi >>= 4
			z.hi |= z.lo << 60
			z.lo >>= 4
			z.lo ^= uint64(reduction[msw]) << 48
			e := t[word&0xf]
			z.lo ^= e.lo
			z.hi ^= e.hi
			word >>= 4
		}
	}
	return z
}

// mul returns x·y.
func mul(x, y element) element {
	t := makeTable(x)
	return t.mul(y)
}

// one is the multiplicative identity (the bit-reflected polynomial 1).
var one = element{lo: 1 << 63}

// pow returns x^n.
func pow(x element, n uint64) element {
	r := one
	for n > 0 {
		if n&1 == 1 {
			r = mul(r, x)
		}
		n >>= 1
		if n > 0 {
			x = mul(x, x)
		}
	}
	return r
}

// ghashReference computes GHASH_H(aad, ciphertext) bit by bit in pure Go; it is
// the portable reference the composed path is tested against.
func ghashReference(h element, aad, ciphertext []byte) element {
	t := newTable(h)
	var y element
	update := func(data []byte) {
		for len(data) > 0 {
			var blk [16]byte
			n := copy(blk[:], data)
			data = data[n:]
			y = t.mul(y.xor(load(blk[:])))
		}
	}
	update(aad)
	update(ciphertext)
	var l [16]byte
	binary.BigEndian.PutUint64(l[:8], uint64(len(aad))*8)
	binary.BigEndian.PutUint64(l[8:], uint64(len(ciphertext))*8)
	return t.mul(y.xor(load(l[:])))
}
