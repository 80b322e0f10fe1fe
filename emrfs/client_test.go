package emrfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

const testBucket = "emrfs-test"

// newTestS3 starts the emrfstest stack (gofakes3 behind SigV4
// verification, over HTTP on loopback) and returns an SDK client of its
// admin talking to it, with testBucket created.
func newTestS3(tb testing.TB) *s3.Client {
	tb.Helper()
	api, _ := newTestStack(tb)
	return api
}

func newTestStack(tb testing.TB) (*s3.Client, *emrfstest.Stack) {
	tb.Helper()
	st := emrfstest.Start(tb)
	api := s3.NewFromConfig(st.Config, st.S3Options)
	if _, err := api.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		tb.Fatalf("CreateBucket: %v", err)
	}
	return api, st
}

// newGofakes3 serves gofakes3 (s3mem) over HTTP on loopback.
func newGofakes3(tb testing.TB) *s3.Client {
	tb.Helper()
	faker := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	ts := httptest.NewServer(faker.Server())
	tb.Cleanup(ts.Close)
	cl := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ts.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	if _, err := cl.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		tb.Fatalf("CreateBucket: %v", err)
	}
	return cl
}

// faultS3 wraps a real S3 client to count calls and inject failures. The
// data still goes to the server.
type faultS3 struct {
	S3API

	calls sync.Map // op -> *atomic.Int64

	failPart   int32         // UploadPart with this part number fails
	partDelay  time.Duration // delay of each UploadPart
	inFlight   atomic.Int64
	maxInFight atomic.Int64
	onPart     func(num int32)

	mu       sync.Mutex
	partLens map[int32]int64 // part number -> ContentLength

	cutAfter int64        // GET bodies break after this many bytes...
	cuts     atomic.Int64 // ...this many times

	// failPut and failCopy, when set, fail PutObject and CopyObject of the
	// destination keys for which they return an error.
	failPut, failCopy func(key string) error
	// failAbort fails AbortMultipartUpload with this error.
	failAbort error
}

func (f *faultS3) count(op string) int64 {
	v, _ := f.calls.LoadOrStore(op, new(atomic.Int64))
	return v.(*atomic.Int64).Load()
}

func (f *faultS3) inc(op string) {
	v, _ := f.calls.LoadOrStore(op, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func (f *faultS3) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.inc("PutObject")
	if f.failPut != nil {
		if err := f.failPut(aws.ToString(in.Key)); err != nil {
			return nil, err
		}
	}
	return f.S3API.PutObject(ctx, in, o...)
}

func (f *faultS3) CopyObject(ctx context.Context, in *s3.CopyObjectInput, o ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	f.inc("CopyObject")
	if f.failCopy != nil {
		if err := f.failCopy(aws.ToString(in.Key)); err != nil {
			return nil, err
		}
	}
	return f.S3API.CopyObject(ctx, in, o...)
}

func (f *faultS3) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, o ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	f.inc("CreateMultipartUpload")
	return f.S3API.CreateMultipartUpload(ctx, in, o...)
}

func (f *faultS3) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, o ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	f.inc("AbortMultipartUpload")
	if f.failAbort != nil {
		return nil, f.failAbort
	}
	return f.S3API.AbortMultipartUpload(ctx, in, o...)
}

func (f *faultS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	f.inc("UploadPart")
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxInFight.Load()
		if n <= m || f.maxInFight.CompareAndSwap(m, n) {
			break
		}
	}
	if f.onPart != nil {
		f.onPart(*in.PartNumber)
	}
	f.mu.Lock()
	if f.partLens == nil {
		f.partLens = map[int32]int64{}
	}
	f.partLens[*in.PartNumber] = aws.ToInt64(in.ContentLength)
	f.mu.Unlock()
	if f.partDelay > 0 {
		select {
		case <-time.After(f.partDelay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.failPart != 0 && *in.PartNumber == f.failPart {
		return nil, errors.New("injected UploadPart failure")
	}
	return f.S3API.UploadPart(ctx, in, o...)
}

func (f *faultS3) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.inc("GetObject")
	out, err := f.S3API.GetObject(ctx, in, o...)
	if err != nil || f.cutAfter <= 0 {
		return out, err
	}
	if f.cuts.Add(-1) >= 0 {
		out.Body = &brokenBody{rc: out.Body, left: f.cutAfter}
	}
	return out, nil
}

// brokenBody yields left bytes and then fails like a reset connection.
type brokenBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *brokenBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("connection reset by peer (injected)")
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *brokenBody) Close() error { return b.rc.Close() }

func randomBytes(n int, seed uint64) []byte {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

func newTestClient(tb testing.TB, api S3API, optFns ...func(*Options)) *Client {
	tb.Helper()
	optFns = append([]func(*Options){func(o *Options) { o.PartSize = MinPartSize; o.Concurrency = 3 }}, optFns...)
	c, err := New(api, nil, optFns...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func writeObject(tb testing.TB, c *Client, uri string, data []byte) {
	tb.Helper()
	w, err := c.Create(context.Background(), uri)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		tb.Fatalf("Write: %v", err)
	}
	if err := w.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
}

func readObject(tb testing.TB, c *Client, uri string) []byte {
	tb.Helper()
	f, err := c.Open(context.Background(), uri)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		tb.Fatalf("ReadAll: %v", err)
	}
	return b
}

// assertNoUpload checks that key does not exist and no multipart upload is
// left in the bucket.
func assertNoUpload(tb testing.TB, api *s3.Client, key string) {
	tb.Helper()
	ctx := context.Background()
	_, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	if err == nil {
		tb.Errorf("object %s is visible after a failed upload", key)
	}
	out, err := api.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(testBucket)})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload" {
		return // gofakes3 answers so when the bucket never had an upload
	}
	if err != nil {
		tb.Fatalf("ListMultipartUploads: %v", err)
	}
	if len(out.Uploads) != 0 {
		tb.Errorf("%d multipart uploads left after failure", len(out.Uploads))
	}
}

func TestNewOptions(t *testing.T) {
	api := newTestS3(t)
	if _, err := New(nil, nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := New(api, nil, func(o *Options) { o.PartSize = 1 << 20 }); err == nil {
		t.Error("PartSize below 5 MiB accepted")
	}
	c, err := New(api, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.opts.PartSize != DefaultPartSize || c.opts.Concurrency != DefaultConcurrency {
		t.Errorf("defaults = %d/%d", c.opts.PartSize, c.opts.Concurrency)
	}
}

func TestCreateOpenRoundTrip(t *testing.T) {
	api := newTestS3(t)
	fault := &faultS3{S3API: api}
	c := newTestClient(t, fault)
	sizes := []int{0, 1, 1000, MinPartSize - 1, MinPartSize, 2*MinPartSize + 12345}
	for i, n := range sizes {
		uri := "s3a://" + testBucket + "/rt/" + string(rune('a'+i))
		data := randomBytes(n, uint64(n))
		puts, mpus := fault.count("PutObject"), fault.count("CreateMultipartUpload")
		// Write in odd-sized chunks to exercise part boundaries.
		w, err := c.Create(context.Background(), uri)
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(data); {
			k := min(len(data)-off, 777_777)
			if _, err := w.Write(data[off : off+k]); err != nil {
				t.Fatal(err)
			}
			off += k
		}
		if err := w.Close(); err != nil {
			t.Fatalf("size %d: Close: %v", n, err)
		}
		multipart := n > MinPartSize // a full part is sent only when more data follows
		if got := fault.count("CreateMultipartUpload") - mpus; (got == 1) != multipart {
			t.Errorf("size %d: %d multipart uploads, want multipart=%v", n, got, multipart)
		}
		if got := fault.count("PutObject") - puts; (got == 1) == multipart {
			t.Errorf("size %d: %d PutObject calls, want multipart=%v", n, got, multipart)
		}
		if got := readObject(t, c, uri); !bytes.Equal(got, data) {
			t.Errorf("size %d: read back %d bytes, differ", n, len(got))
		}
		fi, err := c.Stat(context.Background(), uri)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != int64(n) || fi.IsDir() || fi.ETag() == "" {
			t.Errorf("Stat = size %d dir %v etag %q", fi.Size(), fi.IsDir(), fi.ETag())
		}
	}
}

func TestCreateMetadata(t *testing.T) {
	api := newTestS3(t)
	c := newTestClient(t, api)
	uri := "s3://" + testBucket + "/meta"
	w, err := c.Create(context.Background(), uri, func(o *CreateOptions) {
		o.ContentType = "text/plain"
		o.Metadata = map[string]string{"owner": "emrfs"}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "hello"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := c.Stat(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Metadata()["owner"] != "emrfs" {
		t.Errorf("metadata = %v", fi.Metadata())
	}
	if err := w.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close = %v, want fs.ErrClosed", err)
	}
}

func TestCreateConcurrentParts(t *testing.T) {
	api := newTestS3(t)
	fault := &faultS3{S3API: api, partDelay: 50 * time.Millisecond}
	c := newTestClient(t, fault, func(o *Options) { o.Concurrency = 3 })
	data := randomBytes(6*MinPartSize+1, 7)
	uri := "s3://" + testBucket + "/concurrent"
	writeObject(t, c, uri, data)
	if got := fault.count("UploadPart"); got != 7 {
		t.Errorf("UploadPart calls = %d, want 7", got)
	}
	if m := fault.maxInFight.Load(); m < 2 || m > 3 {
		t.Errorf("max concurrent parts = %d, want 2..3", m)
	}
	if !bytes.Equal(readObject(t, c, uri), data) {
		t.Error("multipart object differs")
	}
}

func TestCreateAbortsOnPartFailure(t *testing.T) {
	api := newTestS3(t)
	fault := &faultS3{S3API: api, failPart: 2}
	c := newTestClient(t, fault)
	key := "fail/part"
	w, err := c.Create(context.Background(), "s3://"+testBucket+"/"+key)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(4*MinPartSize, 3)
	_, werr := w.Write(data)
	cerr := w.Close()
	if cerr == nil {
		t.Fatal("Close succeeded after a part failed")
	}
	var pe *fs.PathError
	if !errors.As(cerr, &pe) || pe.Path != "s3://"+testBucket+"/"+key {
		t.Errorf("Close error %v is not a *fs.PathError with the URI", cerr)
	}
	t.Logf("write err: %v; close err: %v", werr, cerr)
	if fault.count("AbortMultipartUpload") != 1 {
		t.Errorf("AbortMultipartUpload calls = %d, want 1", fault.count("AbortMultipartUpload"))
	}
	assertNoUpload(t, api, key)
}

func TestCreateExplicitAbort(t *testing.T) {
	api := newTestS3(t)
	c := newTestClient(t, api)
	for _, n := range []int{10, 2*MinPartSize + 1} {
		key := "abort/explicit"
		w, err := c.Create(context.Background(), "s3://"+testBucket+"/"+key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(randomBytes(n, 1)); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err == nil {
			t.Error("Close after Abort succeeded")
		}
		assertNoUpload(t, api, key)
	}
}

func TestCreateContextCancel(t *testing.T) {
	api := newTestS3(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fault := &faultS3{S3API: api, onPart: func(num int32) {
		if num == 2 {
			cancel()
		}
	}}
	c := newTestClient(t, fault)
	key := "cancel/upload"
	w, err := c.Create(ctx, "s3://"+testBucket+"/"+key)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(MinPartSize, 5)
	var werr error
	for i := 0; i < 6 && werr == nil; i++ {
		_, werr = w.Write(data)
	}
	cerr := w.Close()
	if !errors.Is(cerr, context.Canceled) {
		t.Errorf("Close = %v, want context.Canceled", cerr)
	}
	if fault.count("AbortMultipartUpload") != 1 {
		t.Errorf("AbortMultipartUpload calls = %d, want 1", fault.count("AbortMultipartUpload"))
	}
	assertNoUpload(t, api, key)
}

func TestCreateCancelledBeforeClose(t *testing.T) {
	api := newTestS3(t)
	ctx, cancel := context.WithCancel(context.Background())
	c := newTestClient(t, api)
	w, err := c.Create(ctx, "s3://"+testBucket+"/cancel/small")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("small")); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := w.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("Close = %v, want context.Canceled", err)
	}
	assertNoUpload(t, api, "cancel/small")
}

func TestPerRequestCredentials(t *testing.T) {
	api, st := newTestStack(t)
	role := st.AddUser("mapped-role")
	st.S3.Grant(emrfstest.UserARN("mapped-role"), testBucket, "creds/", true)
	denied := st.AddUser("other-prefix")
	st.S3.Grant(emrfstest.UserARN("other-prefix"), testBucket, "other/", true)
	var mu sync.Mutex
	ops := map[string]int{}
	withCreds := func(creds aws.Credentials) func(*Options) {
		return func(o *Options) {
			o.Credentials = func(ctx context.Context, op, bucket, key string) (aws.CredentialsProvider, error) {
				mu.Lock()
				ops[op]++
				mu.Unlock()
				if bucket != testBucket || (key != "creds/x" && key != "creds/x.instruction") {
					t.Errorf("credentials asked for %s/%s", bucket, key)
				}
				return credentials.StaticCredentialsProvider{Value: creds}, nil
			}
		}
	}
	c := newTestClient(t, api, withCreds(role))
	uri := "s3://" + testBucket + "/creds/x"
	st.S3.ResetRequests()
	writeObject(t, c, uri, []byte("data"))
	if string(readObject(t, c, uri)) != "data" {
		t.Error("read back differs")
	}
	// Open sends no HeadObject (its first GET brings the metadata); Stat
	// does.
	if _, err := c.Stat(context.Background(), uri); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"PutObject", "HeadObject", "GetObject"} {
		if ops[op] == 0 {
			t.Errorf("Credentials not consulted for %s (%v)", op, ops)
		}
	}
	for _, r := range st.S3.Requests() {
		if r.Principal != emrfstest.UserARN("mapped-role") {
			t.Errorf("%s %s/%s signed by %q, want the mapped role", r.Method, r.Bucket, r.Key, r.Principal)
		}
	}

	// A principal without access, and unknown credentials: fs.ErrPermission.
	for _, creds := range []aws.Credentials{denied, {AccessKeyID: "AKIDUNKNOWN", SecretAccessKey: "x"}} {
		dc := newTestClient(t, api, withCreds(creds), func(o *Options) { o.ReadRetries = 1 })
		if _, err := dc.Open(context.Background(), uri); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("Open as %s = %v, want fs.ErrPermission", creds.AccessKeyID, err)
		}
		w, err := dc.Create(context.Background(), uri)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte("overwrite"))
		if err := w.Close(); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("Create as %s = %v, want fs.ErrPermission", creds.AccessKeyID, err)
		}
	}

	failing := newTestClient(t, api, func(o *Options) {
		o.Credentials = func(context.Context, string, string, string) (aws.CredentialsProvider, error) {
			return nil, errors.New("no role mapping")
		}
	})
	if _, err := failing.Open(context.Background(), uri); err == nil {
		t.Error("Open succeeded although credentials could not be chosen")
	}
	if string(readObject(t, c, uri)) != "data" {
		t.Error("object changed by a denied writer")
	}
}

// listUploads returns the multipart uploads in progress in testBucket.
func listUploads(tb testing.TB, api *s3.Client) int {
	tb.Helper()
	out, err := api.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(testBucket)})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload" {
		return 0 // gofakes3 answers so when the bucket never had an upload
	}
	if err != nil {
		tb.Fatalf("ListMultipartUploads: %v", err)
	}
	return len(out.Uploads)
}

// TestCreateCancelWithoutClose: cancelling the context of a Writer aborts
// its multipart upload even if the caller never calls Write, Close or
// Abort again; the next call returns the context's error.
func TestCreateCancelWithoutClose(t *testing.T) {
	api, _ := newTestStack(t)
	fault := &faultS3{S3API: api}
	c := newTestClient(t, fault)
	ctx, cancel := context.WithCancel(context.Background())
	w, err := c.Create(ctx, "s3://"+testBucket+"/walked-away")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(randomBytes(2*MinPartSize+1, 6)); err != nil {
		t.Fatal(err)
	}
	if n := listUploads(t, api); n != 1 {
		t.Fatalf("%d uploads in progress before the cancel, want 1", n)
	}
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for listUploads(t, api) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the multipart upload of a cancelled Writer was not aborted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := fault.count("AbortMultipartUpload"); got != 1 {
		t.Errorf("AbortMultipartUpload calls = %d, want 1", got)
	}
	if _, err := w.Write([]byte("more")); !errors.Is(err, context.Canceled) {
		t.Errorf("Write after the cancel = %v, want context.Canceled", err)
	}
	if err := w.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("Close after the cancel = %v, want context.Canceled", err)
	}
	assertNoUpload(t, api, "walked-away")
}

// TestCreateCancelRacesClose cancels the context while Close runs: either
// Close wins (the object exists) or the upload is aborted (no object), and
// in no case is an upload left behind. Run with -race.
func TestCreateCancelRacesClose(t *testing.T) {
	api, _ := newTestStack(t)
	c := newTestClient(t, api)
	data := randomBytes(MinPartSize+100, 7)
	for i := range 8 {
		key := fmt.Sprintf("race/%d", i)
		ctx, cancel := context.WithCancel(context.Background())
		w, err := c.Create(ctx, "s3://"+testBucket+"/"+key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- w.Close() }()
		time.Sleep(time.Duration(i) * time.Millisecond)
		cancel()
		err = <-done
		_, herr := api.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
		switch {
		case err == nil && herr != nil:
			t.Errorf("%s: Close succeeded but the object is missing: %v", key, herr)
		case err != nil && !errors.Is(err, context.Canceled):
			t.Errorf("%s: Close = %v", key, err)
		case err != nil && herr == nil:
			t.Errorf("%s: Close failed but the object exists", key)
		}
		if n := listUploads(t, api); n != 0 {
			t.Fatalf("%s: %d uploads left", key, n)
		}
	}
}

// TestCreateAbortFailureReported: a failed AbortMultipartUpload is
// reported, by Close after a failure and by Abort, not swallowed.
func TestCreateAbortFailureReported(t *testing.T) {
	api := newTestS3(t)
	errAbort := errors.New("injected AbortMultipartUpload failure")
	fault := &faultS3{S3API: api, failPart: 2, failAbort: errAbort}
	c := newTestClient(t, fault)
	w, err := c.Create(context.Background(), "s3://"+testBucket+"/abortfail/a")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(randomBytes(3*MinPartSize, 1))
	err = w.Close()
	if !errors.Is(err, errAbort) || !strings.Contains(err.Error(), "part 2") {
		t.Errorf("Close = %v, want the part failure and the abort failure", err)
	}

	fault.failPart = 0
	w, err = c.Create(context.Background(), "s3://"+testBucket+"/abortfail/b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(randomBytes(2*MinPartSize, 2)); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); !errors.Is(err, errAbort) {
		t.Errorf("Abort = %v, want the abort failure", err)
	}
	fault.failAbort = nil
}
