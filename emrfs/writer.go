package emrfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/emrs3/emrs3/cse"
)

// errAborted is the error of a Writer after Abort.
var errAborted = errors.New("emrfs: upload aborted")

// abortTimeout bounds the AbortMultipartUpload sent after a failure, which
// runs even when the caller's context is already cancelled.
const abortTimeout = time.Minute

// Writer streams an object to S3; see Client.Create. Write and Close must
// not be called concurrently. It holds at most PartSize*(Concurrency+1)
// bytes of data in memory.
//
// When the context given to Create is cancelled, the Writer stops: if a
// Write or Close is running it fails with the context's error; if none is,
// the multipart upload is aborted right away, without waiting for the
// caller to call Write, Close or Abort again, and those calls then return
// the error.
type Writer struct {
	c    *Client
	uri  string
	loc  Location
	b    *Bucket
	opts CreateOptions

	parent context.Context
	ctx    context.Context // cancelled on the first failure
	cancel context.CancelCauseFunc

	// life is held by Write, Close, Abort and onCancel, so that the
	// cancellation callback never runs in the middle of one of them.
	life      sync.Mutex
	stopAfter func() bool // unregisters onCancel

	partSize int64
	buf      []byte      // the part being filled
	free     chan []byte // returned part buffers
	nbufs    int         // buffers allocated so far, at most Concurrency+1
	sem      chan struct{}

	up      *upload // nil until the first part
	partNum int32
	wg      sync.WaitGroup

	mu  sync.Mutex
	err error // first part-upload error

	done   bool  // closed or aborted
	result error // what Close returns once done

	// meta is the object's metadata, built once (user metadata, the CSE
	// envelope's, the write token); mark is what identifies this write
	// in it.
	meta map[string]string
	mark map[string]string

	// Progress: plaintext bytes of acknowledged parts, and the total
	// (-1 until Close).
	pmu    sync.Mutex
	pdone  int64
	ptotal int64
	size   int64 // plaintext bytes written so far

	// CSE (nil when the bucket has none): the envelope and content key are
	// created at the first part or at Close, and parts are encrypted in
	// order before they are uploaded.
	cse     *cseState
	env     *cse.Envelope
	content *cse.Content
	enc     *cse.MultipartEncryptor
	bufCap  int64
}

func newWriter(ctx context.Context, c *Client, loc Location, b *Bucket, o CreateOptions, st *cseState) *Writer {
	wctx, cancel := context.WithCancelCause(ctx)
	partSize, conc := c.opts.PartSize, c.opts.Concurrency
	if o.PartSize > 0 {
		partSize = o.PartSize
	}
	if o.Concurrency > 0 {
		conc = o.Concurrency
	}
	w := &Writer{
		c: c, uri: loc.String(), loc: loc, b: b, opts: o,
		parent: ctx, ctx: wctx, cancel: cancel,
		partSize: partSize,
		free:     make(chan []byte, conc+1),
		sem:      make(chan struct{}, conc),
		cse:      st,
		ptotal:   -1,
	}
	w.bufCap = w.partSize
	if st != nil {
		// Every part but the last is a multiple of the AES block; the last
		// gets the 16-byte GCM tag appended in place.
		w.partSize &^= 15
		w.bufCap = w.partSize + 16
	}
	// Under life: onCancel (which takes it) may run at once, in its own
	// goroutine, when ctx is already done, and calls w.stopAfter.
	w.life.Lock()
	w.stopAfter = context.AfterFunc(ctx, w.onCancel)
	w.life.Unlock()
	return w
}

// onCancel runs when the caller's context is cancelled. A Write or Close in
// progress sees the cancellation itself (its waits and requests use a
// context derived from the caller's) and fails; otherwise the caller may
// never come back, so the upload is aborted here.
func (w *Writer) onCancel() {
	w.life.Lock()
	defer w.life.Unlock()
	if w.done {
		return
	}
	_ = w.fail("write", w.parent.Err())
}

// startCSE creates the envelope and content key of the object, of
// plaintext size size (0 when unknown).
func (w *Writer) startCSE(size int64) error {
	obj := cse.ObjectInfo{Bucket: w.loc.Bucket, Key: w.loc.Key, PlaintextSize: size}
	if w.cse.cfg.MaterialsDescriptionEnabled {
		// EMRFS hands the object's URI to the provider as "Path" (the
		// source's, with the destination as "DstPath", on a copy), and
		// the cluster id as "JobflowId" when it has one.
		path := "s3://" + w.loc.Bucket + "/" + w.loc.Key
		obj.EncryptionContext = map[string]string{"Path": path}
		if w.opts.copyFrom != "" {
			obj.EncryptionContext = map[string]string{"Path": w.opts.copyFrom, "DstPath": path}
		}
		if id := w.c.opts.JobflowID; id != "" {
			obj.EncryptionContext["JobflowId"] = id
		}
	}
	env, content, err := w.cse.enc.Encrypt(withObject(w.ctx, w.loc.Bucket, w.loc.Key), obj)
	if err != nil {
		return err
	}
	enc, err := content.NewMultipartEncryptor()
	if err != nil {
		content.Wipe()
		return err
	}
	w.env, w.content, w.enc = env, content, enc
	return nil
}

// metadata returns the object's metadata: the user metadata merged with
// the CSE envelope's, and a write token unless the envelope identifies the
// write. emptyCSE adds x-amz-unencrypted-content-length: 0 (an empty CSE
// object, which the envelope leaves without a length). Built once.
func (w *Writer) metadata(emptyCSE bool) map[string]string {
	if w.meta != nil {
		return w.meta
	}
	meta := w.opts.Metadata
	if w.env != nil {
		meta = mergeMaps(meta, w.env.Metadata)
		if emptyCSE {
			meta = mergeMaps(meta, map[string]string{metaUnencryptedLength: "0"})
		}
		w.mark = envelopeMark(w.env.Metadata)
	}
	if w.mark == nil {
		if metadataSize(meta)+len(WriteTokenKey)+16 <= maxMetadataSize {
			meta, w.mark = withToken(meta)
		}
	}
	if meta == nil {
		meta = map[string]string{}
	}
	w.meta = meta
	return meta
}

// progress adds n plaintext bytes acknowledged by S3 and tells
// Options.Progress.
func (w *Writer) progress(n int64) {
	if w.opts.Progress == nil {
		return
	}
	w.pmu.Lock()
	defer w.pmu.Unlock()
	w.pdone += n
	w.opts.Progress(w.pdone, w.ptotal)
}

// setTotal records the plaintext size once it is known.
func (w *Writer) setTotal(n int64) {
	w.pmu.Lock()
	w.ptotal = n
	w.pmu.Unlock()
}

// commitReq describes the request that makes w's object visible.
func (w *Writer) commitReq(op string) commitReq {
	r := commitReq{op: op, loc: w.loc, b: w.b, mark: w.mark}
	switch {
	case w.opts.IfAbsent:
		r.cond = fs.ErrExist
	case w.opts.IfMatch != "":
		r.cond = ErrPreconditionFailed
	}
	return r
}

// conditions returns the If-Match and If-None-Match of the request that
// makes the object visible.
func (w *Writer) conditions() (ifMatch, ifNoneMatch *string) {
	if w.opts.IfAbsent {
		ifNoneMatch = aws.String("*")
	}
	if w.opts.IfMatch != "" {
		ifMatch = aws.String(w.opts.IfMatch)
	}
	return ifMatch, ifNoneMatch
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
	w.life.Lock()
	defer w.life.Unlock()
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
		// A full part is sent only when more data follows, so that the
		// last part is never empty and small objects take one PUT.
		if int64(len(w.buf)) == w.partSize {
			if err := w.flushPart(false); err != nil {
				return written, w.fail("write", err)
			}
		}
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
		w.size += k
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
		if p, ok := w.c.parts.Get().(*[]byte); ok && int64(cap(*p)) == w.bufCap {
			return (*p)[:0], nil
		}
		return make([]byte, 0, w.bufCap), nil
	}
	select {
	case b := <-w.free:
		return b[:0], nil
	case <-w.ctx.Done():
		return nil, w.check()
	}
}

// flushPart starts the upload of w.buf as the next part; last says it is
// the final part (CSE appends the tag to it).
func (w *Writer) flushPart(last bool) error {
	if w.cse != nil && w.enc == nil {
		if err := w.startCSE(0); err != nil {
			return err
		}
	}
	if w.up == nil {
		if err := w.createUpload(); err != nil {
			return err
		}
	}
	plain := int64(len(w.buf))
	if w.enc != nil {
		ct, err := w.enc.EncryptPart(w.buf, last)
		if err != nil {
			return err
		}
		w.buf = ct
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
		err := w.up.uploadPart(w.ctx, num, buf)
		w.free <- buf
		if err != nil {
			w.setErr(err)
			return
		}
		w.progress(plain)
	}()
	return nil
}

func (w *Writer) createUpload() error {
	if err := w.ctx.Err(); err != nil {
		return w.check()
	}
	in := &s3.CreateMultipartUploadInput{Metadata: w.metadata(false), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32}
	w.opts.headers().createMultipartUpload(in)
	up, err := w.c.createUpload(w.ctx, w.loc, w.b, in)
	if err != nil {
		return err
	}
	w.up = up
	return nil
}

// fail aborts the upload and records err as the Writer's result, with the
// abort's own failure if it failed.
func (w *Writer) fail(op string, err error) error {
	if aerr := w.abort(); aerr != nil {
		err = errors.Join(err, aerr)
	}
	w.done = true
	w.stopAfter()
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
// The abort request runs even if the caller's context is cancelled; its
// failure is returned.
func (w *Writer) abort() error {
	w.cancel(errAborted)
	w.wg.Wait()
	w.recycle()
	w.content.Wipe()
	return w.up.abort(w.parent)
}

// Abort discards everything written: background uploads stop, the multipart
// upload (if started) is aborted, and no object is created. Close after
// Abort returns an error. Abort returns nil once the Writer is done; it
// returns an error only when AbortMultipartUpload failed, in which case
// the upload's parts stay in the bucket (without becoming an object) until
// they are aborted again or a bucket lifecycle rule removes them.
func (w *Writer) Abort() error {
	w.life.Lock()
	defer w.life.Unlock()
	if w.done {
		return nil
	}
	err := w.abort()
	w.done = true
	w.stopAfter()
	w.result = &fs.PathError{Op: "write", Path: w.uri, Err: errAborted}
	if err != nil {
		return &fs.PathError{Op: "abort", Path: w.uri, Err: err}
	}
	return nil
}

// Close uploads what remains and makes the object visible. It returns nil
// only when this write's complete object is at the URI; see Client.Create
// for what an error says about the bucket (errors of the request that
// makes the object visible, and after it, are *CommitError).
func (w *Writer) Close() error {
	w.life.Lock()
	defer w.life.Unlock()
	if w.done {
		if w.result != nil {
			return w.result
		}
		return &fs.PathError{Op: "close", Path: w.uri, Err: fs.ErrClosed}
	}
	if err := w.check(); err != nil {
		return w.fail("close", err)
	}
	w.setTotal(w.size)
	// From here on the requests that make the object visible, and the
	// steps that complete it, are not cut short by the caller's context:
	// their outcome must be known.
	cctx, cancel := commitContext(w.parent)
	defer cancel()
	if w.up == nil {
		if err := w.putObject(cctx); err != nil {
			return w.fail("close", err)
		}
	} else {
		if err := w.flushPart(true); err != nil {
			return w.fail("close", err)
		}
		w.wg.Wait()
		if err := w.check(); err != nil {
			return w.fail("close", err)
		}
		ifMatch, ifNoneMatch := w.conditions()
		if err := w.up.complete(w.parent, int(w.partNum), w.commitReq("CompleteMultipartUpload"), ifMatch, ifNoneMatch); err != nil {
			// fail aborts the upload (again: an upload already gone counts
			// as aborted).
			return w.fail("close", err)
		}
		w.progress(0)
	}
	// The object is visible from here on. The steps below complete it; if
	// one fails, the object is deleted again, so that an error from Close
	// always means that nothing of this write is left at the URI.
	if w.enc != nil && w.cse.cfg.AddUnencryptedLength && w.partNum > 0 {
		if err := w.addUnencryptedLength(cctx); err != nil {
			return w.discard("CopyObject", fmt.Errorf("adding x-amz-unencrypted-content-length (fs.s3.multipart.cse.add.unencrypted.length) to the completed upload: %w", err))
		}
	}
	if w.env != nil && w.env.Instruction != nil {
		// As the AWS clients do: the object, then its instruction file.
		if err := w.putInstruction(cctx); err != nil {
			return w.discard("PutObject", fmt.Errorf("writing its instruction file %s: %w", w.loc.Key+InstructionSuffix, err))
		}
	}
	w.finish()
	return nil
}

// discard deletes the object Close has just made visible, after a later
// step (cause, a request op) failed, and makes the Writer's result the
// error: without that step the object would be unreadable or incomplete.
// The delete runs even if the caller's context is already cancelled.
func (w *Writer) discard(op string, cause error) error {
	w.finish()
	w.result = pathError("close", w.uri, w.c.discardObject(w.parent, op, w.loc, cause))
	return w.result
}

// discardObject deletes the object at loc after the step op that was to
// complete it failed with cause, and returns the *CommitError to report.
func (c *Client) discardObject(ctx context.Context, op string, loc Location, cause error) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	ce := &CommitError{Op: op, URI: loc.String(), Err: fmt.Errorf("the object was written, then deleted again because %w", cause)}
	if derr := c.deleteKey(dctx, loc); derr != nil {
		ce.Committed = true
		ce.Err = errors.Join(ce.Err, fmt.Errorf("deleting it failed too, so it is visible but cannot be read correctly; write it again or remove it: %w", derr))
		c.log().Warn("emrfs: an object left visible but incomplete: a step after it was written failed, and deleting it failed too",
			"uri", loc.String(), "error", ce.Err)
		return ce
	}
	c.log().Warn("emrfs: an object was deleted again because a step after it was written failed; what was at its key before is gone too",
		"uri", loc.String(), "error", cause)
	return ce
}

func (w *Writer) finish() {
	w.done = true
	w.stopAfter()
	w.wg.Wait()
	w.recycle()
	w.content.Wipe()
	w.cancel(nil)
}

func (w *Writer) putObject(ctx context.Context) error {
	body := w.buf
	plain := int64(len(body))
	if w.cse != nil {
		if err := w.startCSE(plain); err != nil {
			return err
		}
		var err error
		if body, err = w.enc.EncryptPart(body, true); err != nil {
			return err
		}
		w.buf = body
	}
	in := &s3.PutObjectInput{
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		Metadata:      w.metadata(w.cse != nil && plain == 0),
		// The SDK adds no checksum to PutObject by itself here; S3 checks
		// this one against what it received.
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	}
	w.opts.headers().putObject(in)
	in.IfMatch, in.IfNoneMatch = w.conditions()
	if _, err := send(ctx, w.c.req(w.loc, w.b.SSE), in, w.c.s3.PutObject); err != nil {
		if err := w.c.settle(w.parent, w.commitReq("PutObject"), err); err != nil {
			return err
		}
	}
	w.progress(plain)
	return nil
}

// putInstruction writes the instruction file of the object, after it.
func (w *Writer) putInstruction(ctx context.Context) error {
	loc := instructionOf(w.loc)
	meta, mark := withToken(w.env.InstructionMetadata)
	body := w.env.Instruction
	in := &s3.PutObjectInput{
		Body:              bytes.NewReader(body),
		ContentLength:     aws.Int64(int64(len(body))),
		Metadata:          meta,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	}
	if _, err := send(ctx, w.c.req(loc, w.b.SSE), in, w.c.s3.PutObject); err != nil {
		return w.c.settle(w.parent, commitReq{op: "PutObject", loc: loc, b: w.b, mark: mark}, err)
	}
	return nil
}

// addUnencryptedLength records the plaintext size of a multipart CSE
// object in its metadata by copying it onto itself, as EMRFS does with
// fs.s3.multipart.cse.add.unencrypted.length (objects up to 5 GiB).
func (w *Writer) addUnencryptedLength(ctx context.Context) error {
	if w.enc.Size()+16 > maxCopyObjectSize {
		return nil
	}
	length := map[string]string{metaUnencryptedLength: fmt.Sprint(w.enc.Size())}
	meta := mergeMaps(w.metadata(false), length)
	in := &s3.CopyObjectInput{
		CopySource:        aws.String(copySource(w.loc.Bucket, w.loc.Key)),
		MetadataDirective: types.MetadataDirectiveReplace,
		Metadata:          meta,
	}
	w.opts.headers().copyObject(in)
	if _, err := send(ctx, w.c.req(w.loc, w.b.SSE).from(w.b.SSE), in, w.c.s3.CopyObject); err != nil {
		r := commitReq{op: "CopyObject", loc: w.loc, b: w.b, mark: mergeMaps(w.mark, length)}
		return w.c.settle(w.parent, r, err)
	}
	return nil
}
