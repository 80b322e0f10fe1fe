package authz

import (
	"context"
	"log/slog"
	"runtime"
	"time"
	"weak"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
)

// The session lengths STS AssumeRole accepts (DurationSeconds).
const (
	minDurationSeconds = 900
	maxDurationSeconds = 43200
)

type providerKey struct{ role, session string }

// provider returns the one cached credentials provider of (role, session),
// creating it on first use. At most Options.MaxSessions are kept; see
// there. A provider dropped to respect that bound while something still
// holds it (a request in flight, the source side of a copy) is found again
// through a weak pointer and reused, credentials and all: sessions in use
// are never duplicated, and cost no AssumeRole, whatever the bound.
func (r *Resolver) provider(role, sessionName string) *aws.CredentialsCache {
	k := providerKey{role, sessionName}
	now := r.now()
	if c, ok := r.providers.load(k, now); ok {
		return c
	}
	v, _, _ := r.creating.Do(role+"\x00"+sessionName, func() (any, error) {
		if c, ok := r.providers.load(k, now); ok {
			return c, nil
		}
		if c := r.revive(k); c != nil {
			return r.providers.loadOrStore(k, c, now), nil
		}
		c := aws.NewCredentialsCache(&assumeRole{role: role, p: stscreds.NewAssumeRoleProvider(r.client, role, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = sessionName
			o.Duration = r.opts.Duration
			if r.opts.ExternalID != "" {
				o.ExternalID = aws.String(r.opts.ExternalID)
			}
		})}, func(o *aws.CredentialsCacheOptions) {
			o.ExpiryWindow = r.opts.ExpiryWindow
		})
		return r.providers.loadOrStore(k, c, now), nil
	})
	return v.(*aws.CredentialsCache)
}

// evicted records a provider dropped from the cache for want of room: it
// stays reachable through a weak pointer for as long as anything else
// holds it, and the record goes when it is collected.
func (r *Resolver) evicted(k providerKey, c *aws.CredentialsCache, idle bool) {
	if idle {
		return // unused for a whole session length: its credentials have expired
	}
	wp := weak.Make(c)
	r.dropped.Store(k, wp)
	runtime.AddCleanup(c, func(k providerKey) { r.dropped.CompareAndDelete(k, wp) }, k)
	if r.pressureLogged.CompareAndSwap(false, true) {
		r.logger.LogAttrs(context.Background(), slog.LevelWarn,
			"authz: more role sessions are active than Options.MaxSessions allows; sessions still in use are kept and reused beyond the bound, "+
				"but each idle one dropped costs an AssumeRole when its user returns: raise MaxSessions above the number of active (role, user) pairs",
			slog.Int("maxSessions", r.opts.MaxSessions))
	}
}

// revive returns the dropped provider of k if something still holds it.
func (r *Resolver) revive(k providerKey) *aws.CredentialsCache {
	v, ok := r.dropped.Load(k)
	if !ok {
		return nil
	}
	wp := v.(weak.Pointer[aws.CredentialsCache])
	c := wp.Value()
	if c != nil {
		r.dropped.CompareAndDelete(k, wp)
	}
	return c
}

// assumeRole wraps the STS provider so that failures name the role and
// never yield credentials.
type assumeRole struct {
	role string
	p    *stscreds.AssumeRoleProvider
}

func (a *assumeRole) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := a.p.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, &AssumeRoleError{Role: a.role, Err: err}
	}
	if !c.HasKeys() {
		return aws.Credentials{}, &AssumeRoleError{Role: a.role, Err: errNoKeys}
	}
	if c.CanExpire && !c.Expires.After(time.Now()) {
		return aws.Credentials{}, &AssumeRoleError{Role: a.role, Err: errExpired}
	}
	return c, nil
}
