package emrfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"

	"github.com/emrs3/emrs3/cse"
)

var errIsDir = errors.New("is a directory (an S3 prefix), not an object; open a key without a trailing slash")

// File is an S3 object open for reading. It implements io.ReadSeekCloser,
// io.ReaderAt and fs.File. Read and Seek share one offset and must not be
// called concurrently with each other; ReadAt is safe for concurrent use and
// does not move the offset.
//
// Reads are ranged GETs (a whole-object read, concurrent ones; see Open).
// A body that breaks mid-stream is resumed with a new ranged GET from the
// offset reached (If-Match the ETag), so no byte is lost or duplicated; no
// other error is retried. Integrity failures (tampered ciphertext, tag or
// envelope, a recorded plaintext length that does not match the
// ciphertext) match cse.ErrNotAuthentic. Close wipes the content key of a
// CSE object and must not run concurrently with other calls.
type File struct {
	c    *Client
	ctx  context.Context
	loc  Location
	b    *Bucket
	info *FileInfo
	pin  *objectPin // the version read: ETag, version id, stored size

	// CSE: content is nil for a plaintext object. ctSize is the stored
	// (ciphertext) size; info.size the plaintext size.
	content *cse.Content
	ranged  bool
	ctSize  int64

	contentType *string

	// disk is the key source of the spool of authenticated reads, set by
	// Open (nil: random in-memory key).
	disk *diskKeys

	// Authenticated random access (GCM): the chunk table of the object,
	// once a pass has verified it; tabMu serializes the passes.
	tkey  tableKey
	table atomic.Pointer[cse.ChunkTable]
	tabMu sync.Mutex

	partSize    int64
	concurrency int
	progress    ProgressFunc
	progMu      sync.Mutex
	progDone    int64

	// first is the body of Open's GET (stored bytes [0, firstEnd)),
	// until a read from the start takes it. pre, when Open prefetched,
	// is the whole object's parts reader, which has taken first.
	firstMu  sync.Mutex
	first    io.ReadCloser
	firstEnd int64
	pre      *partsReader

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
// object). Broken bodies are resumed by resumeBody; nothing else is retried.
func (f *File) get(ctx context.Context, off, end int64) (io.ReadCloser, error) {
	if end < 0 {
		end = f.info.size - 1
	}
	if f.content == nil {
		if off == 0 && end == f.info.size-1 {
			return f.wholeBody(ctx)
		}
		f.dropFirst()
		return newResumeBody(ctx, f.pin, off, end+1, nil)
	}
	n := end - off + 1
	toEnd := end == f.info.size-1
	whole := off == 0 && toEnd
	gcm := f.content.Algorithm == cse.AlgGCM || f.content.Algorithm == cse.AlgCommitting
	if gcm && !whole && !f.ranged {
		// Authenticate once, then read only the chunks of the range.
		t, captured, err := f.authenticate(ctx, off, n)
		if err != nil || captured != nil {
			return captured, err
		}
		return f.chunkRead(ctx, t, off, n)
	}
	if whole || !f.ranged {
		// A whole-object read is authenticated even when ranged reads are
		// allowed; a partial one of CBC content, when they are not, reads
		// and verifies the whole object too: read the whole object
		// through the decrypter and drop the first off bytes.
		var t *cse.ChunkTable
		if gcm && f.table.Load() == nil {
			t = &cse.ChunkTable{}
		}
		opts := func(o *cse.StreamOptions) {
			f.decryptOptions(o)
			o.ChunkTable = t
			if !toEnd {
				// A read that stops before the end never reaches the
				// final Read where delayed authentication reports a bad
				// tag: it must authenticate first, or it would be the
				// unauthenticated ranged read the policy refused.
				o.DelayedAuthentication = false
			}
		}
		opts, err := f.checkSpool(opts)
		if err != nil {
			f.dropFirst()
			return nil, err
		}
		body, err := f.wholeBody(ctx)
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
			fr := &finalReader{r: dr, n: n}
			if t != nil {
				fr.done = func() { f.keepTable(t) }
			}
			r = fr
		}
		return &multiCloser{Reader: r, closers: []io.Closer{dr, body}}, nil
	}
	r, err := f.content.Range(off, n, f.ctSize)
	if err != nil {
		return nil, err
	}
	if r.Length == 0 {
		return io.NopCloser(eofReader{}), nil
	}
	// The ciphertext range is resumed where a GET breaks, so the range
	// decrypter sees it whole: a CBC range decrypts in 64 KiB chunks and
	// would release nothing from a body cut earlier than that.
	f.dropFirst()
	body, err := newResumeBody(ctx, f.pin, r.Offset, r.Offset+r.Length, nil)
	if err != nil {
		return nil, err
	}
	pr, err := f.content.NewRangeReader(body, r)
	if err != nil {
		body.Close()
		return nil, err
	}
	return &multiCloser{Reader: io.LimitReader(pr, n), closers: []io.Closer{body}}, nil
}

// errTooLong reports a decrypted object longer than its plaintext size.
var errTooLong = fmt.Errorf("emrfs: the decrypted object is longer than its recorded plaintext size (x-amz-unencrypted-content-length); the object or its envelope was modified: %w", cse.ErrNotAuthentic)

// errTooShort reports a decrypted object shorter than its plaintext size.
var errTooShort = fmt.Errorf("emrfs: the decrypted object is shorter than its recorded plaintext size (x-amz-unencrypted-content-length); the object or its envelope was modified: %w", cse.ErrNotAuthentic)

// finalReader returns the n bytes of r that end the plaintext and then
// makes r finish: it keeps reading r until r reports io.EOF, so that the
// error a decrypter gives only at the end of its stream (a GCM tag checked
// with delayed authentication, CBC padding) is returned instead of being
// lost when the expected size has been read. The Read that would deliver
// the last bytes first finishes r and, if r fails, returns that error and
// withholds the bytes, so that even a caller that stops once it has all
// the bytes it expects (io.ReadFull, io.ReadAtLeast) sees the failure.
type finalReader struct {
	r    io.Reader
	n    int64  // bytes still to return
	err  error  // sticky error (io.EOF once done)
	done func() // called once r has ended with io.EOF, if not nil
}

func (f *finalReader) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	if f.n <= 0 {
		f.err = f.finish()
		if f.err == io.EOF && f.done != nil {
			f.done()
		}
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
			err = errTooShort
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
	if f.done != nil {
		f.done()
	}
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
	if err := f.ctx.Err(); err != nil {
		f.dropBody()
		return 0, &fs.PathError{Op: "read", Path: f.info.uri, Err: err}
	}
	if rem := f.info.size - f.off; int64(len(p)) > rem {
		p = p[:rem]
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
	f.report(n)
	if err == nil || (err == io.EOF && f.off >= f.info.size) {
		return n, nil
	}
	// Any other error ends this body for good: a broken connection has
	// already been resumed by resumeBody (the one place that retries), so
	// what reaches here is final. The next Read starts afresh from f.off.
	f.dropBody()
	if err == io.EOF {
		err = errShortBody
	}
	return n, pathError("read", f.info.uri, err)
}

func (f *File) dropBody() {
	if f.body != nil {
		_ = f.body.Close()
		f.body = nil
	}
}

// ReadAt reads len(p) bytes at off. It returns io.EOF when fewer bytes
// remain. Safe for concurrent use.
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
	if err := f.ctx.Err(); err != nil {
		return 0, &fs.PathError{Op: "readat", Path: f.info.uri, Err: err}
	}
	want := p
	if rem := f.info.size - off; int64(len(want)) > rem {
		want = want[:rem]
	}
	body, err := f.get(f.ctx, off, off+int64(len(want))-1)
	if err != nil {
		return 0, pathError("readat", f.info.uri, err)
	}
	n, err := io.ReadFull(body, want)
	_ = body.Close()
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = errShortBody
		}
		if f.content != nil && n > 0 {
			// Plaintext is released only when the whole range is.
			clear(want[:n])
			n = 0
		}
		return n, pathError("readat", f.info.uri, err)
	}
	f.report(n)
	if len(want) < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// report tells OpenOptions.Progress about n more bytes released to the
// caller (received from S3 and, for a CSE object, verified as the mode
// requires), clamped to the File's size.
func (f *File) report(n int) {
	if f.progress == nil || n <= 0 {
		return
	}
	f.progMu.Lock()
	defer f.progMu.Unlock()
	if f.progDone >= f.info.size {
		return
	}
	f.progDone = min(f.progDone+int64(n), f.info.size)
	f.progress(f.progDone, f.info.size)
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
	f.dropFirst()
	f.content.Wipe()
	return nil
}

// verifyEmpty reads and authenticates an object whose plaintext is empty.
func (f *File) verifyEmpty(ctx context.Context) error {
	body, err := f.wholeBody(ctx)
	if err != nil {
		return err
	}
	defer body.Close()
	dr, err := f.newDecryptReader(body, func(o *cse.StreamOptions) {
		f.decryptOptions(o)
		o.DelayedAuthentication = false
	})
	if err != nil {
		return err
	}
	defer dr.Close()
	var b [1]byte
	n, err := io.ReadFull(dr, b[:])
	switch {
	case n > 0:
		return errTooLong
	case err == io.EOF:
		return nil
	}
	return err
}

// maxCapture is the largest range the authenticating pass keeps for the
// read that started it (so that read needs no second fetch).
const maxCapture = 8 << 20

// loadTable returns the object's chunk table: the File's own, or one from
// the Client's cache.
func (f *File) loadTable() *cse.ChunkTable {
	if t := f.table.Load(); t != nil {
		return t
	}
	t := f.c.tables.get(f.tkey)
	if t != nil {
		f.c.log().Debug("emrfs: chunk table cache hit", "uri", f.info.uri)
		f.table.Store(t)
	}
	return t
}

// keepTable records a complete chunk table for the File and the Client.
func (f *File) keepTable(t *cse.ChunkTable) {
	if !t.Complete() {
		return
	}
	f.table.CompareAndSwap(nil, t)
	f.c.tables.put(f.tkey, t, f.ctSize)
}

// authenticate returns the object's chunk table, running the one pass that
// reads the whole object and verifies its tag when there is none yet. The
// pass keeps the plaintext of [off, off+n) when it is small enough and
// returns it as captured (released only once the tag has verified).
func (f *File) authenticate(ctx context.Context, off, n int64) (t *cse.ChunkTable, captured io.ReadCloser, err error) {
	if t := f.loadTable(); t != nil {
		return t, nil, nil
	}
	f.tabMu.Lock()
	defer f.tabMu.Unlock()
	if t := f.loadTable(); t != nil {
		return t, nil, nil
	}
	t = &cse.ChunkTable{}
	body, err := f.wholeBody(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer body.Close()
	// The plaintext is discarded as it is decrypted (only the range asked
	// for is kept, and released once the tag has verified), so the pass
	// streams: nothing is held or spooled.
	dr, err := f.newDecryptReader(body, func(o *cse.StreamOptions) {
		f.decryptOptions(o)
		o.DelayedAuthentication = true
		o.ChunkTable = t
	})
	if err != nil {
		return nil, nil, err
	}
	defer dr.Close()
	var keep []byte
	if n <= maxCapture {
		keep = make([]byte, n)
	}
	_, err = io.CopyN(io.Discard, dr, off)
	if err == nil && keep != nil {
		_, err = io.ReadFull(dr, keep)
	}
	if err == nil {
		var k int64
		k, err = io.Copy(io.Discard, dr)
		if err == nil && off+int64(len(keep))+k != f.info.size {
			err = errTooLong // shorter would have failed above
		}
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = errTooShort
	}
	if err == nil && !t.Complete() {
		err = errors.New("emrfs: internal error: the authenticated pass left no chunk table")
	}
	if err != nil {
		clear(keep)
		return nil, nil, err
	}
	f.keepTable(t)
	if keep != nil {
		return t, io.NopCloser(bytes.NewReader(keep)), nil
	}
	return t, nil, nil
}

// chunkRead returns the plaintext of [off, off+n) read from the chunks that
// hold it, each checked against the object's chunk table.
func (f *File) chunkRead(ctx context.Context, t *cse.ChunkTable, off, n int64) (io.ReadCloser, error) {
	start, end := t.Span(off, n)
	if end <= start {
		return io.NopCloser(eofReader{}), nil
	}
	f.dropFirst()
	body, err := newResumeBody(ctx, f.pin, start, end, nil)
	if err != nil {
		return nil, err
	}
	cr, err := f.content.NewChunkReader(body, t, start, end)
	if err != nil {
		body.Close()
		return nil, err
	}
	if _, err := io.CopyN(io.Discard, cr, off-start); err != nil {
		body.Close()
		return nil, err
	}
	return &multiCloser{Reader: io.LimitReader(cr, n), closers: []io.Closer{body}}, nil
}

// takeFirst returns the body of Open's GET, or nil once taken.
func (f *File) takeFirst() (io.ReadCloser, int64) {
	f.firstMu.Lock()
	defer f.firstMu.Unlock()
	b := f.first
	f.first = nil
	return b, f.firstEnd
}

// startPrefetch turns Open's GET into a parts reader of the whole object
// whose part GETs start now (see partsReader.prefetch).
func (f *File) startPrefetch() {
	f.firstMu.Lock()
	defer f.firstMu.Unlock()
	if f.first == nil || f.pre != nil || f.concurrency <= 1 || f.firstEnd >= f.pin.size {
		return // one GET: nothing to start early
	}
	// A body already sent: newResumeBody sends no GET and cannot fail.
	first, _ := newResumeBody(f.ctx, f.pin, 0, f.firstEnd, f.first)
	f.first = nil
	f.pre = newParts(f.ctx, f.pin, first, f.firstEnd, f.partSize, f.concurrency)
	f.pre.prefetch()
}

// takePrefetch returns the parts reader Open started, or nil once taken.
func (f *File) takePrefetch() *partsReader {
	f.firstMu.Lock()
	defer f.firstMu.Unlock()
	pr := f.pre
	f.pre = nil
	return pr
}

// dropPrefetch stops a prefetch that no read will use; the next read
// fetches what it needs afresh.
func (f *File) dropPrefetch() {
	if pr := f.takePrefetch(); pr != nil {
		_ = pr.Close()
	}
}

// dropFirst closes the body of Open's GET (or the prefetch that took it) if
// no read has taken it.
func (f *File) dropFirst() {
	if b, _ := f.takeFirst(); b != nil {
		_ = b.Close()
	}
	f.dropPrefetch()
}

// wholeBody returns the stored bytes of the whole object, fetched as
// concurrent ranged GETs starting with Open's (or the ones Open started).
func (f *File) wholeBody(ctx context.Context) (io.ReadCloser, error) {
	if pr := f.takePrefetch(); pr != nil {
		return pr, nil
	}
	first, firstEnd := f.takeFirst()
	return newPartsReader(ctx, f.pin, first, firstEnd, f.partSize, f.concurrency)
}
