package cse

import (
	"fmt"
	"io"
)

// This file holds what is done with a recovered or new content key: the
// streams, ranges, sizes and multipart uploads of one object body.

// NewDecryptReader returns a reader of the plaintext of ciphertext, the body
// of the object whose envelope gave c. GCM and the committing suite are
// authenticated: by default no plaintext is returned before the tag has been
// verified (the first Read decrypts and authenticates the whole message,
// holding its first StreamOptions.MemoryLimit bytes in memory and the rest in
// a sealed temporary file), and a message that is not authentic yields an
// error matching ErrNotAuthentic and no plaintext at all; with
// StreamOptions.DelayedAuthentication plaintext is returned as it is
// decrypted and the final Read reports a bad tag instead of io.EOF. CBC
// content is not authenticated: plaintext is released as it is decrypted and
// a bad padding is reported at the end, as an *AuthenticationError that says
// nothing more (no padding oracle).
//
// The reader does not retain c.Key beyond its key schedule, so c may be
// wiped once it is created. Close releases the workers and any spool file;
// it does not close ciphertext.
func (c *Content) NewDecryptReader(ciphertext io.Reader, optFns ...func(*StreamOptions)) (io.ReadCloser, error) {
	switch c.Algorithm {
	case AlgGCM, AlgCommitting:
		return newGCMDecryptReader(ciphertext, c.Key, c.IV, c.AAD, optFns...)
	case AlgCBC:
		return newCBCDecryptReader(ciphertext, c.Key, c.IV, optFns...)
	}
	return nil, fmt.Errorf("cse: content algorithm %v cannot be decrypted", c.Algorithm)
}

// NewEncryptReader returns a reader of the ciphertext of plaintext under c,
// as produced by Encryptor.Encrypt: the AES-GCM ciphertext followed by the
// 16-byte tag, byte-identical to crypto/cipher's Seal. Only GCM and the
// committing suite are written. Close stops the workers; it does not close
// plaintext.
func (c *Content) NewEncryptReader(plaintext io.Reader, optFns ...func(*StreamOptions)) (io.ReadCloser, error) {
	switch c.Algorithm {
	case AlgGCM, AlgCommitting:
		return newGCMEncryptReader(plaintext, c.Key, c.IV, c.AAD, optFns...)
	}
	return nil, fmt.Errorf("cse: content algorithm %v is never written", c.Algorithm)
}

// NewMultipartEncryptor starts the encryption of the body of c as the parts
// of a multipart upload (see MultipartEncryptor). Only GCM and the
// committing suite are written.
func (c *Content) NewMultipartEncryptor(optFns ...func(*StreamOptions)) (*MultipartEncryptor, error) {
	switch c.Algorithm {
	case AlgGCM, AlgCommitting:
		return newMultipartEncryptor(c.Key, c.IV, c.AAD, optFns...)
	}
	return nil, fmt.Errorf("cse: content algorithm %v is never written", c.Algorithm)
}

// Range returns the ciphertext to fetch for plaintext bytes [off, off+n) of
// an object of ciphertextSize stored bytes, clamped to the plaintext; read
// it with [Content.NewRangeReader].
//
// A range read is not authenticated (GCM ranges are decrypted with AES-CTR
// without the tag; CBC is never authenticated), so Range returns the
// *PolicyError of [Policy.CheckRange] unless the policy of the Decryptor
// that recovered c allows it; a Content from anywhere else is held to the
// zero Policy, which allows none.
//
// For GCM only the 16-byte blocks that hold the range are fetched (the Java
// client fetches one more block on each side; AES-CTR needs none). For CBC
// the block before them, their IV, is fetched too.
func (c *Content) Range(off, n, ciphertextSize int64) (Range, error) {
	if err := c.policy.CheckRange(c.Algorithm); err != nil {
		return Range{}, err
	}
	switch c.Algorithm {
	case AlgGCM, AlgCommitting:
		return gcmRange(off, n, ciphertextSize)
	case AlgCBC:
		return cbcRange(off, n, ciphertextSize)
	}
	return Range{}, fmt.Errorf("cse: content algorithm %v cannot be decrypted", c.Algorithm)
}

// NewRangeReader decrypts the ciphertext fetched for r, a Range of c
// (exactly r.Length bytes from r.Offset), and returns the plaintext of the
// range. A body shorter than r.Length is reported as io.ErrUnexpectedEOF.
// Like Range, it is not authenticated.
func (c *Content) NewRangeReader(ciphertext io.Reader, r Range) (io.Reader, error) {
	if r.Length != 0 && r.cbc != (c.Algorithm == AlgCBC) {
		return nil, fmt.Errorf("cse: the range was not made for %v content", c.Algorithm)
	}
	return newRangeReader(ciphertext, c.Key, c.IV, r)
}

// DecryptedSize returns the plaintext size of an object of ciphertextSize
// stored bytes. For GCM and the committing suite it is ciphertextSize less
// the 16-byte tag, and tail is not used. For CBC it is found from tail, the
// last 32 bytes of the object (all 16 of a one-block object): this is how
// the size of a CBC object without x-amz-unencrypted-content-length is
// found with one ranged GET. A size no object of the algorithm can have,
// or a bad CBC padding, is an error matching ErrNotAuthentic.
func (c *Content) DecryptedSize(ciphertextSize int64, tail []byte) (int64, error) {
	switch c.Algorithm {
	case AlgGCM, AlgCommitting:
		return gcmPlaintextSize(ciphertextSize)
	case AlgCBC:
		return cbcPlaintextSize(ciphertextSize, tail, c.Key, c.IV)
	}
	return 0, fmt.Errorf("cse: content algorithm %v cannot be decrypted", c.Algorithm)
}

// EncryptedSize returns the size of the encryption under c of plaintextSize
// bytes: for GCM and the committing suite the ciphertext and its 16-byte
// tag (for CBC, read only, the padded size).
func (c *Content) EncryptedSize(plaintextSize int64) int64 {
	if c.Algorithm == AlgCBC {
		return (plaintextSize/16 + 1) * 16 // PKCS#7 pads to the next whole block
	}
	return gcmCiphertextSize(plaintextSize)
}
