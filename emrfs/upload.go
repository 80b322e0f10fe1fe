package emrfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// upload is one multipart upload, of a Writer or of a Copy: created, its
// parts uploaded or copied (concurrently: the methods that add parts are
// safe to call at once), then completed — its outcome settled when the
// completion fails (Client.settle) — or aborted.
type upload struct {
	c   *Client
	loc Location
	b   *Bucket
	id  string // "" once completed or aborted

	mu    sync.Mutex
	parts []types.CompletedPart
}

// createUpload starts a multipart upload with in (whose Bucket and Key
// it sets) at loc. Once sent, the request is waited for even if ctx is
// cancelled: an upload whose ID was never heard could not be aborted.
func (c *Client) createUpload(ctx context.Context, loc Location, b *Bucket, in *s3.CreateMultipartUploadInput) (*upload, error) {
	cctx, cancel := commitContext(ctx)
	defer cancel()
	out, err := send(cctx, c.req(loc, b.SSE), in, c.s3.CreateMultipartUpload)
	if err != nil {
		return nil, err
	}
	u := &upload{c: c, loc: loc, b: b, id: aws.ToString(out.UploadId)}
	if u.id == "" {
		return nil, errors.New("emrfs: CreateMultipartUpload returned no upload ID")
	}
	return u, nil
}

func (u *upload) req() objectReq { return u.c.req(u.loc, u.b.SSE) }

func (u *upload) add(p types.CompletedPart) {
	u.mu.Lock()
	u.parts = append(u.parts, p)
	u.mu.Unlock()
}

// uploadPart uploads buf as part num, with its CRC32 for S3 to check.
func (u *upload) uploadPart(ctx context.Context, num int32, buf []byte) error {
	out, err := send(ctx, u.req(), &s3.UploadPartInput{
		UploadId:          aws.String(u.id),
		PartNumber:        aws.Int32(num),
		Body:              bytes.NewReader(buf),
		ContentLength:     aws.Int64(int64(len(buf))),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	}, u.c.s3.UploadPart)
	if err != nil {
		return fmt.Errorf("part %d: %w", num, err)
	}
	u.add(types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	return nil
}

// copyPart copies the bytes [off, end] of the object at src (of a bucket
// with server-side encryption srcSSE), pinned by its ETag, as part num.
func (u *upload) copyPart(ctx context.Context, num int32, src Location, srcSSE *SSE, etag *string, off, end int64) error {
	out, err := send(ctx, u.req().from(srcSSE), &s3.UploadPartCopyInput{
		UploadId:          aws.String(u.id),
		PartNumber:        aws.Int32(num),
		CopySource:        aws.String(copySource(src.Bucket, src.Key)),
		CopySourceRange:   aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
		CopySourceIfMatch: etag,
	}, u.c.s3.UploadPartCopy)
	if err != nil {
		return fmt.Errorf("part %d: %w", num, err)
	}
	if out.CopyPartResult == nil {
		return fmt.Errorf("part %d: UploadPartCopy returned no result", num)
	}
	u.add(types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.CopyPartResult.ETag})
	return nil
}

// complete completes the upload with its n parts, conditioned by ifMatch
// and ifNoneMatch. r says what identifies the write and what a 412 means
// (mark, cond); complete fills in the rest. The request is waited for even
// if ctx is cancelled, and its failure is settled (Client.settle): a nil
// error means the object of this upload is in place, and the upload is
// done (abort does nothing); otherwise abort it again, which counts an
// upload already gone as aborted.
func (u *upload) complete(ctx context.Context, n int, r commitReq, ifMatch, ifNoneMatch *string) error {
	u.mu.Lock()
	parts := slices.Clone(u.parts)
	u.mu.Unlock()
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	if len(parts) != n {
		return fmt.Errorf("emrfs: %d of %d parts uploaded", len(parts), n)
	}
	cctx, cancel := commitContext(ctx)
	defer cancel()
	in := &s3.CompleteMultipartUploadInput{
		UploadId:        aws.String(u.id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfMatch:         ifMatch,
		IfNoneMatch:     ifNoneMatch,
	}
	if _, err := send(cctx, u.req(), in, u.c.s3.CompleteMultipartUpload); err != nil {
		r.op, r.loc, r.b, r.uploadID = "CompleteMultipartUpload", u.loc, u.b, u.id
		if err := u.c.settle(ctx, r, err); err != nil {
			return err
		}
	}
	u.id = ""
	return nil
}

// abort aborts the upload unless it is done (u may be nil: no upload),
// even if ctx is already cancelled; see Client.abortUpload.
func (u *upload) abort(ctx context.Context) error {
	if u == nil || u.id == "" {
		return nil
	}
	err := u.c.abortUpload(ctx, u.loc, u.id)
	u.id = ""
	return err
}

// abortUpload aborts a multipart upload, even if ctx is already cancelled.
// An upload that no longer exists counts as aborted: callers that sent a
// CompleteMultipartUpload settle its outcome first (Client.settle), which
// tells a completed upload from an aborted one.
func (c *Client) abortUpload(ctx context.Context, loc Location, uploadID string) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	err := c.abortOnce(actx, loc, uploadID)
	if err == nil || isNotExist(err) {
		c.log().Debug("emrfs: aborted multipart upload", "uri", loc.String(), "upload", uploadID)
		return nil
	}
	c.log().Warn("emrfs: aborting a multipart upload failed; its parts stay in the bucket", "uri", loc.String(), "upload", uploadID, "error", err)
	return fmt.Errorf("emrfs: aborting multipart upload %s of %s failed, so its parts stay in the bucket (billed, invisible) until it is aborted again or a lifecycle rule (AbortIncompleteMultipartUpload) removes it: %w",
		uploadID, Location{Scheme: "s3", Bucket: loc.Bucket, Key: loc.Key}, err)
}

// abortOnce sends one AbortMultipartUpload and returns its error as is.
func (c *Client) abortOnce(ctx context.Context, loc Location, uploadID string) error {
	_, err := send(ctx, c.req(loc, nil), &s3.AbortMultipartUploadInput{UploadId: aws.String(uploadID)}, c.s3.AbortMultipartUpload)
	return err
}
