package emrfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// errAborted is the error of a Writer after Abort.
var errAborted = errors.New("emrfs: upload aborted")

// abortTimeout bounds the AbortMultipartUpload sent after a failure, which
// runs even when the caller's context is already cancelled.
const abortTimeout = time.Minute

// Writer streams an object to S3; see Client.Create. Write and Close must
// not be called concurrently. It holds at most PartSize*(Concurrency+1)
// bytes of data in memory.
type Writer struct {
	c    *Client
	uri  string
	loc  Location
	b    *Bucket
	opts CreateOptions

	parent context.Context
	ctx    context.Context // cancelled on the first failure
	cancel context.CancelCauseFunc

	partSize int64
	buf      []byte      // the part being filled
	free     chan []byte // returned part buffers
	nbufs    int         // buffers allocated so far, at most Concurrency+1
	sem      chan struct{}

	uploadID string
	partNum  int32
	wg       sync.WaitGroup

	mu    sync.Mutex
	parts []types.CompletedPart
	err   error // first part-upload error

	done   bool  // closed or aborted
	result error // what Close returns once done
}

func newWriter(ctx context.Context, c *Client, loc Location, b *Bucket, o CreateOptions) *Writer {
	wctx, cancel := context.WithCancelCause(ctx)
	return &Writer{
		c: c, uri: loc.String(), loc: loc, b: b, opts: o,
		parent: ctx, ctx: wctx, cancel: cancel,
		partSize: c.opts.PartSize,
		free:     make(chan []byte, c.opts.Concurrency+1),
		sem:      make(chan struct{}, c.opts.Concurrency),
	}
}

func (w *Writer) setErr(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	w.cancel(err)
}

func (w *Writer) firstErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Write buffers p, uploading each full part in the background. On error the
// upload is already aborted and Close returns the same error.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		if w.result != nil {
			return 0, w.result
		}
		return 0, &fs.PathError{Op: "write", Path: w.uri, Err: fs.ErrClosed}
	}
	if err := w.check(); err != nil {
		return 0, w.fail("write", err)
	}
	written := 0
	for len(p) > 0 {
		if w.buf == nil {
			buf, err := w.getBuf()
			if err != nil {
				return written, w.fail("write", err)
			}
			w.buf = buf
		}
		k := min(int64(len(p)), w.partSize-int64(len(w.buf)))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		written += int(k)
		if int64(len(w.buf)) == w.partSize {
			if err := w.flushPart(); err != nil {
				return written, w.fail("write", err)
			}
		}
	}
	return written, nil
}

// check returns the first background error or the context's error.
func (w *Writer) check() error {
	if err := w.firstErr(); err != nil {
		return err
	}
	if err := w.parent.Err(); err != nil {
		return err
	}
	return nil
}

// getBuf returns an empty part buffer, allocating while fewer than
// Concurrency+1 exist and otherwise waiting for an upload to return one.
func (w *Writer) getBuf() ([]byte, error) {
	select {
	case b := <-w.free:
		return b[:0], nil
	default:
	}
	if w.nbufs < cap(w.free) {
		w.nbufs++
		if p, ok := w.c.parts.Get().(*[]byte); ok && int64(cap(*p)) == w.partSize {
			return (*p)[:0], nil
		}
		return make([]byte, 0, w.partSize), nil
	}
	select {
	case b := <-w.free:
		return b[:0], nil
	case <-w.ctx.Done():
		return nil, w.check()
	}
}

// flushPart starts the upload of w.buf as the next part.
func (w *Writer) flushPart() error {
	if w.uploadID == "" {
		if err := w.createUpload(); err != nil {
			return err
		}
	}
	if w.partNum >= maxParts {
		return fmt.Errorf("emrfs: object exceeds %d parts of %d bytes; set a larger Options.PartSize", maxParts, w.partSize)
	}
	w.partNum++
	num, buf := w.partNum, w.buf
	w.buf = nil
	select {
	case w.sem <- struct{}{}:
	case <-w.ctx.Done():
		w.free <- buf
		return w.check()
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer func() { <-w.sem }()
		err := w.uploadPart(num, buf)
		w.free <- buf
		if err != nil {
			w.setErr(err)
		}
	}()
	return nil
}

func (w *Writer) createUpload() error {
	ro, err := w.c.reqOpts(w.ctx, "CreateMultipartUpload", w.loc.Bucket, w.loc.Key)
	if err != nil {
		return err
	}
	in := &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(w.loc.Bucket),
		Key:               aws.String(w.loc.Key),
		Metadata:          w.opts.Metadata,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	}
	if w.opts.ContentType != "" {
		in.ContentType = aws.String(w.opts.ContentType)
	}
	w.b.SSE.CreateMultipartUpload(in)
	out, err := w.c.s3.CreateMultipartUpload(w.ctx, in, ro...)
	if err != nil {
		return err
	}
	w.uploadID = aws.ToString(out.UploadId)
	if w.uploadID == "" {
		return errors.New("emrfs: CreateMultipartUpload returned no upload ID")
	}
	return nil
}

func (w *Writer) uploadPart(num int32, buf []byte) error {
	ro, err := w.c.reqOpts(w.ctx, "UploadPart", w.loc.Bucket, w.loc.Key)
	if err != nil {
		return err
	}
	in := &s3.UploadPartInput{
		Bucket:            aws.String(w.loc.Bucket),
		Key:               aws.String(w.loc.Key),
		UploadId:          aws.String(w.uploadID),
		PartNumber:        aws.Int32(num),
		Body:              bytes.NewReader(buf),
		ContentLength:     aws.Int64(int64(len(buf))),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	}
	w.b.SSE.UploadPart(in)
	out, err := w.c.s3.UploadPart(w.ctx, in, ro...)
	if err != nil {
		return fmt.Errorf("part %d: %w", num, err)
	}
	w.mu.Lock()
	w.parts = append(w.parts, types.CompletedPart{
		PartNumber:    aws.Int32(num),
		ETag:          out.ETag,
		ChecksumCRC32: out.ChecksumCRC32,
	})
	w.mu.Unlock()
	return nil
}

// fail aborts the upload and records err as the Writer's result.
func (w *Writer) fail(op string, err error) error {
	w.abort()
	w.done = true
	w.result = pathError(op, w.uri, err)
	return w.result
}

// recycle returns the Writer's part buffers to the client's pool. All
// uploads must have finished.
func (w *Writer) recycle() {
	if w.buf != nil {
		w.free <- w.buf
		w.buf = nil
	}
	for {
		select {
		case b := <-w.free:
			w.c.parts.Put(&b)
		default:
			return
		}
	}
}

// abort stops background uploads and aborts the multipart upload, if any.
// The abort request runs even if the caller's context is cancelled.
func (w *Writer) abort() {
	w.cancel(errAborted)
	w.wg.Wait()
	w.recycle()
	if w.uploadID == "" {
		return
	}
	w.c.abortUpload(w.parent, w.loc, w.uploadID)
	w.uploadID = ""
}

// Abort discards everything written: background uploads stop, the multipart
// upload (if started) is aborted, and no object is created. Close after
// Abort returns an error.
func (w *Writer) Abort() error {
	if w.done {
		return nil
	}
	w.abort()
	w.done = true
	w.result = &fs.PathError{Op: "write", Path: w.uri, Err: errAborted}
	return nil
}

// Close uploads what remains and makes the object visible. If it returns an
// error, the upload has been aborted and no object was created.
func (w *Writer) Close() error {
	if w.done {
		if w.result != nil {
			return w.result
		}
		return &fs.PathError{Op: "close", Path: w.uri, Err: fs.ErrClosed}
	}
	if err := w.check(); err != nil {
		return w.fail("close", err)
	}
	if w.uploadID == "" {
		if err := w.putObject(); err != nil {
			return w.fail("close", err)
		}
		w.finish()
		return nil
	}
	if len(w.buf) > 0 {
		if err := w.flushPart(); err != nil {
			return w.fail("close", err)
		}
	}
	w.wg.Wait()
	if err := w.check(); err != nil {
		return w.fail("close", err)
	}
	if err := w.complete(); err != nil {
		return w.fail("close", err)
	}
	w.finish()
	return nil
}

func (w *Writer) finish() {
	w.done = true
	w.wg.Wait()
	w.recycle()
	w.cancel(nil)
}

func (w *Writer) putObject() error {
	ro, err := w.c.reqOpts(w.ctx, "PutObject", w.loc.Bucket, w.loc.Key)
	if err != nil {
		return err
	}
	in := &s3.PutObjectInput{
		Bucket:        aws.String(w.loc.Bucket),
		Key:           aws.String(w.loc.Key),
		Body:          bytes.NewReader(w.buf),
		ContentLength: aws.Int64(int64(len(w.buf))),
		Metadata:      w.opts.Metadata,
	}
	if w.opts.ContentType != "" {
		in.ContentType = aws.String(w.opts.ContentType)
	}
	w.b.SSE.PutObject(in)
	_, err = w.c.s3.PutObject(w.ctx, in, ro...)
	return err
}

func (w *Writer) complete() error {
	ro, err := w.c.reqOpts(w.ctx, "CompleteMultipartUpload", w.loc.Bucket, w.loc.Key)
	if err != nil {
		return err
	}
	w.mu.Lock()
	parts := append([]types.CompletedPart(nil), w.parts...)
	w.mu.Unlock()
	sort.Slice(parts, func(i, j int) bool { return *parts[i].PartNumber < *parts[j].PartNumber })
	if len(parts) != int(w.partNum) {
		return fmt.Errorf("emrfs: %d of %d parts uploaded", len(parts), w.partNum)
	}
	_, err = w.c.s3.CompleteMultipartUpload(w.ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(w.loc.Bucket),
		Key:             aws.String(w.loc.Key),
		UploadId:        aws.String(w.uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}, ro...)
	if err != nil {
		return err
	}
	w.uploadID = ""
	return nil
}
