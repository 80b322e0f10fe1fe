package cse

import (
	"context"
	"maps"
)

// Names of the envelope format: the wrap algorithms (the values of
// x-amz-wrap-alg, V3 codes translated) and the instruction file's suffix.
const (
	WrapKMS           = "kms"         // legacy: context = materials description
	WrapKMSContext    = "kms+context" // context + aws:x-amz-cek-alg
	WrapAESGCM        = "AES/GCM"
	WrapRSAOAEPSHA1   = "RSA-OAEP-SHA1"
	WrapAESWrap       = "AESWrap"                               // legacy, read only
	WrapRSAOAEPSHA256 = "RSA/ECB/OAEPWithSHA-256AndMGF1Padding" // legacy, read only
	// WrapV1 marks a data key encrypted directly with the key-encryption
	// key (AES/ECB/PKCS5Padding or RSA/ECB/PKCS1Padding): format V1, legacy,
	// read only.
	WrapV1 = ""

	// InstructionSuffix is appended to an object's key to name its
	// instruction file (<key>.instruction), which holds the envelope
	// when the object's metadata does not (Envelope.InstructionKey).
	InstructionSuffix = ".instruction"
)

// EncryptionRequest asks a provider for a fresh data key for one object.
type EncryptionRequest struct {
	// Bucket and Key name the object (informational; a provider may use
	// them to choose a key or a description).
	Bucket, Key string
	// ContentAlgorithm is the content cipher the key is for, "AES/GCM/NoPadding"
	// or "115"; raw wraps bind it into the wrapped key and KMS puts it in
	// the context as aws:x-amz-cek-alg.
	ContentAlgorithm string
	// Description is the requested materials description (for KMS: the
	// caller's encryption context). Providers must not modify it. The KMS
	// provider stores it (as the context); a ProviderFunc gets it and
	// decides; a Keyring ignores it and stores its own.
	Description map[string]string
	// WrapAlgorithm asks for a specific wrap ("kms" for the legacy KMS
	// wrap); empty means the provider's default.
	WrapAlgorithm string
}

// DecryptionRequest asks a provider to decrypt a stored data key.
type DecryptionRequest struct {
	// Bucket and Key name the object (informational).
	Bucket, Key      string
	Version          int    // envelope format 1, 2 or 3
	ContentAlgorithm string // "AES/GCM/NoPadding", "AES/CBC/PKCS5Padding" or "115"
	WrapAlgorithm    string // x-amz-wrap-alg; WrapV1 for raw V1 encryption
	// EncryptedKey is the wrapped data key as stored (x-amz-key,
	// x-amz-key-v2 or x-amz-3, base64-decoded).
	EncryptedKey []byte
	// Description is the stored materials description: x-amz-matdesc (V1,
	// V2, and for V2 kms+context also the KMS context) or x-amz-m (V3), or
	// for V3 kms+context the stored context x-amz-t.
	Description map[string]string
}

// Materials are a data key in plaintext and wrapped form. They hold secret
// key material: call Wipe when done.
type Materials struct {
	// Key is the plaintext data key (32 bytes).
	Key []byte
	// Encrypted is the wrapped data key as stored in the envelope.
	Encrypted []byte
	// WrapAlgorithm is how Encrypted was produced (a Wrap constant).
	WrapAlgorithm string
	// Description is stored with the object (x-amz-matdesc, or x-amz-m /
	// x-amz-t in V3) and handed back on decryption; for kms+context it is
	// the full encryption context including aws:x-amz-cek-alg.
	Description map[string]string
}

// Wipe overwrites the plaintext data key with zeros.
func (m *Materials) Wipe() {
	if m != nil {
		clear(m.Key)
	}
}

// MaterialsProvider supplies and recovers data keys. Implementations must be
// safe for concurrent use. Errors are returned as they are; use
// ErrWrongKey (wrapped) for a key that does not decrypt.
type MaterialsProvider interface {
	// EncryptionMaterials returns a fresh data key and its wrapped form.
	EncryptionMaterials(ctx context.Context, req EncryptionRequest) (*Materials, error)
	// DecryptMaterials unwraps a stored data key. Key must be set in the
	// result; the other fields are informational.
	DecryptMaterials(ctx context.Context, req DecryptionRequest) (*Materials, error)
}

func cloneDesc(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}
