// Package kmsblob is the ciphertext-blob format of the emulated KMS: the key
// id in clear, then AES-256-GCM over the plaintext with the key id and the
// canonical encryption context as additional data.
//
//	version(1)=1 | len(keyID)(1) | keyID | nonce(12) | ciphertext+tag
package kmsblob

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"sort"
)

const (
	version   = 1
	nonceSize = 12
	// SecretSize is the size of a key's secret.
	SecretSize = 32
)

// ErrInvalid is returned for blobs that are malformed or not authentic
// under the given key and context.
var ErrInvalid = errors.New("kmsblob: ciphertext is malformed or does not match the key and encryption context")

// KeyID returns the key id a blob was sealed under, without authenticating it.
func KeyID(blob []byte) (string, error) {
	if len(blob) < 2 || blob[0] != version {
		return "", ErrInvalid
	}
	n := int(blob[1])
	if n == 0 || len(blob) < 2+n+nonceSize+16 {
		return "", ErrInvalid
	}
	return string(blob[2 : 2+n]), nil
}

// Seal encrypts plaintext under secret for keyID and context.
func Seal(secret []byte, keyID string, context map[string]string, plaintext []byte) ([]byte, error) {
	if len(keyID) == 0 || len(keyID) > 255 {
		return nil, errors.New("kmsblob: key id must be 1..255 bytes")
	}
	aead, err := newAEAD(secret)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 2+len(keyID)+nonceSize+len(plaintext)+aead.Overhead())
	out = append(out, version, byte(len(keyID)))
	out = append(out, keyID...)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, aad(keyID, context)), nil
}

// Open authenticates and decrypts a blob sealed for keyID and context.
func Open(secret []byte, keyID string, context map[string]string, blob []byte) ([]byte, error) {
	id, err := KeyID(blob)
	if err != nil || id != keyID {
		return nil, ErrInvalid
	}
	aead, err := newAEAD(secret)
	if err != nil {
		return nil, err
	}
	rest := blob[2+len(id):]
	pt, err := aead.Open(nil, rest[:nonceSize], rest[nonceSize:], aad(keyID, context))
	if err != nil {
		return nil, ErrInvalid
	}
	return pt, nil
}

func newAEAD(secret []byte) (cipher.AEAD, error) {
	if len(secret) != SecretSize {
		return nil, errors.New("kmsblob: secret must be 32 bytes")
	}
	b, err := aes.NewCipher(secret)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// aad is the key id and the context, sorted by key, each string
// length-prefixed so that no two contexts encode alike.
func aad(keyID string, context map[string]string) []byte {
	keys := make([]string, 0, len(context))
	for k := range context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := appendString(nil, keyID)
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, context[k])
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}
