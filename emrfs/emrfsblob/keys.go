package emrfsblob

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Keys and metadata keys are escaped the way gocloud.dev/blob/s3blob
// escapes them ("__0xXX__" for a rune XX), so that objects written by
// either driver have the same keys, plus what emrfs gives a meaning to:
// a trailing "/" (a directory to emrfs), and the suffixes of CSE
// instruction files and EMRFS directory markers (which emrfs hides from
// listings, and an instruction file is part of its object).

// hiddenSuffixes are the key suffixes emrfs treats specially.
var hiddenSuffixes = []string{".instruction", "_$folder$"}

// escapeKey maps a blob key to its S3 key.
func escapeKey(key string) string {
	r := []rune(key)
	last := len(r) - 1
	hidden := false
	for _, s := range hiddenSuffixes {
		if strings.HasSuffix(key, s) {
			hidden = true
		}
	}
	return hexEscape(r, func(i int) bool {
		c := r[i]
		switch {
		case c < 32: // S3 does not handle these (s3blob)
			return true
		case i > 1 && c == '/' && r[i-1] == '.' && r[i-2] == '.': // "../" (s3blob)
			return true
		case i == last && (c == '/' || hidden):
			return true
		}
		return false
	})
}

// escapePrefix maps a listing prefix to its S3 prefix: as escapeKey, but
// a trailing "/" or suffix is kept (the prefix continues).
func escapePrefix(prefix string) string {
	r := []rune(prefix)
	return hexEscape(r, func(i int) bool {
		c := r[i]
		return c < 32 || i > 1 && c == '/' && r[i-1] == '.' && r[i-2] == '.'
	})
}

// escapeMetadataKey escapes a metadata key as s3blob does, and also an
// "x-amz-" prefix, which emrfs reserves for the encryption envelope.
func escapeMetadataKey(k string) string {
	k = url.PathEscape(k)
	r := []rune(k)
	amz := strings.HasPrefix(strings.ToLower(k), "x-amz-")
	return hexEscape(r, func(i int) bool {
		c := r[i]
		return c == '@' || c == ':' || c == '=' || i == 0 && amz
	})
}

// unescapeMetadataKey reverses escapeMetadataKey.
func unescapeMetadataKey(k string) string {
	k = hexUnescape(k)
	if u, err := url.PathUnescape(k); err == nil {
		return u
	}
	return k
}

func escapeMetadataValue(v string) string { return url.PathEscape(v) }

func unescapeMetadataValue(v string) string {
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// hexEscape replaces each rune r[i] for which esc(i) holds by "__0xXX__".
func hexEscape(r []rune, esc func(i int) bool) string {
	var b strings.Builder
	for i, c := range r {
		if esc(i) {
			fmt.Fprintf(&b, "__%#x__", c)
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// hexUnescape reverses hexEscape.
func hexUnescape(s string) string {
	if !strings.Contains(s, "__0x") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "__0x")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		rest := s[i+4:]
		j := strings.Index(rest, "__")
		if j > 0 {
			if v, err := strconv.ParseInt(rest[:j], 16, 32); err == nil {
				b.WriteRune(rune(v))
				s = rest[j+2:]
				continue
			}
		}
		b.WriteString("__0x")
		s = rest
	}
}
