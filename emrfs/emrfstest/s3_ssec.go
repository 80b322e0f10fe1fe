package emrfstest

import (
	"crypto/md5" //nolint:gosec // SSE-C identifies keys by MD5, as S3 does
	"encoding/base64"
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
