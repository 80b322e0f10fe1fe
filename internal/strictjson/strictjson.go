// Package strictjson checks security-relevant JSON before it is decoded
// with encoding/json, which matches field names case-insensitively, keeps
// the last of duplicated keys and ignores unknown fields: a token walk
// rejects duplicated keys (case variants included, where encoding/json
// would match them to one field), fields a schema does not know, nesting
// deeper than a limit, and data after the top-level value, with errors
// that name the key and where it is.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// MaxDepth is the deepest nesting of objects and arrays Check accepts.
const MaxDepth = 64

// Schema describes what a JSON value may hold. A nil *Schema accepts any
// value, whose objects are still checked for duplicated keys (compared
// case-insensitively).
type Schema struct {
	// Fields, when not nil, are the fields an object may have, by their
	// canonical names; a key matches a field case-insensitively, as
	// encoding/json matches struct fields, and any other key is an
	// unknown field.
	Fields map[string]*Schema
	// Map marks an object decoded into a Go map: any keys, compared
	// exactly (a map keeps case variants apart), each value described by
	// Elem.
	Map bool
	// Elem describes the elements of an array (and the values of a Map).
	Elem *Schema
	// Delegated marks a value whose own parser checks its keys (as
	// authz does for role mappings, reporting them as mapping errors):
	// only its nesting depth is checked here.
	Delegated bool
}

// ErrStrict is matched by errors.Is for every problem Check reports.
var ErrStrict = errors.New("strict JSON check failed")

// Error reports one problem: a duplicated or unknown key, or nesting too
// deep.
type Error struct {
	// Path is where the problem is, as Root.Field[2].Field.
	Path string
	// Key is the key at fault ("" for a depth problem).
	Key string
	// Problem says what is wrong and what to do.
	Problem string
}

// Error implements error.
func (e *Error) Error() string {
	where := e.Path
	if where == "" {
		where = "top level"
	}
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", where, e.Problem)
	}
	return fmt.Sprintf("%s: key %q: %s", where, e.Key, e.Problem)
}

// Is reports whether target is ErrStrict.
func (e *Error) Is(target error) bool { return target == ErrStrict }

// Check walks data, one JSON value named root in messages, against s. It
// returns a *Error for a
// duplicated key, an unknown field or nesting deeper than MaxDepth, and
// the decoder's error for malformed JSON or data after the value.
func Check(data []byte, s *Schema, root string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	w := walker{dec: dec, path: []pathElem{{key: root, index: -1}}}
	if err := w.value(s, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return errors.New("data after the top-level value")
		}
		return err
	}
	return nil
}

type walker struct {
	dec  *json.Decoder
	path []pathElem // where the walk is; turned into text only for errors
}

// pathElem is an object key, or an array index when index >= 0.
type pathElem struct {
	key   string
	index int
}

func (w *walker) where() string {
	var b strings.Builder
	for _, e := range w.path {
		switch {
		case e.index >= 0:
			fmt.Fprintf(&b, "[%d]", e.index)
		case e.key == "":
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(e.key)
		}
	}
	return b.String()
}

// fold is the key under which case variants that encoding/json would
// match to one field collide (Unicode simple folding: "K" and the Kelvin
// sign, "S" and the long s, included).
func fold(k string) string { return strings.ToLower(strings.ToUpper(k)) }

func (w *walker) value(s *Schema, depth int) error {
	tok, err := w.dec.Token()
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar; its type is the decoder's business
	}
	if depth+1 > MaxDepth {
		return &Error{Path: w.where(), Problem: fmt.Sprintf("nested deeper than %d levels of objects and arrays", MaxDepth)}
	}
	var elem *Schema
	if s != nil {
		elem = s.Elem
		if s.Delegated {
			elem = s
		}
	}
	switch d {
	case '[':
		w.path = append(w.path, pathElem{index: 0})
		for i := 0; w.dec.More(); i++ {
			w.path[len(w.path)-1].index = i
			if err := w.value(elem, depth+1); err != nil {
				return err
			}
		}
		w.path = w.path[:len(w.path)-1]
	case '{':
		seen := map[string]string{} // collision key -> key as first written
		for w.dec.More() {
			kt, err := w.dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			var child *Schema
			id := fold(key)
			switch {
			case s != nil && s.Delegated:
				child, id = s, ""
			case s != nil && s.Fields != nil:
				field, ok := lookup(s.Fields, key)
				if !ok {
					return &Error{Path: w.where(), Key: key, Problem: "unknown field; known fields are " + strings.Join(sortedKeys(s.Fields), ", ")}
				}
				child, id = s.Fields[field], field
			case s != nil && s.Map:
				child, id = s.Elem, key
			}
			if prev, dup := seen[id]; dup && id != "" {
				problem := "given twice; give each key once (encoding/json would keep the last silently)"
				if prev != key {
					problem = fmt.Sprintf("duplicates %q (keys match case-insensitively); give each key once (encoding/json would keep the last silently)", prev)
				}
				return &Error{Path: w.where(), Key: key, Problem: problem}
			}
			seen[id] = key
			w.path = append(w.path, pathElem{key: key, index: -1})
			if err := w.value(child, depth+1); err != nil {
				return err
			}
			w.path = w.path[:len(w.path)-1]
		}
	}
	_, err = w.dec.Token() // the closing delimiter
	return err
}

func lookup(fields map[string]*Schema, key string) (string, bool) {
	if _, ok := fields[key]; ok {
		return key, true
	}
	for f := range fields {
		if strings.EqualFold(f, key) {
			return f, true
		}
	}
	return "", false
}

func sortedKeys(m map[string]*Schema) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Object returns a schema of an object with the given fields.
func Object(fields map[string]*Schema) *Schema { return &Schema{Fields: fields} }

// ArrayOf returns a schema of an array whose elements are elem.
func ArrayOf(elem *Schema) *Schema { return &Schema{Elem: elem} }

// Scalar describes a value that holds no object with checked fields (a
// string, number, boolean or null; anything else is left to the decoder).
var Scalar *Schema

// MapOf returns a schema of an object decoded into a map.
func MapOf(elem *Schema) *Schema { return &Schema{Map: true, Elem: elem} }

// RoleMappings is the schema of a RoleMappings array: authz checks the
// keys of each mapping itself, reporting them as mapping errors.
var RoleMappings = &Schema{Delegated: true}

// s3Encryption is an S3EncryptionConfiguration or one of its Overrides.
func s3Encryption(overrides bool) *Schema {
	f := map[string]*Schema{"EncryptionMode": Scalar, "AwsKmsKey": Scalar, "S3Object": Scalar, "EncryptionKeyProviderClass": Scalar}
	if overrides {
		o := s3Encryption(false)
		o.Fields["BucketName"] = Scalar
		f["Overrides"] = ArrayOf(o)
	}
	return Object(f)
}

// SecurityConfiguration is the schema of an EMR security configuration.
// The sections this module does not read (in-transit encryption, local
// disk encryption, authentication, Lake Formation, Ranger, instance
// metadata) may hold anything, but are still checked for duplicated keys.
var SecurityConfiguration = Object(map[string]*Schema{
	"EncryptionConfiguration": Object(map[string]*Schema{
		"EnableInTransitEncryption":        Scalar,
		"EnableAtRestEncryption":           Scalar,
		"InTransitEncryptionConfiguration": nil,
		"AtRestEncryptionConfiguration": Object(map[string]*Schema{
			"S3EncryptionConfiguration":        s3Encryption(true),
			"LocalDiskEncryptionConfiguration": nil,
		}),
	}),
	"AuthenticationConfiguration": nil,
	"AuthorizationConfiguration": Object(map[string]*Schema{
		"EmrFsConfiguration":         Object(map[string]*Schema{"RoleMappings": RoleMappings}),
		"LakeFormationConfiguration": nil,
		"RangerConfiguration":        nil,
	}),
	"InstanceMetadataServiceConfiguration": nil,
})

// configuration is one EMR configuration object; it nests.
var configuration = func() *Schema {
	c := Object(map[string]*Schema{"Classification": Scalar, "Properties": MapOf(Scalar)})
	c.Fields["Configurations"] = ArrayOf(c)
	return c
}()

// Configurations is the schema of EMR configurations JSON: an array of
// configurations.
var Configurations = ArrayOf(configuration)

// ConfigurationsObject is the schema of EMR configurations JSON given as
// an object holding the array under "Configurations".
var ConfigurationsObject = Object(map[string]*Schema{"Configurations": Configurations})
