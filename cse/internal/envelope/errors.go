package envelope

import (
	"errors"
	"fmt"
)

// ErrNoEnvelope is wrapped by the error for metadata with no envelope and no
// instruction file.
var ErrNoEnvelope = errors.New("cse: object holds no encryption envelope")

// MalformedError reports an envelope that cannot be used as stored. Key names
// the metadata key (without the x-amz-meta- prefix) that is wrong, or is
// empty when the envelope as a whole is wrong.
type MalformedError struct {
	Key    string // the offending metadata key, if one
	Source string // "metadata" or "instruction file"
	Reason string // what is wrong with it
	Err    error  // underlying decoding error, if any
}

// Error describes the problem and what to change.
func (e *MalformedError) Error() string {
	src := e.Source
	if src == "" {
		src = "envelope"
	}
	msg := "cse: malformed envelope"
	if e.Key != "" {
		msg += fmt.Sprintf(": %s %q", src, e.Key)
	} else if e.Source != "" {
		msg += " in " + e.Source
	}
	msg += ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the decoding error, if any.
func (e *MalformedError) Unwrap() error { return e.Err }

func malformed(src, key, reason string, err error) *MalformedError {
	return &MalformedError{Key: key, Source: src, Reason: reason, Err: err}
}
