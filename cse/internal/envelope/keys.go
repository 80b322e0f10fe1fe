// Package envelope parses and serializes the S3 Encryption Client envelope
// (format V1, V2 and V3) from object metadata and instruction files, parses
// materials descriptions, and derives the V3 key-committing content key.
//
// It does no key unwrapping and no policy: it checks only that the envelope
// is well formed. Every error is a *MalformedError naming the offending key.
package envelope

// Metadata keys, as stored without the "x-amz-meta-" prefix.
const (
	KeyV1             = "x-amz-key"
	KeyV2             = "x-amz-key-v2"
	IV                = "x-amz-iv"
	MatDesc           = "x-amz-matdesc"
	WrapAlg           = "x-amz-wrap-alg"
	CEKAlg            = "x-amz-cek-alg"
	TagLen            = "x-amz-tag-len"
	UnencryptedLength = "x-amz-unencrypted-content-length"
	// InstructionMarker is the metadata key that marks an instruction object.
	InstructionMarker = "x-amz-crypto-instr-file"

	V3ContentAlg = "x-amz-c"
	V3Key        = "x-amz-3"
	V3WrapAlg    = "x-amz-w"
	V3Commitment = "x-amz-d"
	V3MessageID  = "x-amz-i"
	V3Context    = "x-amz-t"
	V3MatDesc    = "x-amz-m"
)

// Content algorithms as named in x-amz-cek-alg / x-amz-c.
const (
	AlgGCM        = "AES/GCM/NoPadding"
	AlgCBC        = "AES/CBC/PKCS5Padding"
	AlgCommitting = "115"
)

// Wrap algorithms as named in x-amz-wrap-alg (V3 codes are translated).
const (
	WrapKMS           = "kms"
	WrapKMSContext    = "kms+context"
	WrapAESGCM        = "AES/GCM"
	WrapRSAOAEPSHA1   = "RSA-OAEP-SHA1"
	WrapAESWrap       = "AESWrap"
	WrapRSAOAEPSHA256 = "RSA/ECB/OAEPWithSHA-256AndMGF1Padding"
	// WrapNone marks a V1 (or wrap-less V2) envelope whose key was encrypted
	// directly with the key-encryption key: AES/ECB/PKCS5Padding or
	// RSA/ECB/PKCS1Padding.
	WrapNone = ""
)

// Sizes fixed by the formats.
const (
	GCMIVSize        = 12
	CBCIVSize        = 16
	TagBits          = 128
	MessageIDSize    = 28
	CommitmentSize   = 28
	DataKeySize      = 32
	V3ContextCEKAlg  = "aws:x-amz-cek-alg"
	ReservedPrefix   = "aws:"
	instructionMaxKB = 64
)

var v3WrapCodes = map[string]string{
	"02": WrapAESGCM,
	"12": WrapKMSContext,
	"22": WrapRSAOAEPSHA1,
}

func v3WrapCode(alg string) (string, bool) {
	for code, name := range v3WrapCodes {
		if name == alg {
			return code, true
		}
	}
	return "", false
}

// exclusive lists the keys that belong to exactly one format version.
var exclusive = map[string]int{
	KeyV1:        1,
	KeyV2:        2,
	WrapAlg:      2,
	CEKAlg:       2,
	TagLen:       2,
	V3ContentAlg: 3,
	V3Key:        3,
	V3WrapAlg:    3,
	V3Commitment: 3,
	V3MessageID:  3,
	V3Context:    3,
	V3MatDesc:    3,
}

// envelopeKeys are the keys Parse reads; a duplicate of one of them with
// another value makes an envelope ambiguous.
var envelopeKeys = map[string]bool{
	KeyV1: true, KeyV2: true, IV: true, MatDesc: true, WrapAlg: true, CEKAlg: true, TagLen: true,
	UnencryptedLength: true,
	V3ContentAlg:      true, V3Key: true, V3WrapAlg: true, V3Commitment: true, V3MessageID: true, V3Context: true, V3MatDesc: true,
}
