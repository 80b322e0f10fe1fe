// Package keywrap implements the key-encryption algorithms of the S3
// Encryption Client envelope formats: the AES/GCM and RSA-OAEP-SHA1 wraps of
// V2/V3, the legacy AESWrap (RFC 3394) and RSA OAEP-SHA256 wraps, and V1's
// raw AES/ECB/PKCS5Padding and RSA/ECB/PKCS1Padding key encryption.
//
// All functions are pure; callers own and wipe the returned key material.
package keywrap

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrUnwrap is returned (wrapped) when an encrypted key does not decrypt
// under the given key-encryption key: the key is wrong or the value was
// altered.
var ErrUnwrap = errors.New("keywrap: encrypted data key does not decrypt with this key")

const gcmIVLen = 12

// AESGCMWrap encrypts cek under kek with AES-GCM and the given AAD and
// returns IV(12) ‖ ciphertext ‖ tag(16). rnd supplies the IV (crypto/rand
// when nil).
func AESGCMWrap(rnd io.Reader, kek, cek, aad []byte) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	aead, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	out := make([]byte, gcmIVLen, gcmIVLen+len(cek)+aead.Overhead())
	if _, err := io.ReadFull(rnd, out); err != nil {
		return nil, fmt.Errorf("keywrap: reading IV: %w", err)
	}
	return aead.Seal(out, out[:gcmIVLen], cek, aad), nil
}

// AESGCMUnwrap reverses AESGCMWrap.
func AESGCMUnwrap(kek, wrapped, aad []byte) ([]byte, error) {
	aead, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	if len(wrapped) < gcmIVLen+aead.Overhead() {
		return nil, fmt.Errorf("%w: AES/GCM wrapped key is %d bytes, shorter than IV and tag", ErrUnwrap, len(wrapped))
	}
	cek, err := aead.Open(nil, wrapped[:gcmIVLen], wrapped[gcmIVLen:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w (AES/GCM)", ErrUnwrap)
	}
	return cek, nil
}

func newGCM(kek []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("keywrap: key-encryption key: %w", err)
	}
	return cipher.NewGCM(block)
}

// RSAOAEPSHA1Wrap encrypts the pseudo-key len(cek) ‖ cek ‖ cekAlg with
// RSA-OAEP (SHA-1, MGF1-SHA-1), as the S3EC RSA-OAEP-SHA1 wrap does.
func RSAOAEPSHA1Wrap(rnd io.Reader, pub *rsa.PublicKey, cek []byte, cekAlg string) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if len(cek) > 255 {
		return nil, errors.New("keywrap: data key longer than 255 bytes")
	}
	pseudo := make([]byte, 0, 1+len(cek)+len(cekAlg))
	pseudo = append(pseudo, byte(len(cek)))
	pseudo = append(pseudo, cek...)
	pseudo = append(pseudo, cekAlg...)
	defer clear(pseudo)
	out, err := rsa.EncryptOAEP(sha1.New(), rnd, pub, pseudo, nil)
	if err != nil {
		return nil, fmt.Errorf("keywrap: RSA-OAEP-SHA1: %w", err)
	}
	return out, nil
}

// RSAOAEPSHA1Unwrap reverses RSAOAEPSHA1Wrap and checks that the algorithm
// name bound into the pseudo-key equals cekAlg.
func RSAOAEPSHA1Unwrap(priv *rsa.PrivateKey, wrapped []byte, cekAlg string) ([]byte, error) {
	pseudo, err := rsa.DecryptOAEP(sha1.New(), nil, priv, wrapped, nil)
	if err != nil {
		return nil, fmt.Errorf("%w (RSA-OAEP-SHA1)", ErrUnwrap)
	}
	defer clear(pseudo)
	if len(pseudo) < 1 || int(pseudo[0]) > len(pseudo)-1 {
		return nil, fmt.Errorf("%w: RSA-OAEP-SHA1 pseudo-key is malformed", ErrUnwrap)
	}
	n := int(pseudo[0])
	if subtle.ConstantTimeCompare(pseudo[1+n:], []byte(cekAlg)) != 1 {
		// The bound name is not echoed: with a crafted length byte it
		// would hold data-key bytes.
		return nil, fmt.Errorf("%w: RSA-OAEP-SHA1 pseudo-key is bound to a different content algorithm than the envelope's %q",
			ErrUnwrap, cekAlg)
	}
	return append([]byte(nil), pseudo[1:1+n]...), nil
}

// RSAOAEPSHA256Wrap encrypts cek with RSA/ECB/OAEPWithSHA-256AndMGF1Padding
// as Java's JCE defines it (OAEP SHA-256 digest, MGF1 with SHA-1). It exists
// for tests: the format is decrypt-only.
func RSAOAEPSHA256Wrap(rnd io.Reader, pub *rsa.PublicKey, cek []byte) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	return rsa.EncryptOAEPWithOptions(rnd, pub, cek, &rsa.OAEPOptions{Hash: cryptoSHA256, MGFHash: cryptoSHA1})
}

// RSAOAEPSHA256Unwrap decrypts a legacy RSA/ECB/OAEPWithSHA-256AndMGF1Padding
// key. Java's SunJCE uses MGF1-SHA-1 for this transformation while other
// providers use MGF1-SHA-256; both are tried.
func RSAOAEPSHA256Unwrap(priv *rsa.PrivateKey, wrapped []byte) ([]byte, error) {
	for _, mgf := range []cryptoHash{cryptoSHA1, cryptoSHA256} {
		cek, err := priv.Decrypt(nil, wrapped, &rsa.OAEPOptions{Hash: cryptoSHA256, MGFHash: mgf})
		if err == nil {
			return cek, nil
		}
	}
	return nil, fmt.Errorf("%w (RSA/ECB/OAEPWithSHA-256AndMGF1Padding)", ErrUnwrap)
}

var defaultIV = [8]byte{0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6}

// AESKeyWrap implements RFC 3394 key wrap (Java's "AESWrap"). It exists for
// tests: the format is decrypt-only.
func AESKeyWrap(kek, cek []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("keywrap: key-encryption key: %w", err)
	}
	if len(cek)%8 != 0 || len(cek) < 16 {
		return nil, errors.New("keywrap: AESWrap needs a key of at least 16 bytes, a multiple of 8")
	}
	n := len(cek) / 8
	out := make([]byte, 8+len(cek))
	copy(out, defaultIV[:])
	copy(out[8:], cek)
	var b [16]byte
	for j := 0; j < 6; j++ {
		for i := 1; i <= n; i++ {
			copy(b[:8], out[:8])
			copy(b[8:], out[8*i:8*i+8])
			block.Encrypt(b[:], b[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(out[:8], binary.BigEndian.Uint64(b[:8])^t)
			copy(out[8*i:], b[8:])
		}
	}
	clear(b[:])
	return out, nil
}

// AESKeyUnwrap reverses AESKeyWrap and checks the RFC 3394 integrity value.
func AESKeyUnwrap(kek, wrapped []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("keywrap: key-encryption key: %w", err)
	}
	if len(wrapped)%8 != 0 || len(wrapped) < 24 {
		return nil, fmt.Errorf("%w: AESWrap value is %d bytes, not a multiple of 8 of at least 24", ErrUnwrap, len(wrapped))
	}
	n := len(wrapped)/8 - 1
	a := binary.BigEndian.Uint64(wrapped[:8])
	r := append([]byte(nil), wrapped[8:]...)
	var b [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(b[:8], a^t)
			copy(b[8:], r[8*(i-1):8*i])
			block.Decrypt(b[:], b[:])
			a = binary.BigEndian.Uint64(b[:8])
			copy(r[8*(i-1):], b[8:])
		}
	}
	clear(b[:])
	var got [8]byte
	binary.BigEndian.PutUint64(got[:], a)
	if subtle.ConstantTimeCompare(got[:], defaultIV[:]) != 1 {
		clear(r)
		return nil, fmt.Errorf("%w (AESWrap integrity check)", ErrUnwrap)
	}
	return r, nil
}

// AESECBEncrypt encrypts cek with AES/ECB/PKCS5Padding, V1's symmetric key
// encryption. It exists for tests: V1 is never written.
func AESECBEncrypt(kek, cek []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("keywrap: key-encryption key: %w", err)
	}
	pad := aes.BlockSize - len(cek)%aes.BlockSize
	out := make([]byte, len(cek)+pad)
	copy(out, cek)
	for i := len(cek); i < len(out); i++ {
		out[i] = byte(pad)
	}
	for i := 0; i < len(out); i += aes.BlockSize {
		block.Encrypt(out[i:], out[i:])
	}
	return out, nil
}

// AESECBDecrypt decrypts a V1 AES/ECB/PKCS5Padding encrypted key.
func AESECBDecrypt(kek, enc []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("keywrap: key-encryption key: %w", err)
	}
	if len(enc) == 0 || len(enc)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: AES/ECB value is %d bytes, not whole blocks", ErrUnwrap, len(enc))
	}
	out := make([]byte, len(enc))
	for i := 0; i < len(enc); i += aes.BlockSize {
		block.Decrypt(out[i:], enc[i:])
	}
	pad := int(out[len(out)-1])
	bad := 0
	if pad == 0 || pad > aes.BlockSize {
		bad = 1
	} else {
		for _, c := range out[len(out)-pad:] {
			if int(c) != pad {
				bad = 1
			}
		}
	}
	if bad != 0 {
		clear(out)
		return nil, fmt.Errorf("%w (AES/ECB/PKCS5Padding: bad padding)", ErrUnwrap)
	}
	return out[:len(out)-pad], nil
}

// RSAPKCS1Encrypt encrypts cek with RSA/ECB/PKCS1Padding, V1's asymmetric key
// encryption. It exists for tests: V1 is never written.
func RSAPKCS1Encrypt(rnd io.Reader, pub *rsa.PublicKey, cek []byte) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	//lint:ignore SA1019 V1 envelopes use PKCS#1 v1.5 and must stay readable.
	return rsa.EncryptPKCS1v15(rnd, pub, cek)
}

// RSAPKCS1Decrypt decrypts a V1 RSA/ECB/PKCS1Padding encrypted key.
func RSAPKCS1Decrypt(priv *rsa.PrivateKey, enc []byte) ([]byte, error) {
	//lint:ignore SA1019 V1 envelopes use PKCS#1 v1.5 and must stay readable.
	cek, err := rsa.DecryptPKCS1v15(nil, priv, enc)
	if err != nil {
		return nil, fmt.Errorf("%w (RSA/ECB/PKCS1Padding)", ErrUnwrap)
	}
	return cek, nil
}
