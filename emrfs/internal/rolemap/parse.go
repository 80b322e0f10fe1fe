// Package rolemap reads EMRFS role mappings from their two EMR syntaxes:
// the RoleMappings array of a security configuration's
// AuthorizationConfiguration.EmrFsConfiguration ([ParseRoleMappings]) and
// the value of the property fs.s3.authorization.roleMapping
// ([ParseRoleMappingProperty]). It produces plain [authz.Mapping]s; authz
// knows no syntax and no property. Errors about one mapping are
// [*authz.MappingError]s (matching [authz.ErrInvalidMapping]), as
// [authz.Validate] reports them.
package rolemap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/emrs3/emrs3/authz"
	"github.com/emrs3/emrs3/internal/strictjson"
)

// MaxSize is the largest input ParseRoleMappings and
// ParseRoleMappingProperty accept; larger input is
// an error matching ErrTooLarge.
const MaxSize = 1 << 20

// ErrTooLarge is wrapped by the errors for input over MaxSize.
var ErrTooLarge = errors.New("too large")

func checkSize(what string, n int) error {
	if n > MaxSize {
		return fmt.Errorf("%s is %w: %d bytes, the limit is %d bytes (1 MiB)", what, ErrTooLarge, n, MaxSize)
	}
	return nil
}

// mappingError reports what is wrong with field of the mapping at index i.
func mappingError(i int, field string, err error) error {
	return &authz.MappingError{Index: i, Field: field, Err: err}
}

// validate checks m as authz.Validate does, reporting it as the mapping at
// index i, and returns it normalized as authz compiles it (canonical
// identifier type, trimmed identifiers).
func validate(i int, m authz.Mapping) (authz.Mapping, error) {
	if err := authz.Validate([]authz.Mapping{m}); err != nil {
		var me *authz.MappingError
		if errors.As(err, &me) {
			return m, mappingError(i, me.Field, me.Err)
		}
		return m, err
	}
	t := m.IdentifierType
	for _, c := range []authz.IdentifierType{authz.User, authz.Group, authz.Prefix} {
		if strings.EqualFold(string(t), string(c)) {
			t = c
		}
	}
	ids := make([]string, len(m.Identifiers))
	for j, id := range m.Identifiers {
		ids[j] = strings.TrimSpace(id)
	}
	return authz.Mapping{Role: m.Role, IdentifierType: t, Identifiers: ids}, nil
}

// ParseRoleMappings reads a JSON array of role mappings, the RoleMappings
// value of an EMR security configuration:
//
//	[{"Role": "arn:aws:iam::123456789101:role/r1", "IdentifierType": "User", "Identifiers": ["user1"]}]
//
// Unknown fields are rejected so that typos do not silently drop a mapping,
// and so are fields given twice (field names compare case-insensitively,
// as encoding/json matches them), so that a second IdentifierType cannot
// change the type of the identifiers. Errors are [*authz.MappingError]s naming
// the mapping and field when the array is well-formed JSON.
func ParseRoleMappings(data []byte) ([]authz.Mapping, error) {
	if err := checkSize("RoleMappings", len(data)); err != nil {
		return nil, err
	}
	if err := strictjson.Check(data, strictjson.RoleMappings, "RoleMappings"); err != nil {
		var se *strictjson.Error
		if !errors.As(err, &se) {
			return nil, fmt.Errorf("RoleMappings must be a JSON array of mappings: %w", err)
		}
		return nil, err
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("RoleMappings must be a JSON array of mappings: %w", err)
	}
	if len(raw) == 0 {
		return nil, errors.New("RoleMappings is empty; give at least one mapping")
	}
	out := make([]authz.Mapping, 0, len(raw))
	for i, r := range raw {
		m, err := decodeMapping(i, r)
		if err != nil {
			return nil, err
		}
		v, err := validate(i, m)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// mappingFields are the fields of a JSON role mapping.
var mappingFields = [...]string{"Role", "IdentifierType", "Identifiers"}

// decodeMapping reads one JSON role mapping token by token, so that
// duplicated and unknown fields are reported with their name.
func decodeMapping(i int, data json.RawMessage) (authz.Mapping, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return authz.Mapping{}, mappingError(i, "", fmt.Errorf("%s is not an object; want {\"Role\": ..., \"IdentifierType\": ..., \"Identifiers\": [...]}", jsonKind(data)))
	}
	var m authz.Mapping
	seen := map[string]string{} // field -> name as written
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return authz.Mapping{}, mappingError(i, "", err)
		}
		name, _ := tok.(string)
		field := ""
		for _, f := range mappingFields {
			if strings.EqualFold(name, f) {
				field = f
			}
		}
		if field == "" {
			return authz.Mapping{}, mappingError(i, name, errors.New("unknown field; a mapping has Role, IdentifierType and Identifiers"))
		}
		if prev, dup := seen[field]; dup {
			return authz.Mapping{}, mappingError(i, field, fmt.Errorf("given twice (as %q and %q); give each field once", prev, name))
		}
		seen[field] = name
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return authz.Mapping{}, mappingError(i, field, err)
		}
		switch field {
		case "Role":
			if m.Role, err = jsonString(v); err != nil {
				return authz.Mapping{}, mappingError(i, field, err)
			}
		case "IdentifierType":
			t, err := jsonString(v)
			if err != nil {
				return authz.Mapping{}, mappingError(i, field, err)
			}
			m.IdentifierType = authz.IdentifierType(t)
		case "Identifiers":
			var elems []json.RawMessage
			if err := json.Unmarshal(v, &elems); err != nil || elems == nil {
				return authz.Mapping{}, mappingError(i, field, fmt.Errorf("is %s; want an array of strings", jsonKind(v)))
			}
			m.Identifiers = make([]string, len(elems))
			for j, e := range elems {
				if m.Identifiers[j], err = jsonString(e); err != nil {
					return authz.Mapping{}, mappingError(i, fmt.Sprintf("Identifiers[%d]", j), err)
				}
			}
		}
	}
	for _, f := range mappingFields[:2] {
		if _, ok := seen[f]; !ok {
			return authz.Mapping{}, mappingError(i, f, errors.New("missing"))
		}
	}
	return m, nil
}

// jsonString decodes a JSON string; anything else, null included, is an
// error that says what was found.
func jsonString(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return "", fmt.Errorf("is a JSON %s; want a string", te.Value)
		}
		return "", fmt.Errorf("is %s; want a string", jsonKind(v))
	}
	return s, nil
}

// jsonKind names the kind of a JSON value for messages.
func jsonKind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "empty"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// ParseRoleMappingProperty reads the text form of the EMRFS property
// fs.s3.authorization.roleMapping: mappings separated by commas, each
//
//	<role arn>=<u|g|p>:<identifier>;<identifier>...
//
// where u, g and p stand for User, Group and Prefix. Blank text means no
// mappings. A comma ends a mapping only when "arn:" (or another comma, or
// the end of the text) follows it, after optional blanks, so IAM role
// names may contain ","; a role path that contains ",arn:" or "=u:" (or
// "=g:", "=p:") cannot be written in this form. Identifiers cannot contain
// "," or ";" here; use the JSON form ([ParseRoleMappings]) for such
// prefixes.
func ParseRoleMappingProperty(s string) ([]authz.Mapping, error) {
	if err := checkSize("the role mapping property", len(s)); err != nil {
		return nil, err
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []authz.Mapping
	for i, item := range splitMappings(s) {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, mappingError(i, "", errors.New("empty mapping, probably a stray comma"))
		}
		role, spec, ok := cutType(item)
		if !ok {
			return nil, mappingError(i, "IdentifierType", fmt.Errorf("%q: want <role arn>=<u|g|p>:<identifier>[;<identifier>]", item))
		}
		var t authz.IdentifierType
		switch spec[0] {
		case 'u', 'U':
			t = authz.User
		case 'g', 'G':
			t = authz.Group
		default:
			t = authz.Prefix
		}
		var ids []string
		if rest := spec[2:]; strings.TrimSpace(rest) != "" {
			ids = strings.Split(rest, ";")
		}
		for j, id := range ids {
			if strings.Contains(id, ",") {
				return nil, mappingError(i, fmt.Sprintf("Identifiers[%d]", j), fmt.Errorf(
					"%q contains \",\"; in the property form \",\" separates mappings (each starting with arn:) and \";\" separates identifiers; use the JSON form for identifiers with \",\"", strings.TrimSpace(id)))
			}
		}
		v, err := validate(i, authz.Mapping{Role: strings.TrimSpace(role), IdentifierType: t, Identifiers: ids})
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// splitMappings splits the property text at the commas that end a
// mapping: those followed, after optional blanks, by "arn:", another comma
// or the end of the text. Other commas belong to the mapping.
func splitMappings(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] != ',' {
			continue
		}
		rest := strings.TrimLeft(s[i+1:], " \t\r\n")
		if rest == "" || rest[0] == ',' || strings.HasPrefix(rest, "arn:") {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// cutType splits "role=t:ids" at the first "=" that is followed by a type
// letter and a colon (IAM role names may themselves contain "=").
func cutType(item string) (role, spec string, ok bool) {
	for i := 0; i < len(item); i++ {
		if item[i] != '=' {
			continue
		}
		rest := item[i+1:]
		if len(rest) >= 2 && rest[1] == ':' && strings.IndexByte("ugpUGP", rest[0]) >= 0 {
			return item[:i], rest, true
		}
	}
	return "", "", false
}
