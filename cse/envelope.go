package cse

import (
	"github.com/emrs3/emrs3/cse/internal/envelope"
)

// instructionMarker is the user-metadata key (without "x-amz-meta-") that the
// AWS clients put, with an empty value, on instruction-file objects
// (Envelope.InstructionMetadata).
const instructionMarker = envelope.InstructionMarker

// Algorithm is the content cipher of an object.
type Algorithm int

const (
	// AlgGCM is AES-256/GCM/NoPadding with a 12-byte IV, no AAD and a
	// 16-byte tag (format V2).
	AlgGCM Algorithm = iota + 1
	// AlgCBC is AES-256/CBC/PKCS5Padding (formats V1 and V2): legacy and
	// unauthenticated, read only.
	AlgCBC
	// AlgCommitting is the key-committing suite 115,
	// ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY (format V3): AES-256-GCM under
	// an HKDF-derived key, IV 12 × 0x01 and AAD 0x00 0x73.
	AlgCommitting
)

// String returns the name stored in x-amz-cek-alg / x-amz-c.
func (a Algorithm) String() string {
	switch a {
	case AlgGCM:
		return envelope.AlgGCM
	case AlgCBC:
		return envelope.AlgCBC
	case AlgCommitting:
		return envelope.AlgCommitting
	}
	return "Algorithm(invalid)"
}

func algorithmOf(name string) Algorithm {
	switch name {
	case envelope.AlgGCM:
		return AlgGCM
	case envelope.AlgCBC:
		return AlgCBC
	case envelope.AlgCommitting:
		return AlgCommitting
	}
	return 0
}

// Content is the content key of one object body, as Encryptor.Encrypt
// creates it or Decryptor.Decrypt recovers it, and the handle for
// everything done with it: streams (NewEncryptReader, NewDecryptReader,
// NewMultipartEncryptor), ranges (Range, NewRangeReader, NewChunkReader)
// and sizes (DecryptedSize, EncryptedSize). It holds the plaintext content
// key: call Wipe when done.
type Content struct {
	// Algorithm is the content cipher to use.
	Algorithm Algorithm
	// Key is the 32-byte AES key of the content (for AlgCommitting the
	// derived key, not the data key).
	Key []byte
	// IV is 12 bytes for GCM and the committing suite, 16 for CBC.
	IV []byte
	// AAD is the GCM additional data: nil for AlgGCM, 0x00 0x73 for
	// AlgCommitting.
	AAD []byte
	// PlaintextSize is x-amz-unencrypted-content-length, or -1 when the
	// envelope does not say (derive it from the ciphertext length).
	PlaintextSize int64
	// Version is the envelope format: 1, 2 or 3.
	Version int

	// policy is the Policy of the Decryptor that recovered the content
	// (the zero Policy for any other Content): it decides Range.
	policy Policy
}

// Wipe overwrites the content key with zeros.
func (c *Content) Wipe() {
	if c != nil {
		clear(c.Key)
	}
}

// Authenticated reports whether the content cipher authenticates the
// plaintext (GCM and the committing suite do; CBC does not).
func (c *Content) Authenticated() bool {
	return c.Algorithm == AlgGCM || c.Algorithm == AlgCommitting
}

// Envelope is what an Encryptor produces for one object.
type Envelope struct {
	// Metadata is the object's user metadata, keys without the
	// "x-amz-meta-" prefix, values already RFC 2047 encoded where needed.
	// In instruction-file mode it holds only the keys that stay on the
	// object.
	Metadata map[string]string
	// Instruction is the body of the "<key>.instruction" object, or nil
	// when the envelope is in Metadata.
	Instruction []byte
	// InstructionKey is the key to put Instruction under: the object's
	// key (ObjectInfo.Key) followed by ".instruction"; "" when
	// Instruction is nil.
	InstructionKey string
	// InstructionMetadata is the user metadata of the instruction-file
	// object, the marker the AWS clients put there
	// ("x-amz-crypto-instr-file": ""); nil when Instruction is nil.
	InstructionMetadata map[string]string
}

// ObjectInfo names the object being encrypted or decrypted.
type ObjectInfo struct {
	Bucket string // the object's bucket, handed to the provider
	Key    string // the object's key, handed to the provider
	// PlaintextSize is the plaintext length stored as
	// x-amz-unencrypted-content-length when encrypting. 0 or negative
	// means unknown: the key is then not written and readers derive the
	// length from the ciphertext.
	PlaintextSize int64
	// EncryptionContext is this request's KMS encryption context, merged
	// over the one in the options. On decryption, when the merged context
	// is not empty it must equal the stored context of a kms+context
	// object (reserved "aws:" keys and kms_cmk_id aside); other wraps do
	// not check it (see Options.EncryptionContext). On encryption
	// the AES and RSA keyrings do not store it (see Keyring).
	EncryptionContext map[string]string
}

// needsInstructionFile reports whether the envelope of an object with user
// metadata meta may be in its "<key>.instruction" object: true when meta
// holds no complete envelope, so the file is worth fetching before
// decrypting. It does not say whether the object is encrypted.
func needsInstructionFile(meta map[string]string) bool {
	m, err := envelope.Normalize(meta)
	if err != nil {
		return true
	}
	v, err := envelope.Detect(m)
	return err != nil || v == 0
}
