package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ParseSecurityConfiguration reads the role mappings of an EMR security
// configuration (AuthorizationConfiguration.EmrFsConfiguration.RoleMappings).
// Other sections are ignored. A configuration without an
// AuthorizationConfiguration has no mappings and is not an error; one whose
// authorization section has no RoleMappings is.
func ParseSecurityConfiguration(data []byte) ([]Mapping, error) {
	var doc struct {
		AuthorizationConfiguration *struct {
			EmrFsConfiguration *struct {
				RoleMappings json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("authz: security configuration is not valid JSON: %w", err)
	}
	ac := doc.AuthorizationConfiguration
	if ac == nil {
		return nil, nil
	}
	if ac.EmrFsConfiguration == nil || len(ac.EmrFsConfiguration.RoleMappings) == 0 {
		return nil, errors.New("authz: security configuration: AuthorizationConfiguration needs EmrFsConfiguration.RoleMappings")
	}
	return ParseRoleMappings(ac.EmrFsConfiguration.RoleMappings)
}

// ParseRoleMappings reads a JSON array of role mappings, the RoleMappings
// value of an EMR security configuration:
//
//	[{"Role": "arn:aws:iam::123456789101:role/r1", "IdentifierType": "User", "Identifiers": ["user1"]}]
//
// Unknown fields are rejected so that typos do not silently drop a mapping.
// Errors are [*MappingError]s naming the mapping and field when the JSON is
// well-formed.
func ParseRoleMappings(data []byte) ([]Mapping, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("authz: RoleMappings must be a JSON array of mappings: %w", err)
	}
	if len(raw) == 0 {
		return nil, errors.New("authz: RoleMappings is empty; give at least one mapping")
	}
	out := make([]Mapping, 0, len(raw))
	for i, r := range raw {
		var m struct {
			Role           *string
			IdentifierType *string
			Identifiers    []string
		}
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return nil, &MappingError{i, "", fmt.Errorf("want an object with Role, IdentifierType, Identifiers: %w", err)}
		}
		if m.Role == nil {
			return nil, &MappingError{i, "Role", errors.New("missing")}
		}
		if m.IdentifierType == nil {
			return nil, &MappingError{i, "IdentifierType", errors.New("missing")}
		}
		v, err := validate(i, Mapping{Role: *m.Role, IdentifierType: IdentifierType(*m.IdentifierType), Identifiers: m.Identifiers})
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ParseRoleMappingProperty reads the text form of the EMRFS property
// fs.s3.authorization.roleMapping: mappings separated by commas, each
//
//	<role arn>=<u|g|p>:<identifier>;<identifier>...
//
// where u, g and p stand for User, Group and Prefix. Blank text means no
// mappings. Identifiers cannot contain "," or ";" in this form; use the JSON
// form for such prefixes.
func ParseRoleMappingProperty(s string) ([]Mapping, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []Mapping
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, &MappingError{i, "", errors.New("empty mapping, probably a stray comma")}
		}
		role, spec, ok := cutType(item)
		if !ok {
			return nil, &MappingError{i, "IdentifierType", fmt.Errorf("%q: want <role arn>=<u|g|p>:<identifier>[;<identifier>]", item)}
		}
		var t IdentifierType
		switch spec[0] {
		case 'u', 'U':
			t = User
		case 'g', 'G':
			t = Group
		default:
			t = Prefix
		}
		var ids []string
		if rest := spec[2:]; strings.TrimSpace(rest) != "" {
			ids = strings.Split(rest, ";")
		}
		v, err := validate(i, Mapping{Role: strings.TrimSpace(role), IdentifierType: t, Identifiers: ids})
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
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
