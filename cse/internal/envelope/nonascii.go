package envelope

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// asciiJSON returns the JSON text js with every non-ASCII character
// written as a \uXXXX escape (a surrogate pair above U+FFFF). The document
// means the same, but as a header value it needs no RFC 2047 encoding, which
// servers and clients treat differently: S3 returns a raw UTF-8 value
// RFC 2047 encoded over its bytes taken as Latin-1 ("double encoding"),
// MinIO encodes the UTF-8 once, and the official Go S3 Encryption Clients
// undo S3's form only — so they read a non-ASCII encryption context or
// materials description on no server unless it is stored as ASCII.
func asciiJSON(js string) string {
	i := 0
	for i < len(js) && js[i] < utf8.RuneSelf {
		i++
	}
	if i == len(js) {
		return js
	}
	var b strings.Builder
	b.WriteString(js[:i])
	for _, r := range js[i:] {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			writeU(&b, r1)
			writeU(&b, r2)
		default:
			writeU(&b, r)
		}
	}
	return b.String()
}

func writeU(b *strings.Builder, r rune) {
	h := strconv.FormatInt(int64(r), 16)
	b.WriteString(`\u`)
	b.WriteString(strings.Repeat("0", 4-len(h)))
	b.WriteString(h)
}

// undoS3DoubleEncoding returns the UTF-8 text a client sent when s is what
// S3 makes of it: each byte of the UTF-8 taken as a Latin-1 character and
// encoded again (the RFC 2047 layer already removed). s is returned as it is
// unless every character is below U+0100, some above U+007F, and their
// bytes form valid UTF-8 — which text that was encoded only once (as MinIO
// and emrs3 store it) practically never does: "é" alone is the byte 0xE9,
// not valid UTF-8.
func undoS3DoubleEncoding(s string) string {
	b := make([]byte, 0, len(s))
	ascii := true
	for _, r := range s {
		if r > 0xff {
			return s
		}
		if r >= utf8.RuneSelf {
			ascii = false
		}
		b = append(b, byte(r))
	}
	if ascii || !utf8.Valid(b) {
		return s
	}
	return string(b)
}
