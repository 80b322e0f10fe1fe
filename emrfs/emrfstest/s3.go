package emrfstest

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/emrs3/emrs3/emrfs/emrfstest/internal/sigv4"
)

// S3 is the Amazon S3 emulator of a Stack: gofakes3 with the in-memory
// s3mem backend behind SigV4 verification, per-principal grants, a request
// log and fault injection. Addressing is path-style only.
//
// SSE-KMS is checked against the stack's KMS as S3 does it: writes with
// x-amz-server-side-encryption: aws:kms resolve the named key (or the AWS
// managed alias/aws/s3) as the caller and record a GenerateDataKey call;
// GetObject of such an object records a Decrypt call. Denied, unknown or
// disabled keys fail the S3 request with AccessDenied, KMS.NotFoundException
// or KMS.DisabledException. The bytes are stored unencrypted.
//
// SSE-C is checked as S3 does: reads, copies and the parts of a multipart
// upload must present the key the object (or upload) was created with, and
// CompleteMultipartUpload too when the upload was created with a checksum
// algorithm.
type S3 struct {
	st      *Stack
	handler http.Handler
	backend *s3mem.Backend

	mu         sync.Mutex
	grants     map[string][]s3Grant // by principal or role ARN
	requests   []S3Request
	breakAfter int64                 // -1: none pending
	breakCount int                   // GETs left to cut after breakAfter bytes
	failGets   int                   // GETs left to answer with 500 InternalError
	uploads    map[string]uploadSSEC // multipart uploads in progress, by ID
	lose       lostResponses         // pending LoseResponses
	hook       func(S3Request, bool) // OnRequest

	keys keyLocks // held by requests that commit to a key

	sums map[string][2]string // full-object checksum (header, value) of PutObject objects, by bucket/key
}

// S3Request is one request the S3 emulator received.
type S3Request struct {
	Method string     // HTTP method
	Bucket string     // "" for service-level requests
	Key    string     // "" for bucket-level requests
	Query  url.Values // query parameters as received (presigned ones included)
	// Principal is the caller: a user ARN, the role ARN for assumed-role
	// credentials, or "" when authentication failed.
	Principal string
	// Header is the request header as received, without secrets:
	// Authorization, X-Amz-Security-Token and SSE-C keys are removed (the
	// SSE-C key MD5 headers stay).
	Header http.Header
	// Status is the HTTP status of the response (0 if the connection was
	// cut by BreakNextGet before a status was written). For a request whose
	// response LoseResponses discarded, the status it would have had.
	Status int
	// Lost reports that the request was carried out but its response was
	// discarded by LoseResponses: the client never heard Status.
	Lost bool
}

type s3Grant struct {
	bucket, prefix string
	write          bool
}

func newS3(st *Stack) *S3 {
	backend := s3mem.New()
	f := gofakes3.New(s3Backend{backend},
		gofakes3.WithLogger(gofakes3.DiscardLog()),
		gofakes3.WithTimeSkewLimit(0), // the SigV4 verifier checks the clock
		// S3 limits user metadata alone (checkMetadataSize); gofakes3
		// would count every stored header.
		gofakes3.WithMetadataSizeLimit(0),
	)
	return &S3{st: st, handler: keepHeaders(f.Server()), backend: backend, grants: map[string][]s3Grant{}, breakAfter: -1, uploads: map[string]uploadSSEC{}}
}

// Grant allows principalOrRoleARN to read (and, with write, to write and
// delete) keys of bucket starting with prefix ("" = the whole bucket).
// Listing is allowed when the requested prefix lies inside a grant; bucket
// creation and deletion need a write grant on the whole bucket.
//
// A user without grants has full access (unless restricted with
// S3.Restrict); once any grant exists for it, it is limited to its grants
// and gets AccessDenied otherwise. For assumed-role credentials the role
// ARN is the principal, and a role has no access until granted. The admin
// always has full access.
func (s *S3) Grant(principalOrRoleARN, bucket, prefix string, write bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grants[principalOrRoleARN] = append(s.grants[principalOrRoleARN], s3Grant{bucket: bucket, prefix: prefix, write: write})
}

// Requests returns a copy of every request received so far, oldest first.
func (s *S3) Requests() []S3Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]S3Request, len(s.requests))
	for i, r := range s.requests {
		r.Query = cloneValues(r.Query)
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// ResetRequests clears the request log.
func (s *S3) ResetRequests() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

// BreakNextGet makes the next GetObject response stop after afterBytes
// bytes of body: the headers (with the full Content-Length) and the first
// afterBytes bytes are sent, then the connection is closed. The fault is
// used up by the next GetObject even if the object is shorter.
func (s *S3) BreakNextGet(afterBytes int64) { s.BreakNextGets(1, afterBytes) }

// BreakNextGets is BreakNextGet for the next n GetObject responses: each
// is cut after afterBytes bytes of body.
func (s *S3) BreakNextGets(n int, afterBytes int64) {
	s.mu.Lock()
	s.breakAfter, s.breakCount = max(afterBytes, 0), n
	if n <= 0 {
		s.breakAfter, s.breakCount = -1, 0
	}
	s.mu.Unlock()
}

// FailNextGets makes the next n GetObject requests fail with HTTP 500
// InternalError (which the SDKs retry) before reaching the object.
func (s *S3) FailNextGets(n int) {
	s.mu.Lock()
	s.failGets = max(n, 0)
	s.mu.Unlock()
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// splitPath returns the bucket and key of a path-style request.
func splitPath(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

// logRequest appends r to the request log and returns its index.
func (s *S3) logRequest(r *http.Request, principal string) int {
	bucket, key := splitPath(r.URL.Path)
	h := r.Header.Clone()
	h.Del("Authorization")
	h.Del("X-Amz-Security-Token")
	h.Del(hdrSSECKey)
	h.Del(hdrCopySSECKey)
	req := S3Request{Method: r.Method, Bucket: bucket, Key: key, Query: r.URL.Query(), Principal: principal, Header: h}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
	return len(s.requests) - 1
}

func (s *S3) setStatus(i, status int) {
	s.mu.Lock()
	if i >= 0 && i < len(s.requests) {
		s.requests[i].Status = status
	}
	s.mu.Unlock()
}

func (s *S3) serve(w http.ResponseWriter, r *http.Request, c caller, res *sigv4.Result) {
	idx := s.logRequest(r, c.arn)
	sw := &statusWriter{ResponseWriter: w}
	logged := s.request(idx)
	sum := uploadChecksum(r.Header, res.Trailers)
	defer func() {
		if sw.status == 0 {
			sw.status = http.StatusOK // handler returned without writing
		}
		s.setStatus(idx, sw.status)
		s.recordChecksum(logged, sw.status, sum)
	}()

	if err := s.authorize(r, c); err != nil {
		writeS3Error(sw, http.StatusForbidden, "AccessDenied", err.Error(), r.URL.Path)
		return
	}
	if isDeleteObjects(r) {
		s.serveDeleteObjects(sw, r, c)
		return
	}
	if r.Method == http.MethodPut {
		if code, msg := verifyChecksums(r, res.Trailers); code != "" {
			writeS3Error(sw, http.StatusBadRequest, code, msg, r.URL.Path)
			return
		}
	}
	bucket, key := splitPath(r.URL.Path)
	isObject := bucket != "" && key != ""
	getObject := r.Method == http.MethodGet && isObject && !isSubresource(r.URL.Query())
	readObject := getObject || r.Method == http.MethodHead && isObject
	writeObject := isObject && (r.Method == http.MethodPut && !r.URL.Query().Has("partNumber") || r.Method == http.MethodPost && r.URL.Query().Has("uploads"))
	sseErr := s.checkSSEC(r, bucket, key, writeObject, readObject)
	if sseErr == nil {
		sseErr = s.checkUploadSSEC(r)
	}
	createUpload := isCreateUpload(r, isObject)
	upload := newUploadSSEC(r)
	sanitizeHeaders(r.Header)
	switch {
	case sseErr != nil:
	case writeObject:
		sseErr = s.sseKMSWrite(r, c, bucket, key)
	case getObject:
		sseErr = s.sseKMSRead(c, bucket, key)
	}
	if sseErr != nil {
		var e *s3Error
		if !errors.As(sseErr, &e) {
			e = &s3Error{http.StatusInternalServerError, "InternalError", sseErr.Error()}
		}
		writeS3Error(sw, e.status, e.code, e.msg, r.URL.Path)
		return
	}

	s.prepareCopy(r)

	req := s.request(idx)
	op := req.Op()
	if op == "UploadPartCopy" {
		if e := s.preparePartCopy(r); e != nil {
			writeS3Error(sw, e.status, e.code, e.msg, r.URL.Path)
			return
		}
	}
	if e := checkMetadataSize(r, op); e != nil {
		writeS3Error(sw, e.status, e.code, e.msg, r.URL.Path)
		return
	}
	if commits(op) {
		unlock := s.keys.lock(bucket + "/" + key)
		defer unlock()
		if op == "CompleteMultipartUpload" || op == "CopyObject" {
			if e := s.checkConditions(r, bucket, key); e != nil {
				writeS3Error(sw, e.status, e.code, e.msg, r.URL.Path)
				return
			}
		}
	}
	s.addChecksumHeader(sw, logged)
	s.mu.Lock()
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		hook(req, false)
	}
	lost := s.takeLoss(req)
	if lost || (hook != nil && op != "GetObject") {
		// Carry the request out, then decide what the client hears.
		held := newHeldResponse()
		s.handle(held, r)
		if createUpload {
			c := &uploadIDCapture{ResponseWriter: newHeldResponse()}
			_, _ = c.Write(held.body.Bytes())
			s.recordUpload(c, upload)
		}
		status := held.status
		if status == 0 {
			status = http.StatusOK
		}
		s.forgetUpload(r, status)
		if hook != nil {
			hook(s.request(idx), true)
		}
		if lost {
			// Log the outcome before the connection is cut: the client
			// may read the log as soon as it hears nothing.
			sw.status = status
			s.setStatus(idx, status)
			s.setLost(idx)
			cutConnection(w)
			return
		}
		held.send(sw)
		return
	}

	var out http.ResponseWriter = sw
	if getObject {
		s.mu.Lock()
		fail := s.failGets > 0
		if fail {
			s.failGets--
		}
		s.mu.Unlock()
		if fail {
			writeS3Error(sw, http.StatusInternalServerError, "InternalError", "injected by FailNextGets", r.URL.Path)
			return
		}
		s.mu.Lock()
		n := s.breakAfter
		if s.breakCount--; s.breakCount <= 0 {
			s.breakAfter, s.breakCount = -1, 0
		}
		s.mu.Unlock()
		if n >= 0 {
			out = &breakingWriter{ResponseWriter: sw, remaining: n}
		}
	}
	if createUpload {
		capture := &uploadIDCapture{ResponseWriter: out}
		s.handle(capture, r)
		s.recordUpload(capture, upload)
		return
	}
	if s.serveListURLEncoded(out, r) {
		return
	}
	s.handle(out, r)
	s.forgetUpload(r, sw.status)
}

// isSubresource reports whether a GET on a key addresses something other
// than the object data (ACL, tagging, parts of an upload...).
func isSubresource(q url.Values) bool {
	for _, k := range []string{"acl", "tagging", "uploadId", "attributes", "legal-hold", "retention", "torrent"} {
		if q.Has(k) {
			return true
		}
	}
	return false
}

// sanitizeHeaders drops request headers that gofakes3 would otherwise store
// as object metadata and echo on GET (it keeps every X-Amz-* header):
// signing and transport headers, checksums, and SSE-C key material.
func sanitizeHeaders(h http.Header) {
	for k := range h {
		lk := strings.ToLower(k)
		switch {
		case lk == "x-amz-content-sha256", lk == "x-amz-date", lk == "x-amz-security-token",
			lk == "x-amz-decoded-content-length", lk == "x-amz-trailer", lk == "x-amz-user-agent",
			lk == "x-amz-sdk-checksum-algorithm", lk == "x-amz-checksum-algorithm", lk == "x-amz-checksum-type",
			strings.HasPrefix(lk, "x-amz-checksum-"),
			strings.HasPrefix(lk, "amz-sdk-"),
			strings.HasSuffix(lk, "-customer-key"):
			h.Del(k)
		}
	}
}

// statusWriter records the response status.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status != 0 {
		// gofakes3 writes an error status after a body it could not
		// finish (the client went away); the status is already sent.
		return
	}
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var errBrokenConnection = errors.New("emrfstest: connection cut by BreakNextGet")

// breakingWriter passes remaining body bytes through, then closes the
// connection under the response.
type breakingWriter struct {
	http.ResponseWriter
	remaining int64
	broken    bool
	status    int
}

func (b *breakingWriter) WriteHeader(code int) {
	if b.broken {
		return // the handler reports the write error; the connection is gone
	}
	b.status = code
	b.ResponseWriter.WriteHeader(code)
}

func (b *breakingWriter) Write(p []byte) (int, error) {
	if b.broken {
		return 0, errBrokenConnection
	}
	if b.status != 0 && b.status != http.StatusOK && b.status != http.StatusPartialContent {
		return b.ResponseWriter.Write(p) // errors are not cut
	}
	if int64(len(p)) < b.remaining {
		n, err := b.ResponseWriter.Write(p)
		b.remaining -= int64(n)
		return n, err
	}
	n, _ := b.ResponseWriter.Write(p[:b.remaining])
	b.broken = true
	b.cut()
	return n, errBrokenConnection
}

func (b *breakingWriter) cut() {
	rc := http.NewResponseController(b.ResponseWriter)
	_ = rc.Flush()
	conn, buf, err := rc.Hijack()
	if err != nil {
		return
	}
	_ = buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func (b *breakingWriter) Unwrap() http.ResponseWriter { return b.ResponseWriter }
