package cse

import "errors"

// ErrNotAuthentic is the one outcome for an object that was modified or is
// not what it claims. Match it with errors.Is; errors.As gives the detail:
//
//   - *AuthenticationError: ciphertext that failed authentication (a GCM
//     tag that does not verify, a stream truncated or extended, a CBC
//     stream whose padding is wrong);
//   - *MalformedError: a damaged, partial or contradictory envelope;
//   - *CommitmentError: a V3 key commitment that does not match the key;
//   - *DowngradeError: an envelope relabelled to a weaker content cipher or
//     to the legacy kms wrap.
//
// It is not matched by refusals of the caller's own settings or keys:
// *PolicyError (a format the Policy does not allow), ErrWrongKey (*KeyError),
// *ContextMismatchError (the caller expects another encryption context),
// ErrNoEnvelope (no envelope at all), or a failed call to a key service.
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
