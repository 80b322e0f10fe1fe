package emrfs

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// recorder notes the SSE headers of every request on their way to gofakes3.
type recorder struct {
	mu   sync.Mutex
	seen map[string][]http.Header // S3 operation -> request headers
}

func s3Op(r *http.Request) string {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPut && q.Has("partNumber") && r.Header.Get("X-Amz-Copy-Source") != "":
		return "UploadPartCopy"
	case r.Method == http.MethodPut && q.Has("partNumber"):
		return "UploadPart"
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
		return "CopyObject"
	case r.Method == http.MethodPut:
		return "PutObject"
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	case r.Method == http.MethodGet && q.Get("list-type") == "2":
		return "ListObjectsV2"
	case r.Method == http.MethodGet:
		return "GetObject"
	case r.Method == http.MethodHead:
		return "HeadObject"
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		return "AbortMultipartUpload"
	case r.Method == http.MethodDelete:
		return "DeleteObject"
	}
	return r.Method
}

func newRecordingS3(tb testing.TB) (*s3.Client, *recorder) {
	tb.Helper()
	rec := &recorder{seen: map[string][]http.Header{}}
	backend := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		// The bucket, so that a check is not confused by a request of an
		// earlier step that reaches the server late (a cancelled part).
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		h.Set("X-Test-Bucket", bucket)
		h.Set("X-Test-Key", key)
		rec.mu.Lock()
		rec.seen[s3Op(r)] = append(rec.seen[s3Op(r)], h)
		rec.mu.Unlock()
		backend.ServeHTTP(w, r)
	}))
	tb.Cleanup(ts.Close)
	cl := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
	})
	for _, b := range []string{testBucket, "kms-bucket"} {
		if _, err := cl.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			tb.Fatal(err)
		}
	}
	return cl, rec
}

// TestSSEOnEveryRequest checks, on the wire, that the bucket's SSE settings
// reach every request type: SSE-C on writes, reads, HEAD, parts and copies;
// SSE-KMS on writes only.
func TestSSEOnEveryRequest(t *testing.T) {
	api, rec := newRecordingS3(t)
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	cfg := NewConfig()
	cfg.Set("fs.s3a.bucket."+testBucket+".encryption.algorithm", "SSE-C")
	cfg.Set("fs.s3a.bucket."+testBucket+".encryption.key", base64.StdEncoding.EncodeToString(key))
	cfg.Set("fs.s3a.bucket.kms-bucket.encryption.algorithm", "SSE-KMS")
	cfg.Set("fs.s3a.bucket.kms-bucket.encryption.key", "alias/data")
	c, err := New(api, cfg, func(o *Options) { o.PartSize = MinPartSize })
	if err != nil {
		t.Fatal(err)
	}
	c.copyThreshold = MinPartSize
	ctx := context.Background()

	for _, b := range []string{testBucket, "kms-bucket"} {
		rec.mu.Lock()
		rec.seen = map[string][]http.Header{}
		rec.mu.Unlock()
		small, big := "s3://"+b+"/small", "s3://"+b+"/big"
		writeObject(t, c, small, []byte("small"))
		writeObject(t, c, big, randomBytes(MinPartSize+1, 3))
		_ = readObject(t, c, small)
		_ = c.Copy(ctx, small, "s3://"+b+"/small-copy")
		_ = c.Copy(ctx, big, "s3://"+b+"/big-copy") // UploadPartCopy: gofakes3 rejects it; headers still recorded

		rec.mu.Lock()
		seen := rec.seen
		rec.mu.Unlock()
		for _, op := range []string{"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "GetObject", "HeadObject", "CopyObject", "UploadPartCopy"} {
			hs := seen[op]
			if len(hs) == 0 {
				t.Errorf("%s: no %s request seen", b, op)
				continue
			}
			for _, h := range hs {
				if h.Get("X-Test-Bucket") != b {
					continue
				}
				switch b {
				case testBucket:
					if h.Get("X-Amz-Server-Side-Encryption-Customer-Key-Md5") == "" {
						t.Errorf("%s: %s without SSE-C key", b, op)
					}
					if (op == "CopyObject" || op == "UploadPartCopy") && h.Get("X-Amz-Copy-Source-Server-Side-Encryption-Customer-Key-Md5") == "" {
						t.Errorf("%s: %s without the copy-source SSE-C key", b, op)
					}
				case "kms-bucket":
					write := op == "PutObject" || op == "CreateMultipartUpload" || op == "CopyObject"
					if got := h.Get("X-Amz-Server-Side-Encryption"); (got == "aws:kms") != write {
						t.Errorf("%s: %s has x-amz-server-side-encryption %q", b, op, got)
					}
					if h.Get("X-Amz-Server-Side-Encryption-Customer-Key-Md5") != "" {
						t.Errorf("%s: %s carries an SSE-C key", b, op)
					}
				}
			}
		}
	}
}

// TestSSECMultipartOnStack writes and reads a multipart SSE-C object on the
// emrfstest S3, which refuses the parts and the CompleteMultipartUpload of
// an SSE-C upload created with a checksum algorithm unless they carry its
// key, as S3 does.
func TestSSECMultipartOnStack(t *testing.T) {
	api, st := newTestStack(t)
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(100 + i)
	}
	cfg := NewConfig()
	cfg.Set("fs.s3a.bucket."+testBucket+".encryption.algorithm", "SSE-C")
	cfg.Set("fs.s3a.bucket."+testBucket+".encryption.key", base64.StdEncoding.EncodeToString(key))
	c, err := New(api, cfg, func(o *Options) { o.PartSize = MinPartSize })
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(2*MinPartSize+10, 8)
	uri := "s3://" + testBucket + "/ssec/big"
	writeObject(t, c, uri, data)
	if got := readObject(t, c, uri); !bytes.Equal(got, data) {
		t.Fatal("read back differs")
	}
	var completes int
	for _, r := range st.S3.Requests() {
		if r.Method == http.MethodPost && r.Query.Has("uploadId") {
			completes++
			if r.Status != http.StatusOK || r.Header.Get("X-Amz-Server-Side-Encryption-Customer-Key-Md5") == "" {
				t.Errorf("CompleteMultipartUpload: status %d, SSE-C key MD5 %q", r.Status, r.Header.Get("X-Amz-Server-Side-Encryption-Customer-Key-Md5"))
			}
		}
	}
	if completes != 1 {
		t.Errorf("%d CompleteMultipartUpload requests, want 1", completes)
	}
}

// TestOptionsBucketSSE: Options.Bucket reaches settings no property sets —
// an SSE-KMS bucket key here — on every write request, and a hook that
// leaves SSE and CSE both set fails the operation.
func TestOptionsBucketSSE(t *testing.T) {
	api, rec := newRecordingS3(t)
	cfg := NewConfig()
	cfg.Set("fs.s3a.bucket.kms-bucket.encryption.algorithm", "SSE-KMS")
	cfg.Set("fs.s3a.bucket.kms-bucket.encryption.key", "alias/data")
	c, err := New(api, cfg, func(o *Options) {
		o.PartSize = MinPartSize
		o.Bucket = func(b *Bucket) {
			if b.SSE != nil && b.SSE.Kind == SSEKMS {
				b.SSE.BucketKey = aws.Bool(true)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	writeObject(t, c, "s3://kms-bucket/small", []byte("small"))
	writeObject(t, c, "s3://kms-bucket/big", randomBytes(MinPartSize+1, 4))
	if err := c.Copy(context.Background(), "s3://kms-bucket/small", "s3://kms-bucket/copy"); err != nil {
		t.Fatal(err)
	}
	writeObject(t, c, "s3://"+testBucket+"/plain", []byte("plain"))
	rec.mu.Lock()
	seen := rec.seen
	rec.mu.Unlock()
	for _, op := range []string{"PutObject", "CreateMultipartUpload", "CopyObject"} {
		var n int
		for _, h := range seen[op] {
			if h.Get("X-Test-Key") == "" {
				continue // CreateBucket
			}
			got := h.Get("X-Amz-Server-Side-Encryption-Bucket-Key-Enabled")
			switch h.Get("X-Test-Bucket") {
			case "kms-bucket":
				n++
				if got != "true" {
					t.Errorf("%s to kms-bucket: bucket-key-enabled %q, want true", op, got)
				}
			default:
				if got != "" {
					t.Errorf("%s to a bucket without SSE-KMS: bucket-key-enabled %q", op, got)
				}
			}
		}
		if n == 0 {
			t.Errorf("no %s to kms-bucket seen", op)
		}
	}

	both, err := New(api, cfg, func(o *Options) {
		o.Bucket = func(b *Bucket) { b.CSE = &CSE{Provider: KMSMaterialsProvider, KMSKeyID: "k"} }
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := both.Stat(context.Background(), "s3://kms-bucket/small"); err == nil || !strings.Contains(err.Error(), "mutually exclusive") {
		t.Errorf("Stat with SSE and CSE both set by Options.Bucket = %v", err)
	}
}
