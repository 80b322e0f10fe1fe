// Package hadoopconf reads Hadoop configuration resources (core-site.xml,
// emrfs-site.xml and friends) into a flat property set with Hadoop's
// semantics: later resources override earlier ones unless a property was
// marked final, and values may refer to other properties as ${name}.
package hadoopconf

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// MaxSubstitutions bounds ${var} expansion depth, as Hadoop's
// Configuration.MAX_SUBST does; a deeper or cyclic reference is left as is.
const MaxSubstitutions = 20

// MaxResourceSize is the largest XML resource Parse accepts.
const MaxResourceSize = 16 << 20

// ErrSyntax is wrapped by every error Parse returns for malformed input.
var ErrSyntax = errors.New("hadoopconf: malformed configuration XML")

// ErrTooLarge is wrapped (with ErrSyntax) by the error Parse returns for a
// resource over MaxResourceSize.
var ErrTooLarge = errors.New("too large")

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func errTooLarge() error {
	return fmt.Errorf("%w: the resource is %w: more than %d bytes, the limit (%d MiB)", ErrSyntax, ErrTooLarge, MaxResourceSize, MaxResourceSize>>20)
}

// Conf is a set of properties. The zero value is not usable; call New.
type Conf struct {
	vals  map[string]string
	final map[string]bool
}

// New returns an empty Conf.
func New() *Conf {
	return &Conf{vals: map[string]string{}, final: map[string]bool{}}
}

// Set sets key to value, as Configuration.set does: final flags only guard
// against later resources, not against code.
func (c *Conf) Set(key, value string) { c.vals[key] = value }

// Unset removes key.
func (c *Conf) Unset(key string) { delete(c.vals, key); delete(c.final, key) }

// SetFinal marks key final: Merge will not override it.
func (c *Conf) SetFinal(key string) { c.final[key] = true }

// Final reports whether key is final.
func (c *Conf) Final(key string) bool { return c.final[key] }

// Raw returns the value of key without ${var} expansion.
func (c *Conf) Raw(key string) (string, bool) {
	v, ok := c.vals[key]
	return v, ok
}

// Get returns the value of key with ${name} references to other properties
// expanded (unresolvable references are left in place, as Hadoop does).
// When expansion fails (see GetChecked), the value is returned as written.
func (c *Conf) Get(key string) (string, bool) {
	v, ok, _ := c.GetChecked(key)
	return v, ok
}

// GetChecked is Get that also reports a failed expansion: references
// nested deeper than MaxSubstitutions (a cycle, as Hadoop's
// "Variable substitution depth too large") or an expanded value longer
// than MaxExpandedSize. The value is then returned as written.
func (c *Conf) GetChecked(key string) (string, bool, error) {
	v, ok := c.vals[key]
	if !ok {
		return "", false, nil
	}
	out, err := ExpandChecked(v, c.Raw)
	if err != nil {
		return v, true, err
	}
	return out, true, nil
}

// Keys returns every key, sorted.
func (c *Conf) Keys() []string {
	keys := make([]string, 0, len(c.vals))
	for k := range c.vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Len returns the number of properties.
func (c *Conf) Len() int { return len(c.vals) }

// Clone returns a deep copy.
func (c *Conf) Clone() *Conf {
	n := New()
	for k, v := range c.vals {
		n.vals[k] = v
	}
	for k := range c.final {
		n.final[k] = true
	}
	return n
}

// Merge adds the properties of o, a later resource, to c. A property that is
// final in c keeps its value; each such attempt is returned as a warning.
// Final flags of o are carried over.
func (c *Conf) Merge(o *Conf) (warnings []string) {
	for _, k := range o.Keys() {
		v := o.vals[k]
		if c.final[k] {
			if old := c.vals[k]; old != v {
				warnings = append(warnings, fmt.Sprintf("%s is final: a later resource tried to override it; the later value is ignored", k))
			}
			continue
		}
		c.vals[k] = v
		if o.final[k] {
			c.final[k] = true
		}
	}
	return warnings
}

// ErrExpansion is wrapped by the errors of ExpandChecked.
var ErrExpansion = errors.New("${...} expansion failed")

// MaxExpandedSize bounds the length of an expanded value: a longer result
// (a property that refers to itself twice doubles on every round) is an
// error, unless the value as written is longer already.
const MaxExpandedSize = 64 << 10

// MaxReferences bounds the references one expansion substitutes, over all
// its rounds; more is an error. It keeps a pathological value (a
// property that refers to itself twice doubles its references every
// round) cheap to reject.
const MaxReferences = 1024

// Expand replaces each ${name} in s by lookup(name), repeatedly, at most
// MaxSubstitutions times. References lookup cannot resolve stay verbatim.
// When expansion fails (see ExpandChecked), s is returned as it is.
func Expand(s string, lookup func(string) (string, bool)) string {
	out, err := ExpandChecked(s, lookup)
	if err != nil {
		return s
	}
	return out
}

// ExpandChecked is Expand that fails, with an error wrapping ErrExpansion,
// when references still expand after MaxSubstitutions rounds (a cycle or
// a chain too deep), the value grows beyond MaxExpandedSize, or more than
// MaxReferences references are substituted.
func ExpandChecked(s string, lookup func(string) (string, bool)) (string, error) {
	limit := max(MaxExpandedSize, len(s))
	refs := 0
	counted := func(name string) (string, bool) {
		if refs > MaxReferences {
			return "", false // over budget: stop substituting, fail below
		}
		v, ok := lookup(name)
		if ok {
			refs++
		}
		return v, ok
	}
	cur := s
	for range MaxSubstitutions {
		out, changed, ok := expandOnce(cur, counted, limit)
		if !ok {
			return s, fmt.Errorf("%w: the expanded value would be longer than %d bytes (%d KiB), the limit", ErrExpansion, limit, limit>>10)
		}
		if refs > MaxReferences {
			return s, fmt.Errorf("%w: more than %d references to substitute, the limit", ErrExpansion, MaxReferences)
		}
		if !changed {
			return out, nil
		}
		cur = out
	}
	if _, changed, _ := expandOnce(cur, lookup, limit); changed {
		return s, fmt.Errorf("%w: references still expand after %d rounds (a cycle, or a chain deeper than %d); Hadoop fails the same way (\"Variable substitution depth too large\")",
			ErrExpansion, MaxSubstitutions, MaxSubstitutions)
	}
	return cur, nil
}

// References returns the names s refers to as ${name}, in order, each
// once.
func References(s string) []string {
	var names []string
	seen := map[string]bool{}
	rest := s
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			return names
		}
		j := strings.IndexByte(rest[i+2:], '}')
		if j < 0 {
			return names
		}
		name := rest[i+2 : i+2+j]
		if name == "" || strings.ContainsAny(name, "$ ") {
			rest = rest[i+1:]
			continue
		}
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
		rest = rest[i+3+j:]
	}
}

// expandOnce replaces the resolvable references of s once; ok is false
// when the result would be longer than limit.
func expandOnce(s string, lookup func(string) (string, bool), limit int) (out string, changed, ok bool) {
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i+2:], '}')
		if j < 0 {
			break
		}
		name := rest[i+2 : i+2+j]
		if name == "" || strings.ContainsAny(name, "$ ") {
			// Not a reference (Hadoop's pattern is \$\{[^}$ ]+\}); look for
			// one starting after this '$'.
			b.WriteString(rest[:i+1])
			rest = rest[i+1:]
			continue
		}
		if v, found := lookup(name); found {
			if b.Len()+i+len(v)+len(rest)-(i+3+j) > limit {
				return s, false, false
			}
			b.WriteString(rest[:i])
			b.WriteString(v)
			changed = true
		} else {
			b.WriteString(rest[:i+3+j])
		}
		rest = rest[i+3+j:]
	}
	if !changed {
		return s, false, true
	}
	b.WriteString(rest)
	return b.String(), true, true
}

type xmlProperty struct {
	Name      string  `xml:"name"`
	Value     *string `xml:"value"`
	Final     string  `xml:"final"`
	AttrName  string  `xml:"name,attr"`
	AttrValue *string `xml:"value,attr"`
	AttrFinal string  `xml:"final,attr"`
}

// Parse reads one Hadoop configuration resource: a <configuration> root
// holding <property> elements with <name>, <value> and optional <final>
// children (or the same as attributes). Within the resource a final property
// is not overridden by a later duplicate; each ignored duplicate, and each
// property without a name, is reported as a warning.
func Parse(r io.Reader) (*Conf, []string, error) {
	cr := &countingReader{r: io.LimitReader(r, MaxResourceSize+1)}
	dec := xml.NewDecoder(cr)
	c := New()
	var warnings []string
	depth := 0
	sawRoot := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if cr.n > MaxResourceSize || dec.InputOffset() > MaxResourceSize {
			// Whatever the decoder says (unexpected EOF, most likely), the
			// cause is the cut at the limit.
			return nil, nil, errTooLarge()
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1:
				if t.Name.Local != "configuration" {
					return nil, nil, fmt.Errorf("%w: root element is <%s>, want <configuration>", ErrSyntax, t.Name.Local)
				}
				sawRoot = true
			case depth == 2 && t.Name.Local == "property":
				var p xmlProperty
				if err := dec.DecodeElement(&p, &t); err != nil {
					if cr.n > MaxResourceSize {
						return nil, nil, errTooLarge()
					}
					return nil, nil, fmt.Errorf("%w: <property>: %v", ErrSyntax, err)
				}
				depth--
				warnings = c.add(p, warnings)
			case depth == 2 && t.Name.Local == "include":
				return nil, nil, fmt.Errorf("%w: <xi:include> is not supported; inline the included resource or load it separately and Merge it", ErrSyntax)
			default:
				if err := dec.Skip(); err != nil {
					if cr.n > MaxResourceSize {
						return nil, nil, errTooLarge()
					}
					return nil, nil, fmt.Errorf("%w: %v", ErrSyntax, err)
				}
				depth--
			}
		case xml.EndElement:
			depth--
		}
	}
	if !sawRoot {
		return nil, nil, fmt.Errorf("%w: no <configuration> element", ErrSyntax)
	}
	return c, warnings, nil
}

func (c *Conf) add(p xmlProperty, warnings []string) []string {
	name := strings.TrimSpace(p.Name)
	if name == "" {
		name = strings.TrimSpace(p.AttrName)
	}
	value := p.Value
	if value == nil {
		value = p.AttrValue
	}
	final := strings.TrimSpace(p.Final) == "true" || strings.TrimSpace(p.AttrFinal) == "true"
	if name == "" {
		return append(warnings, "a <property> without a <name> is ignored")
	}
	if value == nil {
		// Hadoop ignores a property with no value.
		return warnings
	}
	if c.final[name] {
		if c.vals[name] != *value {
			warnings = append(warnings, fmt.Sprintf("%s is final: a later definition in the same resource is ignored", name))
		}
		return warnings
	}
	c.vals[name] = *value
	if final {
		c.final[name] = true
	}
	return warnings
}
