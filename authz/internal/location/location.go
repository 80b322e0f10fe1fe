// Package location parses S3 locations (s3://, s3a://, s3n://) and matches
// them against role-mapping prefixes the way EMRFS does.
package location

import (
	"errors"
	"fmt"
	"strings"
)

// Location is a parsed S3 location: a bucket and a key, which may be empty.
type Location struct {
	Bucket string
	Key    string
}

// String returns the location as an s3:// URI.
func (l Location) String() string {
	if l.Key == "" {
		return "s3://" + l.Bucket
	}
	return "s3://" + l.Bucket + "/" + l.Key
}

// ErrSyntax reports a location that is not an s3, s3a or s3n URI.
var ErrSyntax = errors.New("not a valid s3://, s3a:// or s3n:// location")

// ValidBucket reports whether b is acceptable as the bucket part of a
// location: ^[a-zA-Z0-9.\-_]{1,255}$, as EMRFS requires.
func ValidBucket(b string) bool {
	if len(b) < 1 || len(b) > 255 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// split removes a case-insensitive s3, s3a or s3n scheme and returns the rest.
func split(uri string) (string, bool) {
	i := strings.Index(uri, "://")
	if i < 0 {
		return "", false
	}
	switch strings.ToLower(uri[:i]) {
	case "s3", "s3a", "s3n":
		return uri[i+3:], true
	}
	return "", false
}

// Parse parses a request location such as s3a://bucket/dir/file.
func Parse(uri string) (Location, error) {
	rest, ok := split(uri)
	if !ok {
		return Location{}, fmt.Errorf("location %q: %w", uri, ErrSyntax)
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if !ValidBucket(bucket) {
		return Location{}, fmt.Errorf("location %q: bucket %q must match [a-zA-Z0-9.-_]{1,255}: %w", uri, bucket, ErrSyntax)
	}
	return Location{Bucket: bucket, Key: key}, nil
}

// Prefix is a normalized role-mapping prefix.
type Prefix struct {
	Bucket string
	// Key is the key prefix; it is only meaningful when BucketOnly is false.
	Key string
	// BucketOnly is set for prefixes without a "/" after the bucket
	// (s3://data): they match the whole bucket "data" and no other bucket.
	BucketOnly bool
}

// String returns the canonical s3:// form of the prefix.
func (p Prefix) String() string {
	if p.BucketOnly {
		return "s3://" + p.Bucket
	}
	return "s3://" + p.Bucket + "/" + p.Key
}

// ParsePrefix parses a Prefix identifier: the scheme may be s3, s3a or s3n,
// one trailing "*" is stripped, and the bucket must be valid.
func ParsePrefix(id string) (Prefix, error) {
	rest, ok := split(strings.TrimSpace(id))
	if !ok {
		return Prefix{}, fmt.Errorf("prefix %q: %w", id, ErrSyntax)
	}
	rest = strings.TrimSuffix(rest, "*")
	bucket, key, hasSlash := strings.Cut(rest, "/")
	if !ValidBucket(bucket) {
		return Prefix{}, fmt.Errorf("prefix %q: bucket %q must match [a-zA-Z0-9.-_]{1,255}: %w", id, bucket, ErrSyntax)
	}
	return Prefix{Bucket: bucket, Key: key, BucketOnly: !hasSlash}, nil
}

// Match reports whether the location lies under the prefix. Buckets compare
// exactly; keys compare as S3 string prefixes.
func (p Prefix) Match(l Location) bool {
	if l.Bucket != p.Bucket {
		return false
	}
	return p.BucketOnly || strings.HasPrefix(l.Key, p.Key)
}
