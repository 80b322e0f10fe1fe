// Package encctx is the one parser of encryption-context strings, as users
// write them in configuration:
//
//   - S3A (fs.s3a.encryption.context): k1=v1,k2=v2
//   - EMR Serverless, Flink, EMRFS SSE-KMS contexts: k1:v1,k2:v2
//   - a JSON object of strings: {"k1":"v1"}
//
// Every input has one answer, the rules below; Format and FormatJSON write
// any map Parse returns back in a form Parse reads to the same map.
//
// Rules of the k=v and k:v forms:
//   - Pairs are separated by ','; empty pairs (",,", a trailing ',') are
//     skipped. Whitespace around keys and values is trimmed.
//   - An unquoted key ends at the first '=' or ':'. That character is the
//     separator; the first pair chooses it and every pair must use the same
//     one ("k1=v1,k2:v2" is an error: mixed forms are ambiguous).
//   - An unquoted value runs to the next ',' and may contain '=' and ':'
//     ("k=dGVzdA==", "source:arn:aws:..." and "k:v=w" give the values
//     "dGVzdA==", "arn:aws:..." and "v=w").
//   - A key or value may be double-quoted to hold ',', ':', '=', '"' or
//     leading and trailing spaces; inside quotes only \" and \\ are escapes.
//     A quote elsewhere in a key or value is an error.
//   - A value may be empty ("k="); a key may not.
//
// Rules of every form:
//   - Blank input, "{}" and input of empty pairs only mean no context (nil).
//   - A key given twice is an error (also in JSON, where encoding/json
//     would keep the last one silently).
//   - Keys "aws" and "aws:..." (any case) are reserved: AWS services add
//     such keys themselves ("aws:x-amz-cek-alg", "aws:s3:arn"). "aws:x=1"
//     is therefore refused: it reads as the key "aws" in the k:v form.
//   - Input that is not valid UTF-8 is an error (KMS takes UTF-8 strings).
package encctx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// ReservedPrefix starts the keys that AWS services set themselves.
const ReservedPrefix = "aws:"

// Error reports an encryption-context string that cannot be parsed or that
// uses a reserved key.
type Error struct {
	Input  string // the string given, truncated to 64 bytes
	Offset int    // byte offset of the problem, -1 when not positional
	Reason string // what is wrong and, where it helps, what to write
}

// Error describes the problem and what to change.
func (e *Error) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("at byte %d: %s", e.Offset, e.Reason)
	}
	return e.Reason
}

func errorf(in string, off int, format string, args ...any) *Error {
	if len(in) > 64 {
		in = in[:64] + "..."
	}
	return &Error{Input: in, Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// Parse parses an encryption-context string (see the package
// documentation). It returns nil for no context; errors are *Error.
func Parse(s string) (map[string]string, error) {
	if !utf8.ValidString(s) {
		return nil, errorf(s, -1, "not valid UTF-8")
	}
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, nil
	}
	out := map[string]string{}
	if strings.HasPrefix(t, "{") {
		if err := parseJSON(s, t, out); err != nil {
			return nil, err
		}
	} else if err := parsePairs(s, out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func parseJSON(in, t string, out map[string]string) error {
	dec := json.NewDecoder(strings.NewReader(t))
	bad := func(err error) error {
		return errorf(in, -1, "not a JSON object of strings: %v", err)
	}
	if _, err := dec.Token(); err != nil { // '{'
		return bad(err)
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		k, _ := kt.(string)
		vt, err := dec.Token()
		if err != nil {
			return bad(err)
		}
		v, ok := vt.(string)
		if !ok {
			if d, isDelim := vt.(json.Delim); isDelim && (d == '{' || d == '[') {
				return errorf(in, -1, "not a JSON object of strings: the value of %q is an object or array", k)
			}
			return errorf(in, -1, "not a JSON object of strings: the value of %q is %v, not a string", k, vt)
		}
		if err := checkKey(in, -1, k, out); err != nil {
			return err
		}
		out[k] = v
	}
	if _, err := dec.Token(); err != nil { // '}'
		return bad(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(in, -1, "not a JSON object of strings: data after the object")
	}
	return nil
}

func parsePairs(in string, out map[string]string) error {
	p := &parser{in: in}
	var sep byte
	for {
		p.skipSpace()
		if p.eof() {
			return nil
		}
		if p.peek() == ',' {
			p.pos++
			continue
		}
		keyPos := p.pos
		k, err := p.token(true)
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.eof() || p.peek() == ',' {
			return errorf(in, p.pos, "pair %q has no value; write key=value or key:value", k)
		}
		c := p.peek()
		if c != '=' && c != ':' {
			return errorf(in, p.pos, "expected '=' or ':' after key %q, found %q", k, c)
		}
		if sep == 0 {
			sep = c
		}
		if c != sep {
			return errorf(in, p.pos, "found %q after key %q where the first pair used %q; use one separator in every pair, and quote keys that contain ':' or '='", c, k, sep)
		}
		p.pos++
		p.skipSpace()
		v, err := p.token(false)
		if err != nil {
			return err
		}
		p.skipSpace()
		if !p.eof() {
			if p.peek() != ',' {
				return errorf(in, p.pos, "expected ',' after the quoted value of %q, found %q", k, p.peek())
			}
			p.pos++
		}
		if err := checkKey(in, keyPos, k, out); err != nil {
			return err
		}
		out[k] = v
	}
}

func checkKey(in string, off int, k string, seen map[string]string) error {
	if k == "" {
		return errorf(in, off, "empty key")
	}
	// "aws" alone is what "aws:name=value" yields in the k:v form; refuse
	// it as the reserved prefix it almost surely is.
	if lk := strings.ToLower(k); strings.HasPrefix(lk, ReservedPrefix) || lk == "aws" {
		return errorf(in, off, "key %q uses the reserved %q prefix, which AWS services set themselves", k, ReservedPrefix)
	}
	if _, dup := seen[k]; dup {
		return errorf(in, off, "key %q appears twice", k)
	}
	return nil
}

type parser struct {
	in  string
	pos int
}

func (p *parser) eof() bool  { return p.pos >= len(p.in) }
func (p *parser) peek() byte { return p.in[p.pos] }
func (p *parser) skipSpace() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t' || p.peek() == '\n' || p.peek() == '\r') {
		p.pos++
	}
}

// token reads a quoted string, or an unquoted run up to ',' or the end
// (and, for a key, up to '=' or ':'), trimmed.
func (p *parser) token(key bool) (string, error) {
	if !p.eof() && p.peek() == '"' {
		start := p.pos
		p.pos++
		var b strings.Builder
		for {
			if p.eof() {
				return "", errorf(p.in, start, "unterminated quoted string")
			}
			c := p.peek()
			p.pos++
			switch c {
			case '"':
				return b.String(), nil
			case '\\':
				if p.eof() {
					return "", errorf(p.in, p.pos-1, "backslash at end of input")
				}
				e := p.peek()
				if e != '"' && e != '\\' {
					return "", errorf(p.in, p.pos-1, `only \" and \\ may be escaped inside quotes`)
				}
				b.WriteByte(e)
				p.pos++
			default:
				b.WriteByte(c)
			}
		}
	}
	start := p.pos
	for !p.eof() {
		c := p.peek()
		if c == ',' || (key && (c == '=' || c == ':')) {
			break
		}
		if c == '"' {
			return "", errorf(p.in, p.pos, "a quote may only start a key or value; quote the whole key or value")
		}
		p.pos++
	}
	return strings.TrimSpace(p.in[start:p.pos]), nil
}

// Format writes m in the k=v (sep '=') or k:v (sep ':') form, keys sorted,
// quoting keys and values that need it. Parse(Format(m, sep)) gives m back
// for every m Parse returns.
func Format(m map[string]string, sep byte) string {
	if sep != '=' && sep != ':' {
		panic("encctx: Format separator must be '=' or ':'")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeToken(&b, k, true)
		b.WriteByte(sep)
		writeToken(&b, m[k], false)
	}
	return b.String()
}

func writeToken(b *strings.Builder, s string, key bool) {
	special := ",\"\\"
	if key {
		special += "=:{"
	}
	if s != "" && strings.TrimSpace(s) == s && !strings.ContainsAny(s, special) {
		b.WriteString(s)
		return
	}
	if !key && s == "" {
		return // "k=" is the empty value
	}
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// FormatJSON writes m as a JSON object, keys sorted ("{}" for no context).
func FormatJSON(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		// A map of strings always encodes.
		panic(errors.Join(errors.New("encctx: FormatJSON"), err))
	}
	return strings.TrimSuffix(buf.String(), "\n")
}
