package cse

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emrs3/emrs3/cse/internal/envelope"
)

// MalformedError reports an envelope that cannot be used as stored: a key
// with a bad value, a partial envelope (some envelope keys on the object but
// no complete envelope and no instruction file), keys of several format
// versions, or object metadata that contradicts the instruction file. The
// object was damaged or altered, so it matches ErrNotAuthentic (errors.Is) —
// except the error for an object with no envelope key at all and no
// instruction file, which matches ErrNoEnvelope instead.
type MalformedError struct {
	// Key names the metadata key (without the "x-amz-meta-" prefix) at
	// fault, or is empty when the envelope as a whole is wrong.
	Key string
	// Source is "metadata" or "instruction file": where Key was read.
	Source string
	// Reason says what is wrong with it.
	Reason string
	// Err is the underlying decoding error, or ErrNoEnvelope; nil if none.
	Err error
}

// Error describes the problem and what to change.
func (e *MalformedError) Error() string {
	return (&envelope.MalformedError{Key: e.Key, Source: e.Source, Reason: e.Reason, Err: e.Err}).Error()
}

// Unwrap returns the decoding error, if any.
func (e *MalformedError) Unwrap() error { return e.Err }

// Is reports whether target is ErrNotAuthentic and the envelope is damaged
// (rather than absent).
func (e *MalformedError) Is(target error) bool {
	return target == ErrNotAuthentic && !errors.Is(e.Err, ErrNoEnvelope)
}

// ContextError reports an encryption-context string that cannot be parsed,
// or a context that uses the reserved "aws:" prefix.
type ContextError struct {
	Input  string // the string given, truncated to 64 bytes
	Offset int    // byte offset of the problem, -1 when not positional
	Reason string // what is wrong and, where it helps, what to write
}

// Error describes the problem and what to change.
func (e *ContextError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("cse: encryption context %q: at byte %d: %s", e.Input, e.Offset, e.Reason)
	}
	return fmt.Sprintf("cse: encryption context %q: %s", e.Input, e.Reason)
}

// ErrNoEnvelope is matched (errors.Is) by the error Decrypt returns for an
// object whose metadata holds no envelope key at all and for which no
// instruction file was given: the object is not client-side encrypted, or
// its instruction file must be fetched. It is the only outcome of Decrypt
// that allows reading an object as plaintext; a partial or contradictory
// envelope is a *MalformedError matching ErrNotAuthentic instead.
var ErrNoEnvelope = errors.New("cse: object holds no encryption envelope")

// publicError turns the errors of the internal envelope package into the
// exported types of this package.
func publicError(err error) error {
	var me *envelope.MalformedError
	if errors.As(err, &me) {
		e := &MalformedError{Key: me.Key, Source: me.Source, Reason: me.Reason, Err: me.Err}
		if errors.Is(me.Err, envelope.ErrNoEnvelope) {
			e.Err = ErrNoEnvelope
		}
		return e
	}
	return err
}

// ErrWrongKey is matched (errors.Is) when the encrypted data key does not
// decrypt with the provider's key: a different key wrote the object, or the
// envelope was altered.
var ErrWrongKey = errors.New("cse: the data key cannot be decrypted with this key")

// KeyError reports a data key that could not be unwrapped. It matches
// ErrWrongKey when the cause is the key or the ciphertext, as opposed to a
// failed call to a key service.
type KeyError struct {
	WrapAlgorithm string // x-amz-wrap-alg of the envelope
	KeyID         string // the KMS key or the provider's description, if known
	Err           error  // the cause: a key-service or unwrap error
	wrong         bool
}

// Error describes the problem and what to change.
func (e *KeyError) Error() string {
	alg := e.WrapAlgorithm
	if alg == "" {
		alg = "V1 raw key encryption"
	}
	s := "cse: cannot decrypt the data key (" + alg + ")"
	if e.KeyID != "" {
		s += " with key " + e.KeyID
	}
	if e.wrong {
		s += ": wrong key, or the envelope was altered"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *KeyError) Unwrap() error { return e.Err }

// Is reports whether target is ErrWrongKey and the key was wrong.
func (e *KeyError) Is(target error) bool { return target == ErrWrongKey && e.wrong }

func wrongKey(wrap, keyID string, err error) error {
	return &KeyError{WrapAlgorithm: wrap, KeyID: keyID, Err: err, wrong: true}
}

// PolicyError reports an object or request that the Policy refuses. Option
// names the Policy field that allows it; when more than one must be set
// (EMRFS's default object, CBC content with the kms wrap, needs
// LegacyUnauthenticated and LegacyWrapping), Options lists them all, Option
// first, and the message names every one.
type PolicyError struct {
	Option string // e.g. "Policy.LegacyUnauthenticated"
	What   string // what was refused
	// Options lists every Policy field that must be set, Option first;
	// nil when Option alone suffices.
	Options []string
}

// Error describes the problem and what to change.
func (e *PolicyError) Error() string {
	if len(e.Options) > 1 {
		return fmt.Sprintf("cse: %s is refused by policy; set %s to allow it (cse.EMRFSCompatible() sets both)",
			e.What, strings.Join(e.Options, " and "))
	}
	return fmt.Sprintf("cse: %s is refused by policy; set %s to allow it", e.What, e.Option)
}

// CommitmentError reports a V3 object whose stored key commitment does not
// match the data key: the envelope was altered or belongs to another object.
// No content key is released. It matches ErrNotAuthentic (errors.Is).
type CommitmentError struct{}

// Error describes the problem and what to change.
func (*CommitmentError) Error() string {
	return "cse: key commitment mismatch: the data key does not match x-amz-d (envelope altered or taken from another object)"
}

// Is reports whether target is ErrNotAuthentic.
func (*CommitmentError) Is(target error) bool { return target == ErrNotAuthentic }

// DowngradeError reports an envelope whose stored "aws:x-amz-cek-alg"
// disagrees with it: the mark of a swap to a weaker content cipher (GCM→CBC)
// or of a kms+context envelope relabelled to the legacy kms wrap, which
// would skip the content-algorithm and encryption-context checks. It is
// returned whatever the wrap algorithm claims and whatever the Policy allows;
// no data key is requested. The envelope was altered, so it matches
// ErrNotAuthentic (errors.Is).
type DowngradeError struct {
	Stored   string // the value of aws:x-amz-cek-alg in the stored context
	Envelope string // x-amz-cek-alg / x-amz-c
	// Wrap is the envelope's wrap algorithm when it is not kms+context
	// (for example "kms" for a relabelled envelope, "V1" for a V1
	// envelope); "" for kms+context.
	Wrap string
}

// Error describes the problem and what to change.
func (e *DowngradeError) Error() string {
	if e.Wrap == WrapKMS && e.Stored == e.Envelope {
		return fmt.Sprintf("cse: downgrade protection: the stored encryption context holds aws:x-amz-cek-alg=%q, which only kms+context envelopes carry, but the envelope says wrap algorithm kms (a kms+context envelope relabelled to the legacy wrap)", e.Stored)
	}
	if e.Wrap != "" {
		return fmt.Sprintf("cse: downgrade protection: stored materials description says aws:x-amz-cek-alg=%q but the envelope says %q (wrap algorithm %q)", e.Stored, e.Envelope, e.Wrap)
	}
	if e.Stored == "" {
		return fmt.Sprintf("cse: downgrade protection: the stored encryption context has no aws:x-amz-cek-alg, content algorithm is %q", e.Envelope)
	}
	return fmt.Sprintf("cse: downgrade protection: stored encryption context says aws:x-amz-cek-alg=%q but the envelope says %q", e.Stored, e.Envelope)
}

// Is reports whether target is ErrNotAuthentic.
func (*DowngradeError) Is(target error) bool { return target == ErrNotAuthentic }

// ContextMismatchError reports a caller-supplied encryption context that
// differs from the one stored with the object.
type ContextMismatchError struct {
	Keys []string // the keys that differ, sorted
}

// Error describes the problem and what to change.
func (e *ContextMismatchError) Error() string {
	return "cse: the encryption context given differs from the stored one in keys [" + strings.Join(e.Keys, ", ") + "]"
}
