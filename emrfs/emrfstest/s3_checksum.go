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
