package emrfs

import (
	"fmt"

	"github.com/emrs3/emrs3/internal/redact"
)

// Format writes String under every verb and flag, so that no verb
// (including those fmt does not support for strings) prints the SSE-C key.
func (s SSE) Format(f fmt.State, verb rune) {
	d := (&s).String()
	redact.Format(f, verb, d, d)
}

// GoString is String, so that %#v shows no key material either.
func (b *Bucket) GoString() string { return b.String() }

// Format writes String under every verb and flag.
func (b Bucket) Format(f fmt.State, verb rune) {
	d := (&b).String()
	redact.Format(f, verb, d, d)
}

// Format writes String under every verb and flag.
func (k customerKey) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, redact.Redacted, redact.Redacted)
}
