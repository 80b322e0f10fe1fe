package authz

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emrs3/emrs3/authz/internal/location"
)

// IdentifierType says what the identifiers of a [Mapping] name.
type IdentifierType string

// The identifier types of EMRFS role mappings.
const (
	// User identifiers are user names, compared exactly with Identity.User.
	User IdentifierType = "User"
	// Group identifiers are group names, compared exactly with the groups of
	// the request's user.
	Group IdentifierType = "Group"
	// Prefix identifiers are S3 locations such as s3://bucket/dir/.
	Prefix IdentifierType = "Prefix"
)

// Mapping maps users, groups or S3 prefixes to an IAM role. All identifiers
// of one mapping are of one type.
type Mapping struct {
	// Role is the ARN of the IAM role to assume, arn:<partition>:iam::<account>:role/<name>.
	Role string
	// IdentifierType is User, Group or Prefix.
	IdentifierType IdentifierType
	// Identifiers are the users, groups or prefixes the mapping applies to.
	Identifiers []string
}

// ErrInvalidMapping is wrapped by every [MappingError].
var ErrInvalidMapping = errors.New("authz: invalid role mapping")

// MappingError reports an invalid role mapping: its position in the list,
// the field at fault and what is wrong with it. Messages count mappings
// from 1 and give the zero-based index too: "role mapping #2 (index 1)".
type MappingError struct {
	Index int // position of the mapping, from 0
	// Field is "Role", "IdentifierType", "Identifiers", "Identifiers[i]",
	// the name of an unknown JSON field, or "" when the mapping as a whole
	// is at fault (not a JSON object, an empty item in the property form).
	Field string
	Err   error // what is wrong
}

func (e *MappingError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("authz: role mapping #%d (index %d): %v", e.Index+1, e.Index, e.Err)
	}
	field := e.Field
	if strings.ContainsFunc(field, func(r rune) bool {
		return !(r == '_' || r == '.' || r == '[' || r == ']' || unicode.IsLetter(r) || unicode.IsDigit(r))
	}) {
		field = strconv.Quote(field) // a field name taken from the input: unambiguous
	}
	return fmt.Sprintf("authz: role mapping #%d (index %d): %s: %v", e.Index+1, e.Index, field, e.Err)
}

// Unwrap returns the underlying error.
func (e *MappingError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidMapping.
func (e *MappingError) Is(target error) bool { return target == ErrInvalidMapping }

// roleARN is the role ARN shape EMRFS accepts, with optional IAM paths.
var roleARN = regexp.MustCompile(`^arn:[a-z][a-z0-9-]*:iam::[0-9]{12}:role/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,64}$`)

// canonicalType returns the IdentifierType for s, ignoring case.
func canonicalType(s string) (IdentifierType, bool) {
	for _, t := range []IdentifierType{User, Group, Prefix} {
		if strings.EqualFold(s, string(t)) {
			return t, true
		}
	}
	return "", false
}

// validate checks m and returns it normalized (canonical identifier type,
// trimmed identifiers).
func validate(i int, m Mapping) (Mapping, error) {
	if !roleARN.MatchString(m.Role) {
		return m, &MappingError{i, "Role", fmt.Errorf("%q is not an IAM role ARN; want arn:aws:iam::<12-digit account>:role/<name>", m.Role)}
	}
	t, ok := canonicalType(string(m.IdentifierType))
	if !ok {
		return m, &MappingError{i, "IdentifierType", fmt.Errorf("%q is not one of User, Group, Prefix", m.IdentifierType)}
	}
	if len(m.Identifiers) == 0 {
		return m, &MappingError{i, "Identifiers", errors.New("no identifiers; give at least one")}
	}
	ids := make([]string, len(m.Identifiers))
	for j, id := range m.Identifiers {
		id = strings.TrimSpace(id)
		field := fmt.Sprintf("Identifiers[%d]", j)
		if id == "" {
			return m, &MappingError{i, field, errors.New("empty identifier")}
		}
		if !utf8.ValidString(id) {
			return m, &MappingError{i, field, fmt.Errorf("%q is not valid UTF-8", id)}
		}
		if t == Prefix {
			if _, err := location.ParsePrefix(id); err != nil {
				return m, &MappingError{i, field, err}
			}
		}
		ids[j] = id
	}
	return Mapping{Role: m.Role, IdentifierType: t, Identifiers: ids}, nil
}

// Validate checks mappings as [New] does (and emrfs for the mappings it
// reads from configuration): role ARNs, identifier types, non-empty UTF-8
// identifiers and prefix buckets. Errors are [*MappingError]s.
func Validate(mappings []Mapping) error {
	for i, m := range mappings {
		if _, err := validate(i, m); err != nil {
			return err
		}
	}
	return nil
}
