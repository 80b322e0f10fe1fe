package emrfstest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Restrict limits the user principalARN (UserARN(NAME)) to its S3.Grant
// grants even while it has none, so that it is refused every S3 request
// until a grant allows it, like an IAM user without policies. Use it for a
// cluster principal whose credentials must never reach S3 directly, so
// that a fallback to them shows up as AccessDenied. Assumed-role
// principals are restricted from the start; the admin cannot be.
func (s *S3) Restrict(principalARN string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.grants[principalARN]; !ok {
		s.grants[principalARN] = []s3Grant{}
	}
}

// authorize checks c's grants for the S3 operation r. Users without grants
// have full access unless restricted; assumed roles need grants.
func (s *S3) authorize(r *http.Request, c caller) error {
	if c.isAdmin() {
		return nil
	}
	s.mu.Lock()
	listed, restricted := s.grants[c.arn]
	grants := append([]s3Grant(nil), listed...)
	s.mu.Unlock()
	if !restricted && c.session == "" {
		return nil
	}
	if len(grants) == 0 {
		why := "it was restricted with S3.Restrict"
		if c.session != "" {
			why = "assumed roles start with no permissions"
		}
		return fmt.Errorf("%s has no S3.Grant (%s) and may not %s %s", c.arn, why, r.Method, r.URL.Path)
	}
	bucket, key := splitPath(r.URL.Path)
	q := r.URL.Query()
	deny := func(action, res string) error {
		return fmt.Errorf("%s is not allowed to %s arn:aws:s3:::%s (no S3.Grant covers it)", c.arn, action, res)
	}
	covers := func(b, k string, write bool) bool {
		for _, g := range grants {
			if g.bucket == b && strings.HasPrefix(k, g.prefix) && (g.write || !write) {
				return true
			}
		}
		return false
	}
	switch {
	case bucket == "":
		return nil // ListBuckets
	case key == "":
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			if q.Has("uploads") || r.Method == http.MethodGet && !q.Has("location") && !q.Has("versioning") && !q.Has("acl") && !q.Has("policy") {
				if !covers(bucket, q.Get("prefix"), false) {
					return deny("list", bucket+"/"+q.Get("prefix"))
				}
				return nil
			}
			for _, g := range grants {
				if g.bucket == bucket {
					return nil
				}
			}
			return deny("read", bucket)
		case http.MethodPost:
			if q.Has("delete") {
				// As in S3, DeleteObjects is authorized per key: keys
				// without a write grant fail with AccessDenied in the
				// result (deleteMulti) and the others are deleted.
				return nil
			}
		}
		if !covers(bucket, "", true) || !wholeBucket(grants, bucket) {
			return deny("manage bucket", bucket)
		}
		return nil
	}
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	if !covers(bucket, key, write) {
		action := "read"
		if write {
			action = "write"
		}
		return deny(action, bucket+"/"+key)
	}
	if src := r.Header.Get("X-Amz-Copy-Source"); src != "" && r.Method == http.MethodPut {
		sb, sk := copySource(src)
		if !covers(sb, sk, false) {
			return deny("read", sb+"/"+sk)
		}
	}
	return nil
}

func wholeBucket(grants []s3Grant, bucket string) bool {
	for _, g := range grants {
		if g.bucket == bucket && g.prefix == "" && g.write {
			return true
		}
	}
	return false
}

// copySource returns the bucket and key of an X-Amz-Copy-Source value
// ("bucket/key", URL-encoded, optionally with a leading "/" and
// "?versionId=").
func copySource(src string) (bucket, key string) {
	src, _, _ = strings.Cut(src, "?versionId=")
	if dec, err := url.PathUnescape(src); err == nil {
		src = dec
	}
	return splitPath("/" + strings.TrimPrefix(src, "/"))
}
