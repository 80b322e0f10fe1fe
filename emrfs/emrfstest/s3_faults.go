package emrfstest

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/johannesboyne/gofakes3"
)

// Op returns the S3 operation of the request, named as in the S3 API
// ("PutObject", "UploadPart", "CopyObject", "UploadPartCopy",
// "CreateMultipartUpload", "CompleteMultipartUpload",
// "AbortMultipartUpload", "GetObject", "HeadObject", "DeleteObject",
// "DeleteObjects", "ListObjectsV2", ...), or "" when it is none of those.
func (r S3Request) Op() string {
	return opOf(r.Method, r.Bucket, r.Key, r.Query, r.Header)
}

func opOf(method, bucket, key string, q url.Values, h http.Header) string {
	object := bucket != "" && key != ""
	copySrc := h.Get("X-Amz-Copy-Source") != ""
	switch {
	case !object && method == http.MethodPost && q.Has("delete"):
		return "DeleteObjects"
	case !object && method == http.MethodGet && bucket != "" && q.Get("list-type") == "2":
		return "ListObjectsV2"
	case !object:
		return ""
	case method == http.MethodPut && q.Has("partNumber") && copySrc:
		return "UploadPartCopy"
	case method == http.MethodPut && q.Has("partNumber"):
		return "UploadPart"
	case method == http.MethodPut && q.Has("tagging"):
		return "PutObjectTagging"
	case method == http.MethodPut && copySrc:
		return "CopyObject"
	case method == http.MethodPut:
		return "PutObject"
	case method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload"
	case method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	case method == http.MethodDelete && q.Has("uploadId"):
		return "AbortMultipartUpload"
	case method == http.MethodDelete:
		return "DeleteObject"
	case method == http.MethodGet && q.Has("tagging"):
		return "GetObjectTagging"
	case method == http.MethodGet && q.Has("uploadId"):
		return "ListParts"
	case method == http.MethodGet:
		return "GetObject"
	case method == http.MethodHead:
		return "HeadObject"
	}
	return ""
}

// commits reports whether op can change which object a key holds.
func commits(op string) bool {
	switch op {
	case "PutObject", "CopyObject", "CompleteMultipartUpload", "DeleteObject":
		return true
	}
	return false
}

// lostResponses is a pending LoseResponses fault.
type lostResponses struct {
	n     int
	match func(S3Request) bool
}

// LoseResponses makes the next n requests for which match returns true
// (nil matches every request) be carried out as usual — an upload is
// stored, a copy made, an upload completed — and then get no response: the
// connection is closed before the status line, as when a network fails
// after S3 has acted. Such requests are logged with Lost set. A new call
// replaces a pending one; n <= 0 clears it.
func (s *S3) LoseResponses(n int, match func(r S3Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		s.lose = lostResponses{}
		return
	}
	if match == nil {
		match = func(S3Request) bool { return true }
	}
	s.lose = lostResponses{n: n, match: match}
}

// OnRequest sets fn (nil removes it) to be called for every S3 request
// that passed authentication: with handled false when it arrives, before
// it is carried out, and with handled true once it has been carried out,
// before its response is sent (responses to anything but GetObject are
// held back until fn returns). Tests use it to act at exact points of an
// operation — cancel a context once an upload has been committed but
// before the client has heard so. fn runs on the server's goroutines,
// possibly concurrently, and must not call back into the S3 emulator's
// request handling (Requests and the other accessors are fine).
func (s *S3) OnRequest(fn func(r S3Request, handled bool)) {
	s.mu.Lock()
	s.hook = fn
	s.mu.Unlock()
}

// takeLoss reports whether the response to req is to be lost, using up one
// pending LoseResponses.
func (s *S3) takeLoss(req S3Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lose.n <= 0 || !s.lose.match(req) {
		return false
	}
	if s.lose.n--; s.lose.n == 0 {
		s.lose = lostResponses{}
	}
	return true
}

func (s *S3) request(i int) S3Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.requests[i]
	r.Query = cloneValues(r.Query)
	r.Header = r.Header.Clone()
	return r
}

func (s *S3) setLost(i int) {
	s.mu.Lock()
	if i >= 0 && i < len(s.requests) {
		s.requests[i].Lost = true
	}
	s.mu.Unlock()
}

// heldResponse keeps a response (status, headers, body) to send later, or
// never.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newHeldResponse() *heldResponse { return &heldResponse{header: http.Header{}} }

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}

func (h *heldResponse) Write(p []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(p)
}

// send writes the held response to w.
func (h *heldResponse) send(w http.ResponseWriter) {
	for k, v := range h.header {
		w.Header()[k] = v
	}
	if h.status == 0 {
		h.status = http.StatusOK
	}
	w.WriteHeader(h.status)
	_, _ = w.Write(h.body.Bytes())
}

// cutConnection closes the connection under w without a response.
func cutConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// keyLocks serializes the requests that commit to the same key, so that a
// conditional write checks and commits atomically.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	refs int
}

func (l *keyLocks) lock(k string) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*keyLock{}
	}
	kl := l.m[k]
	if kl == nil {
		kl = &keyLock{}
		l.m[k] = kl
	}
	kl.refs++
	l.mu.Unlock()
	kl.Lock()
	return func() {
		kl.Unlock()
		l.mu.Lock()
		if kl.refs--; kl.refs == 0 {
			delete(l.m, k)
		}
		l.mu.Unlock()
	}
}

// checkConditions evaluates If-Match and If-None-Match on a
// CompleteMultipartUpload or CopyObject (gofakes3 evaluates them only on
// PutObject), as S3 does: 412 PreconditionFailed when the key holds an
// object and If-None-Match is "*", or when If-Match names another ETag or
// the key holds nothing. The caller holds the key's lock.
func (s *S3) checkConditions(r *http.Request, bucket, key string) *s3Error {
	ifMatch, ifNone := r.Header.Get("If-Match"), r.Header.Get("If-None-Match")
	if ifMatch == "" && ifNone == "" {
		return nil
	}
	obj, err := s.backend.HeadObject(bucket, key)
	exists := err == nil && obj != nil
	failed := &s3Error{http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"}
	if ifNone != "" {
		if ifNone != "*" {
			return &s3Error{http.StatusNotImplemented, "NotImplemented", "If-None-Match supports only \"*\" on writes"}
		}
		if exists {
			return failed
		}
	}
	if ifMatch != "" {
		if !exists || strings.Trim(ifMatch, `"`) != strings.Trim(gofakes3.FormatETag(obj.Hash), `"`) {
			return failed
		}
	}
	return nil
}

// maxUserMetadata is S3's limit on an object's user metadata: the UTF-8
// bytes of the keys (without "x-amz-meta-") and values.
const maxUserMetadata = 2 << 10

// checkMetadataSize refuses a write whose user metadata passes S3's limit.
func checkMetadataSize(r *http.Request, op string) *s3Error {
	switch op {
	case "PutObject", "CreateMultipartUpload", "CopyObject":
	default:
		return nil
	}
	n := 0
	for k, v := range r.Header {
		if len(k) > len("X-Amz-Meta-") && strings.EqualFold(k[:len("X-Amz-Meta-")], "X-Amz-Meta-") && len(v) > 0 {
			n += len(k) - len("X-Amz-Meta-") + len(v[0])
		}
	}
	if n > maxUserMetadata {
		return &s3Error{http.StatusBadRequest, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size (2 KB of user metadata)"}
	}
	return nil
}
