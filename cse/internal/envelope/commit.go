package envelope

import (
	"crypto/hkdf"
	"crypto/sha512"
	"fmt"
)

// suiteID is ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY as two big-endian bytes.
var suiteID = []byte{0x00, 0x73}

// V3ContentIV is the fixed content IV of the committing suite.
var V3ContentIV = []byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}

// V3ContentAAD is the content AAD of the committing suite (its ID).
var V3ContentAAD = []byte{0x00, 0x73}

// DeriveV3 derives the content encryption key and the key commitment of the
// committing suite from the plaintext data key and the message ID:
//
//	prk        = HKDF-Extract(SHA-512, salt = messageID, ikm = dataKey)
//	dek        = HKDF-Expand(prk, 0x0073 ‖ "DERIVEKEY", 32)
//	commitment = HKDF-Expand(prk, 0x0073 ‖ "COMMITKEY", 28)
func DeriveV3(dataKey, messageID []byte) (dek, commitment []byte, err error) {
	if len(dataKey) != DataKeySize {
		return nil, nil, fmt.Errorf("envelope: V3 data key is %d bytes, want %d", len(dataKey), DataKeySize)
	}
	if len(messageID) != MessageIDSize {
		return nil, nil, fmt.Errorf("envelope: V3 message ID is %d bytes, want %d", len(messageID), MessageIDSize)
	}
	prk, err := hkdf.Extract(sha512.New, dataKey, messageID)
	if err != nil {
		return nil, nil, err
	}
	defer clear(prk)
	dek, err = hkdf.Expand(sha512.New, prk, string(suiteID)+"DERIVEKEY", DataKeySize)
	if err != nil {
		return nil, nil, err
	}
	commitment, err = hkdf.Expand(sha512.New, prk, string(suiteID)+"COMMITKEY", CommitmentSize)
	if err != nil {
		clear(dek)
		return nil, nil, err
	}
	return dek, commitment, nil
}
