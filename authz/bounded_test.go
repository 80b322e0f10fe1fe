package authz

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable time source for the caches.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBoundedEvictsLeastRecentlyUsed(t *testing.T) {
	clk := newFakeClock()
	b := newBounded[int, string](10, time.Hour, clk.Now())
	for i := range 10 {
		b.loadOrStore(i, fmt.Sprint(i), clk.Now())
		clk.Add(2 * time.Second)
	}
	b.load(0, clk.Now()) // 0 is now the most recently used
	for i := 10; i < 30; i++ {
		clk.Add(2 * time.Second)
		b.loadOrStore(i, fmt.Sprint(i), clk.Now())
		if b.len() > 10 {
			t.Fatalf("%d entries after inserting %d, max 10", b.len(), i)
		}
	}
	if _, ok := b.load(29, clk.Now()); !ok {
		t.Error("the newest entry was dropped")
	}
	if _, ok := b.load(1, clk.Now()); ok {
		t.Error("an old unused entry survived")
	}
	// Entries idle for longer than idle go at the next insertion.
	clk.Add(2 * time.Hour)
	b.store(100, "x", clk.Now())
	if b.len() != 1 {
		t.Fatalf("%d entries after the idle period, want 1", b.len())
	}
}

func TestResolverBoundsSessions(t *testing.T) {
	clk := newFakeClock()
	f := &fakeSTS{}
	m := []Mapping{{Role: "arn:aws:iam::123456789101:role/r", IdentifierType: Prefix, Identifiers: []string{"s3://b/"}}}
	r := newResolver(t, f, m, func(o *Options) { o.MaxSessions = 5 })
	r.now = clk.Now
	resolve := func(u string) {
		t.Helper()
		if _, _, err := r.Resolve(asUser(u), "s3://b/k"); err != nil {
			t.Fatal(err)
		}
	}
	resolve("keep")
	for i := range 20 {
		clk.Add(2 * time.Second)
		resolve(fmt.Sprintf("user%d", i))
		resolve("keep") // stays recently used
		if n := r.providers.len(); n > 5 {
			t.Fatalf("%d cached providers, MaxSessions 5", n)
		}
	}
	if f.count() != 21 {
		t.Fatalf("%d STS calls; the recently used session should not be assumed again", f.count())
	}
	// Dropped and no longer held by anyone (once collected; an evicted
	// provider that something still holds is reused instead): assumed
	// again.
	runtime.GC()
	resolve("user0")
	if f.count() != 22 {
		t.Fatalf("%d STS calls after reusing a dropped session", f.count())
	}
	// Sessions unused for longer than Duration are dropped.
	clk.Add(DefaultDuration + time.Minute)
	resolve("late")
	if n := r.providers.len(); n != 1 {
		t.Fatalf("%d cached providers after every other session idled out", n)
	}
	if _, err := New(f, m, func(o *Options) { o.Default = defaultCreds; o.MaxSessions = -1 }); err == nil {
		t.Fatal("negative MaxSessions accepted")
	}
}

func TestCachedGroupsBounded(t *testing.T) {
	clk := newFakeClock()
	c := CachedGroups(staticGroups{}, time.Hour, func(o *GroupCacheOptions) { o.MaxUsers = 3 }).(*groupCache)
	c.now = clk.Now
	for i := range 10 {
		clk.Add(2 * time.Second)
		if _, err := c.Groups(context.Background(), fmt.Sprint("u", i)); err != nil {
			t.Fatal(err)
		}
		if n := c.entries.len(); n > 3 {
			t.Fatalf("%d cached users, MaxUsers 3", n)
		}
	}
}

// TestCachedGroupsCancelledCaller: one caller giving up does not fail the
// others waiting for the same lookup.
func TestCachedGroupsCancelledCaller(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	lookups := make(chan error, 2)
	c := CachedGroups(GroupResolverFunc(func(ctx context.Context, u string) ([]string, error) {
		started <- struct{}{}
		<-release
		if err := ctx.Err(); err != nil {
			lookups <- err
			return nil, fmt.Errorf("lookup cancelled: %w", err)
		}
		lookups <- nil
		return []string{"staff"}, nil
	}), time.Hour)
	first, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := c.Groups(first, "alice")
		firstErr <- err
	}()
	<-started
	second := make(chan error, 1)
	go func() {
		g, err := c.Groups(context.Background(), "alice")
		if err == nil && (len(g) != 1 || g[0] != "staff") {
			err = fmt.Errorf("groups %v", g)
		}
		second <- err
	}()
	cancel()
	select {
	case err := <-firstErr:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled caller: %v", err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("the cancelled caller still waits for the lookup")
	}
	close(release)
	if err := <-lookups; err != nil {
		t.Fatalf("the lookup started for the cancelled caller was cancelled with it: %v", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("the other caller failed with the first one: %v", err)
	}
}

func TestCachedGroupsLookupTimeout(t *testing.T) {
	c := CachedGroups(GroupResolverFunc(func(ctx context.Context, u string) ([]string, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}), time.Hour, func(o *GroupCacheOptions) { o.LookupTimeout = 10 * time.Millisecond })
	if _, err := c.Groups(context.Background(), "alice"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung lookup: %v", err)
	}
}
