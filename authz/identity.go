package authz

import (
	"context"
	"fmt"
	"os/user"
)

// Identity is who a request is made for: a user and, optionally, the user's
// groups.
type Identity struct {
	// User is the user name (a Hadoop user, Linux account or Kerberos
	// principal).
	User string
	// Groups are the user's groups. When nil, the resolver's GroupResolver
	// is asked, and only if a Group mapping is reached; a non-nil empty
	// slice means "no groups".
	Groups []string
}

type identityKey struct{}

// WithIdentity returns a copy of ctx that carries id. Every request made
// with the returned context is resolved for id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity carried by ctx, if any.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// GroupResolver returns the groups of a user.
type GroupResolver interface {
	Groups(ctx context.Context, user string) ([]string, error)
}

// GroupResolverFunc adapts a function to [GroupResolver].
type GroupResolverFunc func(ctx context.Context, user string) ([]string, error)

// Groups calls f.
func (f GroupResolverFunc) Groups(ctx context.Context, user string) ([]string, error) {
	return f(ctx, user)
}

// OSGroups resolves the groups of a local operating-system account (os/user),
// which is what EMRFS sees for Linux users on a cluster. It does not cache.
// A user that is not an OS account of this host (a Kerberos principal such
// as alice@EXAMPLE.COM, a service user known only to the application) is
// an error, so its requests that reach a Group mapping fail closed: give
// such users' groups in Identity.Groups, or use another GroupResolver.
type OSGroups struct{}

var _ GroupResolver = OSGroups{}

// Groups returns the names of the groups of the OS account named user.
func (OSGroups) Groups(_ context.Context, name string) ([]string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("authz: groups of %q: %w", name, err)
	}
	gids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("authz: groups of %q: %w", name, err)
	}
	out := make([]string, 0, len(gids))
	for _, gid := range gids {
		g, err := user.LookupGroupId(gid)
		if err != nil {
			return nil, fmt.Errorf("authz: groups of %q: group id %s: %w", name, gid, err)
		}
		out = append(out, g.Name)
	}
	return out, nil
}
