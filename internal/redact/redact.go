// Package redact holds what the packages of this module share to keep key
// material and credentials out of formatted output: a Format helper that
// prints a secret-free description under every fmt verb and flag, a
// pointer-held key wrapper that reflection-based printing cannot reach,
// and the classification of configuration properties that may hold
// secrets.
package redact

import (
	"fmt"
	"io"
	"strings"
)

// Redacted replaces a secret in descriptions.
const Redacted = "<redacted>"

// Format writes desc, a description that holds no secret, as fmt would
// write a string under verb and the flags and width of f; %#v writes
// goString instead. Every fmt.Formatter of this module that guards a
// secret is this call, so no verb (including unsupported ones, which fmt
// would otherwise answer by printing the value with reflection) reaches
// the secret.
func Format(f fmt.State, verb rune, desc, goString string) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, goString)
		return
	}
	switch verb {
	case 'v', 's', 'q', 'x', 'X':
		fmt.Fprintf(f, fmt.FormatString(f, verb), desc)
	default:
		// fmt would print %!d(string=...) for a string; say what the
		// value is instead, without its contents.
		fmt.Fprintf(f, "%%!%c(%s)", verb, desc)
	}
}

// Key is secret bytes that fmt cannot print: they are held by a closure,
// which reflection-based printing (fmt on a struct that holds a Key in an
// unexported field, under any verb) shows as an address, and a Key itself
// formats as Redacted under every verb. The zero Key is empty.
type Key struct {
	b func() []byte
}

// NewKey returns a Key holding a copy of b.
func NewKey(b []byte) Key {
	c := append([]byte(nil), b...)
	return Key{b: func() []byte { return c }}
}

// Bytes returns the key bytes (not a copy): do not retain or modify them.
func (k Key) Bytes() []byte {
	if k.b == nil {
		return nil
	}
	return k.b()
}

// Len returns the key length in bytes.
func (k Key) Len() int { return len(k.Bytes()) }

// Wipe overwrites the key with zeros.
func (k Key) Wipe() { clear(k.Bytes()) }

// String returns Redacted.
func (k Key) String() string { return Redacted }

// GoString returns Redacted.
func (k Key) GoString() string { return Redacted }

// Format writes Redacted under every verb.
func (k Key) Format(f fmt.State, verb rune) { Format(f, verb, Redacted, Redacted) }

// Text is a secret string that fmt cannot print, as Key.
type Text struct {
	s func() string
}

// NewText returns a Text holding s.
func NewText(s string) Text { return Text{s: func() string { return s }} }

// Value returns the secret.
func (t Text) Value() string {
	if t.s == nil {
		return ""
	}
	return t.s()
}

// String returns Redacted.
func (t Text) String() string { return Redacted }

// GoString returns Redacted.
func (t Text) GoString() string { return Redacted }

// Format writes Redacted under every verb.
func (t Text) Format(f fmt.State, verb rune) { Format(f, verb, Redacted, Redacted) }

// SecretProperty reports whether a configuration property's value may be
// key material or a credential, and so must never be printed.
func SecretProperty(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"secret", "password", "passphrase", "token", "access.key", "encryption.key",
		"encryption-key", "customerkey", "customer.key", "private.key", "privatekey"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}
