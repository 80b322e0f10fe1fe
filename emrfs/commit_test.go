package emrfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// commitEnv is one emrfstest stack with a plain bucket (testBucket), a
// CSE-KMS bucket with the envelope in metadata ("cse-meta") and one in
// instruction-file mode that also adds the unencrypted length of multipart
// objects ("cse-instr").
type commitEnv struct {
	api  *s3.Client
	st   *emrfstest.Stack
	logs *logRecorder
	c    *Client
}

const (
	cseMetaBucket  = "cse-meta"
	cseInstrBucket = "cse-instr"
)

func newCommitEnv(t testing.TB, optFns ...func(*Options)) *commitEnv {
	t.Helper()
	api, st := newTestStack(t)
	return newCommitEnvOn(t, api, st, optFns...)
}

// newCommitEnvOn is newCommitEnv on a running stack.
func newCommitEnvOn(t testing.TB, api *s3.Client, st *emrfstest.Stack, optFns ...func(*Options)) *commitEnv {
	t.Helper()
	for _, b := range []string{cseMetaBucket, cseInstrBucket} {
		if _, err := api.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	key := st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
	cfg := NewConfig()
	for k, v := range map[string]string{
		"fs.s3.bucket." + cseMetaBucket + ".cse.enabled":                                           "true",
		"fs.s3.bucket." + cseMetaBucket + ".cse.encryptionMaterialsProvider":                       KMSMaterialsProvider,
		"fs.s3.bucket." + cseMetaBucket + ".cse.kms.keyId":                                         key,
		"fs.s3.bucket." + cseMetaBucket + ".cse.encryptionV2.enabled":                              "true",
		"fs.s3.bucket." + cseInstrBucket + ".cse.enabled":                                          "true",
		"fs.s3.bucket." + cseInstrBucket + ".cse.encryptionMaterialsProvider":                      KMSMaterialsProvider,
		"fs.s3.bucket." + cseInstrBucket + ".cse.kms.keyId":                                        key,
		"fs.s3.bucket." + cseInstrBucket + ".cse.encryptionV2.enabled":                             "true",
		"fs.s3.bucket." + cseInstrBucket + ".cse.cryptoStorageMode":                                "InstructionFile",
		"fs.s3.bucket." + cseInstrBucket + ".multipart.cse.add.unencrypted.length":                 "true",
		"fs.s3.bucket." + cseInstrBucket + ".cse.cryptoStorageMode.deleteInstructionFiles.enabled": "true",
	} {
		cfg.Set(k, v)
	}
	logs := &logRecorder{}
	optFns = append([]func(*Options){func(o *Options) {
		o.PartSize, o.Concurrency = MinPartSize, 2
		o.KMS = kms.NewFromConfig(st.Config)
		o.Logger = slog.New(logs)
	}}, optFns...)
	c, err := New(api, cfg, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return &commitEnv{api: api, st: st, logs: logs, c: c}
}

// logRecorder is a slog.Handler that keeps every record.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r.Clone())
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// count returns how many records at level contain substr.
func (l *logRecorder) count(level slog.Level, substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.recs {
		if r.Level == level && strings.Contains(r.Message, substr) {
			n++
		}
	}
	return n
}

// create writes data to uri with a single Write.
func create(ctx context.Context, c *Client, uri string, data []byte, optFns ...func(*CreateOptions)) error {
	w, err := c.Create(ctx, uri, optFns...)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	return w.Close()
}

// contentOf returns the plaintext at uri, or nil if there is no object.
func contentOf(t testing.TB, c *Client, uri string) []byte {
	t.Helper()
	f, err := c.Open(context.Background(), uri)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatalf("Open(%s): %v", uri, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s: %v", uri, err)
	}
	if b == nil {
		b = []byte{}
	}
	return b
}

// openUploads returns the multipart uploads left in bucket.
func openUploads(t testing.TB, api *s3.Client, bucket string) int {
	t.Helper()
	out, err := api.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload" {
		return 0 // gofakes3 answers so when the bucket never had an upload
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

func isOp(ops ...string) func(emrfstest.S3Request) bool {
	return func(r emrfstest.S3Request) bool {
		for _, op := range ops {
			if r.Op() == op {
				return true
			}
		}
		return false
	}
}

// TestCommitLostResponses loses the responses to the requests that make
// objects visible, after S3 has carried them out — once (the SDK's retry
// then meets the committed object: a repeated PUT, or NoSuchUpload for a
// repeated CompleteMultipartUpload) and on every attempt — and checks that
// Close and Copy report success and the object is this write's.
func TestCommitLostResponses(t *testing.T) {
	e := newCommitEnv(t)
	ctx := context.Background()
	small := randomBytes(1000, 1)
	large := randomBytes(MinPartSize+1000, 2)
	cases := []struct {
		name, bucket string
		data         []byte
		ops          []string
	}{
		{"put", testBucket, small, []string{"PutObject"}},
		{"multipart", testBucket, large, []string{"CompleteMultipartUpload"}},
		{"cse-put", cseMetaBucket, small, []string{"PutObject"}},
		{"cse-multipart", cseMetaBucket, large, []string{"CompleteMultipartUpload"}},
		{"instruction-put", cseInstrBucket, small, []string{"PutObject"}},
		{"instruction-multipart+length", cseInstrBucket, large, []string{"CompleteMultipartUpload", "CopyObject", "PutObject"}},
	}
	for _, tc := range cases {
		for _, lose := range []int{1, 100} {
			if raceEnabled && lose == 1 {
				continue // the race detector makes these slow; lose100 covers more
			}
			t.Run(fmt.Sprintf("%s/lose%d", tc.name, lose), func(t *testing.T) {
				uri := fmt.Sprintf("s3://%s/lost/%s-%d", tc.bucket, tc.name, lose)
				if err := create(ctx, e.c, uri, []byte("old")); err != nil {
					t.Fatal(err)
				}
				warns := e.logs.count(slog.LevelWarn, "")
				e.st.S3.LoseResponses(lose, isOp(tc.ops...))
				err := create(ctx, e.c, uri, tc.data)
				e.st.S3.LoseResponses(0, nil)
				if err != nil {
					t.Fatalf("Close after lost responses: %v", err)
				}
				if got := contentOf(t, e.c, uri); !bytes.Equal(got, tc.data) {
					t.Fatalf("object holds %d bytes, want this write's %d", len(got), len(tc.data))
				}
				if lose > 1 && e.logs.count(slog.LevelWarn, "") == warns {
					t.Error("no Warn record for a write whose response was lost")
				}
			})
		}
	}
	for _, tc := range []struct {
		name      string
		threshold int64
		ops       []string
	}{{"copy", maxCopyObjectSize, []string{"CopyObject"}}, {"multipart-copy", 100, []string{"CompleteMultipartUpload"}}} {
		for _, bucket := range []string{testBucket, cseMetaBucket, cseInstrBucket} {
			t.Run(tc.name+"/"+bucket, func(t *testing.T) {
				e.c.copyThreshold = tc.threshold
				defer func() { e.c.copyThreshold = maxCopyObjectSize }()
				src := "s3://" + bucket + "/lost/src-" + tc.name
				dst := "s3://" + bucket + "/lost/dst-" + tc.name
				if err := create(ctx, e.c, src, small); err != nil {
					t.Fatal(err)
				}
				if err := create(ctx, e.c, dst, []byte("old")); err != nil {
					t.Fatal(err)
				}
				e.st.S3.LoseResponses(100, isOp(tc.ops...))
				err := e.c.Copy(ctx, src, dst)
				e.st.S3.LoseResponses(0, nil)
				if err != nil {
					t.Fatalf("Copy after lost responses: %v", err)
				}
				if got := contentOf(t, e.c, dst); !bytes.Equal(got, small) {
					t.Fatalf("copy holds %q..., want the source", got[:min(len(got), 8)])
				}
			})
		}
	}
	for _, b := range []string{testBucket, cseMetaBucket, cseInstrBucket} {
		if n := openUploads(t, e.api, b); n != 0 {
			t.Errorf("%d multipart uploads left in %s", n, b)
		}
	}
}

// TestCommitRefusedAndLost loses the responses of requests S3 refused
// (If-Match on a stale ETag): a single PUT cannot be told apart from one
// that may still take effect (Unknown), while a multipart upload is
// settled by aborting it (not committed); the bucket agrees with both.
func TestCommitRefusedAndLost(t *testing.T) {
	e := newCommitEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		data        []byte
		op          string
		wantUnknown bool
	}{
		{"put", randomBytes(100, 3), "PutObject", true},
		{"multipart", randomBytes(MinPartSize+100, 4), "CompleteMultipartUpload", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uri := "s3://" + testBucket + "/refused/" + tc.name
			if err := create(ctx, e.c, uri, []byte("old")); err != nil {
				t.Fatal(err)
			}
			e.st.S3.LoseResponses(100, isOp(tc.op))
			err := create(ctx, e.c, uri, tc.data, func(o *CreateOptions) { o.IfMatch = `"0123456789abcdef0123456789abcdef"` })
			e.st.S3.LoseResponses(0, nil)
			var ce *CommitError
			if !errors.As(err, &ce) {
				t.Fatalf("Close = %v, want a *CommitError", err)
			}
			if ce.Unknown != tc.wantUnknown || ce.Committed || errors.Is(err, ErrCommitUnknown) != tc.wantUnknown {
				t.Fatalf("CommitError{Committed: %v, Unknown: %v}, want Unknown %v: %v", ce.Committed, ce.Unknown, tc.wantUnknown, err)
			}
			if got := contentOf(t, e.c, uri); string(got) != "old" {
				t.Fatalf("object = %d bytes, want the old one", len(got))
			}
			if n := openUploads(t, e.api, testBucket); n != 0 {
				t.Errorf("%d multipart uploads left", n)
			}
		})
	}
}

// TestCommitRandomCancellation cancels writes and copies at random points
// — when the k-th S3 request of the operation arrives, or once S3 has
// carried it out but before the client hears so — and checks that every
// outcome agrees with the bucket: an error leaves the old object, success
// leaves this write's.
func TestCommitRandomCancellation(t *testing.T) {
	e := newCommitEnv(t)
	e.c.copyThreshold = 4 << 10 // larger copies take UploadPartCopy
	rng := rand.New(rand.NewPCG(16, 1))
	n := 100
	if raceEnabled {
		n = 25 // the race detector makes each operation ~20 times slower
	}
	var ok, failed, unknown, disagree int
	var target atomic.Int64 // the request (1-based) to cancel at; 0: none
	var atDone atomic.Bool  // cancel once it has been carried out, not when it arrives
	var arrived, done atomic.Int64
	var cancel atomic.Pointer[context.CancelFunc]
	e.st.S3.OnRequest(func(r emrfstest.S3Request, handled bool) {
		var k int64
		if handled {
			k = done.Add(1)
		} else {
			k = arrived.Add(1)
		}
		if handled == atDone.Load() && k == target.Load() {
			if f := cancel.Load(); f != nil {
				(*f)()
			}
		}
	})
	buckets := []string{testBucket, cseMetaBucket, cseInstrBucket}
	for i := range n {
		bucket := buckets[rng.IntN(len(buckets))]
		copyOp := rng.IntN(3) == 0
		size := 1000 + rng.IntN(5000)
		if !copyOp && rng.IntN(3) == 0 {
			size = MinPartSize + 1000
		}
		data := randomBytes(size, uint64(100+i))
		uri := fmt.Sprintf("s3://%s/cancel/%d", bucket, i)
		src := uri + "-src"
		if err := create(context.Background(), e.c, uri, []byte("old")); err != nil {
			t.Fatal(err)
		}
		if copyOp {
			if err := create(context.Background(), e.c, src, data); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cf := context.WithCancel(context.Background())
		cancel.Store(&cf)
		arrived.Store(0)
		done.Store(0)
		atDone.Store(rng.IntN(2) == 0)
		target.Store(int64(1 + rng.IntN(7)))
		var err error
		if copyOp {
			err = e.c.Copy(ctx, src, uri)
		} else {
			err = create(ctx, e.c, uri, data)
		}
		target.Store(0)
		cf()
		got := contentOf(t, e.c, uri)
		switch {
		case errors.Is(err, ErrCommitUnknown):
			unknown++
		case err == nil && bytes.Equal(got, data):
			ok++
		case err != nil && string(got) == "old":
			failed++
		default:
			disagree++
			t.Errorf("op %d (%s, copy %v, %d bytes, cancel at request %d): error %v, but the object holds %d bytes (this write's: %v)",
				i, bucket, copyOp, size, target.Load(), err, len(got), bytes.Equal(got, data))
		}
	}
	e.st.S3.OnRequest(nil)
	t.Logf("%d operations: %d succeeded, %d failed leaving the old object, %d unknown, %d disagreeing", n, ok, failed, unknown, disagree)
	if unknown != 0 {
		t.Errorf("%d outcomes unknown; the stack never loses a response, so every outcome can be found out", unknown)
	}
	if failed == 0 || ok == 0 {
		t.Errorf("the cancellation points did not reach both outcomes (%d ok, %d failed)", ok, failed)
	}
	for _, b := range buckets {
		if n := openUploads(t, e.api, b); n != 0 {
			t.Errorf("%d multipart uploads left in %s", n, b)
		}
	}
}

// TestWriteLogging: a successful write logs nothing above Debug; an abort
// is logged at Debug; a write whose outcome was in doubt at Warn.
func TestWriteLogging(t *testing.T) {
	e := newCommitEnv(t)
	ctx := context.Background()
	if err := create(ctx, e.c, "s3://"+cseMetaBucket+"/log/ok", randomBytes(MinPartSize+10, 16)); err != nil {
		t.Fatal(err)
	}
	if n := e.logs.count(slog.LevelWarn, "") + e.logs.count(slog.LevelInfo, "") + e.logs.count(slog.LevelError, ""); n != 0 {
		t.Errorf("%d records above Debug for a successful write", n)
	}
	w, err := e.c.Create(ctx, "s3://"+testBucket+"/log/aborted")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(randomBytes(MinPartSize+10, 17)); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if e.logs.count(slog.LevelDebug, "aborted multipart upload") != 1 {
		t.Error("no Debug record of the abort")
	}
	e.st.S3.LoseResponses(100, isOp("CompleteMultipartUpload"))
	err = create(ctx, e.c, "s3://"+testBucket+"/log/doubt", randomBytes(MinPartSize+10, 18))
	e.st.S3.LoseResponses(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.logs.count(slog.LevelWarn, "the write succeeded") != 1 {
		t.Error("no Warn record of the write whose outcome was in doubt")
	}
}

// TestCopyKeepsAttributes: a server-side copy gives its metadata again
// (REPLACE) with a write token of its own, keeping the source's metadata
// and content headers; a source whose metadata leaves no room for a token
// is copied as before (COPY).
func TestCopyKeepsAttributes(t *testing.T) {
	e := newCommitEnv(t)
	ctx := context.Background()
	src := "s3://" + testBucket + "/attrs/src"
	if err := create(ctx, e.c, src, []byte("data"), func(o *CreateOptions) {
		o.ContentType, o.ContentEncoding, o.ContentDisposition = "text/csv", "gzip", "inline"
		o.Metadata = map[string]string{"team": "etl"}
	}); err != nil {
		t.Fatal(err)
	}
	for _, threshold := range []int64{maxCopyObjectSize, 1} {
		e.c.copyThreshold = threshold
		dst := fmt.Sprintf("s3://%s/attrs/dst-%d", testBucket, threshold)
		if err := e.c.Copy(ctx, src, dst); err != nil {
			t.Fatal(err)
		}
		sh, err := e.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("attrs/src")})
		if err != nil {
			t.Fatal(err)
		}
		dh, err := e.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(strings.TrimPrefix(dst, "s3://"+testBucket+"/"))})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(dh.ContentType) != "text/csv" || aws.ToString(dh.ContentEncoding) != "gzip" || aws.ToString(dh.ContentDisposition) != "inline" || dh.Metadata["team"] != "etl" {
			t.Errorf("threshold %d: copy has Content-Type %q, Content-Encoding %q, Content-Disposition %q, metadata %v",
				threshold, aws.ToString(dh.ContentType), aws.ToString(dh.ContentEncoding), aws.ToString(dh.ContentDisposition), dh.Metadata)
		}
		if tok := dh.Metadata[WriteTokenKey]; tok == "" || tok == sh.Metadata[WriteTokenKey] {
			t.Errorf("threshold %d: copy's write token %q, source's %q: want its own", threshold, tok, sh.Metadata[WriteTokenKey])
		}
	}
	e.c.copyThreshold = maxCopyObjectSize
	big := "s3://" + testBucket + "/attrs/bigmeta"
	if err := create(ctx, e.c, big, []byte("data"), func(o *CreateOptions) {
		o.Metadata = map[string]string{"pad": strings.Repeat("x", maxMetadataSize-20)} // no room for a token
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Copy(ctx, big, big+"-copy"); err != nil {
		t.Fatal(err)
	}
	dh, err := e.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("attrs/bigmeta-copy")})
	if err != nil {
		t.Fatal(err)
	}
	if len(dh.Metadata["pad"]) != maxMetadataSize-20 || dh.Metadata[WriteTokenKey] != "" {
		t.Errorf("copy of a source with full metadata: pad %d bytes, token %q", len(dh.Metadata["pad"]), dh.Metadata[WriteTokenKey])
	}
}
