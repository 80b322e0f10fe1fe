package cse

import (
	"fmt"
	"io"
)

// NewDecryptReader returns a reader of the plaintext of ciphertext, the body
// of the object whose envelope gave c: GCM and the committing suite through
// NewGCMDecryptReader (authenticated), CBC through NewCBCDecryptReader. The
// reader does not retain c.Key beyond its key schedule, so c may be wiped
// once it is created.
func (c *Content) NewDecryptReader(ciphertext io.Reader, optFns ...func(*DecryptOptions)) (io.ReadCloser, error) {
	switch c.Algorithm {
	case AlgGCM, AlgCommitting:
		return NewGCMDecryptReader(ciphertext, c.Key, c.IV, c.AAD, optFns...)
	case AlgCBC:
		var o DecryptOptions
		for _, f := range optFns {
			f(&o)
		}
		return NewCBCDecryptReader(ciphertext, c.Key, c.IV, func(so *StreamOptions) { *so = o.StreamOptions })
	}
	return nil, fmt.Errorf("cse: content algorithm %v cannot be decrypted", c.Algorithm)
}
