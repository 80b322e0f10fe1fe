package cse

import "github.com/emrs3/emrs3/cse/internal/envelope"

// ParseEncryptionContext parses an encryption-context string as users write
// it in configuration: "k1=v1,k2=v2" (S3A fs.s3a.encryption.context),
// "k1:v1,k2:v2" (EMR Serverless and security configurations) or a JSON
// object. Keys and values may be double-quoted to hold ',', ':' or '=', with
// \" and \\ escapes inside quotes. Keys starting with the reserved "aws:"
// prefix are refused. Errors are *ContextError and give the byte offset.
func ParseEncryptionContext(s string) (map[string]string, error) {
	m, err := envelope.ParseContext(s)
	return m, publicError(err)
}
