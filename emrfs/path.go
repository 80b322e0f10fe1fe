package emrfs

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidURI is returned (wrapped) for a URI that is not an s3://, s3a://
// or s3n:// URI with a bucket name.
var ErrInvalidURI = errors.New("emrfs: invalid S3 URI")

// Location is a parsed S3 URI.
type Location struct {
	Scheme string // "s3", "s3a" or "s3n"
	Bucket string
	Key    string // without a leading slash; "" for the bucket root
}

// String returns the URI in its original scheme.
func (l Location) String() string {
	return l.Scheme + "://" + l.Bucket + "/" + l.Key
}

// ParseURI parses an s3://, s3a:// or s3n:// URI into bucket and key.
// The key keeps any trailing slash; a query or fragment is not allowed
// because S3 keys may contain '?' and '#' literally, so they are kept as part
// of the key.
func ParseURI(uri string) (Location, error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return Location{}, fmt.Errorf("%w %q: want s3://bucket/key", ErrInvalidURI, uri)
	}
	switch strings.ToLower(scheme) {
	case "s3", "s3a", "s3n":
	default:
		return Location{}, fmt.Errorf("%w %q: scheme %q is not s3, s3a or s3n", ErrInvalidURI, uri, scheme)
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return Location{}, fmt.Errorf("%w %q: no bucket name", ErrInvalidURI, uri)
	}
	if strings.ContainsAny(bucket, " \t\r\n?#@:") {
		return Location{}, fmt.Errorf("%w %q: bucket name %q has invalid characters", ErrInvalidURI, uri, bucket)
	}
	return Location{Scheme: strings.ToLower(scheme), Bucket: bucket, Key: key}, nil
}
