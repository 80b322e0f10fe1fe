package emrfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

const (
	// maxCopyObjectSize is the largest object one CopyObject may copy.
	maxCopyObjectSize = 5 << 30
	// maxPartSize is the largest part of a multipart upload.
	maxPartSize = 5 << 30
)

// copySource returns the x-amz-copy-source value for bucket/key: the key
// URL-encoded per path segment, '+' included.
func copySource(bucket, key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
	}
	return bucket + "/" + strings.Join(segs, "/")
}

// Copy copies the object at src to dst server-side, keeping its metadata
// (so a CSE envelope stored in metadata travels with it) and applying the
// destination bucket's SSE settings (and the source's SSE-C key to read
// it). Objects over 5 GiB are copied with a multipart UploadPartCopy,
// aborted on failure. The source is pinned by its ETag: if it changes
// during the copy, Copy fails.
//
// Between buckets with client-side encryption, the source's instruction
// file, if any, is copied after the object (pinned by its ETag too), and a
// stale instruction file at the destination is removed when the source has
// none; if that fails, the copied object is deleted again and Copy returns
// the error, so that no unreadable copy is left. Without client-side
// encryption "<key>.instruction" objects are ordinary objects and are not
// touched.
//
// Between buckets whose client-side encryption differs in anything that
// affects reading (one has none, or another provider, key, KMS region,
// storage mode, format — encryptionV2, S3A —, crypto mode, compatibility
// option, encryption context or materials description), the object is
// re-encrypted by streaming its plaintext through Open and Create, and so
// is every copy into a bucket with fs.s3.cse.materialsDescription.enabled,
// whose provider is handed Path (the source) and DstPath (the
// destination). A streamed copy fails, leaving nothing at dst, if the
// source does not authenticate.
//
// A server-side copy gets a write token of its own (WriteTokenKey; its
// metadata is otherwise the source's, given again with the REPLACE
// directive, with its Content-Type, Cache-Control, Content-Encoding,
// Content-Disposition, Content-Language, Expires and website redirect),
// unless the source's metadata leaves no room for it under S3's 2 KiB
// limit. As for Close (see Create), once the request that makes the copy
// visible (CopyObject, CompleteMultipartUpload) has been sent Copy waits
// for its answer even if ctx is cancelled, and when the answer is lost or
// leaves doubt it finds out whether the copy is in place: nil means it
// is, and a *CommitError says whether anything is visible (Committed) or
// that it could not be found out (Unknown).
func (c *Client) Copy(ctx context.Context, src, dst string, optFns ...func(*CopyOptions)) (err error) {
	ctx, span := c.startSpan(ctx, spanCopy, append(uriProps(dst), "emrfs.copy.source", src)...)
	defer func() { span.end(err) }()
	var o CopyOptions
	for _, fn := range optFns {
		fn(&o)
	}
	sloc, sb, err := c.target("copy", src)
	if err != nil {
		return err
	}
	dloc, db, err := c.target("copy", dst)
	if err != nil {
		return err
	}
	for _, l := range []Location{sloc, dloc} {
		if l.Key == "" || strings.HasSuffix(l.Key, "/") {
			return &fs.PathError{Op: "copy", Path: l.String(), Err: errIsDir}
		}
	}
	cross, err := c.crossCredentials(ctx, sloc, dloc)
	if err != nil {
		return pathError("copy", src, err)
	}
	if o.IfUnchanged {
		if o.IfAbsent {
			return &fs.PathError{Op: "copy", Path: dst, Err: errors.New("emrfs: CopyOptions.IfAbsent and IfUnchanged cannot both be set")}
		}
		if o.ifMatch, o.IfAbsent, err = c.currentETag(ctx, dloc, db); err != nil {
			return pathError("copy", dst, err)
		}
	}
	if cross || !sameCSE(sb.CSE, db.CSE) || (db.CSE != nil && db.CSE.MaterialsDescriptionEnabled) {
		if err := c.streamCopy(ctx, src, dst, &o); err != nil {
			return pathError("copy", src, err)
		}
		return nil
	}
	head, err := c.head(ctx, sloc, sb)
	if err != nil {
		return pathError("copy", src, err)
	}
	// Only a bucket with client-side encryption has instruction files;
	// elsewhere "<key>.instruction" is an ordinary object.
	var instr *s3.HeadObjectOutput
	if db.CSE != nil {
		if instr, err = c.instructionHead(ctx, sloc, sb); err != nil {
			return pathError("copy", src, err)
		}
	}
	size := aws.ToInt64(head.ContentLength)
	if size <= c.copyThreshold {
		err = c.copyObject(ctx, sloc, sb, dloc, db, head, &o)
		if err == nil && o.Progress != nil {
			o.Progress(size, size)
		}
	} else {
		err = c.multipartCopy(ctx, sloc, sb, dloc, db, head, &o)
	}
	if err != nil {
		return pathError("copy", src, err)
	}
	if db.CSE != nil {
		// The object first, then its instruction file, as the AWS clients
		// write them. Without its instruction file the copy could not be
		// read: it is deleted again.
		cctx, cancel := commitContext(ctx)
		defer cancel()
		if err := c.copyInstruction(cctx, sloc, sb, dloc, db, instr); err != nil {
			op := "CopyObject"
			if instr == nil {
				op = "DeleteObject"
			}
			return pathError("copy", src, c.discardObject(ctx, op, dloc, fmt.Errorf("its instruction file was not copied: %w", err)))
		}
	}
	return nil
}

// instructionHead returns the HeadObject of the instruction file of the
// object at loc, or nil if it has none.
func (c *Client) instructionHead(ctx context.Context, loc Location, b *Bucket) (*s3.HeadObjectOutput, error) {
	head, err := c.head(ctx, instructionOf(loc), b)
	if isNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if aws.ToString(head.ETag) == "" {
		return nil, errors.New("emrfs: HeadObject of the instruction file returned no ETag")
	}
	return head, nil
}

// streamCopy re-encrypts src into dst by reading and writing the
// plaintext (used between buckets with different CSE settings).
func (c *Client) streamCopy(ctx context.Context, src, dst string, co *CopyOptions) error {
	f, err := c.Open(ctx, src)
	if err != nil {
		return err
	}
	defer f.Close()
	sloc, err := ParseURI(src)
	if err != nil {
		return err
	}
	w, err := c.Create(ctx, dst, func(o *CreateOptions) {
		o.ContentType = aws.ToString(f.contentType)
		o.Metadata = userMetadata(f.info.metadata)
		o.copyFrom = "s3://" + sloc.Bucket + "/" + sloc.Key
		o.Progress = co.Progress
		o.IfAbsent = co.IfAbsent
		o.IfMatch = co.ifMatch
	})
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, f); err != nil {
		_ = w.Abort()
		return err
	}
	return w.Close()
}

// userMetadata returns meta without the x-amz-* keys of an encryption
// envelope (a re-encrypted copy gets its own envelope) and without the
// write token (the copy gets its own).
func userMetadata(meta map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range meta {
		if lk := strings.ToLower(k); !strings.HasPrefix(lk, "x-amz-") && lk != WriteTokenKey {
			out[k] = v
		}
	}
	return out
}

// copyInstruction copies src's instruction file (instr, its HeadObject as
// found before the object was copied) to dst, or removes dst's if src had
// none (instr nil), so that dst's object is never read with a stale
// envelope.
func (c *Client) copyInstruction(ctx context.Context, sloc Location, sb *Bucket, dloc Location, db *Bucket, instr *s3.HeadObjectOutput) error {
	if instr == nil {
		return c.deleteKey(ctx, instructionOf(dloc))
	}
	return c.copyObject(ctx, instructionOf(sloc), sb, instructionOf(dloc), db, instr, &CopyOptions{})
}

// copyMetadata sets the metadata of a CopyObject or CreateMultipartUpload
// copying the object of head: the source's, given again with a fresh write
// token (REPLACE), unless that would pass S3's metadata limit. It returns
// the write's mark (nil without a token).
func copyMetadata(head *s3.HeadObjectOutput) (map[string]string, map[string]string) {
	if metadataSize(head.Metadata)+len(WriteTokenKey)+16 > maxMetadataSize {
		return nil, nil
	}
	return withToken(head.Metadata)
}

// copyObject copies the object of head at sloc to dloc with one
// CopyObject, pinned by its ETag. The request is waited for even if ctx is
// cancelled once sent; a failure is settled (see Client.settle).
func (c *Client) copyObject(ctx context.Context, sloc Location, sb *Bucket, dloc Location, db *Bucket, head *s3.HeadObjectOutput, o *CopyOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cctx, cancel := commitContext(ctx)
	defer cancel()
	in := &s3.CopyObjectInput{
		CopySource:        aws.String(copySource(sloc.Bucket, sloc.Key)),
		MetadataDirective: types.MetadataDirectiveCopy,
	}
	if etag := aws.ToString(head.ETag); etag != "" {
		in.CopySourceIfMatch = aws.String(etag)
	}
	meta, mark := copyMetadata(head)
	if mark != nil {
		in.MetadataDirective = types.MetadataDirectiveReplace
		in.Metadata = meta
		in.ContentType, in.CacheControl, in.ContentEncoding = head.ContentType, head.CacheControl, head.ContentEncoding
		in.ContentDisposition, in.ContentLanguage, in.Expires = head.ContentDisposition, head.ContentLanguage, expiresOf(head)
		in.WebsiteRedirectLocation = head.WebsiteRedirectLocation
	}
	r := commitReq{op: "CopyObject", loc: dloc, b: db, mark: mark}
	in.IfMatch, in.IfNoneMatch, r.cond = o.conditions()
	if _, err := send(cctx, c.req(dloc, db.SSE).from(sb.SSE), in, c.s3.CopyObject); err != nil {
		return c.settle(ctx, r, err)
	}
	return nil
}

// copyPartSize returns the part size for a multipart copy of size bytes.
func (c *Client) copyPartSize(size int64) int64 {
	ps := c.opts.PartSize
	if size/ps >= maxParts {
		ps = (size + maxParts - 1) / maxParts
	}
	return min(ps, maxPartSize)
}

func (c *Client) multipartCopy(ctx context.Context, sloc Location, sb *Bucket, dloc Location, db *Bucket, head *s3.HeadObjectOutput, o *CopyOptions) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	meta, mark := copyMetadata(head)
	if mark == nil {
		meta = head.Metadata
	}
	up, err := c.createUpload(ctx, dloc, db, &s3.CreateMultipartUploadInput{
		Metadata:                meta,
		Expires:                 expiresOf(head),
		WebsiteRedirectLocation: head.WebsiteRedirectLocation,
		ContentType:             head.ContentType,
		ContentEncoding:         head.ContentEncoding,
		ContentDisposition:      head.ContentDisposition,
		ContentLanguage:         head.ContentLanguage,
		CacheControl:            head.CacheControl,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if aerr := up.abort(ctx); aerr != nil {
				err = errors.Join(err, aerr)
			}
		}
	}()

	size := aws.ToInt64(head.ContentLength)
	ps := c.copyPartSize(size)
	var mu sync.Mutex
	var copied int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Concurrency)
	n := 0
	for num, off := int32(1), int64(0); off < size; num, off = num+1, off+ps {
		end := min(off+ps, size) - 1
		n++
		g.Go(func() error {
			if err := up.copyPart(gctx, num, sloc, sb.SSE, head.ETag, off, end); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			copied += end + 1 - off
			if o.Progress != nil {
				o.Progress(copied, size)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// On failure the deferred abort runs after settle: an upload already
	// gone counts as aborted there.
	ifMatch, ifNoneMatch, cond := o.conditions()
	return up.complete(ctx, n, commitReq{mark: mark, cond: cond}, ifMatch, ifNoneMatch)
}

// Rename copies src to dst (see Copy) and then removes src (see Remove,
// which says when its instruction file goes too). It is not atomic: if the
// removal fails, both exist.
func (c *Client) Rename(ctx context.Context, src, dst string) error {
	sloc, err := ParseURI(src)
	if err != nil {
		return &fs.PathError{Op: "rename", Path: src, Err: err}
	}
	dloc, err := ParseURI(dst)
	if err != nil {
		return &fs.PathError{Op: "rename", Path: dst, Err: err}
	}
	if sloc.Bucket == dloc.Bucket && sloc.Key == dloc.Key {
		return nil
	}
	if err := c.Copy(ctx, src, dst); err != nil {
		return err
	}
	return c.Remove(ctx, src)
}

// conditions returns the If-Match and If-None-Match of the request that
// makes a copy visible, and what a 412 means.
func (o *CopyOptions) conditions() (ifMatch, ifNoneMatch *string, cond error) {
	switch {
	case o.IfAbsent:
		return nil, aws.String("*"), fs.ErrExist
	case o.ifMatch != "":
		return aws.String(o.ifMatch), nil, ErrPreconditionFailed
	}
	return nil, nil, nil
}

// expiresOf returns the Expires header of head, or nil when it has none
// or one that is not an HTTP date (S3 keeps such values, but no SDK field
// can send them back).
func expiresOf(head *s3.HeadObjectOutput) *time.Time {
	v := aws.ToString(head.ExpiresString)
	if v == "" {
		return nil
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return nil
	}
	return &t
}
