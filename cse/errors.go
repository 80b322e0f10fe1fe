package cse

import "errors"

// ErrNotAuthentic is the sentinel for ciphertext that failed authentication:
// a GCM tag that does not verify, a stream truncated or extended, or a CBC
// stream whose padding is wrong. Match it with errors.Is; errors.As finds the
// *AuthenticationError that carries it.
var ErrNotAuthentic = errors.New("cse: ciphertext is not authentic")

// AuthenticationError reports ciphertext that is not authentic. No plaintext
// of a message is released in the default mode once this error is possible;
// in delayed-authentication mode it replaces io.EOF at the end of the stream.
//
// For CBC the error never says why decryption failed, so that it cannot serve
// as a padding oracle.
type AuthenticationError struct {
	// Algorithm is the content cipher: "AES/GCM/NoPadding" or
	// "AES/CBC/PKCS5Padding".
	Algorithm string
	// Reason is a short, fixed description ("tag mismatch", "truncated").
	Reason string
}

// Error describes the failure; it never says more than Reason, so a CBC
// failure cannot serve as a padding oracle.
func (e *AuthenticationError) Error() string {
	msg := "cse: ciphertext is not authentic (" + e.Algorithm
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg + "); the object was modified, truncated or encrypted under another key"
}

// Is reports whether target is ErrNotAuthentic.
func (e *AuthenticationError) Is(target error) bool { return target == ErrNotAuthentic }

const (
	algGCM = "AES/GCM/NoPadding"
	algCBC = "AES/CBC/PKCS5Padding"
)

func gcmError(reason string) error { return &AuthenticationError{Algorithm: algGCM, Reason: reason} }

var errCBC = &AuthenticationError{Algorithm: algCBC, Reason: "decryption failed"}
