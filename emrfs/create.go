package emrfs

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// CreateOptions configure one Create call. The zero value writes an
// object with S3's defaults and the Client's Options.
type CreateOptions struct {
	// ContentType is the object's Content-Type; empty leaves S3's default.
	ContentType string
	// Metadata is user metadata stored as x-amz-meta-* headers.
	Metadata map[string]string
	// Progress, when set, is told the plaintext bytes of the parts S3 has
	// acknowledged (of a single PutObject: all of them once acknowledged);
	// never more. The total is -1 until Close knows the size.
	Progress ProgressFunc

	// StorageClass is the object's storage class ("STANDARD_IA",
	// "INTELLIGENT_TIERING", "GLACIER_IR", ...); empty leaves the bucket's
	// default (STANDARD).
	StorageClass string
	// Tags are the object's tags, sent as x-amz-tagging (S3 allows up to
	// 10; keys up to 128 and values up to 256 characters).
	Tags map[string]string
	// CacheControl, ContentEncoding, ContentDisposition and ContentLanguage
	// are the object's headers of those names; empty leaves them unset.
	// For a bucket with client-side encryption they describe the
	// plaintext, as the AWS clients store them.
	CacheControl       string
	ContentEncoding    string
	ContentDisposition string
	ContentLanguage    string
	// Expires is the object's Expires header; the zero time leaves it
	// unset.
	Expires time.Time

	// IfAbsent creates the object only if its key holds none
	// (If-None-Match: * on the PutObject or CompleteMultipartUpload, as
	// commit protocols rely on). If another writer's object is there
	// first, Close fails with an error matching fs.ErrExist and leaves that
	// object alone.
	IfAbsent bool
	// IfMatch replaces the object only while it is the one with this ETag
	// (If-Match; take it from FileInfo.ETag). Otherwise Close fails with
	// an error matching ErrPreconditionFailed and leaves the object alone,
	// so that a write (or a retry of it) never clobbers another writer's.
	// It cannot be combined with IfAbsent.
	IfMatch string
	// IfUnchanged makes Create look at the key (one HeadObject) and then
	// write only while it still holds what it saw: IfMatch with the ETag
	// seen, or IfAbsent when it held nothing. A write (or a retry of it)
	// then never replaces an object another writer put there in the
	// meantime; Close fails instead, with an error matching
	// ErrPreconditionFailed or fs.ErrExist. Off by default: a plain Create
	// replaces whatever is there when it completes.
	IfUnchanged bool

	// PartSize overrides Options.PartSize for this Writer (minimum
	// MinPartSize, maximum 5 GiB); 0 keeps the Client's.
	PartSize int64
	// Concurrency overrides Options.Concurrency for this Writer; 0 keeps
	// the Client's.
	Concurrency int

	// copyFrom is the source URI when Copy re-encrypts (the materials
	// description then has Path = source and DstPath = destination).
	copyFrom string
}

// objectHeaders are the object attributes of CreateOptions, applied alike
// by every request that writes an object (PutObject,
// CreateMultipartUpload, and the CopyObject that replaces the metadata).
type objectHeaders struct {
	contentType, cacheControl, contentEncoding *string
	contentDisposition, contentLanguage        *string
	expires                                    *time.Time
	storageClass                               types.StorageClass
	tagging                                    *string
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// headers returns the object attributes of o.
func (o *CreateOptions) headers() objectHeaders {
	h := objectHeaders{
		contentType:        optString(o.ContentType),
		cacheControl:       optString(o.CacheControl),
		contentEncoding:    optString(o.ContentEncoding),
		contentDisposition: optString(o.ContentDisposition),
		contentLanguage:    optString(o.ContentLanguage),
		storageClass:       types.StorageClass(o.StorageClass),
	}
	if !o.Expires.IsZero() {
		h.expires = aws.Time(o.Expires)
	}
	if len(o.Tags) > 0 {
		v := url.Values{}
		for k, val := range o.Tags {
			v.Set(k, val)
		}
		h.tagging = aws.String(v.Encode())
	}
	return h
}

func (h objectHeaders) putObject(in *s3.PutObjectInput) {
	in.ContentType, in.CacheControl, in.ContentEncoding = h.contentType, h.cacheControl, h.contentEncoding
	in.ContentDisposition, in.ContentLanguage, in.Expires = h.contentDisposition, h.contentLanguage, h.expires
	in.StorageClass, in.Tagging = h.storageClass, h.tagging
}

func (h objectHeaders) createMultipartUpload(in *s3.CreateMultipartUploadInput) {
	in.ContentType, in.CacheControl, in.ContentEncoding = h.contentType, h.cacheControl, h.contentEncoding
	in.ContentDisposition, in.ContentLanguage, in.Expires = h.contentDisposition, h.contentLanguage, h.expires
	in.StorageClass, in.Tagging = h.storageClass, h.tagging
}

// copyObject sets the attributes on a CopyObject that replaces the
// metadata of an object written with them; its tags stay (the
// TaggingDirective is COPY).
func (h objectHeaders) copyObject(in *s3.CopyObjectInput) {
	in.ContentType, in.CacheControl, in.ContentEncoding = h.contentType, h.cacheControl, h.contentEncoding
	in.ContentDisposition, in.ContentLanguage, in.Expires = h.contentDisposition, h.contentLanguage, h.expires
	in.StorageClass = h.storageClass
}

// check returns an error for options that cannot work.
func (o *CreateOptions) check() error {
	if n := btoi(o.IfAbsent) + btoi(o.IfMatch != "") + btoi(o.IfUnchanged); n > 1 {
		return fmt.Errorf("emrfs: set at most one of CreateOptions.IfAbsent, IfMatch and IfUnchanged")
	}
	if o.PartSize != 0 && (o.PartSize < MinPartSize || o.PartSize > maxPartSize) {
		return fmt.Errorf("emrfs: CreateOptions.PartSize %d is outside S3's part sizes; set it between %d (5 MiB) and %d (5 GiB), or 0 for Options.PartSize", o.PartSize, MinPartSize, int64(maxPartSize))
	}
	if o.Concurrency < 0 {
		return fmt.Errorf("emrfs: CreateOptions.Concurrency %d is negative; set it to 0 for Options.Concurrency", o.Concurrency)
	}
	return nil
}

// Create starts writing the object at uri and returns a Writer. Nothing is
// written at uri before Close: data smaller than one part
// (Options.PartSize) is sent with a single PutObject at Close; larger data
// becomes a multipart upload whose parts are uploaded concurrently while
// writing, completed at Close. If any write or part upload fails, ctx is
// cancelled, or Abort is called, the multipart upload is aborted and no
// object is created (an existing object at uri is left as it was).
//
// For a bucket with client-side encryption, the data is encrypted with
// AES-GCM under a fresh data key from the bucket's materials provider; the
// envelope goes in the object's metadata or, with CSE.InstructionFile, in
// <key>.instruction, written after the object as the AWS clients do. Parts
// are multiples of 16 bytes with the tag at the end of the last, as the
// AWS clients write them. A single-PUT object records its plaintext size
// (x-amz-unencrypted-content-length, 0 for an empty object, as the AWS
// clients write it); a multipart one does so only with
// CSE.AddUnencryptedLength, by copying the object onto itself.
//
// # Outcome of Close
//
// Close returns nil only when the object is complete and this write's
// object is at uri. Once Close has sent the request that makes the object
// visible (PutObject or CompleteMultipartUpload), it waits for S3's answer
// even if ctx is cancelled, and it finishes the steps that follow
// (instruction file, unencrypted length) the same way, so that its result
// tells what happened. If the answer is lost or is an error that leaves
// doubt, Close finds out from the object's write token (WriteTokenKey) or
// envelope whether the object in place is this write's — aborting an
// unfinished multipart upload first, so that it cannot complete later —
// and then returns nil, or a *CommitError saying whether anything of this
// write is visible (Committed) or whether that could not be found out
// (Unknown, matching ErrCommitUnknown).
//
// If a step after the object became visible fails — writing the
// instruction file, or adding the unencrypted length — Close deletes the
// object again and returns the error, so that no unreadable or incomplete
// object is left; an object that was at uri before has then been replaced
// and is gone too. (If that delete fails as well, the error is a
// *CommitError with Committed set.)
func (c *Client) Create(ctx context.Context, uri string, optFns ...func(*CreateOptions)) (_ *Writer, err error) {
	ctx, span := c.startSpan(ctx, spanCreate, uriProps(uri)...)
	defer func() { span.end(err) }()
	loc, b, err := c.target("create", uri)
	if err != nil {
		return nil, err
	}
	if loc.Key == "" || strings.HasSuffix(loc.Key, "/") {
		return nil, &fs.PathError{Op: "create", Path: uri, Err: errIsDir}
	}
	var o CreateOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := o.check(); err != nil {
		return nil, &fs.PathError{Op: "create", Path: uri, Err: err}
	}
	st, err := c.cseFor(ctx, b)
	if err != nil {
		return nil, pathError("create", uri, err)
	}
	if o.IfUnchanged {
		if o.IfMatch, o.IfAbsent, err = c.currentETag(ctx, loc, b); err != nil {
			return nil, pathError("create", uri, err)
		}
	}
	return newWriter(ctx, c, loc, b, o, st), nil
}

// currentETag returns the ETag of the object at loc, or absent when there
// is none.
func (c *Client) currentETag(ctx context.Context, loc Location, b *Bucket) (etag string, absent bool, err error) {
	head, err := c.head(ctx, loc, b)
	if isNotExist(err) {
		return "", true, nil
	}
	if err != nil {
		return "", false, err
	}
	if aws.ToString(head.ETag) == "" {
		return "", false, fmt.Errorf("emrfs: HeadObject of %s returned no ETag to condition the write on", loc)
	}
	return aws.ToString(head.ETag), false, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
