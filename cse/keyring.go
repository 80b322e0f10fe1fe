package cse

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"

	"github.com/emrs3/emrs3/cse/internal/envelope"
	"github.com/emrs3/emrs3/cse/internal/keywrap"
	"github.com/emrs3/emrs3/internal/redact"
)

// Keyring is a MaterialsProvider over a raw key-encryption key, AES or RSA,
// and the materials description it stores with every object.
//
// An AES keyring ([NewAESKeyring]) writes the AES/GCM wrap and reads
// AES/GCM, the legacy AESWrap (RFC 3394) and V1's AES/ECB/PKCS5Padding. An
// RSA keyring ([NewRSAKeyring], or [NewRSAEncryptKeyring] to encrypt only)
// writes the RSA-OAEP-SHA1 wrap and reads RSA-OAEP-SHA1, the legacy
// RSA/ECB/OAEPWithSHA-256AndMGF1Padding and V1's RSA/ECB/PKCS1Padding.
//
// The materials description stored with each object is the keyring's own
// (the desc given to its constructor), never the request's: the requested
// description or encryption context (Options.EncryptionContext,
// ObjectInfo.EncryptionContext) is not stored and protects nothing, since a
// raw keyring's description is not authenticated. This is what the AWS
// clients do: Java v1's StaticEncryptionMaterialsProvider, which EMRFS and
// Hadoop readers use for raw keys, finds its key only when the stored
// description equals its own, and Java v3's raw keyrings store their
// configured description and drop the encryption context. To choose the
// key or the description per object, use a ProviderFunc.
type Keyring struct {
	kek  redact.Key     // AES; a closure: printing a containing struct shows no key
	pub  *rsa.PublicKey // RSA; nil for an AES keyring
	priv *rsa.PrivateKey
	desc map[string]string
	rand io.Reader
}

var _ MaterialsProvider = (*Keyring)(nil)

// NewAESKeyring returns a keyring over kek (16, 24 or 32 bytes; the AWS
// clients use 32). desc is the materials description stored with every
// object it encrypts. The key is copied.
func NewAESKeyring(kek []byte, desc map[string]string) (*Keyring, error) {
	switch len(kek) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("cse: AES keyring: key is %d bytes, want 16, 24 or 32", len(kek))
	}
	return &Keyring{kek: redact.NewKey(kek), desc: cloneDesc(desc), rand: rand.Reader}, nil
}

// EncryptionMaterials generates a data key and wraps it with AES/GCM (the
// content algorithm as AAD) or RSA-OAEP-SHA1. The stored description is the
// keyring's; req.Description is ignored.
func (k *Keyring) EncryptionMaterials(ctx context.Context, req EncryptionRequest) (*Materials, error) {
	if k.pub != nil {
		return k.rsaEncryptionMaterials(ctx, req)
	}
	if req.WrapAlgorithm != "" && req.WrapAlgorithm != WrapAESGCM {
		return nil, fmt.Errorf("cse: AES keyring cannot write wrap algorithm %q", req.WrapAlgorithm)
	}
	cek, err := newDataKey(k.rand)
	if err != nil {
		return nil, err
	}
	enc, err := keywrap.AESGCMWrap(k.rand, k.kek.Bytes(), cek, []byte(cipherName(req.ContentAlgorithm)))
	if err != nil {
		clear(cek)
		return nil, err
	}
	return &Materials{Key: cek, Encrypted: enc, WrapAlgorithm: WrapAESGCM, Description: cloneDesc(k.desc)}, nil
}

// DecryptMaterials unwraps a data key wrapped with AES/GCM, AESWrap or V1
// AES/ECB (an AES keyring), or with RSA-OAEP-SHA1, RSA OAEP-SHA256 or V1
// RSA/PKCS1 (an RSA keyring).
func (k *Keyring) DecryptMaterials(ctx context.Context, req DecryptionRequest) (*Materials, error) {
	if k.pub != nil {
		return k.rsaDecryptMaterials(ctx, req)
	}
	cek, err := unwrapSymmetric(k.kek.Bytes(), req)
	if err != nil {
		return nil, err
	}
	return &Materials{Key: cek, Encrypted: req.EncryptedKey, WrapAlgorithm: req.WrapAlgorithm, Description: req.Description}, nil
}

func unwrapSymmetric(kek []byte, req DecryptionRequest) ([]byte, error) {
	var cek []byte
	var err error
	switch req.WrapAlgorithm {
	case WrapAESGCM:
		cek, err = keywrap.AESGCMUnwrap(kek, req.EncryptedKey, []byte(cipherName(req.ContentAlgorithm)))
	case WrapAESWrap:
		cek, err = keywrap.AESKeyUnwrap(kek, req.EncryptedKey)
	case WrapV1:
		cek, err = keywrap.AESECBDecrypt(kek, req.EncryptedKey)
	default:
		return nil, &KeyError{WrapAlgorithm: req.WrapAlgorithm, Err: errors.New("a symmetric key cannot unwrap this wrap algorithm")}
	}
	if err != nil {
		return nil, unwrapErr(req.WrapAlgorithm, err)
	}
	return cek, nil
}

func unwrapErr(wrap string, err error) error {
	if errors.Is(err, keywrap.ErrUnwrap) {
		return wrongKey(wrap, "", err)
	}
	return &KeyError{WrapAlgorithm: wrap, Err: err}
}

// NewRSAKeyring returns a keyring that encrypts with the public half of priv
// and decrypts with priv. desc is the materials description stored with
// every object it encrypts.
func NewRSAKeyring(priv *rsa.PrivateKey, desc map[string]string) (*Keyring, error) {
	if priv == nil {
		return nil, errors.New("cse: RSA keyring: nil private key")
	}
	return &Keyring{pub: &priv.PublicKey, priv: priv, desc: cloneDesc(desc), rand: rand.Reader}, nil
}

// NewRSAEncryptKeyring returns a keyring that can only encrypt, with pub.
func NewRSAEncryptKeyring(pub *rsa.PublicKey, desc map[string]string) (*Keyring, error) {
	if pub == nil {
		return nil, errors.New("cse: RSA keyring: nil public key")
	}
	return &Keyring{pub: pub, desc: cloneDesc(desc), rand: rand.Reader}, nil
}

// rsaEncryptionMaterials generates a data key and wraps it with
// RSA-OAEP-SHA1.
func (k *Keyring) rsaEncryptionMaterials(_ context.Context, req EncryptionRequest) (*Materials, error) {
	if req.WrapAlgorithm != "" && req.WrapAlgorithm != WrapRSAOAEPSHA1 {
		return nil, fmt.Errorf("cse: RSA keyring cannot write wrap algorithm %q", req.WrapAlgorithm)
	}
	cek, err := newDataKey(k.rand)
	if err != nil {
		return nil, err
	}
	enc, err := keywrap.RSAOAEPSHA1Wrap(k.rand, k.pub, cek, cipherName(req.ContentAlgorithm))
	if err != nil {
		clear(cek)
		return nil, err
	}
	return &Materials{Key: cek, Encrypted: enc, WrapAlgorithm: WrapRSAOAEPSHA1, Description: cloneDesc(k.desc)}, nil
}

// rsaDecryptMaterials unwraps a data key wrapped with RSA-OAEP-SHA1, RSA
// OAEP-SHA256 or V1 RSA/PKCS1.
func (k *Keyring) rsaDecryptMaterials(_ context.Context, req DecryptionRequest) (*Materials, error) {
	if k.priv == nil {
		return nil, errors.New("cse: RSA keyring has no private key; it can only encrypt")
	}
	cek, err := unwrapRSA(k.priv, req)
	if err != nil {
		return nil, err
	}
	return &Materials{Key: cek, Encrypted: req.EncryptedKey, WrapAlgorithm: req.WrapAlgorithm, Description: req.Description}, nil
}

func unwrapRSA(priv *rsa.PrivateKey, req DecryptionRequest) ([]byte, error) {
	var cek []byte
	var err error
	switch req.WrapAlgorithm {
	case WrapRSAOAEPSHA1:
		cek, err = keywrap.RSAOAEPSHA1Unwrap(priv, req.EncryptedKey, cipherName(req.ContentAlgorithm))
	case WrapRSAOAEPSHA256:
		cek, err = keywrap.RSAOAEPSHA256Unwrap(priv, req.EncryptedKey)
	case WrapV1:
		cek, err = keywrap.RSAPKCS1Decrypt(priv, req.EncryptedKey)
	default:
		return nil, &KeyError{WrapAlgorithm: req.WrapAlgorithm, Err: errors.New("an RSA key cannot unwrap this wrap algorithm")}
	}
	if err != nil {
		return nil, unwrapErr(req.WrapAlgorithm, err)
	}
	return cek, nil
}

func newDataKey(r io.Reader) ([]byte, error) {
	k := make([]byte, 32)
	if _, err := io.ReadFull(r, k); err != nil {
		return nil, fmt.Errorf("cse: generating a data key: %w", err)
	}
	return k, nil
}

// cipherName is the name the raw wraps bind into the wrapped key (the AAD of
// AES/GCM, the suffix of the RSA-OAEP-SHA1 pseudo-key): the JCE cipher name
// of the content algorithm, which is AES/GCM/NoPadding for the committing
// suite 115 as well (as the AWS Java client's AlgorithmSuite.cipherName()).
func cipherName(contentAlg string) string {
	if contentAlg == envelope.AlgCommitting {
		return envelope.AlgGCM
	}
	return contentAlg
}
