package emrfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"sort"
	"strings"
	"sync"

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
func (c *Client) Copy(ctx context.Context, src, dst string, optFns ...func(*CopyOptions)) (err error) {
	ctx, span := c.startSpan(ctx, spanCopy, append(uriProps(dst), "emrfs.copy.source", src)...)
	defer func() { span.end(err) }()
	var o CopyOptions
	for _, fn := range optFns {
		fn(&o)
	}
	_ = o
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
	if cross || !sameCSE(sb.CSE, db.CSE) || (db.CSE != nil && db.CSE.MaterialsDescriptionEnabled) {
		if err := c.streamCopy(ctx, src, dst); err != nil {
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
	var instrETag string
	if db.CSE != nil {
		if instrETag, err = c.instructionETag(ctx, sloc, sb); err != nil {
			return pathError("copy", src, err)
		}
	}
	size := aws.ToInt64(head.ContentLength)
	if size <= c.copyThreshold {
		err = c.copyObject(ctx, sloc, sb, dloc, db, aws.ToString(head.ETag))
	} else {
		err = c.multipartCopy(ctx, sloc, sb, dloc, db, head)
	}
	if err != nil {
		return pathError("copy", src, err)
	}
	if db.CSE != nil {
		// The object first, then its instruction file, as the AWS clients
		// write them. Without its instruction file the copy could not be
		// read: it is deleted again.
		if err := c.copyInstruction(ctx, sloc, sb, dloc, db, instrETag); err != nil {
			err = fmt.Errorf("the object was copied, then deleted again because its instruction file was not: %w", err)
			if derr := c.deleteKey(context.WithoutCancel(ctx), dloc.Bucket, dloc.Key); derr != nil {
				err = errors.Join(err, fmt.Errorf("deleting %s failed too, so it is visible but cannot be read correctly; copy it again or remove it: %w", dst, derr))
			}
			return pathError("copy", src, err)
		}
	}
	return nil
}

// instructionETag returns the ETag of the instruction file of the object at
// loc, or "" if it has none.
func (c *Client) instructionETag(ctx context.Context, loc Location, b *Bucket) (string, error) {
	head, err := c.head(ctx, Location{Scheme: loc.Scheme, Bucket: loc.Bucket, Key: loc.Key + InstructionSuffix}, b)
	if isNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if aws.ToString(head.ETag) == "" {
		return "", errors.New("emrfs: HeadObject of the instruction file returned no ETag")
	}
	return aws.ToString(head.ETag), nil
}

// streamCopy re-encrypts src into dst by reading and writing the
// plaintext (used between buckets with different CSE settings).
func (c *Client) streamCopy(ctx context.Context, src, dst string) error {
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
// envelope (a re-encrypted copy gets its own envelope).
func userMetadata(meta map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range meta {
		if !strings.HasPrefix(strings.ToLower(k), "x-amz-") {
			out[k] = v
		}
	}
	return out
}

// copyInstruction copies src's instruction file (of ETag etag, as found
// before the object was copied) to dst, or removes dst's if src had none
// (etag ""), so that dst's object is never read with a stale envelope.
func (c *Client) copyInstruction(ctx context.Context, sloc Location, sb *Bucket, dloc Location, db *Bucket, etag string) error {
	si := Location{Scheme: sloc.Scheme, Bucket: sloc.Bucket, Key: sloc.Key + InstructionSuffix}
	di := Location{Scheme: dloc.Scheme, Bucket: dloc.Bucket, Key: dloc.Key + InstructionSuffix}
	if etag == "" {
		return c.deleteKey(ctx, di.Bucket, di.Key)
	}
	return c.copyObject(ctx, si, sb, di, db, etag)
}

func (c *Client) copyObject(ctx context.Context, sloc Location, sb *Bucket, dloc Location, db *Bucket, etag string) error {
	ro, err := c.reqOpts(ctx, "CopyObject", dloc.Bucket, dloc.Key)
	if err != nil {
		return err
	}
	in := &s3.CopyObjectInput{
		Bucket:            aws.String(dloc.Bucket),
		Key:               aws.String(dloc.Key),
		CopySource:        aws.String(copySource(sloc.Bucket, sloc.Key)),
		MetadataDirective: types.MetadataDirectiveCopy,
	}
	if etag != "" {
		in.CopySourceIfMatch = aws.String(etag)
	}
	db.SSE.CopyObject(in, sb.SSE)
	_, err = c.s3.CopyObject(ctx, in, ro...)
	return err
}

// copyPartSize returns the part size for a multipart copy of size bytes.
func (c *Client) copyPartSize(size int64) int64 {
	ps := c.opts.PartSize
	if size/ps >= maxParts {
		ps = (size + maxParts - 1) / maxParts
	}
	return min(ps, maxPartSize)
}

func (c *Client) multipartCopy(ctx context.Context, sloc Location, sb *Bucket, dloc Location, db *Bucket, head *s3.HeadObjectOutput) (err error) {
	ro, err := c.reqOpts(ctx, "CreateMultipartUpload", dloc.Bucket, dloc.Key)
	if err != nil {
		return err
	}
	cin := &s3.CreateMultipartUploadInput{
		Bucket:             aws.String(dloc.Bucket),
		Key:                aws.String(dloc.Key),
		Metadata:           head.Metadata,
		ContentType:        head.ContentType,
		ContentEncoding:    head.ContentEncoding,
		ContentDisposition: head.ContentDisposition,
		ContentLanguage:    head.ContentLanguage,
		CacheControl:       head.CacheControl,
	}
	db.SSE.CreateMultipartUpload(cin)
	cout, err := c.s3.CreateMultipartUpload(ctx, cin, ro...)
	if err != nil {
		return err
	}
	uploadID := cout.UploadId
	defer func() {
		if err != nil {
			if aerr := c.abortUpload(ctx, dloc, aws.ToString(uploadID)); aerr != nil {
				err = errors.Join(err, aerr)
			}
		}
	}()

	size := aws.ToInt64(head.ContentLength)
	ps := c.copyPartSize(size)
	var parts []types.CompletedPart
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Concurrency)
	for num, off := int32(1), int64(0); off < size; num, off = num+1, off+ps {
		end := min(off+ps, size) - 1
		g.Go(func() error {
			pro, err := c.reqOpts(gctx, "UploadPartCopy", dloc.Bucket, dloc.Key)
			if err != nil {
				return err
			}
			in := &s3.UploadPartCopyInput{
				Bucket:            aws.String(dloc.Bucket),
				Key:               aws.String(dloc.Key),
				UploadId:          uploadID,
				PartNumber:        aws.Int32(num),
				CopySource:        aws.String(copySource(sloc.Bucket, sloc.Key)),
				CopySourceRange:   aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
				CopySourceIfMatch: head.ETag,
			}
			db.SSE.UploadPartCopy(in, sb.SSE)
			out, err := c.s3.UploadPartCopy(gctx, in, pro...)
			if err != nil {
				return fmt.Errorf("part %d: %w", num, err)
			}
			if out.CopyPartResult == nil {
				return fmt.Errorf("part %d: UploadPartCopy returned no result", num)
			}
			mu.Lock()
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.CopyPartResult.ETag})
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	sort.Slice(parts, func(i, j int) bool { return *parts[i].PartNumber < *parts[j].PartNumber })
	ro, err = c.reqOpts(ctx, "CompleteMultipartUpload", dloc.Bucket, dloc.Key)
	if err != nil {
		return err
	}
	in := &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(dloc.Bucket),
		Key:             aws.String(dloc.Key),
		UploadId:        uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}
	db.SSE.CompleteMultipartUpload(in)
	_, err = c.s3.CompleteMultipartUpload(ctx, in, ro...)
	return err
}

// abortUpload aborts a multipart upload, even if ctx is already cancelled.
// An upload that no longer exists counts as aborted.
func (c *Client) abortUpload(ctx context.Context, loc Location, uploadID string) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	ro, err := c.reqOpts(actx, "AbortMultipartUpload", loc.Bucket, loc.Key)
	if err == nil {
		_, err = c.s3.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket:   aws.String(loc.Bucket),
			Key:      aws.String(loc.Key),
			UploadId: aws.String(uploadID),
		}, ro...)
	}
	if err == nil || isNotExist(err) {
		return nil
	}
	return fmt.Errorf("emrfs: aborting multipart upload %s of %s failed, so its parts stay in the bucket (billed, invisible) until it is aborted again or a lifecycle rule (AbortIncompleteMultipartUpload) removes it: %w",
		uploadID, Location{Scheme: "s3", Bucket: loc.Bucket, Key: loc.Key}, err)
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
