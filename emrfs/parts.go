package emrfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
)

// partsReader reads the stored bytes [0, size) of an object as concurrent
// ranged GETs of partSize bytes, pinned to the ETag (and version id), and
// returns them in order. Part 0 streams from the GET Open already sent; up
// to concurrency further parts are fetched and held in memory ahead of the
// reader, so a read holds at most concurrency × partSize bytes of parts.
// A part whose body breaks is resumed from where it broke (resumeBody);
// nothing else is retried. A part that fails fails the read when the
// reader reaches it.
//
// partsReader is a landing source of cse (its unexported landingSource interface): a GCM decrypter reading from it
// hashes and decrypts each fetched part where it lands, on the goroutine
// that fetched it (in parallel with the other parts' transfers), and only
// combines the parts' hashes in order; the first part, which streams, goes
// through the decrypter's workers. (feature/s3/manager.Downloader is not used: it writes parts to an
// io.WriterAt in any order and returns only when the whole object is down,
// so it cannot release the first bytes early or bound memory below the
// object's size without a reordering writer of our own, and it has no
// place to resume a part from the offset reached with If-Match pinned.)
type partsReader struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	first   *resumeBody
	bounds  [][2]int64 // [start, end) of each part
	results []chan partResult
	sem     chan struct{} // one token per part fetched and not yet read
	p       *objectPin
	start   sync.Once // starts schedule: at prefetch, OnLand or the first Read

	// What happens to a part once it is in memory is decided by the first
	// OnLand (land: hash and decrypt it there) or Read (land nil). Parts
	// fetched before that (prefetch) wait in pending.
	landMu  sync.Mutex
	landSet bool
	land    func(off int64, b []byte)
	pending map[int]*[]byte // parts fetched before landSet, by index

	next int // index of the next part to start reading
	cur  io.Reader
	buf  *[]byte // buffer of cur, when it is a fetched part
	err  error
}

// partsReader keeps the GCM decrypter's fast path (cse's landingSource).
var _ interface {
	StreamSize() int64
	OnLand(func(off int64, b []byte))
} = (*partsReader)(nil)

type partResult struct {
	buf *[]byte
	err error
}

var partBuffers sync.Pool // of *[]byte

// newPartsReader returns a partsReader of the object pinned by p. first,
// when not nil, is the body of a GET of the stored bytes [0, firstEnd).
func newPartsReader(ctx context.Context, p *objectPin, first io.ReadCloser, firstEnd, partSize int64, concurrency int) (io.ReadCloser, error) {
	size := p.size
	if first == nil {
		firstEnd = min(partSize, size)
	}
	if concurrency <= 1 || firstEnd >= size {
		// One GET: the first part's body, then one GET of the rest.
		return newResumeBody(ctx, p, 0, size, first)
	}
	fb, err := newResumeBody(ctx, p, 0, firstEnd, first)
	if err != nil {
		return nil, err
	}
	return newParts(ctx, p, fb, firstEnd, partSize, concurrency), nil
}

// newParts returns the partsReader of the object pinned by p whose first
// part, the stored bytes [0, firstEnd), is read from first.
func newParts(ctx context.Context, p *objectPin, first *resumeBody, firstEnd, partSize int64, concurrency int) *partsReader {
	size := p.size
	r := &partsReader{first: first, sem: make(chan struct{}, concurrency)}
	r.ctx, r.cancel = context.WithCancel(ctx)
	r.bounds = append(r.bounds, [2]int64{0, firstEnd})
	for off := firstEnd; off < size; {
		end := min(off+partSize, size)
		if rest := size - end; rest > 0 && rest < partSize/4 {
			// A short last part (a GCM tag past a whole number of
			// parts) rides with the one before: one GET less.
			end = size
		}
		r.bounds = append(r.bounds, [2]int64{off, end})
		off = end
	}
	r.results = make([]chan partResult, len(r.bounds))
	for i := range r.results {
		r.results[i] = make(chan partResult, 1)
	}
	r.p = p
	return r
}

// StreamSize returns the stored size of the object (cse's landingSource).
func (r *partsReader) StreamSize() int64 { return r.p.size }

// OnLand registers fn, called on each fetched part once it is in memory
// (cse's landingSource), and starts the fetches if prefetch has not. Called
// before the first Read; parts already fetched are landed now, in parallel.
func (r *partsReader) OnLand(fn func(off int64, b []byte)) {
	r.setLand(fn)
	r.start.Do(r.startFetches)
}

// prefetch starts the fetches before anyone reads: Open calls it when every
// read of the File will read the whole object, so that the parts travel
// while the content key is recovered. Fetched parts wait, in memory and
// within the concurrency bound, for OnLand or the first Read.
func (r *partsReader) prefetch() { r.start.Do(r.startFetches) }

// setLand fixes, once, what happens to each part once fetched, and hands
// over the parts that were waiting for that.
func (r *partsReader) setLand(fn func(off int64, b []byte)) {
	r.landMu.Lock()
	if r.landSet {
		r.landMu.Unlock()
		return
	}
	r.landSet, r.land = true, fn
	pending := r.pending
	r.pending = nil
	r.landMu.Unlock()
	for i, bp := range pending {
		if fn == nil {
			r.results[i] <- partResult{buf: bp}
			continue
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			fn(r.bounds[i][0], *bp)
			r.results[i] <- partResult{buf: bp}
		}()
	}
}

// deliver passes a fetched part on: landed first when a landing function
// is set, held back when none has been chosen yet.
func (r *partsReader) deliver(i int, res partResult) {
	if res.err == nil {
		r.landMu.Lock()
		if !r.landSet {
			if r.pending == nil {
				r.pending = map[int]*[]byte{}
			}
			r.pending[i] = res.buf
			r.landMu.Unlock()
			return
		}
		fn := r.land
		r.landMu.Unlock()
		if fn != nil {
			fn(r.bounds[i][0], *res.buf)
		}
	}
	r.results[i] <- res
}

func (r *partsReader) startFetches() {
	r.wg.Add(1)
	go r.schedule(r.p)
}

// schedule starts the fetch of every part after the first, as tokens free.
func (r *partsReader) schedule(p *objectPin) {
	defer r.wg.Done()
	for i := 1; i < len(r.bounds); i++ {
		select {
		case r.sem <- struct{}{}:
		case <-r.ctx.Done():
			return
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.deliver(i, r.fetch(p, r.bounds[i][0], r.bounds[i][1]))
		}()
	}
}

// fetch GETs one part into a buffer.
func (r *partsReader) fetch(p *objectPin, start, end int64) partResult {
	n := int(end - start)
	bp, _ := partBuffers.Get().(*[]byte)
	if bp == nil || cap(*bp) < n+16 {
		// 16 bytes spare: the in-place decryption of a part's last
		// chunk overwrites the 16 bytes after it.
		b := make([]byte, n, n+16)
		bp = &b
	}
	*bp = (*bp)[:n]
	body, err := newResumeBody(r.ctx, p, start, end, nil)
	if err == nil {
		_, err = io.ReadFull(body, *bp)
		body.Close()
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = errShortBody
		}
	}
	if err != nil {
		partBuffers.Put(bp)
		return partResult{err: err}
	}
	return partResult{buf: bp}
}

func (r *partsReader) Read(p []byte) (int, error) {
	r.setLand(nil) // no-op after OnLand
	r.start.Do(r.startFetches)
	for {
		if r.err != nil {
			return 0, r.err
		}
		if r.cur != nil {
			n, err := r.cur.Read(p)
			if err == io.EOF {
				r.done()
				err = nil
			}
			if err != nil {
				r.err = err
			}
			if n > 0 || err != nil {
				return n, err
			}
			continue
		}
		if r.next >= len(r.bounds) {
			r.err = io.EOF
			return 0, io.EOF
		}
		if r.next == 0 {
			r.cur = r.first
			r.next++
			continue
		}
		var res partResult
		select {
		case res = <-r.results[r.next]:
		case <-r.ctx.Done():
			res.err = r.ctx.Err()
			if errors.Is(res.err, context.Canceled) {
				res.err = errBodyClosed
			}
		}
		r.next++
		if res.err != nil {
			r.err = res.err
			return 0, res.err
		}
		r.buf = res.buf
		r.cur = bytes.NewReader(*res.buf)
	}
}

// done ends the current part: a fetched part's buffer and token return.
func (r *partsReader) done() {
	r.cur = nil
	if r.buf != nil {
		partBuffers.Put(r.buf)
		r.buf = nil
		<-r.sem
	}
}

// Close stops the fetches and waits for them. It may run while another
// goroutine is in Read, which then fails.
func (r *partsReader) Close() error {
	r.start.Do(func() {}) // no fetch starts after Close
	r.cancel()
	r.setLand(nil) // parts still waiting go to their channels
	err := r.first.Close()
	r.wg.Wait()
	return err
}
