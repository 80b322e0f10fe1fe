package emrfstest

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // S3 checksum algorithm
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
)

var checksumAlgorithms = map[string]func() hash.Hash{
	"X-Amz-Checksum-Crc32":  func() hash.Hash { return crc32.NewIEEE() },
	"X-Amz-Checksum-Crc32c": func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"X-Amz-Checksum-Sha1":   sha1.New,
	"X-Amz-Checksum-Sha256": sha256.New,
}

// verifyChecksums checks the flexible checksums of an upload, sent as
// headers or as aws-chunked trailers, as S3 does. It returns an S3 error
// code and message on mismatch. CRC64NVME is not checked.
func verifyChecksums(r *http.Request, trailers http.Header) (code, msg string) {
	var body []byte
	for name, newHash := range checksumAlgorithms {
		want := r.Header.Get(name)
		if want == "" {
			want = trailers.Get(name)
		}
		if want == "" {
			continue
		}
		if body == nil {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return "IncompleteBody", err.Error()
			}
			body = b
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		h := newHash()
		h.Write(body)
		if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != want {
			return "BadDigest", "the " + name[len("X-Amz-Checksum-"):] + " checksum you specified did not match the calculated checksum"
		}
	}
	return "", ""
}

// uploadChecksum returns the flexible checksum (header name, value) sent
// with an upload, as a header or an aws-chunked trailer, or zero values.
func uploadChecksum(h, trailers http.Header) [2]string {
	for name := range checksumAlgorithms {
		if v := h.Get(name); v != "" {
			return [2]string{name, v}
		}
		if v := trailers.Get(name); v != "" {
			return [2]string{name, v}
		}
	}
	return [2]string{}
}

// recordChecksum remembers the full-object checksum of an object stored by
// a PutObject, and forgets it when another request replaces or deletes the
// object. (Multipart objects have composite checksums, which the SDKs do
// not validate; none is kept for them.)
func (s *S3) recordChecksum(r S3Request, status int, sum [2]string) {
	op := r.Op()
	if status < 200 || status > 299 || !commits(op) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := r.Bucket + "/" + r.Key
	if op == "PutObject" && sum[0] != "" {
		if s.sums == nil {
			s.sums = map[string][2]string{}
		}
		s.sums[k] = sum
		return
	}
	delete(s.sums, k)
}

// addChecksumHeader answers a whole-object GetObject or HeadObject that
// asks for checksums (x-amz-checksum-mode: ENABLED) with the checksum the
// object was uploaded with, as S3 does, so that the SDK validates the
// body.
func (s *S3) addChecksumHeader(w http.ResponseWriter, r S3Request) {
	op := r.Op()
	if op != "GetObject" && op != "HeadObject" || !strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") || r.Header.Get("Range") != "" {
		return
	}
	s.mu.Lock()
	sum, ok := s.sums[r.Bucket+"/"+r.Key]
	s.mu.Unlock()
	if ok {
		w.Header().Set(sum[0], sum[1])
	}
}
