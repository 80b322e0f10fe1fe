// Package aesgcm is the composed AES-GCM used by the streaming core: AES-CTR
// keystream per chunk and GHASH per chunk, combined by multiplying partial
// hashes with powers of H. Chunks can therefore be processed on any core and
// in any order, and the result is byte-identical to crypto/cipher's GCM.
//
// GHASH of a chunk is taken from crypto/cipher itself: an AES-GCM Seal with
// the chunk as additional data and no plaintext returns
// E(K, J0) ⊕ GHASH_H(chunk, length block), which runs at the speed of the
// platform's carry-less-multiply assembly. The pure-Go table multiplication
// in field.go combines the partial hashes and is the reference the fast path
// is tested against.
package aesgcm

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// NonceSize is the only IV size the S3 Encryption Client format uses.
const NonceSize = 12

// TagSize is the size of the GCM authentication tag.
const TagSize = 16

// MaxPlaintext is the largest plaintext one GCM message may carry (2^36 − 32).
const MaxPlaintext = 1<<36 - 32

// ErrTooLarge reports a message longer than GCM allows.
var ErrTooLarge = errors.New("cse: message exceeds the GCM limit of 2^36-32 bytes (about 64 GiB)")

var zeroNonce [NonceSize]byte

// Key holds the per-key values of the composed GCM. It is safe for concurrent
// use.
type Key struct {
	block  cipher.Block
	aead   cipher.AEAD
	h      element
	hTab   *table
	ekZero element // E(K, 0^96 ‖ 1), the mask of tags sealed under the zero nonce

	fusedOnce sync.Once
	fused     *fused // built on first use; nil where unavailable
}

// NewKey expands an AES-256 key (16- and 24-byte keys work too).
func NewKey(key []byte) (*Key, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("aesgcm: invalid AES key size %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k := &Key{block: block, aead: aead}
	var b [16]byte
	block.Encrypt(b[:], b[:])
	k.h = load(b[:])
	k.hTab = newTable(k.h)
	b = [16]byte{15: 1}
	block.Encrypt(b[:], b[:])
	k.ekZero = load(b[:])
	return k, nil
}

// AEAD returns the standard library GCM for one-shot operations.
func (k *Key) AEAD() cipher.AEAD { return k.aead }

// Block returns the AES block cipher.
func (k *Key) Block() cipher.Block { return k.block }

// CTR returns the GCM keystream for the message with the given IV, starting
// at 16-byte block b of the plaintext (counter IV ‖ uint32be(2+b)).
func (k *Key) CTR(iv []byte, b uint64) cipher.Stream {
	var ctr [16]byte
	copy(ctr[:], iv[:NonceSize])
	binary.BigEndian.PutUint32(ctr[12:], uint32(2+b))
	return cipher.NewCTR(k.block, ctr[:])
}

// ChunkHash returns the partial hash of one chunk of ciphertext (or of the
// additional data): the sum over its blocks C_1..C_n of C_i·H^(n+2−i). A
// short final block is zero padded, as GCM does. scratch must have a capacity
// of at least 16 bytes; it avoids an allocation per call.
func (k *Key) ChunkHash(data, scratch []byte) [16]byte {
	var out [16]byte
	if len(data) == 0 {
		return out
	}
	tag := k.aead.Seal(scratch[:0], zeroNonce[:], nil, data)
	g := load(tag).xor(k.ekZero)
	l := element{lo: uint64(len(data)) * 8}
	g.xor(k.hTab.mul(l)).store(out[:])
	return out
}

// Hash accumulates the partial hashes of consecutive chunks of one message.
type Hash struct {
	k        *Key
	acc      element
	aadLen   uint64
	ctLen    uint64
	powN     uint64
	powTable *table
}

// NewHash starts the GHASH of a message with the given additional data.
func (k *Key) NewHash(aad []byte) *Hash {
	h := &Hash{k: k, aadLen: uint64(len(aad))}
	if len(aad) > 0 {
		p := k.ChunkHash(aad, make([]byte, 0, 16))
		h.acc = load(p[:])
	}
	return h
}

// Add folds in the partial hash p of the next n bytes of ciphertext. Every
// chunk but the last must be a multiple of 16 bytes long.
func (h *Hash) Add(p [16]byte, n int) {
	if n == 0 {
		return
	}
	blocks := (uint64(n) + 15) / 16
	h.ctLen += uint64(n)
	if h.acc != (element{}) {
		if h.powTable == nil || h.powN != blocks {
			h.powN = blocks
			h.powTable = newTable(pow(h.k.h, blocks))
		}
		h.acc = h.powTable.mul(h.acc)
	}
	h.acc = h.acc.xor(load(p[:]))
}

// Len returns the number of ciphertext bytes added so far.
func (h *Hash) Len() uint64 { return h.ctLen }

// Tag returns the GCM tag of the message for the given IV.
func (h *Hash) Tag(iv []byte) [16]byte {
	var l [16]byte
	binary.BigEndian.PutUint64(l[:8], h.aadLen*8)
	binary.BigEndian.PutUint64(l[8:], h.ctLen*8)
	g := h.acc.xor(h.k.hTab.mul(load(l[:])))
	var j0 [16]byte
	copy(j0[:], iv[:NonceSize])
	j0[15] = 1
	h.k.block.Encrypt(j0[:], j0[:])
	var tag [16]byte
	g.xor(load(j0[:])).store(tag[:])
	return tag
}
