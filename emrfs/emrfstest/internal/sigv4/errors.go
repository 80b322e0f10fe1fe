package sigv4

import "fmt"

// Kind classifies a verification failure so that each emulated service can
// map it to its own error code.
type Kind int

// Failure kinds.
const (
	KindMissing     Kind = iota + 1 // no Authorization header
	KindMalformed                   // Authorization or X-Amz-Date unparsable
	KindUnknownKey                  // access key id not registered
	KindBadToken                    // session token missing or wrong
	KindExpired                     // temporary credentials expired
	KindSignature                   // signature does not match
	KindSkew                        // request time too far from server time
	KindPayloadHash                 // body does not match X-Amz-Content-Sha256
	KindUnsupported                 // algorithm or payload form not supported
)

var kindNames = map[Kind]string{
	KindMissing:     "missing authentication",
	KindMalformed:   "malformed authorization",
	KindUnknownKey:  "unknown access key",
	KindBadToken:    "invalid security token",
	KindExpired:     "expired token",
	KindSignature:   "signature mismatch",
	KindSkew:        "request time skewed",
	KindPayloadHash: "payload hash mismatch",
	KindUnsupported: "unsupported signing form",
}

// String names the kind.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is returned by every failed verification.
type Error struct {
	Kind Kind   // the class of failure
	Msg  string // details, never a secret
}

// Error returns "sigv4: <kind>: <details>".
func (e *Error) Error() string { return "sigv4: " + e.Kind.String() + ": " + e.Msg }

// Is reports whether target is an *Error of the same Kind, so that
// errors.Is(err, &sigv4.Error{Kind: sigv4.KindSignature}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind
}

func errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}
