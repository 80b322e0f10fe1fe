package emrfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/emrs3/emrs3/cse"
)

// Open opens the object at uri for reading. It issues one ranged GetObject
// of the object's first part (Options.ReadPartSize), which fixes the
// object's size, ETag and metadata — no HeadObject; the body is kept for
// the first read from the start. Every later GET carries If-Match on that
// ETag (and the version id of OpenOptions.VersionID), so a File never
// mixes bytes of two versions of an object (a changed object fails with a
// precondition error). A read of the whole object fetches its remaining
// parts concurrently (Options.ReadConcurrency) and returns them in order.
// When every read of the File will read the whole object — a CSE object
// under a policy without Policy.UnauthenticatedRanges whose chunk table is
// not cached — Open starts those part GETs itself, while it recovers the
// content key; they hold at most ReadConcurrency × ReadPartSize bytes until
// the first read, and Close stops them.
//
// For a bucket with client-side encryption, Open reads the envelope (from
// the metadata or <key>.instruction), recovers the content key and the
// plaintext size, and the File returns plaintext. A read from the start to
// the end is one GET, authenticated before plaintext is released. When the
// CSE policy allows ranged (unauthenticated) reads, as cse.EMRFSCompatible
// does, partial reads are ranged GETs decrypted from the enclosing cipher
// block. Otherwise the first partial read of a GCM object authenticates
// the whole object once and records each chunk's GHASH contribution (16
// bytes per 256 KiB chunk, in memory only; see MaxChunkTableCache); later
// partial reads (ReadAt, Seek then Read), by this File or another File of
// the same Client on the same object version and envelope, fetch only the
// chunks that hold the range and check each before releasing a byte.
// Partial reads of CBC content read and verify the whole object. An object without envelope is
// readable only with CSE.Compatibility; else the error matches
// ErrNotEncrypted.
//
// ctx governs the Open call and every later Read, ReadAt and Seek on the
// File; cancel it to stop them. Errors are *fs.PathError; a missing object
// matches fs.ErrNotExist, a denied one fs.ErrPermission.
func (c *Client) Open(ctx context.Context, uri string, optFns ...func(*OpenOptions)) (_ *File, err error) {
	ctx, span := c.startSpan(ctx, spanOpen, uriProps(uri)...)
	defer func() { span.end(err) }()
	o := OpenOptions{PartSize: c.opts.ReadPartSize, Concurrency: c.opts.ReadConcurrency}
	for _, fn := range optFns {
		fn(&o)
	}
	if o.PartSize <= 0 {
		o.PartSize = c.opts.ReadPartSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = c.opts.ReadConcurrency
	}
	loc, b, err := c.target("open", uri)
	if err != nil {
		return nil, err
	}
	disk, err := c.openDisk(&o)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: uri, Err: err}
	}
	if loc.Key == "" || strings.HasSuffix(loc.Key, "/") {
		return nil, &fs.PathError{Op: "open", Path: uri, Err: errIsDir}
	}
	out, size, err := c.firstGet(ctx, loc, b, &o)
	if err != nil {
		return nil, pathError("open", uri, err)
	}
	f := &File{c: c, ctx: ctx, loc: loc, b: b, ctSize: size, contentType: out.ContentType,
		partSize: o.PartSize, concurrency: o.Concurrency, progress: o.Progress}
	f.info = &FileInfo{
		uri:      loc.String(),
		name:     baseName(loc.Key),
		size:     size,
		modTime:  aws.ToTime(out.LastModified).Truncate(time.Second),
		etag:     aws.ToString(out.ETag),
		metadata: out.Metadata,
		headers:  headersOf(out.ContentType, out.CacheControl, out.ContentEncoding, out.ContentDisposition, out.ContentLanguage),
	}
	f.pin = &objectPin{c: c, loc: loc, b: b, etag: f.info.etag, versionID: o.VersionID, size: size}
	f.first, f.firstEnd = out.Body, size
	if out.ContentLength != nil {
		f.firstEnd = min(aws.ToInt64(out.ContentLength), size)
	}
	f.disk = disk
	st, err := c.cseFor(ctx, b)
	if err != nil {
		f.dropFirst()
		return nil, pathError("open", uri, err)
	}
	if st != nil {
		if _, cached := c.tables.has(loc.Bucket, loc.Key); f.firstEnd < size && !cached && !st.dec.Policy().UnauthenticatedRanges && !f.spoolDoomed() {
			// Every read of this File will read the whole object (the
			// authenticating pass): start the part GETs now, so that
			// they travel while the content key is recovered — unless
			// that read is bound to fail on its spool (a cap, or a
			// missing or read-only TempDir), which the first Read then
			// reports without fetching a part.
			f.startPrefetch()
		}
		head := objHead{meta: out.Metadata, size: size, etag: f.pin.etag, versionID: o.VersionID}
		obj, err := c.openCSE(ctx, st, loc, b, head)
		if err != nil {
			f.dropFirst()
			return nil, pathError("open", uri, err)
		}
		if obj.content == nil || obj.ranged {
			// Read at random after all (an unencrypted object read
			// under CSE.Compatibility): the prefetch would be wasted.
			f.dropPrefetch()
		}
		f.content, f.ranged = obj.content, obj.ranged
		f.info.size = obj.size
		f.tkey = tableKey{bucket: loc.Bucket, key: loc.Key, etag: f.pin.etag, version: f.pin.versionID, envelope: obj.envelope}
		if f.content != nil && f.info.size == 0 {
			// An empty plaintext still has a tag (GCM) or a padding block
			// (CBC): check it now, or a tampered object would read as an
			// empty file.
			if err := f.verifyEmpty(ctx); err != nil {
				f.content.Wipe()
				return nil, pathError("open", uri, err)
			}
		}
	}
	return f, nil
}

// firstGet sends Open's one GET: the first part of the object (a ranged
// GET, so that a large object is not sent whole on one connection), which
// also brings its metadata, ETag and, from Content-Range, its size. An
// empty object answers a ranged GET with 416; it is fetched without Range.
func (c *Client) firstGet(ctx context.Context, loc Location, b *Bucket, o *OpenOptions) (*s3.GetObjectOutput, int64, error) {
	first := o.PartSize
	if size, cached := c.tables.has(loc.Bucket, loc.Key); b.CSE != nil && cached && size > firstGetCached {
		// Read at random (a chunk table of it is cached): fetch one
		// chunk, not a part that ReadAt would leave unread. A small
		// object is fetched whole: a second round trip costs more than
		// 2 MiB on a real link (~90 MB/s per connection, ≥ 20 ms per
		// request).
		first = min(first, cse.DefaultChunkSize)
	}
	in := &s3.GetObjectInput{Range: aws.String(fmt.Sprintf("bytes=0-%d", first-1))}
	if o.VersionID != "" {
		in.VersionId = aws.String(o.VersionID)
	}
	out, err := send(ctx, c.req(loc, b.SSE), in, c.s3.GetObject)
	if isInvalidRange(err) {
		in.Range = nil
		out, err = send(ctx, c.req(loc, b.SSE), in, c.s3.GetObject)
	}
	if err != nil {
		return nil, 0, err
	}
	size := aws.ToInt64(out.ContentLength)
	if cr := aws.ToString(out.ContentRange); cr != "" {
		i := strings.LastIndexByte(cr, '/')
		n, perr := strconv.ParseInt(cr[i+1:], 10, 64)
		if i < 0 || perr != nil || n < 0 {
			out.Body.Close()
			return nil, 0, fmt.Errorf("emrfs: GET returned an unusable Content-Range %q", cr)
		}
		size = n
	}
	return out, size, nil
}

// firstGetCached is the largest object whose chunk table the Client has
// cached that Open's GET still fetches as a whole part.
const firstGetCached = 2 << 20

// isInvalidRange reports an S3 416 (a Range on an empty object).
func isInvalidRange(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "InvalidRange" {
		return true
	}
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusRequestedRangeNotSatisfiable
}
