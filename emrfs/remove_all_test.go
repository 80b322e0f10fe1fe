package emrfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// cseInstructionClient returns a client whose testBucket uses CSE-KMS in
// instruction-file mode, sending its S3 requests with api.
func cseInstructionClient(t testing.TB, st *emrfstest.Stack, api S3API) *Client {
	t.Helper()
	cfg := NewConfig()
	for k, v := range emrfsCSEInstruction {
		if v == "KEY" {
			v = st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
		}
		cfg.Set(k, v)
	}
	c, err := New(api, cfg, func(o *Options) { o.KMS = kms.NewFromConfig(st.Config) })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// putKeys writes an empty object at each key, 8 at a time.
func putKeys(t testing.TB, api *s3.Client, keys []string) {
	t.Helper()
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(8)
	for _, k := range keys {
		g.Go(func() error {
			_, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(k), Body: strings.NewReader("")})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// listKeys returns every key of testBucket starting with prefix.
func listKeys(t testing.TB, api *s3.Client, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// countS3 counts the stack's S3 requests by operation.
func countS3(st *emrfstest.Stack) (lists, multiDeletes, other int) {
	for _, r := range st.S3.Requests() {
		switch {
		case r.Method == "GET" && r.Key == "" && r.Query.Get("list-type") == "2":
			lists++
		case r.Method == "POST" && r.Key == "" && r.Query.Has("delete"):
			multiDeletes++
		default:
			other++
		}
	}
	return
}

// TestRemoveAllRequests: RemoveAll of 10,000 keys — 5,000 CSE objects and
// their instruction files — lists them in 10 pages and deletes them in 10
// DeleteObjects requests of 1000 keys, leaving no instruction file and
// nothing outside the prefix touched. (Issue 14's target, at most 11
// requests, counts the deletions — 10,000 DELETEs before RemoveAll: the
// 10 list pages are needed whatever deletes the keys, S3 listing at most
// 1000 keys a page.)
func TestRemoveAllRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 10,000 keys")
	}
	api, st := newTestStack(t)
	c := cseInstructionClient(t, st, api)
	ctx := context.Background()
	var keys []string
	for i := range 5000 {
		k := fmt.Sprintf("lake/part-%05d", i)
		keys = append(keys, k, k+InstructionSuffix)
	}
	putKeys(t, api, append(keys, "lake2/keep", "lakeside", "lake/../x"))
	// Two objects written (and readable) through CSE too.
	writeObject(t, c, "s3://"+testBucket+"/lake/real-a", []byte("secret a"))
	writeObject(t, c, "s3://"+testBucket+"/lake/real-b", []byte("secret b"))
	if n := len(listKeys(t, api, "lake/")); n != 10005 {
		t.Fatalf("%d keys under lake/, want 10,005", n)
	}
	// Remove the two real objects and the stray key first so that exactly
	// 10,000 keys remain.
	for _, k := range []string{"lake/real-a", "lake/real-b", "lake/../x"} {
		if err := c.RemoveAll(ctx, "s3://"+testBucket+"/"+k); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(listKeys(t, api, "lake/")); n != 10000 {
		t.Fatalf("%d keys under lake/ after removing the real objects, want 10,000: %v", n, listKeys(t, api, "lake/real"))
	}

	st.S3.ResetRequests()
	if err := c.RemoveAll(ctx, "s3://"+testBucket+"/lake/"); err != nil {
		t.Fatal(err)
	}
	lists, deletes, other := countS3(st)
	t.Logf("RemoveAll of 10,000 keys: %d ListObjectsV2 + %d DeleteObjects + %d other = %d requests", lists, deletes, other, lists+deletes+other)
	if lists != 10 || deletes != 10 || other != 0 {
		t.Errorf("RemoveAll of 10,000 keys sent %d ListObjectsV2, %d DeleteObjects and %d other requests; want 10, 10 and 0", lists, deletes, other)
	}
	for _, r := range st.S3.Requests() {
		if r.Query.Has("delete") && r.Status != 200 {
			t.Errorf("DeleteObjects answered %d", r.Status)
		}
	}
	if left := listKeys(t, api, "lake/"); len(left) != 0 {
		t.Errorf("%d keys left under lake/, e.g. %s", len(left), left[0])
	}
	if got := listKeys(t, api, "lake"); !slices.Equal(got, []string{"lake2/keep", "lakeside"}) {
		t.Errorf("keys beside lake/ after RemoveAll = %v, want lake2/keep and lakeside untouched", got)
	}
}

// TestRemoveAllForms: "s3://b/d" removes the object d, its instruction
// file, its _$folder$ marker and everything under d/, never d2/ or dx;
// "s3://b/d/" only what is under d/; a missing prefix is no error.
func TestRemoveAllForms(t *testing.T) {
	api, st := newTestStack(t)
	c := cseInstructionClient(t, st, api)
	ctx := context.Background()
	uri := func(k string) string { return "s3://" + testBucket + "/" + k }
	writeObject(t, c, uri("d"), []byte("file d"))
	writeObject(t, c, uri("d/x"), []byte("file d/x"))
	putKeys(t, api, []string{"d_$folder$", "d/", "d/sub/y", "d2/x", "dx", "e/x", "e_$folder$", "e"})
	if err := c.RemoveAll(ctx, uri("d")); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveAll(ctx, uri("e/")); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveAll(ctx, uri("missing/")); err != nil {
		t.Errorf("RemoveAll of a missing prefix: %v", err)
	}
	want := []string{"d2/x", "dx", "e", "e_$folder$"}
	if got := listKeys(t, api, ""); !slices.Equal(got, want) {
		t.Errorf("keys after RemoveAll(d) and RemoveAll(e/) = %v, want %v", got, want)
	}
	if err := c.RemoveAll(ctx, "file:///tmp"); err == nil {
		t.Error("RemoveAll of a file: URI succeeded")
	}
}

// TestRemoveAllPartialFailure: keys S3 refuses (AccessDenied per key in
// the DeleteObjects result) are reported in a *RemoveAllError, every other
// key is deleted, and the instruction file of a refused object is kept so
// that the object stays readable.
func TestRemoveAllPartialFailure(t *testing.T) {
	api, st := newTestStack(t)
	admin := cseInstructionClient(t, st, api)
	ctx := context.Background()
	uri := func(k string) string { return "s3://" + testBucket + "/" + k }
	for _, k := range []string{"p/a/1", "p/a/2", "p/b/locked", "p/c/3"} {
		writeObject(t, admin, uri(k), []byte("data of "+k))
	}
	putKeys(t, api, []string{"p/b/orphan.instruction"})
	alice := st.AddUser("alice")
	st.S3.Grant(emrfstest.UserARN("alice"), testBucket, "p/", false)
	st.S3.Grant(emrfstest.UserARN("alice"), testBucket, "p/a/", true)
	st.S3.Grant(emrfstest.UserARN("alice"), testBucket, "p/c/", true)
	st.S3.Grant(emrfstest.UserARN("alice"), testBucket, "p/b/locked.instruction", true)
	c := cseInstructionClient(t, st, s3.NewFromConfig(st.ConfigFor(alice), st.S3Options))

	err := c.RemoveAll(ctx, uri("p/"))
	var re *RemoveAllError
	if !errors.As(err, &re) {
		t.Fatalf("RemoveAll with refused keys = %v, want a *RemoveAllError", err)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("errors.Is(%v, fs.ErrPermission) = false", err)
	}
	var failed []string
	for _, f := range re.Failed {
		failed = append(failed, f.Key+":"+f.Code)
	}
	if want := []string{"p/b/locked:AccessDenied", "p/b/orphan.instruction:AccessDenied"}; !slices.Equal(failed, want) || re.Count != 2 {
		t.Errorf("failed keys = %v (count %d), want %v", failed, re.Count, want)
	}
	if !strings.Contains(err.Error(), "p/b/locked (AccessDenied") {
		t.Errorf("error %q does not name the refused key", err)
	}
	want := []string{"p/b/locked", "p/b/locked.instruction", "p/b/orphan.instruction"}
	if got := listKeys(t, api, ""); !slices.Equal(got, want) {
		t.Errorf("keys after RemoveAll = %v, want %v", got, want)
	}
	// The refused object kept its envelope.
	if got := string(readObject(t, admin, uri("p/b/locked"))); got != "data of p/b/locked" {
		t.Errorf("p/b/locked reads %q", got)
	}
}

// TestRemoveAllCredentialsPerKey: with Options.Credentials (role
// mappings), each key is deleted with the credentials chosen for it; a
// batch is sent when the next key needs other credentials.
func TestRemoveAllCredentialsPerKey(t *testing.T) {
	api, st := newTestStack(t)
	ctx := context.Background()
	putKeys(t, api, []string{"r/a/1", "r/a/2", "r/b/1", "r/b/2", "r/c"})
	creds := map[string]aws.CredentialsProvider{}
	for _, user := range []string{"alice", "bob"} {
		c := st.AddUser(user)
		st.S3.Grant(emrfstest.UserARN(user), testBucket, "r/"+user[:1]+"/", true)
		st.S3.Grant(emrfstest.UserARN(user), testBucket, "r/", false)
		creds[user] = st.ConfigFor(c).Credentials // a static provider value
	}
	creds["bob"] = aws.NewCredentialsCache(creds["bob"]) // a pointer
	c, err := New(api, nil, func(o *Options) {
		o.Credentials = func(_ context.Context, op, bucket, key string) (aws.CredentialsProvider, error) {
			switch {
			case strings.HasPrefix(key, "r/a/"):
				return creds["alice"], nil
			case strings.HasPrefix(key, "r/b/"):
				return creds["bob"], nil
			}
			return nil, nil // the client's own (admin)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	st.S3.ResetRequests()
	if err := c.RemoveAll(ctx, "s3://"+testBucket+"/r/"); err != nil {
		t.Fatal(err)
	}
	if left := listKeys(t, api, "r/"); len(left) != 0 {
		t.Errorf("keys left: %v", left)
	}
	var principals []string
	for _, r := range st.S3.Requests() {
		if r.Query.Has("delete") {
			principals = append(principals, r.Principal)
		}
	}
	want := []string{emrfstest.UserARN("alice"), emrfstest.UserARN("bob"), emrfstest.AdminARN}
	if !slices.Equal(principals, want) {
		t.Errorf("DeleteObjects sent by %v, want %v", principals, want)
	}
}
