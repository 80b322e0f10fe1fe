package authz

import (
	"context"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// DefaultGroupCacheTTL is how long the default group resolver keeps a user's
// groups, like Hadoop's hadoop.security.groups.cache.secs (300).
const DefaultGroupCacheTTL = 5 * time.Minute

// CachedGroups returns a GroupResolver that remembers the answers of r for
// ttl. Errors are not cached, and concurrent lookups of one user are
// coalesced. The returned slices must not be modified.
func CachedGroups(r GroupResolver, ttl time.Duration) GroupResolver {
	return &groupCache{r: r, ttl: ttl}
}

type groupCache struct {
	r       GroupResolver
	ttl     time.Duration
	entries sync.Map // user -> groupEntry
	sf      singleflight.Group
}

type groupEntry struct {
	groups  []string
	expires time.Time
}

func (c *groupCache) Groups(ctx context.Context, user string) ([]string, error) {
	if v, ok := c.entries.Load(user); ok {
		if e := v.(groupEntry); time.Now().Before(e.expires) {
			return e.groups, nil
		}
	}
	v, err, _ := c.sf.Do(user, func() (any, error) {
		g, err := c.r.Groups(ctx, user)
		if err != nil {
			return nil, err
		}
		g = slices.Clone(g)
		if g == nil {
			g = []string{}
		}
		c.entries.Store(user, groupEntry{groups: g, expires: time.Now().Add(c.ttl)})
		return g, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]string), nil
}
