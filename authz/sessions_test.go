package authz_test

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/emrs3/emrs3/authz"
)

func assumeRoleCalls(rs *rolesStack) int {
	n := 0
	for _, c := range rs.st.STS.Calls() {
		if c.Action == "AssumeRole" {
			n++
		}
	}
	return n
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMaxSessionsBelowActiveSessions: with MaxSessions far below the
// sessions in use, requests of users whose sessions are in flight reuse
// them (one AssumeRole per session, not one per request), the two sides of
// a same-role copy get the same provider (so the copy stays server-side),
// and the pressure is logged once, at Warn.
func TestMaxSessionsBelowActiveSessions(t *testing.T) {
	const users = 12
	rs := newRolesStack(t, users)
	var logs syncBuffer
	r := rs.resolver(t, func(o *authz.Options) {
		o.MaxSessions = 2
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})

	// Every user has a request in flight, holding its provider...
	held := make([]aws.CredentialsProvider, users)
	var wg sync.WaitGroup
	for i, u := range rs.users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, p, err := r.Resolve(authz.WithIdentity(context.Background(), authz.Identity{User: u}), "s3a://data/"+u+"/a")
			if err != nil {
				t.Error(err)
			}
			held[i] = p
		}()
	}
	wg.Wait()
	if got := assumeRoleCalls(rs); got != users {
		t.Fatalf("%d AssumeRole calls for %d sessions", got, users)
	}
	// ...and makes more requests, and same-role copies, concurrently.
	for round := range 5 {
		for i, u := range rs.users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx := authz.WithIdentity(context.Background(), authz.Identity{User: u})
				_, p, err := r.Resolve(ctx, "s3a://data/"+u+"/b")
				if err != nil {
					t.Error(err)
					return
				}
				if p != held[i] {
					t.Errorf("round %d: %s got a new provider while its session was in use", round, u)
				}
				pair, err := r.ResolvePair(ctx, "s3a://data/"+u+"/src", "s3a://data/"+u+"/dst")
				if err != nil {
					t.Error(err)
					return
				}
				if !pair.SameRole || pair.Src.Credentials != pair.Dst.Credentials {
					t.Errorf("round %d: %s: a same-role copy got two providers (it would be streamed)", round, u)
				}
			}()
		}
		wg.Wait()
	}
	if got := assumeRoleCalls(rs); got != users {
		t.Errorf("%d AssumeRole calls for %d sessions in use over %d requests, want %d", got, users, users*16, users)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "raise MaxSessions") {
		t.Errorf("the MaxSessions pressure was logged %d times, want once at Warn:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "authz: decision") {
		t.Errorf("per-request decisions logged at Info by default:\n%s", logs.String())
	}
	runtime.KeepAlive(held)
}
