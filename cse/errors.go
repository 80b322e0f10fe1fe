package cse

import (
	"errors"
	"fmt"

	"github.com/emrs3/emrs3/cse/internal/aesgcm"
	"github.com/emrs3/emrs3/cse/internal/envelope"
)

// The sentinel errors of the package; match them with errors.Is. The
// package documentation (# Security) says which outcome means what.
var (
	// ErrNotAuthentic is the one outcome for an object that was modified
	// or is not what it claims: ciphertext that does not authenticate, and
	// an envelope that is damaged, partial, contradictory, downgraded or
	// whose V3 key commitment does not match. errors.As gives the detail,
	// an *AuthenticationError.
	//
	// It is not matched by refusals of the caller's own settings or keys:
	// *PolicyError (a format the Policy does not allow), ErrWrongKey
	// (*KeyError), *ContextMismatchError (the caller expects another
	// encryption context), ErrNoEnvelope (no envelope at all), or a failed
	// call to a key service.
	ErrNotAuthentic = errors.New("cse: ciphertext is not authentic")

	// ErrNoEnvelope is matched by the error Decrypt returns for an object
	// whose metadata holds no envelope key at all and that has no
	// instruction file: the object is not client-side encrypted. It is the
	// only outcome of Decrypt that allows reading an object as plaintext;
	// a partial or contradictory envelope matches ErrNotAuthentic instead.
	ErrNoEnvelope = errors.New("cse: object holds no encryption envelope")

	// ErrWrongKey is matched when the encrypted data key does not decrypt
	// with the provider's key (a *KeyError): a different key wrote the
	// object, or the envelope was altered.
	ErrWrongKey = errors.New("cse: the data key cannot be decrypted with this key")

	// ErrSpoolLimit is matched by a *SpoolError for a message that needs
	// more spool space than StreamOptions.SpoolLimit or the SpoolBudget
	// allows.
	ErrSpoolLimit = errors.New("cse: decryption spool cap reached")

	// ErrTooLarge reports plaintext longer than one GCM message may carry
	// (2^36 − 32 bytes, about 64 GiB): the limit of the S3 Encryption
	// Client format for a single object.
	ErrTooLarge = aesgcm.ErrTooLarge
)

// AuthenticationError is the detail of ErrNotAuthentic, which it matches
// (errors.Is): what was found not authentic. No plaintext of a message is
// released in the default mode once it is possible; in
// delayed-authentication mode it replaces io.EOF at the end of the stream.
type AuthenticationError struct {
	// Check names the check that failed:
	//
	//   - "content": the ciphertext does not authenticate (a GCM tag that
	//     does not verify, a stream truncated or extended, a size no object
	//     can have, a CBC stream whose padding is wrong);
	//   - "envelope": the envelope is damaged, partial (some envelope keys
	//     but no complete envelope and no instruction file), mixes format
	//     versions, or the metadata contradicts the instruction file;
	//   - "commitment": a V3 key commitment (x-amz-d) that does not match
	//     the data key: the envelope was altered or belongs to another
	//     object; no content key is released;
	//   - "downgrade": the stored aws:x-amz-cek-alg disagrees with the
	//     envelope — a swap to a weaker content cipher (GCM→CBC) or a
	//     kms+context envelope relabelled to the legacy kms wrap. It is
	//     found whatever the wrap claims and whatever the Policy allows,
	//     before any data key is requested.
	Check string
	// Algorithm is, for "content", the content cipher
	// ("AES/GCM/NoPadding" or "AES/CBC/PKCS5Padding"); for "downgrade" the
	// envelope's content algorithm (x-amz-cek-alg / x-amz-c).
	Algorithm string
	// Key names, for "envelope", the metadata key (without
	// "x-amz-meta-") at fault, or is empty when the envelope as a whole is
	// wrong.
	Key string
	// Source is, for "envelope", where Key was read: "metadata" or
	// "instruction file".
	Source string
	// Reason says what is wrong: a short, fixed description for
	// "content" ("tag mismatch", "truncated"), which for CBC never says
	// more, so that it cannot serve as a padding oracle.
	Reason string
	// Err is the underlying decoding error, if any.
	Err error
}

// Error describes the failure and what it means.
func (e *AuthenticationError) Error() string {
	switch e.Check {
	case authEnvelope:
		return (&envelope.MalformedError{Key: e.Key, Source: e.Source, Reason: e.Reason, Err: e.Err}).Error()
	case authCommitment:
		return "cse: key commitment mismatch: " + e.Reason
	case authDowngrade:
		return "cse: downgrade protection: " + e.Reason
	}
	msg := "cse: ciphertext is not authentic (" + e.Algorithm
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg + "); the object was modified, truncated or encrypted under another key"
}

// Is reports whether target is ErrNotAuthentic.
func (e *AuthenticationError) Is(target error) bool { return target == ErrNotAuthentic }

// Unwrap returns the decoding error, if any.
func (e *AuthenticationError) Unwrap() error { return e.Err }

// The values of AuthenticationError.Check.
const (
	authContent    = "content"
	authEnvelope   = "envelope"
	authCommitment = "commitment"
	authDowngrade  = "downgrade"
)

const (
	algGCM = "AES/GCM/NoPadding"
	algCBC = "AES/CBC/PKCS5Padding"
)

func gcmError(reason string) error {
	return &AuthenticationError{Check: authContent, Algorithm: algGCM, Reason: reason}
}

var errCBC = &AuthenticationError{Check: authContent, Algorithm: algCBC, Reason: "decryption failed"}

var errCommitment = &AuthenticationError{Check: authCommitment, Key: "x-amz-d",
	Reason: "the data key does not match x-amz-d (envelope altered or taken from another object)"}

// downgradeError reports an envelope whose stored "aws:x-amz-cek-alg"
// (stored) disagrees with its content algorithm (alg) or its wrap (wrap,
// "" for kms+context).
func downgradeError(stored, alg, wrap string) error {
	var reason string
	switch {
	case wrap == WrapKMS && stored == alg:
		reason = fmt.Sprintf("the stored encryption context holds aws:x-amz-cek-alg=%q, which only kms+context envelopes carry, but the envelope says wrap algorithm kms (a kms+context envelope relabelled to the legacy wrap)", stored)
	case wrap != "":
		reason = fmt.Sprintf("stored materials description says aws:x-amz-cek-alg=%q but the envelope says %q (wrap algorithm %q)", stored, alg, wrap)
	case stored == "":
		reason = fmt.Sprintf("the stored encryption context has no aws:x-amz-cek-alg, content algorithm is %q", alg)
	default:
		reason = fmt.Sprintf("stored encryption context says aws:x-amz-cek-alg=%q but the envelope says %q", stored, alg)
	}
	return &AuthenticationError{Check: authDowngrade, Algorithm: alg, Reason: reason}
}
