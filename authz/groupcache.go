package authz

import (
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/singleflight"
)

// DefaultGroupCacheTTL is how long the default group resolver keeps a user's
// groups, like Hadoop's hadoop.security.groups.cache.secs (300).
const DefaultGroupCacheTTL = 5 * time.Minute

// Defaults of GroupCacheOptions.
const (
	// DefaultGroupCacheSize is how many users' groups a cache keeps.
	DefaultGroupCacheSize = 10000
	// DefaultGroupLookupTimeout bounds one lookup of the wrapped resolver.
	DefaultGroupLookupTimeout = 30 * time.Second
)

// GroupCacheOptions configure [CachedGroups].
type GroupCacheOptions struct {
	// MaxUsers bounds the cached users; zero means DefaultGroupCacheSize.
	// Expired entries are dropped first, then the least recently used.
	MaxUsers int
	// LookupTimeout bounds each lookup of the wrapped resolver; zero means
	// DefaultGroupLookupTimeout.
	LookupTimeout time.Duration
}

// CachedGroups returns a GroupResolver that remembers the answers of r for
// ttl. Errors are not cached, and concurrent lookups of one user are
// coalesced into one, which runs detached from the callers' cancellation
// (with the values of the first caller's context and LookupTimeout): a
// caller whose context ends gets its context's error at once, while the
// lookup goes on for the others. The returned slices must not be modified.
func CachedGroups(r GroupResolver, ttl time.Duration, optFns ...func(*GroupCacheOptions)) GroupResolver {
	var o GroupCacheOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.MaxUsers <= 0 {
		o.MaxUsers = DefaultGroupCacheSize
	}
	if o.LookupTimeout <= 0 {
		o.LookupTimeout = DefaultGroupLookupTimeout
	}
	return &groupCache{r: r, ttl: ttl, timeout: o.LookupTimeout, now: time.Now,
		entries: newBounded[string, groupEntry](o.MaxUsers, ttl, time.Now())}
}

type groupCache struct {
	r       GroupResolver
	ttl     time.Duration
	timeout time.Duration
	entries *bounded[string, groupEntry]
	sf      singleflight.Group
	now     func() time.Time
}

type groupEntry struct {
	groups  []string
	expires time.Time
}

func (c *groupCache) Groups(ctx context.Context, user string) ([]string, error) {
	if e, ok := c.entries.load(user, c.now()); ok && c.now().Before(e.expires) {
		return e.groups, nil
	}
	ch := c.sf.DoChan(user, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		g, err := c.r.Groups(lctx, user)
		if err != nil {
			return nil, err
		}
		g = slices.Clone(g)
		if g == nil {
			g = []string{}
		}
		now := c.now()
		c.entries.store(user, groupEntry{groups: g, expires: now.Add(c.ttl)}, now)
		return g, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.([]string), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("authz: groups of %q: %w", user, context.Cause(ctx))
	}
}
