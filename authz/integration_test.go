package authz_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/emrs3/emrs3/authz"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// rolesStack is the emulator set up like a shared EMR cluster: the cluster's
// own principal (the instance profile) may assume one role per user, each
// allowed only under its user's prefix of bucket "data", plus a role for
// the "admins" group allowed only under "admin/"; the cluster principal
// itself may touch only "nobody/".
type rolesStack struct {
	st         *emrfstest.Stack
	clusterARN string
	cluster    aws.CredentialsProvider
	stsClient  *sts.Client
	s3c        *s3.Client
	users      []string
	mappings   []authz.Mapping
}

func userRole(u string) string { return emrfstest.RoleARN("r-" + u) }

var adminsRole = emrfstest.RoleARN("admins")

func newRolesStack(t *testing.T, nUsers int) *rolesStack {
	t.Helper()
	st := emrfstest.Start(t)
	rs := &rolesStack{st: st, clusterARN: emrfstest.UserARN("emr-ec2")}
	creds := st.AddUser("emr-ec2")
	rs.cluster = credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")
	rs.stsClient = sts.NewFromConfig(st.ConfigFor(creds))
	rs.s3c = s3.NewFromConfig(st.Config, st.S3Options)
	if _, err := rs.s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	for i := range nUsers {
		u := fmt.Sprintf("user%02d", i)
		rs.users = append(rs.users, u)
		st.STS.CreateRole(userRole(u), rs.clusterARN)
		st.S3.Grant(userRole(u), "data", u+"/", true)
		rs.mappings = append(rs.mappings, authz.Mapping{Role: userRole(u), IdentifierType: authz.User, Identifiers: []string{u}})
	}
	st.STS.CreateRole(adminsRole, rs.clusterARN)
	st.S3.Grant(adminsRole, "data", "admin/", true)
	// The cluster's own credentials reach only "nobody/", where unmapped
	// users write: anything else signed with them is refused.
	st.S3.Restrict(rs.clusterARN)
	st.S3.Grant(rs.clusterARN, "data", "nobody/", true)
	rs.mappings = append(rs.mappings, authz.Mapping{Role: adminsRole, IdentifierType: authz.Group, Identifiers: []string{"admins"}})
	return rs
}

func (rs *rolesStack) resolver(t *testing.T, optFns ...func(*authz.Options)) *authz.Resolver {
	t.Helper()
	fns := append([]func(*authz.Options){func(o *authz.Options) {
		o.Default = rs.cluster
		o.Groups = authz.GroupResolverFunc(func(_ context.Context, u string) ([]string, error) {
			if u == "boss" {
				return []string{"staff", "admins"}, nil
			}
			return []string{"staff"}, nil
		})
	}}, optFns...)
	r, err := authz.New(rs.stsClient, rs.mappings, fns...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// put resolves the credentials for key in bucket "data" and writes it with
// them.
func (rs *rolesStack) put(ctx context.Context, r *authz.Resolver, key string) (authz.Decision, error) {
	d, p, err := r.Resolve(ctx, "s3a://data/"+key)
	if err != nil {
		return d, err
	}
	_, err = rs.s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(key), Body: strings.NewReader(key)},
		func(o *s3.Options) { o.Credentials = p })
	return d, err
}

func TestIntegrationEveryRequestSignedByItsOwnRole(t *testing.T) {
	rs := newRolesStack(t, 10)
	r := rs.resolver(t)
	users := append(slices.Clone(rs.users), "boss", "nobody")
	expected := func(u string) (role, prefix string) {
		switch u {
		case "boss":
			return adminsRole, "admin/"
		case "nobody":
			return rs.clusterARN, "nobody/"
		}
		return userRole(u), u + "/"
	}

	const goroutines, perGoroutine = 50, 20
	want := make(map[string]string, goroutines*perGoroutine) // key -> principal
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perGoroutine {
				n := g*perGoroutine + j
				u := users[n%len(users)]
				role, prefix := expected(u)
				key := fmt.Sprintf("%sobj-%04d", prefix, n)
				ctx := authz.WithIdentity(context.Background(), authz.Identity{User: u})
				d, err := rs.put(ctx, r, key)
				if err != nil {
					errs <- fmt.Errorf("%s put %s: %w", u, key, err)
					return
				}
				if d.Role != "" && d.Role != role {
					errs <- fmt.Errorf("%s resolved to %s, want %s", u, d.Role, role)
					return
				}
				mu.Lock()
				want[key] = role
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Server side: every PUT carried its own user's role.
	seen := 0
	for _, req := range rs.st.S3.Requests() {
		role, ok := want[req.Key]
		if req.Method != "PUT" || req.Bucket != "data" || !ok {
			continue
		}
		seen++
		if req.Principal != role || req.Status != 200 {
			t.Errorf("PUT %s signed by %q (status %d), want %s", req.Key, req.Principal, req.Status, role)
		}
	}
	if seen != goroutines*perGoroutine {
		t.Fatalf("server saw %d of %d PUTs", seen, goroutines*perGoroutine)
	}

	// One AssumeRole per (role, user), by the cluster principal, with the
	// user as session name.
	assumed := map[string]bool{}
	for _, c := range rs.st.STS.Calls() {
		if c.Action != "AssumeRole" {
			continue
		}
		if c.Err != "" || c.Principal != rs.clusterARN {
			t.Errorf("STS call %+v", c)
		}
		if role, _ := expected(c.RoleSessionName); role != c.RoleARN {
			t.Errorf("session %s assumed %s", c.RoleSessionName, c.RoleARN)
		}
		if assumed[c.RoleSessionName] {
			t.Errorf("role assumed twice for %s", c.RoleSessionName)
		}
		assumed[c.RoleSessionName] = true
	}
	if len(assumed) != len(users)-1 { // "nobody" uses the cluster's credentials
		t.Errorf("%d sessions assumed, want %d", len(assumed), len(users)-1)
	}
}

func TestIntegrationRolePermissions(t *testing.T) {
	rs := newRolesStack(t, 2)
	r := rs.resolver(t)
	ctx := context.Background()
	if _, err := rs.put(authz.WithIdentity(ctx, authz.Identity{User: "boss"}), r, "admin/secret"); err != nil {
		t.Fatal(err)
	}
	user1 := authz.WithIdentity(ctx, authz.Identity{User: "user01"})
	if _, err := rs.put(user1, r, "user01/mine"); err != nil {
		t.Fatalf("user01 cannot write its own prefix: %v", err)
	}
	_, p, err := r.Resolve(user1, "s3://data/user01/mine")
	if err != nil {
		t.Fatal(err)
	}
	get := func(key string) error {
		out, err := rs.s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String(key)},
			func(o *s3.Options) { o.Credentials = p })
		if err == nil {
			var b bytes.Buffer
			_, err = b.ReadFrom(out.Body)
			out.Body.Close()
		}
		return err
	}
	if err := get("user01/mine"); err != nil {
		t.Fatalf("user01 cannot read s3://data/user01/: %v", err)
	}
	var ae smithy.APIError
	if err := get("admin/secret"); !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("user01 reading s3://data/admin/: %v, want AccessDenied", err)
	}
	if _, err := rs.put(user1, r, "user00/theirs"); !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("user01 writing s3://data/user00/: %v, want AccessDenied", err)
	}
}

func TestIntegrationSTSFailureSendsNothing(t *testing.T) {
	rs := newRolesStack(t, 1)
	r := rs.resolver(t)
	before := len(rs.st.S3.Requests())
	rs.st.STS.FailNext(1)
	ctx := authz.WithIdentity(context.Background(), authz.Identity{User: "user00"})
	_, err := rs.put(ctx, r, "user00/x")
	var are *authz.AssumeRoleError
	if !errors.As(err, &are) || are.Role != userRole("user00") || !strings.Contains(err.Error(), userRole("user00")) {
		t.Fatalf("got %v, want an AssumeRoleError naming %s", err, userRole("user00"))
	}
	if n := len(rs.st.S3.Requests()); n != before {
		t.Fatalf("%d S3 requests sent after STS failed", n-before)
	}
	// Untrusted principal: the trust table refuses, the request fails.
	rs.st.STS.CreateRole(emrfstest.RoleARN("locked"), emrfstest.UserARN("someone-else"))
	r2, err := authz.New(rs.stsClient, []authz.Mapping{{Role: emrfstest.RoleARN("locked"), IdentifierType: authz.Prefix, Identifiers: []string{"s3://data/locked/"}}},
		func(o *authz.Options) { o.Default = rs.cluster })
	if err != nil {
		t.Fatal(err)
	}
	if _, p, err := r2.Resolve(ctx, "s3://data/locked/x"); p != nil || !errors.As(err, &are) || are.Role != emrfstest.RoleARN("locked") {
		t.Fatalf("untrusted role: %v, %v", p, err)
	}
	if n := len(rs.st.S3.Requests()); n != before {
		t.Fatalf("%d S3 requests sent after STS refused", n-before)
	}
}

// TestIntegrationRefreshBeforeExpiry: the STS emulator issues credentials
// valid for 5 minutes. With a 1-minute expiry window they are reused; with
// a 7-minute one they are inside the window at once, so every retrieval
// assumes the role again while the old credentials are still valid, and
// the requests signed with the new ones succeed. (The SDK's credentials
// cache reads the real clock; this avoids waiting for the window.)
func TestIntegrationRefreshBeforeExpiry(t *testing.T) {
	rs := newRolesStack(t, 1)
	rs.st.STS.SetDuration(5 * time.Minute)
	ctx := authz.WithIdentity(context.Background(), authz.Identity{User: "user00"})
	assumed := func() []string {
		var keys []string
		for _, c := range rs.st.STS.Calls() {
			if c.Action == "AssumeRole" && c.Err == "" {
				keys = append(keys, c.AccessKeyID)
			}
		}
		return keys
	}

	r := rs.resolver(t, func(o *authz.Options) { o.ExpiryWindow = time.Minute })
	for _, k := range []string{"user00/a", "user00/b"} {
		if _, err := rs.put(ctx, r, k); err != nil {
			t.Fatal(err)
		}
	}
	if keys := assumed(); len(keys) != 1 {
		t.Fatalf("AssumeRole issued %v outside the expiry window; want one, reused", keys)
	}

	r = rs.resolver(t, func(o *authz.Options) { o.ExpiryWindow = 7 * time.Minute })
	for _, k := range []string{"user00/c", "user00/d"} {
		if _, err := rs.put(ctx, r, k); err != nil {
			t.Fatal(err)
		}
	}
	keys := assumed()
	if len(keys) < 3 || len(slices.Compact(slices.Sorted(slices.Values(keys)))) != len(keys) {
		t.Fatalf("AssumeRole issued %v; want fresh keys for credentials inside the expiry window", keys)
	}
	signed := 0
	for _, req := range rs.st.S3.Requests() {
		if strings.HasPrefix(req.Key, "user00/") {
			signed++
			if req.Principal != userRole("user00") || req.Status != 200 {
				t.Fatalf("request %+v", req)
			}
		}
	}
	if signed != 4 {
		t.Fatalf("%d requests, want 4", signed)
	}
}

func TestIntegrationExternalID(t *testing.T) {
	rs := newRolesStack(t, 1)
	rs.st.STS.RequireExternalID(userRole("user00"), "cluster-ext-1")
	ctx := authz.WithIdentity(context.Background(), authz.Identity{User: "user00"})
	var are *authz.AssumeRoleError
	if _, err := rs.put(ctx, rs.resolver(t), "user00/x"); !errors.As(err, &are) {
		t.Fatalf("without ExternalID: %v, want an AssumeRoleError", err)
	}
	r := rs.resolver(t, func(o *authz.Options) { o.ExternalID = "cluster-ext-1" })
	if _, err := rs.put(ctx, r, "user00/x"); err != nil {
		t.Fatalf("with ExternalID: %v", err)
	}
	calls := rs.st.STS.Calls()
	if last := calls[len(calls)-1]; last.ExternalID != "cluster-ext-1" || last.Err != "" {
		t.Fatalf("AssumeRole %+v", last)
	}
}
