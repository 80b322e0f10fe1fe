package cse

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emrs3/emrs3/cse/internal/envelope"
)

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

// publicError turns the errors of the internal envelope package into the
// exported types of this package.
func publicError(err error) error {
	var me *envelope.MalformedError
	if errors.As(err, &me) {
		if errors.Is(me.Err, envelope.ErrNoEnvelope) {
			// Absent rather than damaged: not an authentication failure.
			return &noEnvelopeError{(&envelope.MalformedError{Key: me.Key, Source: me.Source, Reason: me.Reason}).Error()}
		}
		return &AuthenticationError{Check: authEnvelope, Key: me.Key, Source: me.Source, Reason: me.Reason, Err: me.Err}
	}
	return err
}

// noEnvelopeError is the error for an object with no envelope at all; it
// matches ErrNoEnvelope.
type noEnvelopeError struct{ msg string }

func (e *noEnvelopeError) Error() string { return e.msg + ": " + ErrNoEnvelope.Error() }
func (e *noEnvelopeError) Unwrap() error { return ErrNoEnvelope }

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
		if e.KeyID != "" && (e.WrapAlgorithm == WrapKMS || e.WrapAlgorithm == WrapKMSContext) {
			// An object written under an earlier key, after a rotation.
			s += " (to read objects written under other KMS keys, set KMSOptions.AnyKey; emrfs: CSE.KMSAnyKey)"
		}
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

// ContextMismatchError reports a caller-supplied encryption context that
// differs from the one stored with the object.
type ContextMismatchError struct {
	Keys []string // the keys that differ, sorted
}

// Error describes the problem and what to change.
func (e *ContextMismatchError) Error() string {
	return "cse: the encryption context given differs from the stored one in keys [" + strings.Join(e.Keys, ", ") + "]"
}
