package keywrap

import (
	"crypto"
	_ "crypto/sha256" // registers SHA-256 for crypto.Hash
)

type cryptoHash = crypto.Hash

const (
	cryptoSHA1   = crypto.SHA1
	cryptoSHA256 = crypto.SHA256
)
