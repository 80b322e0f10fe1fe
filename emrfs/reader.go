package emrfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/cse"
)

var errIsDir = errors.New("is a directory (an S3 prefix), not an object; open a key without a trailing slash")

// errShortBody reports a GET body that ended before the requested range.
var errShortBody = errors.New("emrfs: object body ended early")

// File is an S3 object open for reading. It implements io.ReadSeekCloser,
// io.ReaderAt and fs.File. Read and Seek share one offset and must not be
// called concurrently with each other; ReadAt is safe for concurrent use and
// does not move the offset.
//
// Reads are ranged GETs. A body that breaks mid-stream is resumed with a new
// ranged GET from the offset reached (If-Match the ETag), so no byte is lost
// or duplicated. Close wipes the content key of a CSE object and must not
// run concurrently with other calls.
type File struct {
	c    *Client
	ctx  context.Context
	loc  Location
	b    *Bucket
	info *FileInfo

	// CSE: content is nil for a plaintext object. ctSize is the stored
	// (ciphertext) size; info.size the plaintext size.
	content *cse.Content
	ranged  bool
	ctSize  int64

	contentType *string

	// disk is the key source of the spool of authenticated reads, set by
	// Open (nil: random in-memory key).
	disk *diskKeys

	closed atomic.Bool

	mu   sync.Mutex // guards off and body
	off  int64
	body io.ReadCloser
}

var (
	_ io.ReadSeekCloser = (*File)(nil)
	_ io.ReaderAt       = (*File)(nil)
	_ fs.File           = (*File)(nil)
)

// Stat returns the object's information as fetched by Open; the result is
// a *FileInfo.
func (f *File) Stat() (fs.FileInfo, error) { return f.info, nil }

// Size returns the object's size in bytes.
func (f *File) Size() int64 { return f.info.size }

// get returns the plaintext of [off, end] (end < 0: to the end of the
// object), read with one GET.
func (f *File) get(ctx context.Context, off, end int64) (io.ReadCloser, error) {
	if end < 0 {
		end = f.info.size - 1
	}
	if f.content == nil {
		return f.getRaw(ctx, off, end)
	}
	n := end - off + 1
	toEnd := end == f.info.size-1
	if !f.ranged || (off == 0 && toEnd) {
		// A whole-object read is authenticated even when ranged reads are
		// allowed; a partial one, when they are not, reads and verifies
		// the whole object too: read the whole object through the
		// decrypter and drop the first off bytes.
		opts := f.decryptOptions
		if !toEnd {
			// A read that stops before the end never reaches the final
			// Read where delayed authentication reports a bad tag: it
			// must authenticate first, or it would be the unauthenticated
			// ranged read the policy refused.
			opts = func(o *cse.DecryptOptions) {
				f.decryptOptions(o)
				o.DelayedAuthentication = false
			}
		}
		if err := f.checkSpool(opts); err != nil {
			return nil, err
		}
		body, err := newResumeBody(ctx, f, 0, 0)
		if err != nil {
			return nil, err
		}
		dr, err := f.newDecryptReader(body, opts)
		if err != nil {
			body.Close()
			return nil, err
		}
		if _, err := io.CopyN(io.Discard, dr, off); err != nil {
			dr.Close()
			body.Close()
			return nil, err
		}
		var r io.Reader = io.LimitReader(dr, n)
		if toEnd {
			r = &finalReader{r: dr, n: n}
		}
		return &multiCloser{Reader: r, closers: []io.Closer{dr, body}}, nil
	}
	var r cse.Range
	var err error
	if f.content.Algorithm == cse.AlgCBC {
		r, err = cse.CBCRange(off, n, f.ctSize)
	} else {
		r, err = cse.GCMRange(off, n, f.ctSize)
	}
	if err != nil {
		return nil, err
	}
	if r.Length == 0 {
		return io.NopCloser(eofReader{}), nil
	}
	// The ciphertext range is resumed where a GET breaks, so the range
	// decrypter sees it whole: a CBC range decrypts in 64 KiB chunks and
	// would release nothing from a body cut earlier than that.
	body, err := newResumeBody(ctx, f, r.Offset, r.Offset+r.Length)
	if err != nil {
		return nil, err
	}
	pr, err := cse.NewRangeReader(body, f.content.Key, f.content.IV, r)
	if err != nil {
		body.Close()
		return nil, err
	}
	return &multiCloser{Reader: io.LimitReader(pr, n), closers: []io.Closer{body}}, nil
}

// errTooLong reports a decrypted object longer than its plaintext size.
var errTooLong = errors.New("emrfs: the decrypted object is longer than its recorded plaintext size (x-amz-unencrypted-content-length); the object or its envelope was modified")

// finalReader returns the n bytes of r that end the plaintext and then
// makes r finish: it keeps reading r until r reports io.EOF, so that the
// error a decrypter gives only at the end of its stream (a GCM tag checked
// with delayed authentication, CBC padding) is returned instead of being
// lost when the expected size has been read. The Read that would deliver
// the last bytes first finishes r and, if r fails, returns that error and
// withholds the bytes, so that even a caller that stops once it has all
// the bytes it expects (io.ReadFull, io.ReadAtLeast) sees the failure.
type finalReader struct {
	r   io.Reader
	n   int64 // bytes still to return
	err error // sticky error (io.EOF once done)
}

func (f *finalReader) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	if f.n <= 0 {
		f.err = f.finish()
		return 0, f.err
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	k, err := f.r.Read(p)
	f.n -= int64(k)
	switch {
	case f.n > 0:
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			f.err = err
		}
		return k, err
	case err == nil:
		err = f.finish()
	}
	if err != io.EOF {
		f.err = err
		return 0, err // withhold the last bytes of a stream that failed
	}
	f.err = io.EOF
	return k, nil
}

// finish reads r to its end and returns io.EOF, or the error r ends with.
func (f *finalReader) finish() error {
	var b [16]byte
	for range 100 {
		k, err := f.r.Read(b[:])
		if k > 0 {
			return errTooLong
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// multiCloser is a reader whose Close closes several things.
type multiCloser struct {
	io.Reader
	closers []io.Closer
}

func (m *multiCloser) Close() error {
	var errs []error
	for _, c := range m.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// getRaw GETs the stored bytes [off, end]; off < 0 reads the whole object.
func (f *File) getRaw(ctx context.Context, off, end int64) (io.ReadCloser, error) {
	ro, err := f.c.reqOpts(ctx, "GetObject", f.loc.Bucket, f.loc.Key)
	if err != nil {
		return nil, err
	}
	in := &s3.GetObjectInput{
		Bucket: aws.String(f.loc.Bucket),
		Key:    aws.String(f.loc.Key),
	}
	if off >= 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", off, end))
	}
	if f.info.etag != "" {
		in.IfMatch = aws.String(f.info.etag)
	}
	f.b.SSE.GetObject(in)
	out, err := f.c.s3.GetObject(ctx, in, ro...)
	if err != nil {
		return nil, err
	}
	return out.Body, nil
}

// Read reads from the current offset.
func (f *File) Read(p []byte) (int, error) {
	if f.closed.Load() {
		return 0, &fs.PathError{Op: "read", Path: f.info.uri, Err: fs.ErrClosed}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.off >= f.info.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if rem := f.info.size - f.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	var lastErr error
	for attempt := 0; attempt <= f.c.opts.ReadRetries; attempt++ {
		if err := f.ctx.Err(); err != nil {
			f.dropBody()
			return 0, &fs.PathError{Op: "read", Path: f.info.uri, Err: err}
		}
		if f.body == nil {
			body, err := f.get(f.ctx, f.off, -1)
			if err != nil {
				return 0, pathError("read", f.info.uri, err)
			}
			f.body = body
		}
		n, err := f.body.Read(p)
		f.off += int64(n)
		if err == nil {
			return n, nil
		}
		// Any error (EOF included) ends this body; the next Read starts a
		// new ranged GET from f.off.
		f.dropBody()
		if permanent(err) {
			return n, pathError("read", f.info.uri, err)
		}
		if n > 0 {
			return n, nil
		}
		if err == io.EOF {
			err = errShortBody
		}
		lastErr = err
	}
	return 0, pathError("read", f.info.uri, lastErr)
}

// permanent reports whether reading again cannot help: the object failed
// authentication or does not match its envelope, or the decryption spool
// failed (a local disk problem, a cap, the spool key — not the network).
func permanent(err error) bool {
	return errors.Is(err, cse.ErrNotAuthentic) || errors.Is(err, errTooLong) || errors.As(err, new(*cse.SpoolError))
}

func (f *File) dropBody() {
	if f.body != nil {
		_ = f.body.Close()
		f.body = nil
	}
}

// ReadAt reads len(p) bytes at off with one ranged GET (resumed if the body
// breaks). It returns io.EOF when fewer bytes remain. Safe for concurrent use.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.closed.Load() {
		return 0, &fs.PathError{Op: "readat", Path: f.info.uri, Err: fs.ErrClosed}
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "readat", Path: f.info.uri, Err: errors.New("negative offset")}
	}
	if off >= f.info.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := p
	if rem := f.info.size - off; int64(len(want)) > rem {
		want = want[:rem]
	}
	total := 0
	failures := 0
	for total < len(want) {
		if err := f.ctx.Err(); err != nil {
			return total, &fs.PathError{Op: "readat", Path: f.info.uri, Err: err}
		}
		start := off + int64(total)
		body, err := f.get(f.ctx, start, off+int64(len(want))-1)
		if err != nil {
			return total, pathError("readat", f.info.uri, err)
		}
		n, err := io.ReadFull(body, want[total:])
		_ = body.Close()
		total += n
		if err == nil {
			break
		}
		if permanent(err) {
			return total, pathError("readat", f.info.uri, err)
		}
		if n == 0 {
			failures++
			if failures > f.c.opts.ReadRetries {
				if err == io.EOF || err == io.ErrUnexpectedEOF {
					err = errShortBody
				}
				return total, pathError("readat", f.info.uri, err)
			}
		} else {
			failures = 0
		}
	}
	if total < len(p) {
		return total, io.EOF
	}
	return total, nil
}

// Seek sets the offset for the next Read. Seeking past the end is allowed;
// Read then returns io.EOF.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	if f.closed.Load() {
		return 0, &fs.PathError{Op: "seek", Path: f.info.uri, Err: fs.ErrClosed}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = f.off + offset
	case io.SeekEnd:
		abs = f.info.size + offset
	default:
		return 0, &fs.PathError{Op: "seek", Path: f.info.uri, Err: fmt.Errorf("invalid whence %d", whence)}
	}
	if abs < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.info.uri, Err: errors.New("negative position")}
	}
	if abs != f.off {
		f.dropBody()
		f.off = abs
	}
	return abs, nil
}

// Close releases the open GET, if any. Later calls fail with fs.ErrClosed.
func (f *File) Close() error {
	if f.closed.Swap(true) {
		return &fs.PathError{Op: "close", Path: f.info.uri, Err: fs.ErrClosed}
	}
	f.mu.Lock()
	f.dropBody()
	f.mu.Unlock()
	f.content.Wipe()
	return nil
}

// resumeBody reads the stored (encrypted) bytes [off, end) of the object
// and resumes a body that breaks mid-stream with a ranged GET, pinned to
// the ETag, from the offset reached — so the decrypter reading it sees
// every byte once, in order, and never the break. end == 0 means the
// whole object. Each GET that delivers bytes resets the count of failures;
// ReadRetries consecutive GETs that deliver nothing end the read.
//
// Close may run while another goroutine is in Read (a decrypter's
// producer goroutine can still be reading when the decrypter is closed):
// it closes the current GET body, which ends that Read with an error.
type resumeBody struct {
	f        *File
	ctx      context.Context
	off, end int64
	failures int // consecutive failed GETs without progress

	mu     sync.Mutex // guards body and closed
	body   io.ReadCloser
	closed bool
}

var errBodyClosed = errors.New("emrfs: read after close")

// newResumeBody returns a resumeBody of the stored bytes [off, end) with
// its first GET sent (end == 0: the whole object).
func newResumeBody(ctx context.Context, f *File, off, end int64) (*resumeBody, error) {
	r := &resumeBody{f: f, ctx: ctx, off: off, end: end}
	if r.end == 0 {
		r.end = f.ctSize
	}
	b, err := r.get()
	if err != nil {
		return nil, err
	}
	r.body = b
	return r, nil
}

// get sends the GET of the bytes not read yet.
func (r *resumeBody) get() (io.ReadCloser, error) {
	if r.off == 0 && r.end == r.f.ctSize {
		return r.f.getRaw(r.ctx, -1, -1)
	}
	return r.f.getRaw(r.ctx, r.off, r.end-1)
}

func (r *resumeBody) Read(p []byte) (int, error) {
	if r.off >= r.end {
		return 0, io.EOF
	}
	if int64(len(p)) > r.end-r.off {
		p = p[:r.end-r.off]
	}
	for {
		r.mu.Lock()
		b, closed := r.body, r.closed
		r.mu.Unlock()
		if closed {
			return 0, errBodyClosed
		}
		if b == nil {
			nb, err := r.get()
			if err != nil {
				return 0, err
			}
			r.mu.Lock()
			if r.closed {
				r.mu.Unlock()
				_ = nb.Close()
				return 0, errBodyClosed
			}
			r.body, b = nb, nb
			r.mu.Unlock()
		}
		n, err := b.Read(p)
		r.off += int64(n)
		if n > 0 {
			r.failures = 0
		}
		if err == nil || (err == io.EOF && r.off >= r.end) {
			return n, err
		}
		// Broken (or short) body: resume from r.off on the next call.
		r.mu.Lock()
		mine := r.body == b
		if mine {
			r.body = nil
		}
		closed = r.closed
		r.mu.Unlock()
		if mine {
			_ = b.Close()
		}
		if closed {
			return n, errBodyClosed
		}
		if n > 0 {
			return n, nil
		}
		if err == io.EOF {
			err = errShortBody
		}
		if r.failures++; r.failures > r.f.c.opts.ReadRetries || r.ctx.Err() != nil {
			return 0, err
		}
	}
}

// Close closes the current GET body; later Reads fail.
func (r *resumeBody) Close() error {
	r.mu.Lock()
	b := r.body
	r.body, r.closed = nil, true
	r.mu.Unlock()
	if b == nil {
		return nil
	}
	return b.Close()
}
