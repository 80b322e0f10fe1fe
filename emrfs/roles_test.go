package emrfs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/emrs3/emrs3/authz"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

const (
	roleUser1  = "arn:aws:iam::111122223333:role/user1-data"
	roleShared = "arn:aws:iam::111122223333:role/shared-data"
)

// clusterUser is the stack's stand-in for the cluster's instance profile:
// it may assume the mapped roles but is itself refused by S3 and KMS, so a
// request that fell back to its credentials would fail with AccessDenied.
const clusterUser = "emr-ec2"

var clusterARN = emrfstest.UserARN(clusterUser)

// roleStack is a stack where two roles may each touch one prefix of bucket
// "data" and use one KMS key, and a client whose requests are signed per
// role mappings. The roles trust only the cluster user, whose credentials
// the client's S3, KMS and STS clients carry.
func roleStack(t *testing.T) (*emrfstest.Stack, *emrfs.Client) {
	t.Helper()
	st, c, _ := roleStackCluster(t)
	return st, c
}

// roleStackCluster is roleStack that also returns the cluster user's
// aws.Config.
func roleStackCluster(t *testing.T) (*emrfstest.Stack, *emrfs.Client, aws.Config) {
	t.Helper()
	ctx := context.Background()
	st := emrfstest.Start(t)
	admin := s3.NewFromConfig(st.Config, st.S3Options)
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	clusterCfg := st.ConfigFor(st.AddUser(clusterUser))
	st.S3.Restrict(clusterARN)
	st.STS.CreateRole(roleUser1, clusterARN)
	st.STS.CreateRole(roleShared, clusterARN)
	st.S3.Grant(roleUser1, "data", "user1/", true)
	st.S3.Grant(roleShared, "data", "shared/", true)
	keyID := st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault, roleUser1, roleShared)

	mappings := []authz.Mapping{
		{Role: roleUser1, IdentifierType: authz.Prefix, Identifiers: []string{"s3://data/user1/"}},
		{Role: roleShared, IdentifierType: authz.Prefix, Identifiers: []string{"s3a://data/shared/*"}},
	}
	res, err := authz.New(sts.NewFromConfig(clusterCfg), mappings, func(o *authz.Options) { o.DenyUnmapped = true })
	if err != nil {
		t.Fatal(err)
	}
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", keyID)
	cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
	c, err := emrfs.New(s3.NewFromConfig(clusterCfg, st.S3Options), cfg, emrfs.WithRoleMappings(res), func(o *emrfs.Options) {
		o.KMS = kms.NewFromConfig(clusterCfg)
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, c, clusterCfg
}

// TestRoleStackRefusesClusterCredentials: without role mappings the same
// client is refused by S3, so the principal checks of the other tests are
// backed by the server's own refusal of a fallback.
func TestRoleStackRefusesClusterCredentials(t *testing.T) {
	st, _, clusterCfg := roleStackCluster(t)
	clusterOnly, err := emrfs.New(s3.NewFromConfig(clusterCfg, st.S3Options), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = put(t, clusterOnly, context.Background(), "s3://data/user1/direct", []byte("x"))
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("cluster credentials writing data/user1/: %v, want AccessDenied", err)
	}
}

func put(t *testing.T, c *emrfs.Client, ctx context.Context, uri string, data []byte) error {
	t.Helper()
	w, err := c.Create(ctx, uri)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

func read(c *emrfs.Client, ctx context.Context, uri string) ([]byte, error) {
	f, err := c.Open(ctx, uri)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// TestRoleMappingsSignEveryRequest proves, from the emulators' own records,
// that every S3 and KMS request of a CSE write and read is signed by the role
// mapped to its location.
func TestRoleMappingsSignEveryRequest(t *testing.T) {
	st, c := roleStack(t)
	ctx := authz.WithIdentity(context.Background(), authz.Identity{User: "user1"})
	data := bytes.Repeat([]byte("role-mapped "), 1000)
	nS3, nKMS := len(st.S3.Requests()), len(st.KMS.Audit())
	if err := put(t, c, ctx, "s3://data/user1/a.txt", data); err != nil {
		t.Fatal(err)
	}
	got, err := read(c, ctx, "s3://data/user1/a.txt")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %v", err)
	}
	s3reqs := st.S3.Requests()[nS3:]
	kmsCalls := st.KMS.Audit()[nKMS:]
	if len(s3reqs) == 0 || len(kmsCalls) < 2 {
		t.Fatalf("expected S3 and KMS traffic, got %d S3 requests, %d KMS calls", len(s3reqs), len(kmsCalls))
	}
	for _, r := range s3reqs {
		if r.Principal != roleUser1 {
			t.Fatalf("%s %s/%s signed by %q, want %s", r.Method, r.Bucket, r.Key, r.Principal, roleUser1)
		}
	}
	for _, k := range kmsCalls {
		if k.Principal != roleUser1 || k.Err != "" {
			t.Fatalf("KMS %s by %q (err %q), want %s", k.Operation, k.Principal, k.Err, roleUser1)
		}
	}

	// The same role is refused elsewhere by the server, and an unmapped
	// location is refused by the resolver before any request is sent.
	if err := put(t, c, ctx, "s3://data/admin/x", data); !errors.Is(err, authz.ErrAccessDenied) {
		t.Fatalf("unmapped location: got %v, want authz.ErrAccessDenied", err)
	}
}

// TestRoleMappingsCopyAcrossRoles copies between locations mapped to
// different roles: the data streams through the client, read with one role
// and written with the other.
func TestRoleMappingsCopyAcrossRoles(t *testing.T) {
	st, c := roleStack(t)
	ctx := context.Background()
	data := bytes.Repeat([]byte{7}, 100_000)
	if err := put(t, c, ctx, "s3://data/user1/src.bin", data); err != nil {
		t.Fatal(err)
	}
	n := len(st.S3.Requests())
	if err := c.Copy(ctx, "s3://data/user1/src.bin", "s3://data/shared/dst.bin"); err != nil {
		t.Fatal(err)
	}
	var sawGet, sawPut bool
	for _, r := range st.S3.Requests()[n:] {
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			t.Fatalf("server-side copy signed by %s: one role cannot read and write both locations", r.Principal)
		}
		switch {
		case r.Method == "GET" && r.Key == "user1/src.bin":
			sawGet = r.Principal == roleUser1
		case r.Method == "PUT" && r.Key == "shared/dst.bin":
			sawPut = r.Principal == roleShared
		}
	}
	if !sawGet || !sawPut {
		t.Fatalf("copy did not read with %s and write with %s", roleUser1, roleShared)
	}
	got, err := read(c, ctx, "s3://data/shared/dst.bin")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("copied object: %v", err)
	}
}

// TestRoleMappingsFailClosed: when the mapped role cannot be assumed the
// operation fails naming the role, and no S3 request is sent.
func TestRoleMappingsFailClosed(t *testing.T) {
	st, c := roleStack(t)
	st.STS.FailNext(10)
	n := len(st.S3.Requests())
	_, err := read(c, context.Background(), "s3://data/shared/none")
	var are *authz.AssumeRoleError
	if !errors.As(err, &are) || are.Role != roleShared {
		t.Fatalf("got %v, want an *authz.AssumeRoleError for %s", err, roleShared)
	}
	if reqs := st.S3.Requests()[n:]; len(reqs) != 0 {
		t.Fatalf("%d S3 requests sent although the role could not be assumed (first by %q)", len(reqs), reqs[0].Principal)
	}
}

// stsProxy is an STS endpoint apart from the stack's S3 one: it forwards
// requests signed for STS to the stack and refuses every other, recording
// the service of each request it receives.
type stsProxy struct {
	URL string

	mu       sync.Mutex
	services []string
}

func newSTSProxy(t *testing.T, st *emrfstest.Stack) *stsProxy {
	t.Helper()
	target, err := url.Parse(st.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := &stsProxy{}
	fwd := httputil.NewSingleHostReverseProxy(target) // keeps the signed Host header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		svc := signedService(r.Header.Get("Authorization"))
		p.mu.Lock()
		p.services = append(p.services, svc)
		p.mu.Unlock()
		if svc != "sts" {
			http.Error(w, "this endpoint serves STS only", http.StatusBadRequest)
			return
		}
		fwd.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// signedService returns the service of a SigV4 Authorization header's
// credential scope.
func signedService(auth string) string {
	_, cred, _ := strings.Cut(auth, "Credential=")
	cred, _, _ = strings.Cut(cred, ",")
	if parts := strings.Split(cred, "/"); len(parts) == 5 {
		return parts[3]
	}
	return ""
}

func (p *stsProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.services)
}

// TestNewWithRoleMappingsFromConfig configures role mappings, the STS
// endpoint and the session length through emrfs-site properties only, and
// proves that roles are assumed through that endpoint (not the S3 one),
// with the configured duration, and that requests are signed by the
// mapped role.
func TestNewWithRoleMappingsFromConfig(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	if _, err := s3.NewFromConfig(st.Config, st.S3Options).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	clusterARN := emrfstest.UserARN("emr-ec2")
	awsCfg := st.ConfigFor(st.AddUser("emr-ec2"))
	st.STS.CreateRole(roleUser1, clusterARN)
	st.S3.Grant(roleUser1, "data", "user1/", true)
	proxy := newSTSProxy(t, st)

	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.authorization.roleMapping", roleUser1+"=u:user1")
	cfg.Set("fs.s3.sts.endpoint", proxy.URL)
	cfg.Set("fs.s3.sts.sessionDurationSeconds", "1800")
	c, err := emrfs.NewWithRoleMappings(ctx, s3.NewFromConfig(awsCfg, st.S3Options), cfg, awsCfg)
	if err != nil {
		t.Fatal(err)
	}
	user1 := authz.WithIdentity(ctx, authz.Identity{User: "user1", Groups: []string{}})
	data := []byte("through the configured STS endpoint")
	n := len(st.S3.Requests())
	if err := put(t, c, user1, "s3://data/user1/f", data); err != nil {
		t.Fatal(err)
	}
	if got, err := read(c, user1, "s3://data/user1/f"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %v", err)
	}
	reqs := st.S3.Requests()[n:]
	if len(reqs) == 0 {
		t.Fatal("no S3 requests")
	}
	for _, r := range reqs {
		if r.Principal != roleUser1 || r.Status >= 300 {
			t.Fatalf("%s %s signed by %q (status %d), want %s", r.Method, r.Key, r.Principal, r.Status, roleUser1)
		}
	}
	// Unmapped users get the aws.Config's (the cluster's) credentials.
	bob := authz.WithIdentity(ctx, authz.Identity{User: "bob", Groups: []string{}})
	n = len(st.S3.Requests())
	if err := put(t, c, bob, "s3://data/bob/f", data); err != nil {
		t.Fatal(err)
	}
	for _, r := range st.S3.Requests()[n:] {
		if r.Principal != clusterARN {
			t.Fatalf("unmapped %s %s signed by %q, want %s", r.Method, r.Key, r.Principal, clusterARN)
		}
	}

	// STS traffic went to the configured endpoint, and only STS traffic.
	seen := proxy.seen()
	var assumed []emrfstest.STSCall
	for _, call := range st.STS.Calls() {
		if call.Action == "AssumeRole" {
			assumed = append(assumed, call)
		}
	}
	if len(seen) == 0 || len(seen) != len(assumed) {
		t.Fatalf("the STS endpoint saw %d requests, the stack answered %d AssumeRole calls", len(seen), len(assumed))
	}
	for _, svc := range seen {
		if svc != "sts" {
			t.Fatalf("a request for %q reached the STS endpoint", svc)
		}
	}
	for _, call := range assumed {
		if call.Err != "" || call.Principal != clusterARN || call.RoleARN != roleUser1 || call.RoleSessionName != "user1" || call.DurationSeconds != 1800 {
			t.Fatalf("AssumeRole %+v", call)
		}
	}
}

// TestNewRoleResolverSecurityConfigurationWins: the role mappings of a
// security configuration replace fs.s3.authorization.roleMapping.
func TestNewRoleResolverSecurityConfigurationWins(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	st.STS.CreateRole(roleUser1)
	st.STS.CreateRole(roleShared)
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.authorization.roleMapping", roleUser1+"=u:user1")
	r, err := emrfs.NewRoleResolver(ctx, cfg, st.Config)
	if err != nil {
		t.Fatal(err)
	}
	user1 := authz.WithIdentity(ctx, authz.Identity{User: "user1"})
	if d, _, err := r.Resolve(user1, "s3://data/x"); err != nil || d.Role != roleUser1 {
		t.Fatalf("property: %+v, %v", d, err)
	}
	if err := cfg.ApplySecurityConfiguration([]byte(`{"AuthorizationConfiguration":{"EmrFsConfiguration":{"RoleMappings":[
		{"Role":"` + roleShared + `","IdentifierType":"User","Identifiers":["user1"]}]}}}`)); err != nil {
		t.Fatal(err)
	}
	if r, err = emrfs.NewRoleResolver(ctx, cfg, st.Config); err != nil {
		t.Fatal(err)
	}
	if d, _, err := r.Resolve(user1, "s3://data/x"); err != nil || d.Role != roleShared {
		t.Fatalf("security configuration: %+v, %v", d, err)
	}
	// Bad properties fail construction with the property named.
	cfg.Set("fs.s3.sts.sessionDurationSeconds", "60")
	if _, err := emrfs.NewWithRoleMappings(ctx, nil, cfg, st.Config); !errors.Is(err, emrfs.ErrInvalidConfig) || !strings.Contains(err.Error(), "fs.s3.sts.sessionDurationSeconds") {
		t.Fatalf("bad duration: %v", err)
	}
}

// TestWithRoleMappingsNeedsAnObject: a request made for no object (a KMS
// call outside a read or write) gets a clear error, not a location error.
func TestWithRoleMappingsNeedsAnObject(t *testing.T) {
	st := emrfstest.Start(t)
	res, err := authz.New(sts.NewFromConfig(st.Config), nil, func(o *authz.Options) { o.Default = st.Config.Credentials })
	if err != nil {
		t.Fatal(err)
	}
	var o emrfs.Options
	emrfs.WithRoleMappings(res)(&o)
	if _, err := o.Credentials(context.Background(), "kms:DescribeKey", "", ""); !errors.Is(err, emrfs.ErrNoObjectForCredentials) || !strings.Contains(err.Error(), "kms:DescribeKey") {
		t.Fatalf("got %v, want ErrNoObjectForCredentials naming the operation", err)
	}
	if p, err := o.Credentials(context.Background(), "GetObject", "b", "k"); err != nil || p == nil {
		t.Fatalf("object request: %v, %v", p, err)
	}
}

// roleOf returns the role mapped to a request of the role stack: by its
// key, or for bucket-level requests (List) by the listed prefix.
func roleOf(r emrfstest.S3Request) string {
	k := r.Key
	if k == "" {
		k = r.Query.Get("prefix")
	}
	switch {
	case strings.HasPrefix(k, "user1/"):
		return roleUser1
	case strings.HasPrefix(k, "shared/"):
		return roleShared
	}
	return ""
}

// checkSigned fails unless every request was signed by the role mapped to
// the location it touched and answered successfully (or, for a HEAD probe
// of an absent key such as an instruction file, with 404 rather than 403),
// and returns them.
func checkSigned(t *testing.T, reqs []emrfstest.S3Request) []emrfstest.S3Request {
	t.Helper()
	if len(reqs) == 0 {
		t.Fatal("no S3 requests")
	}
	for _, r := range reqs {
		ok := r.Status < 300 || (r.Method == http.MethodHead && r.Status == http.StatusNotFound)
		if want := roleOf(r); want == "" || r.Principal != want || !ok {
			t.Fatalf("%s %s?%s signed by %q (status %d), want %q", r.Method, r.Key, r.Query.Encode(), r.Principal, r.Status, want)
		}
	}
	return reqs
}

// TestRoleMappingsRenameAcrossRoles: the data is read with the source's
// role, written with the destination's, and the source is deleted with
// its own role.
func TestRoleMappingsRenameAcrossRoles(t *testing.T) {
	st, c := roleStack(t)
	ctx := context.Background()
	data := bytes.Repeat([]byte("rename "), 20_000)
	if err := put(t, c, ctx, "s3://data/user1/src.bin", data); err != nil {
		t.Fatal(err)
	}
	n := len(st.S3.Requests())
	if err := c.Rename(ctx, "s3://data/user1/src.bin", "s3://data/shared/moved.bin"); err != nil {
		t.Fatal(err)
	}
	var get, putDst, del bool
	for _, r := range checkSigned(t, st.S3.Requests()[n:]) {
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			t.Fatalf("server-side copy signed by %s", r.Principal)
		}
		switch {
		case r.Method == "GET" && r.Key == "user1/src.bin":
			get = true
		case r.Method == "PUT" && r.Key == "shared/moved.bin":
			putDst = true
		case r.Method == "DELETE" && r.Key == "user1/src.bin":
			del = true
		}
	}
	if !get || !putDst || !del {
		t.Fatalf("rename: GET source %v, PUT destination %v, DELETE source %v", get, putDst, del)
	}
	if got, err := read(c, ctx, "s3://data/shared/moved.bin"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("renamed object: %v", err)
	}
	if _, err := c.Stat(ctx, "s3://data/user1/src.bin"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("source after rename: %v", err)
	}
}

// TestRoleMappingsCopySameRole: both locations map to one role, so the copy
// stays server-side, signed by that role.
func TestRoleMappingsCopySameRole(t *testing.T) {
	st, c := roleStack(t)
	ctx := context.Background()
	data := bytes.Repeat([]byte{3}, 50_000)
	if err := put(t, c, ctx, "s3://data/user1/a", data); err != nil {
		t.Fatal(err)
	}
	n := len(st.S3.Requests())
	if err := c.Copy(ctx, "s3://data/user1/a", "s3a://data/user1/b"); err != nil {
		t.Fatal(err)
	}
	serverSide := false
	for _, r := range checkSigned(t, st.S3.Requests()[n:]) {
		if r.Method == "GET" && r.Key == "user1/a" {
			t.Fatal("same-role copy streamed the data through the client")
		}
		serverSide = serverSide || (r.Method == "PUT" && r.Key == "user1/b" && r.Header.Get("X-Amz-Copy-Source") != "")
	}
	if !serverSide {
		t.Fatal("no server-side CopyObject")
	}
	if got, err := read(c, ctx, "s3://data/user1/b"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("copied object: %v", err)
	}
}

// TestRoleMappingsMultipartListRemove: a multipart upload (every part, the
// completion and an abort), ranged reads, a listing and removals are each
// signed by the mapped role, and the KMS calls of CSE too.
func TestRoleMappingsMultipartListRemove(t *testing.T) {
	st, c := roleStack(t)
	ctx := context.Background()
	data := make([]byte, 2*emrfs.DefaultPartSize+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	n, nKMS := len(st.S3.Requests()), len(st.KMS.Audit())
	if err := put(t, c, ctx, "s3://data/user1/big.bin", data); err != nil {
		t.Fatal(err)
	}
	parts, completed := 0, false
	for _, r := range checkSigned(t, st.S3.Requests()[n:]) {
		switch {
		case r.Method == "PUT" && r.Query.Has("partNumber"):
			parts++
		case r.Method == "POST" && r.Query.Has("uploadId"):
			completed = true
		}
	}
	if parts != 3 || !completed {
		t.Fatalf("multipart upload: %d parts, completed %v", parts, completed)
	}

	// Whole and ranged reads.
	f, err := c.Open(ctx, "s3://data/user1/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %v", err)
	}
	buf := make([]byte, 1000)
	if _, err := f.ReadAt(buf, int64(emrfs.DefaultPartSize)-500); err != nil || !bytes.Equal(buf, data[emrfs.DefaultPartSize-500:emrfs.DefaultPartSize+500]) {
		t.Fatalf("ReadAt: %v", err)
	}
	f.Close()

	// An aborted multipart upload (checked below).
	w, err := c.Create(ctx, "s3://data/shared/aborted.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}

	// List and Remove.
	if err := put(t, c, ctx, "s3://data/user1/small", []byte("small")); err != nil {
		t.Fatal(err)
	}
	var names []string
	for fi, err := range c.List(ctx, "s3://data/user1/") {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, fi.Name())
	}
	if !slices.Equal(names, []string{"big.bin", "small"}) {
		t.Fatalf("List = %v", names)
	}
	for _, uri := range []string{"s3://data/user1/big.bin", "s3://data/user1/small"} {
		if err := c.Remove(ctx, uri); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Stat(ctx, "s3://data/user1/small"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after Remove: %v", err)
	}

	// Abort cancels the parts in flight; the server sees those cut short
	// and cannot authenticate them (no principal, 400), possibly after
	// Abort returned. Every request about the aborted object it could
	// authenticate, the creation and the abort included, is the role's.
	var rest []emrfstest.S3Request
	created, aborted := false, false
	for _, r := range st.S3.Requests()[n:] {
		if r.Key != "shared/aborted.bin" {
			rest = append(rest, r)
			continue
		}
		if r.Principal == "" && r.Query.Has("partNumber") {
			continue
		}
		if r.Principal != roleShared || r.Status >= 300 {
			t.Fatalf("%s %s?%s signed by %q (status %d), want %s", r.Method, r.Key, r.Query.Encode(), r.Principal, r.Status, roleShared)
		}
		created = created || (r.Method == "POST" && r.Query.Has("uploads"))
		aborted = aborted || (r.Method == "DELETE" && r.Query.Has("uploadId"))
	}
	if !created || !aborted {
		t.Fatalf("aborted upload: created %v, aborted %v", created, aborted)
	}
	var listed, deleted bool
	for _, r := range checkSigned(t, rest) {
		switch {
		case r.Method == "GET" && r.Key == "" && r.Query.Get("prefix") == "user1/":
			listed = true
		case r.Method == "DELETE" && r.Key == "user1/big.bin":
			deleted = true
		}
	}
	if !listed || !deleted {
		t.Fatalf("list %v, delete %v", listed, deleted)
	}
	kmsCalls := st.KMS.Audit()[nKMS:]
	if len(kmsCalls) < 3 {
		t.Fatalf("%d KMS calls", len(kmsCalls))
	}
	for _, k := range kmsCalls {
		if (k.Principal != roleUser1 && k.Principal != roleShared) || k.Err != "" {
			t.Fatalf("KMS %s by %q (err %q)", k.Operation, k.Principal, k.Err)
		}
	}
}
