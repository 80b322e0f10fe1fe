package emrfstest

import (
	"bytes"
	"crypto/md5" //nolint:gosec // SSE-C identifies keys by MD5, as S3 does
	"encoding/base64"
	"encoding/xml"
	"net/http"
)

const (
	hdrSSECAlgorithm     = "X-Amz-Server-Side-Encryption-Customer-Algorithm"
	hdrSSECKey           = "X-Amz-Server-Side-Encryption-Customer-Key"
	hdrSSECKeyMD5        = "X-Amz-Server-Side-Encryption-Customer-Key-Md5"
	hdrCopySSECAlgorithm = "X-Amz-Copy-Source-Server-Side-Encryption-Customer-Algorithm"
	hdrCopySSECKey       = "X-Amz-Copy-Source-Server-Side-Encryption-Customer-Key"
	hdrCopySSECKeyMD5    = "X-Amz-Copy-Source-Server-Side-Encryption-Customer-Key-Md5"
)

// ssecParams validates the SSE-C headers of a request (the object's own or
// the copy source's) and fills in a missing key MD5. It returns the key
// MD5, "" when no SSE-C header is present.
func ssecParams(h http.Header, algHdr, keyHdr, md5Hdr string) (string, error) {
	alg, key, sum := h.Get(algHdr), h.Get(keyHdr), h.Get(md5Hdr)
	if alg == "" && key == "" && sum == "" {
		return "", nil
	}
	invalid := func(msg string) error { return &s3Error{http.StatusBadRequest, "InvalidArgument", msg} }
	if alg != "AES256" {
		return "", invalid("SSE-C needs " + algHdr + ": AES256")
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) != 32 {
		return "", invalid("the SSE-C key must be the base64 of 32 bytes")
	}
	want := md5.Sum(raw)
	clear(raw)
	wantB64 := base64.StdEncoding.EncodeToString(want[:])
	if sum == "" {
		// aws-sdk-go-v2 leaves the MD5 to the caller; fill it in so the
		// object records which key it was written with.
		h.Set(md5Hdr, wantB64)
		return wantB64, nil
	}
	if sum != wantB64 {
		return "", invalid("the SSE-C key MD5 does not match the key")
	}
	return sum, nil
}

// checkSSEC enforces S3's SSE-C rules before the request reaches gofakes3
// (which stores the algorithm and key MD5 but never sees the key): writes
// must carry a consistent key; reads (and copies) of an SSE-C object must
// present the key it was written with.
func (s *S3) checkSSEC(r *http.Request, bucket, key string, write, read bool) error {
	sum, err := ssecParams(r.Header, hdrSSECAlgorithm, hdrSSECKey, hdrSSECKeyMD5)
	if err != nil {
		return err
	}
	if read {
		if err := s.matchSSEC(bucket, key, sum); err != nil {
			return err
		}
	}
	if write && r.Header.Get("X-Amz-Copy-Source") != "" {
		srcSum, err := ssecParams(r.Header, hdrCopySSECAlgorithm, hdrCopySSECKey, hdrCopySSECKeyMD5)
		if err != nil {
			return err
		}
		sb, sk := copySource(r.Header.Get("X-Amz-Copy-Source"))
		return s.matchSSEC(sb, sk, srcSum)
	}
	return nil
}

// matchSSEC checks the key MD5 presented for reading bucket/key.
func (s *S3) matchSSEC(bucket, key, sum string) error {
	obj, err := s.backend.HeadObject(bucket, key)
	if err != nil || obj == nil {
		return nil // gofakes3 reports the missing object
	}
	stored := obj.Metadata[hdrSSECKeyMD5]
	switch {
	case stored == "" && sum == "":
		return nil
	case stored == "":
		return &s3Error{http.StatusBadRequest, "InvalidRequest", "the object was not stored with SSE-C; do not send SSE-C headers to read it"}
	case sum == "":
		return &s3Error{http.StatusBadRequest, "InvalidRequest", "the object was stored using SSE-C; send its customer key to read it"}
	case sum != stored:
		return &s3Error{http.StatusForbidden, "AccessDenied", "the SSE-C key does not match the key the object was stored with"}
	}
	return nil
}

// uploadSSEC is what the emulator remembers of a multipart upload to apply
// S3's SSE-C rules to its later calls.
type uploadSSEC struct {
	md5      string // SSE-C key MD5 the upload was created with, "" for none
	checksum bool   // created with x-amz-checksum-algorithm
}

// isCreateUpload reports whether r is a CreateMultipartUpload.
func isCreateUpload(r *http.Request, isObject bool) bool {
	return isObject && r.Method == http.MethodPost && r.URL.Query().Has("uploads")
}

// newUploadSSEC returns the record of the CreateMultipartUpload r, read
// before its headers are sanitized (checkSSEC has filled in the key MD5).
func newUploadSSEC(r *http.Request) uploadSSEC {
	return uploadSSEC{md5: r.Header.Get(hdrSSECKeyMD5), checksum: r.Header.Get("X-Amz-Checksum-Algorithm") != ""}
}

// checkUploadSSEC enforces S3's SSE-C rules on the calls of a multipart
// upload: UploadPart and UploadPartCopy must present the key the upload was
// created with (and none when it was created without SSE-C), and so must
// CompleteMultipartUpload when the upload was created with a checksum
// algorithm — S3 documents the SSE-C fields of CompleteMultipartUpload as
// required then.
func (s *S3) checkUploadSSEC(r *http.Request) error {
	q := r.URL.Query()
	id := q.Get("uploadId")
	part := r.Method == http.MethodPut && q.Has("partNumber")
	complete := r.Method == http.MethodPost
	if id == "" || (!part && !complete) {
		return nil
	}
	s.mu.Lock()
	up, ok := s.uploads[id]
	s.mu.Unlock()
	if !ok || (complete && !up.checksum) {
		return nil // gofakes3 reports unknown uploads
	}
	op := "UploadPart"
	if complete {
		op = "CompleteMultipartUpload"
	}
	sum := r.Header.Get(hdrSSECKeyMD5)
	switch {
	case up.md5 == sum:
		return nil
	case up.md5 == "":
		return &s3Error{http.StatusBadRequest, "InvalidRequest", "the multipart upload was not created with SSE-C; do not send SSE-C headers with " + op}
	case sum == "":
		return &s3Error{http.StatusBadRequest, "InvalidRequest", "the multipart upload was created with SSE-C (and a checksum algorithm); send its customer key with " + op}
	}
	return &s3Error{http.StatusForbidden, "AccessDenied", "the SSE-C key of " + op + " does not match the key the multipart upload was created with"}
}

// uploadIDCapture keeps the body of a CreateMultipartUpload response to
// learn the upload ID.
type uploadIDCapture struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (c *uploadIDCapture) Write(p []byte) (int, error) {
	if c.body.Len() < 64<<10 {
		c.body.Write(p)
	}
	return c.ResponseWriter.Write(p)
}

func (c *uploadIDCapture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// recordUpload remembers the upload created by the response in c.
func (s *S3) recordUpload(c *uploadIDCapture, up uploadSSEC) {
	var res struct {
		UploadID string `xml:"UploadId"`
	}
	if err := xml.Unmarshal(c.body.Bytes(), &res); err != nil || res.UploadID == "" {
		return
	}
	s.mu.Lock()
	s.uploads[res.UploadID] = up
	s.mu.Unlock()
}

// forgetUpload drops the record of an upload completed or aborted by r.
func (s *S3) forgetUpload(r *http.Request, status int) {
	id := r.URL.Query().Get("uploadId")
	if id == "" || status >= 300 || (r.Method != http.MethodPost && r.Method != http.MethodDelete) {
		return
	}
	s.mu.Lock()
	delete(s.uploads, id)
	s.mu.Unlock()
}
