package authz

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/emrs3/emrs3/authz/internal/location"
)

// Decision explains which credentials a request gets and why. It holds no
// secrets and can be written to an audit log.
type Decision struct {
	// Index is the position of the matching mapping, or -1 when none
	// matched (default credentials) or the custom provider answered.
	Index int
	// Role is the ARN of the mapped role; empty for -1.
	Role string
	// IdentifierType and Identifier are what matched.
	IdentifierType IdentifierType
	Identifier     string
	// Reason is a human-readable explanation.
	Reason string

	custom bool
}

// LogValue renders the decision for log/slog.
func (d Decision) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("index", d.Index),
		slog.String("role", d.Role),
		slog.String("identifierType", string(d.IdentifierType)),
		slog.String("identifier", d.Identifier),
		slog.String("reason", d.Reason),
	)
}

// compiled is a validated mapping ready for matching.
type compiled struct {
	Mapping
	prefixes []location.Prefix
}

func compile(mappings []Mapping) ([]compiled, error) {
	out := make([]compiled, len(mappings))
	for i, m := range mappings {
		v, err := validate(i, m)
		if err != nil {
			return nil, err
		}
		c := compiled{Mapping: v}
		if v.IdentifierType == Prefix {
			for _, id := range v.Identifiers {
				p, _ := location.ParsePrefix(id) // validated above
				c.prefixes = append(c.prefixes, p)
			}
		}
		out[i] = c
	}
	return out, nil
}

// evaluate walks the mappings top-down and returns the first match.
func evaluate(ctx context.Context, mappings []compiled, groups GroupResolver, id Identity, hasID bool, loc location.Location) (Decision, error) {
	resolved := id.Groups != nil
	for i := range mappings {
		m := &mappings[i]
		switch m.IdentifierType {
		case User:
			if !hasID || id.User == "" {
				continue
			}
			for _, u := range m.Identifiers {
				if u == id.User {
					return Decision{Index: i, Role: m.Role, IdentifierType: User, Identifier: u,
						Reason: fmt.Sprintf("user %q is named by mapping %d", id.User, i)}, nil
				}
			}
		case Group:
			if !hasID || (id.User == "" && id.Groups == nil) {
				continue
			}
			if !resolved {
				g, err := groups.Groups(ctx, id.User)
				if err != nil {
					return Decision{}, fmt.Errorf("authz: cannot evaluate group mapping %d: %w", i, err)
				}
				id.Groups, resolved = g, true
			}
			for _, want := range m.Identifiers {
				for _, g := range id.Groups {
					if g == want {
						return Decision{Index: i, Role: m.Role, IdentifierType: Group, Identifier: want,
							Reason: fmt.Sprintf("user %q is in group %q named by mapping %d", id.User, want, i)}, nil
					}
				}
			}
		case Prefix:
			for j, p := range m.prefixes {
				if p.Match(loc) {
					return Decision{Index: i, Role: m.Role, IdentifierType: Prefix, Identifier: m.Identifiers[j],
						Reason: fmt.Sprintf("location %s is under prefix %s of mapping %d", loc, p, i)}, nil
				}
			}
		}
	}
	return Decision{Index: -1, Reason: "no role mapping matches"}, nil
}
