package emrfs_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/emrs3/emrs3/authz"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// TestRoleMappingsConcurrentUsers sends 1000 requests from 50 goroutines on
// behalf of 5 users, each mapped to its own role that may touch only its own
// prefix, through one Client. Every request the S3 server received is checked
// to be signed by the role of the user whose prefix it touched: no request
// ever carries another user's credentials.
func TestRoleMappingsConcurrentUsers(t *testing.T) {
	const users, goroutines, perGoroutine = 5, 50, 20
	ctx := context.Background()
	st := emrfstest.Start(t)
	if _, err := s3.NewFromConfig(st.Config, st.S3Options).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("shared")}); err != nil {
		t.Fatal(err)
	}
	// The roles trust only the cluster user, which S3 itself refuses: a
	// request signed with its credentials instead of a role's would fail.
	clusterCfg := st.ConfigFor(st.AddUser(clusterUser))
	st.S3.Restrict(clusterARN)
	var mappings []authz.Mapping
	role := func(u int) string { return emrfstest.RoleARN(fmt.Sprintf("user%d-role", u)) }
	for u := range users {
		st.STS.CreateRole(role(u), clusterARN)
		st.S3.Grant(role(u), "shared", fmt.Sprintf("user%d/", u), true)
		mappings = append(mappings, authz.Mapping{Role: role(u), IdentifierType: authz.User, Identifiers: []string{fmt.Sprintf("user%d", u)}})
	}
	res, err := authz.New(sts.NewFromConfig(clusterCfg), mappings, func(o *authz.Options) { o.DenyUnmapped = true })
	if err != nil {
		t.Fatal(err)
	}
	c, err := emrfs.New(s3.NewFromConfig(clusterCfg, st.S3Options), emrfs.NewConfig(), emrfs.WithRoleMappings(res))
	if err != nil {
		t.Fatal(err)
	}
	st.S3.ResetRequests()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			u := g % users
			uctx := authz.WithIdentity(ctx, authz.Identity{User: fmt.Sprintf("user%d", u)})
			for i := range perGoroutine {
				uri := fmt.Sprintf("s3://shared/user%d/g%d/%d", u, g, i)
				var err error
				if i%2 == 0 {
					err = put(t, c, uctx, uri, []byte(uri))
				} else {
					_, err = c.Stat(uctx, fmt.Sprintf("s3://shared/user%d/g%d/%d", u, g, i-1))
				}
				if err != nil {
					errs <- fmt.Errorf("user%d %s: %w", u, uri, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	reqs := st.S3.Requests()
	if len(reqs) < goroutines*perGoroutine {
		t.Fatalf("server saw %d requests, want at least %d", len(reqs), goroutines*perGoroutine)
	}
	for _, r := range reqs {
		var u int
		if _, err := fmt.Sscanf(strings.TrimPrefix(r.Key, "user"), "%d/", &u); err != nil {
			t.Fatalf("unexpected request %s %s", r.Method, r.Key)
		}
		if r.Principal != role(u) || r.Status >= 300 {
			t.Fatalf("%s %s signed by %q (status %d), want %s", r.Method, r.Key, r.Principal, r.Status, role(u))
		}
	}
	// One AssumeRole per role, by the cluster user through the trust
	// table: the cache coalesced concurrent callers.
	calls := st.STS.Calls()
	if len(calls) != users {
		t.Fatalf("%d AssumeRole calls for %d roles", len(calls), users)
	}
	for _, call := range calls {
		if call.Action != "AssumeRole" || call.Err != "" || call.Principal != clusterARN {
			t.Fatalf("STS call %+v, want AssumeRole by %s", call, clusterARN)
		}
	}
}
