package cse

import (
	"fmt"
	"io"
)

// NewEncryptReader returns a reader of the ciphertext of plaintext under c,
// as produced by Encryptor.Encrypt. Only GCM and the committing suite are
// written.
func (c *Content) NewEncryptReader(plaintext io.Reader, optFns ...func(*StreamOptions)) (io.ReadCloser, error) {
	switch c.Algorithm {
	case AlgGCM, AlgCommitting:
		return NewGCMEncryptReader(plaintext, c.Key, c.IV, c.AAD, optFns...)
	}
	return nil, fmt.Errorf("cse: content algorithm %v is never written", c.Algorithm)
}
