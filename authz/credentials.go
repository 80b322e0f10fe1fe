package authz

import (
	"context"
	"time"

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
// there.
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
