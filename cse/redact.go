package cse

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/emrs3/emrs3/internal/redact"
)

// The types below hold key material. Each formats, under every fmt verb and
// flag (%v, %+v, %#v, %s, %q, %x, ...), as a description without it.

// String describes the keyring without its key.
func (k *Keyring) String() string {
	if k == nil {
		return "cse.Keyring(nil)"
	}
	if k.pub == nil {
		return fmt.Sprintf("cse.Keyring{key: AES-%d %s, description: %s}", k.kek.Len()*8, redact.Redacted, descString(k.desc))
	}
	bits := 0
	if k.pub != nil && k.pub.N != nil {
		bits = k.pub.N.BitLen()
	}
	priv := "none (encrypt only)"
	if k.priv != nil {
		priv = redact.Redacted
	}
	return fmt.Sprintf("cse.Keyring{key: RSA-%d, private key: %s, description: %s}", bits, priv, descString(k.desc))
}

// GoString is String, so that %#v shows no key either.
func (k *Keyring) GoString() string { return k.String() }

// Format writes String under every verb.
func (k Keyring) Format(f fmt.State, verb rune) {
	s := (&k).String()
	redact.Format(f, verb, s, s)
}

// String describes the content parameters without the content key.
func (c Content) String() string {
	return fmt.Sprintf("cse.Content{Algorithm: %s, Key: %s, IV: %d bytes, AAD: %d bytes, PlaintextSize: %d, Version: %d}",
		c.Algorithm, keyDesc(c.Key), len(c.IV), len(c.AAD), c.PlaintextSize, c.Version)
}

// GoString is String, so that %#v shows no key either.
func (c Content) GoString() string { return c.String() }

// Format writes String under every verb.
func (c Content) Format(f fmt.State, verb rune) {
	s := c.String()
	redact.Format(f, verb, s, s)
}

// String describes the materials without the plaintext data key.
func (m Materials) String() string {
	return fmt.Sprintf("cse.Materials{Key: %s, Encrypted: %d bytes, WrapAlgorithm: %q, Description: %s}",
		keyDesc(m.Key), len(m.Encrypted), m.WrapAlgorithm, descString(m.Description))
}

// GoString is String, so that %#v shows no key either.
func (m Materials) GoString() string { return m.String() }

// Format writes String under every verb.
func (m Materials) Format(f fmt.State, verb rune) {
	s := m.String()
	redact.Format(f, verb, s, s)
}

// String describes the key material without the keys.
func (km KeyMaterial) String() string {
	rsaDesc := "none"
	if km.RSA != nil {
		rsaDesc = fmt.Sprintf("RSA-%d %s", km.RSA.N.BitLen(), redact.Redacted)
	}
	return fmt.Sprintf("cse.KeyMaterial{Symmetric: %s, RSA: %s, Description: %s}", keyDesc(km.Symmetric), rsaDesc, descString(km.Description))
}

// GoString is String, so that %#v shows no key either.
func (km KeyMaterial) GoString() string { return km.String() }

// Format writes String under every verb.
func (km KeyMaterial) Format(f fmt.State, verb rune) {
	s := km.String()
	redact.Format(f, verb, s, s)
}

func keyDesc(k []byte) string {
	if k == nil {
		return "nil"
	}
	return fmt.Sprintf("%d bytes %s", len(k), redact.Redacted)
}

func descString(m map[string]string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %q", k, m[k])
	}
	b.WriteByte('}')
	return b.String()
}

// String describes the table without its chunk hashes (which are derived
// from the content key).
func (t *ChunkTable) String() string {
	if t == nil {
		return "cse.ChunkTable(nil)"
	}
	return fmt.Sprintf("cse.ChunkTable{chunks: %d of %d bytes, complete: %t, hashes: %s}", len(t.sums), t.chunkSize, t.Complete(), redact.Redacted)
}

// GoString is String, so that %#v shows no hash either.
func (t *ChunkTable) GoString() string { return t.String() }

// Format writes String under every verb. (A ChunkTable holds a sync.Once
// and must not be copied, so only its pointer is ever formatted.)
func (t *ChunkTable) Format(f fmt.State, verb rune) {
	s := t.String()
	redact.Format(f, verb, s, s)
}
