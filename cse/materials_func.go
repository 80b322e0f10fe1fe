package cse

import (
	"context"
	"crypto/rsa"
	"errors"
)

// KeyMaterial is what a ProviderFunc returns: one key-encryption key
// (symmetric or RSA) and the materials description to store with the
// object.
type KeyMaterial struct {
	// Symmetric is a raw AES key-encryption key (16, 24 or 32 bytes).
	Symmetric []byte
	// RSA is a key pair; for encryption only the public half is used.
	RSA *rsa.PrivateKey
	// Description is stored with the object on encryption. nil keeps the
	// description the function was given.
	Description map[string]string
}

// ProviderFunc adapts a function to MaterialsProvider, the Go form of the
// EMRFS custom EncryptionMaterialsProvider contract: on encryption the
// function gets the requested materials description and returns a key and
// the description to store; on decryption it gets the stored description
// back and must return the same key. Data keys are generated here and wrapped
// with AES/GCM or RSA-OAEP-SHA1; on decryption the legacy wraps and V1 are
// read as well (subject to Policy).
//
// The function must not retain or modify the map it is given.
type ProviderFunc func(ctx context.Context, description map[string]string) (*KeyMaterial, error)

var _ MaterialsProvider = ProviderFunc(nil)

// EncryptionMaterials calls f with req.Description and wraps a fresh data key
// under the key it returns.
func (f ProviderFunc) EncryptionMaterials(ctx context.Context, req EncryptionRequest) (*Materials, error) {
	km, err := f(ctx, cloneDesc(req.Description))
	if err != nil {
		return nil, err
	}
	if km == nil {
		return nil, errors.New("cse: custom provider returned no key material")
	}
	desc := km.Description
	if desc == nil {
		desc = req.Description
	}
	var inner MaterialsProvider
	switch {
	case km.Symmetric != nil && km.RSA == nil:
		k, err := NewAESKeyring(km.Symmetric, desc)
		if err != nil {
			return nil, err
		}
		defer k.kek.Wipe() // the keyring's own copy
		inner = k
	case km.RSA != nil && km.Symmetric == nil:
		k, err := NewRSAEncryptKeyring(&km.RSA.PublicKey, desc)
		if err != nil {
			return nil, err
		}
		inner = k
	default:
		return nil, errors.New("cse: custom provider must return exactly one of a symmetric or an RSA key")
	}
	return inner.EncryptionMaterials(ctx, req)
}

// DecryptMaterials calls f with the stored description and unwraps the data
// key with the key it returns. For V1 envelopes the kind of key decides the
// algorithm (AES/ECB or RSA/PKCS1).
func (f ProviderFunc) DecryptMaterials(ctx context.Context, req DecryptionRequest) (*Materials, error) {
	km, err := f(ctx, cloneDesc(req.Description))
	if err != nil {
		return nil, err
	}
	if km == nil {
		return nil, errors.New("cse: custom provider returned no key material")
	}
	var cek []byte
	switch {
	case km.Symmetric != nil:
		cek, err = unwrapSymmetric(km.Symmetric, req)
	case km.RSA != nil:
		cek, err = unwrapRSA(km.RSA, req)
	default:
		return nil, errors.New("cse: custom provider returned neither a symmetric nor an RSA key")
	}
	if err != nil {
		return nil, err
	}
	return &Materials{Key: cek, Encrypted: req.EncryptedKey, WrapAlgorithm: req.WrapAlgorithm, Description: req.Description}, nil
}
