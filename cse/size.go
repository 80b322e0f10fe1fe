package cse

import (
	"crypto/cipher"
	"fmt"

	"github.com/emrs3/emrs3/cse/internal/aesgcm"
)

// gcmCiphertextSize returns the size of the GCM encryption of n plaintext
// bytes (the ciphertext and its 16-byte tag).
func gcmCiphertextSize(n int64) int64 { return n + aesgcm.TagSize }

// gcmPlaintextSize returns the plaintext size of a GCM object of n bytes.
func gcmPlaintextSize(n int64) (int64, error) {
	if n < aesgcm.TagSize || n-aesgcm.TagSize > aesgcm.MaxPlaintext {
		return 0, gcmError(fmt.Sprintf("a GCM object cannot be %d bytes long", n))
	}
	return n - aesgcm.TagSize, nil
}

// cbcPlaintextSize returns the plaintext size of a CBC object of n bytes
// from its tail: the last 32 bytes of the object, or all 16 when n is 16. The
// object's IV is needed for a one-block object. This is how the size of an
// object without x-amz-unencrypted-content-length is found with one ranged
// GET.
func cbcPlaintextSize(n int64, tail, key, iv []byte) (int64, error) {
	block, err := cbcParams(key, iv)
	if err != nil {
		return 0, err
	}
	if n < 16 || n%16 != 0 {
		return 0, errCBC
	}
	want := 32
	if n == 16 {
		want = 16
	}
	if len(tail) != want {
		return 0, fmt.Errorf("cse: cbcPlaintextSize needs the last %d bytes of the object, got %d", want, len(tail))
	}
	prev, last := iv, tail
	if want == 32 {
		prev, last = tail[:16], tail[16:]
	}
	var blk [16]byte
	cipher.NewCBCDecrypter(block, prev).CryptBlocks(blk[:], last)
	p, ok := unpad(blk[:])
	clear(blk[:])
	if !ok {
		return 0, errCBC
	}
	return n - 16 + int64(p), nil
}
