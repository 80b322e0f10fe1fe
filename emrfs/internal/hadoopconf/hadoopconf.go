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
func (c *Conf) Get(key string) (string, bool) {
	v, ok := c.vals[key]
	if !ok {
		return "", false
	}
	return Expand(v, c.Raw), true
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

// Expand replaces each ${name} in s by lookup(name), repeatedly, at most
// MaxSubstitutions times. References lookup cannot resolve stay verbatim.
func Expand(s string, lookup func(string) (string, bool)) string {
	for range MaxSubstitutions {
		out, changed := expandOnce(s, lookup)
		if !changed {
			return out
		}
		s = out
	}
	return s
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

func expandOnce(s string, lookup func(string) (string, bool)) (string, bool) {
	var b strings.Builder
	changed := false
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
		if v, ok := lookup(name); ok && b.Len()+i+len(v)+len(rest)-(i+3+j) <= maxExpandedSize {
			b.WriteString(rest[:i])
			b.WriteString(v)
			changed = true
		} else {
			b.WriteString(rest[:i+3+j])
		}
		rest = rest[i+3+j:]
	}
	if !changed {
		return s, false
	}
	b.WriteString(rest)
	return b.String(), true
}

// maxExpandedSize stops ${var} expansion from growing a value without bound
// (a property that refers to itself twice doubles on every round).
const maxExpandedSize = 1 << 20

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
