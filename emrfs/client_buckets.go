package emrfs

import (
	"fmt"
	"maps"
	"sync"
)

// bucketStates holds each bucket's settings, resolved once, on the first
// operation on the bucket (or in New for the buckets the configuration
// names), after Options.Bucket, and never changed: the Client's Config is
// its own copy, so a bucket always resolves the same way.
type bucketStates struct {
	mu sync.Mutex
	m  map[string]*bucketState
}

type bucketState struct {
	once sync.Once
	b    *Bucket // immutable; nil when err is set
	// byHook says Options.Bucket changed the CSE settings (for New's check).
	byHook bool
	err    error
}

// bucket returns the settings of the named bucket, resolving them on first
// use. The *Bucket is shared: callers must not modify it.
func (c *Client) bucket(name string) (*Bucket, bool, error) {
	if !bucketNameRE.MatchString(name) {
		// Not cached: any string could be asked for.
		_, err := c.cfg.Bucket(name)
		return nil, false, err
	}
	c.buckets.mu.Lock()
	st := c.buckets.m[name]
	if st == nil {
		if c.buckets.m == nil {
			c.buckets.m = map[string]*bucketState{}
		}
		st = &bucketState{}
		c.buckets.m[name] = st
	}
	c.buckets.mu.Unlock()
	st.once.Do(func() { st.b, st.byHook, st.err = c.resolveBucket(name) })
	return st.b, st.byHook, st.err
}

// resolveBucket resolves the named bucket's settings from the Config and
// Options.Bucket.
func (c *Client) resolveBucket(name string) (*Bucket, bool, error) {
	c.resolved.Add(1)
	b, err := c.cfg.Bucket(name)
	if err != nil {
		return nil, false, err
	}
	fromConfig := b.CSE
	if c.opts.Bucket != nil {
		c.opts.Bucket(b)
		if b.SSE != nil && b.CSE != nil {
			return nil, true, fmt.Errorf("emrfs: Options.Bucket left both SSE (%s) and CSE (%s) set for bucket %s; they are mutually exclusive: set one of them to nil", b.SSE, b.CSE, name)
		}
	}
	return b.clone(), b.CSE != fromConfig, nil
}

// clone returns a deep copy of b, so that a hook that kept b cannot change
// the settings in use.
func (b *Bucket) clone() *Bucket {
	out := &Bucket{Name: b.Name}
	if b.SSE != nil {
		s := *b.SSE
		s.Context = maps.Clone(s.Context)
		if s.BucketKey != nil {
			v := *s.BucketKey
			s.BucketKey = &v
		}
		out.SSE = &s
	}
	if b.CSE != nil {
		s := *b.CSE
		s.EncryptionContext = maps.Clone(s.EncryptionContext)
		s.MaterialsDescription = maps.Clone(s.MaterialsDescription)
		out.CSE = &s
	}
	return out
}
