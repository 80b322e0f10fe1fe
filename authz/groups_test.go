package authz

import (
	"context"
	"errors"
	"os/user"
	"sync/atomic"
	"testing"
	"time"
)

func TestOSGroupsOfCurrentUser(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Skip("no current user:", err)
	}
	g, err := OSGroups{}.Groups(context.Background(), me.Username)
	if err != nil {
		t.Fatal(err)
	}
	primary, err := user.LookupGroupId(me.Gid)
	if err != nil {
		t.Skip("primary group unknown:", err)
	}
	found := false
	for _, name := range g {
		found = found || name == primary.Name
	}
	if !found {
		t.Fatalf("groups %v of %s lack the primary group %s", g, me.Username, primary.Name)
	}
	if _, err := (OSGroups{}).Groups(context.Background(), "no-such-user-emrs3"); err == nil {
		t.Fatal("unknown user resolved")
	}
}

func TestCachedGroups(t *testing.T) {
	var calls atomic.Int32
	fail := errors.New("ldap down")
	var failing atomic.Bool
	clk := newFakeClock()
	c := CachedGroups(GroupResolverFunc(func(_ context.Context, u string) ([]string, error) {
		calls.Add(1)
		if failing.Load() {
			return nil, fail
		}
		return []string{u + "-group"}, nil
	}), 100*time.Millisecond)
	c.(*groupCache).now = clk.Now
	ctx := context.Background()
	failing.Store(true)
	if _, err := c.Groups(ctx, "a"); !errors.Is(err, fail) {
		t.Fatalf("error not passed on: %v", err)
	}
	failing.Store(false)
	for range 3 {
		if g, err := c.Groups(ctx, "a"); err != nil || len(g) != 1 || g[0] != "a-group" {
			t.Fatalf("%v %v", g, err)
		}
	}
	if calls.Load() != 2 {
		t.Fatalf("%d lookups, want 2 (errors are not cached, answers are)", calls.Load())
	}
	clk.Add(99 * time.Millisecond)
	if _, err := c.Groups(ctx, "a"); err != nil || calls.Load() != 2 {
		t.Fatalf("entry dropped before its ttl: %d lookups, %v", calls.Load(), err)
	}
	clk.Add(2 * time.Millisecond)
	if _, err := c.Groups(ctx, "a"); err != nil || calls.Load() != 3 {
		t.Fatalf("expired entry not refreshed: %d lookups, %v", calls.Load(), err)
	}
}

func TestEvaluateOrderGroupBeforeUser(t *testing.T) {
	m := []Mapping{
		{Role: "arn:aws:iam::123456789101:role/g", IdentifierType: Group, Identifiers: []string{"admins"}},
		{Role: "arn:aws:iam::123456789101:role/u", IdentifierType: User, Identifiers: []string{"alice"}},
	}
	r := newResolver(t, &fakeSTS{}, m, func(o *Options) { o.Groups = staticGroups{"alice": {"admins"}} })
	d, _, err := r.Resolve(asUser("alice"), "s3://b/k")
	if err != nil || d.Index != 0 || d.Role != m[0].Role {
		t.Fatalf("got %+v, %v; want the group mapping listed first", d, err)
	}
	d, _, err = r.Resolve(WithIdentity(context.Background(), Identity{User: "alice", Groups: []string{}}), "s3://b/k")
	if err != nil || d.Index != 1 {
		t.Fatalf("got %+v, %v; want the user mapping", d, err)
	}
}
