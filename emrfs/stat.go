package emrfs

import (
	"context"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// FileInfo describes an S3 object, or a "directory" (a common prefix). It
// implements fs.FileInfo.
type FileInfo struct {
	uri      string
	name     string
	size     int64
	modTime  time.Time
	etag     string
	dir      bool
	metadata map[string]string
	headers  statHeaders
}

// statHeaders are the standard HTTP headers of an object, as returned
// by HeadObject or GetObject.
type statHeaders struct {
	contentType, cacheControl, contentEncoding, contentDisposition, contentLanguage string
}

// headersOf collects an object's standard HTTP headers.
func headersOf(contentType, cacheControl, contentEncoding, contentDisposition, contentLanguage *string) statHeaders {
	return statHeaders{
		contentType:        aws.ToString(contentType),
		cacheControl:       aws.ToString(cacheControl),
		contentEncoding:    aws.ToString(contentEncoding),
		contentDisposition: aws.ToString(contentDisposition),
		contentLanguage:    aws.ToString(contentLanguage),
	}
}

// Name returns the last element of the key (without a trailing slash).
func (fi *FileInfo) Name() string { return fi.name }

// Size returns the object size in bytes (0 for a directory).
func (fi *FileInfo) Size() int64 { return fi.size }

// Mode returns fs.ModeDir|0o555 for a directory, else 0o444.
func (fi *FileInfo) Mode() fs.FileMode {
	if fi.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}

// ModTime returns the object's Last-Modified time (zero for a directory).
func (fi *FileInfo) ModTime() time.Time { return fi.modTime }

// IsDir reports whether fi describes a common prefix rather than an object.
func (fi *FileInfo) IsDir() bool { return fi.dir }

// Sys returns fi itself.
func (fi *FileInfo) Sys() any { return fi }

// URI returns the full URI of the object or prefix.
func (fi *FileInfo) URI() string { return fi.uri }

// ETag returns the object's ETag, quotes included, or "" for a directory.
func (fi *FileInfo) ETag() string { return fi.etag }

// Metadata returns the object's user metadata (x-amz-meta-*), as returned by
// Stat; List does not fill it.
func (fi *FileInfo) Metadata() map[string]string { return fi.metadata }

// ContentType returns the object's Content-Type as returned by Stat (of
// the plaintext, for a CSE object); List does not fill it.
func (fi *FileInfo) ContentType() string { return fi.headers.contentType }

// CacheControl returns the object's Cache-Control as returned by Stat;
// List does not fill it.
func (fi *FileInfo) CacheControl() string { return fi.headers.cacheControl }

// ContentEncoding returns the object's Content-Encoding as returned by
// Stat; List does not fill it.
func (fi *FileInfo) ContentEncoding() string { return fi.headers.contentEncoding }

// ContentDisposition returns the object's Content-Disposition as returned
// by Stat; List does not fill it.
func (fi *FileInfo) ContentDisposition() string { return fi.headers.contentDisposition }

// ContentLanguage returns the object's Content-Language as returned by
// Stat; List does not fill it.
func (fi *FileInfo) ContentLanguage() string { return fi.headers.contentLanguage }

var _ fs.FileInfo = (*FileInfo)(nil)

func baseName(key string) string {
	k := strings.TrimSuffix(key, "/")
	if k == "" {
		return "."
	}
	return path.Base(k)
}

func fileInfoFromHead(loc Location, out *s3.HeadObjectOutput) *FileInfo {
	return &FileInfo{
		uri:      loc.String(),
		name:     baseName(loc.Key),
		size:     aws.ToInt64(out.ContentLength),
		modTime:  aws.ToTime(out.LastModified).Truncate(time.Second),
		etag:     aws.ToString(out.ETag),
		metadata: out.Metadata,
		headers:  headersOf(out.ContentType, out.CacheControl, out.ContentEncoding, out.ContentDisposition, out.ContentLanguage),
	}
}

// head issues a HeadObject with the bucket's SSE settings.
func (c *Client) head(ctx context.Context, loc Location, b *Bucket) (*s3.HeadObjectOutput, error) {
	return send(ctx, c.req(loc, b.SSE), &s3.HeadObjectInput{}, c.s3.HeadObject)
}

// Stat returns information about the object at uri. If no object has that
// key but keys exist under "key/", Stat describes a directory. The bucket
// root (s3://bucket/) is always a directory. For a bucket with client-side
// encryption the size is the plaintext size: the envelope's
// x-amz-unencrypted-content-length, else derived from the ciphertext size
// (GCM) or its last blocks (CBC) after recovering the key. Errors are *fs.PathError; a
// missing object matches fs.ErrNotExist.
func (c *Client) Stat(ctx context.Context, uri string) (*FileInfo, error) {
	loc, b, err := c.target("stat", uri)
	if err != nil {
		return nil, err
	}
	if loc.Key == "" {
		return &FileInfo{uri: loc.String(), name: ".", dir: true}, nil
	}
	if !strings.HasSuffix(loc.Key, "/") {
		out, err := c.head(ctx, loc, b)
		if err == nil {
			fi := fileInfoFromHead(loc, out)
			st, err := c.cseFor(ctx, b)
			if err == nil && st != nil {
				fi.size, err = c.cseStatSize(ctx, st, loc, b, out)
			}
			if err != nil {
				return nil, pathError("stat", uri, err)
			}
			return fi, nil
		}
		if !isNotExist(err) {
			return nil, pathError("stat", uri, err)
		}
	}
	prefix := strings.TrimSuffix(loc.Key, "/") + "/"
	dir := Location{Scheme: loc.Scheme, Bucket: loc.Bucket, Key: prefix}
	out, err := send(ctx, c.req(dir, nil), &s3.ListObjectsV2Input{Prefix: aws.String(prefix), MaxKeys: aws.Int32(1)}, c.s3.ListObjectsV2)
	if err != nil {
		return nil, pathError("stat", uri, err)
	}
	if len(out.Contents) == 0 && len(out.CommonPrefixes) == 0 {
		return nil, &fs.PathError{Op: "stat", Path: uri, Err: fs.ErrNotExist}
	}
	return &FileInfo{uri: dir.String(), name: baseName(prefix), dir: true}, nil
}
