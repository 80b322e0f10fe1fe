package envelope

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ContextError reports an encryption-context string that cannot be parsed
// or that uses a reserved key.
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

func ctxErr(in string, off int, format string, args ...any) *ContextError {
	if len(in) > 64 {
		in = in[:64] + "..."
	}
	return &ContextError{Input: in, Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// ParseContext parses an encryption-context string in any of the forms users
// configure:
//
//   - S3A (fs.s3a.encryption.context): k1=v1,k2=v2
//   - EMR Serverless / EMR security configuration: k1:v1,k2:v2
//   - a JSON object: {"k1":"v1"}
//
// Whitespace around keys and values is trimmed. A key or value may be
// double-quoted to hold ',', ':', '=' or spaces; inside quotes \" and \\
// escape. The separator is the first unquoted '=' or ':' of the first pair
// and must be the same in every pair. Empty pairs (",,") are skipped. Keys
// must be non-empty and unique, and must not start with the reserved "aws:"
// prefix.
func ParseContext(s string) (map[string]string, error) {
	out := map[string]string{}
	t := strings.TrimSpace(s)
	if t == "" {
		return out, nil
	}
	if strings.HasPrefix(t, "{") {
		var m map[string]string
		if err := json.Unmarshal([]byte(t), &m); err != nil {
			return nil, ctxErr(s, -1, "not a JSON object of strings: %v", err)
		}
		for k, v := range m {
			if err := checkKey(s, -1, k, out); err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	}
	p := &ctxParser{in: s}
	var sep byte
	for {
		p.skipSpace()
		if p.eof() {
			break
		}
		if p.peek() == ',' {
			p.pos++
			continue
		}
		keyPos := p.pos
		k, err := p.token(sep)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.eof() || p.peek() == ',' {
			return nil, ctxErr(s, p.pos, "pair %q has no value; write key=value or key:value", k)
		}
		c := p.peek()
		if sep == 0 && (c == '=' || c == ':') {
			sep = c
		}
		if c != sep {
			return nil, ctxErr(s, p.pos, "expected %q after key %q, found %q (use one separator, '=' or ':', in every pair; quote keys that contain ':' or '=')", sep, k, c)
		}
		p.pos++
		p.skipSpace()
		v, err := p.token(sep)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if !p.eof() {
			if p.peek() != ',' {
				return nil, ctxErr(s, p.pos, "expected ',' after the value of %q, found %q (quote values that contain ':' or '=')", k, p.peek())
			}
			p.pos++
		}
		if err := checkKey(s, keyPos, k, out); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

func checkKey(in string, off int, k string, seen map[string]string) error {
	if k == "" {
		return ctxErr(in, off, "empty key")
	}
	// "aws" alone is what "aws:name=value" yields when ':' is taken as the
	// separator; refuse it as the reserved prefix it almost surely is.
	if lk := strings.ToLower(k); strings.HasPrefix(lk, ReservedPrefix) || lk == "aws" {
		return ctxErr(in, off, "key %q uses the reserved %q prefix; the client sets aws:x-amz-cek-alg itself", k, ReservedPrefix)
	}
	if _, dup := seen[k]; dup {
		return ctxErr(in, off, "key %q appears twice", k)
	}
	return nil
}

type ctxParser struct {
	in  string
	pos int
}

func (p *ctxParser) eof() bool  { return p.pos >= len(p.in) }
func (p *ctxParser) peek() byte { return p.in[p.pos] }
func (p *ctxParser) skipSpace() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t' || p.peek() == '\n' || p.peek() == '\r') {
		p.pos++
	}
}

// token reads a quoted string or an unquoted run up to ',', the separator
// (either '=' or ':' while the separator is unknown) or the end.
func (p *ctxParser) token(sep byte) (string, error) {
	if !p.eof() && p.peek() == '"' {
		start := p.pos
		p.pos++
		var b strings.Builder
		for {
			if p.eof() {
				return "", ctxErr(p.in, start, "unterminated quoted string")
			}
			c := p.peek()
			p.pos++
			switch c {
			case '"':
				return b.String(), nil
			case '\\':
				if p.eof() {
					return "", ctxErr(p.in, p.pos-1, "backslash at end of input")
				}
				e := p.peek()
				if e != '"' && e != '\\' {
					return "", ctxErr(p.in, p.pos-1, "only \\\" and \\\\ may be escaped inside quotes")
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
		if c == ',' || c == sep || (sep == 0 && (c == '=' || c == ':')) {
			break
		}
		if c == '"' {
			return "", ctxErr(p.in, p.pos, "a quote may only start a key or value")
		}
		p.pos++
	}
	return strings.TrimSpace(p.in[start:p.pos]), nil
}
