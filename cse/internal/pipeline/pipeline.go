// Package pipeline cuts a stream into chunks, processes them on a pool of
// workers and hands them back in order, in bounded memory.
//
// A pipeline reads ChunkSize bytes at a time from its source and keeps the
// last Holdback bytes of the stream back from processing: they are delivered
// as the Trailer of the last job (the GCM tag, or the final CBC block). With
// one worker no goroutine is started and everything happens inside Next.
package pipeline

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"unsafe"
)

// ErrShort reports a stream shorter than the holdback.
var ErrShort = errors.New("pipeline: stream shorter than its trailer")

// ErrClosed reports use after Close.
var ErrClosed = errors.New("pipeline: closed")

// Job is one chunk of the stream.
type Job struct {
	Index   int64    // chunk number, from 0
	Offset  int64    // stream offset of Data
	Data    []byte   // the chunk; processed in place
	Prev    [16]byte // the 16 input bytes before Data (zero for the first chunk)
	Last    bool     // Data is the final chunk; Trailer holds the held-back bytes
	Trailer []byte   // the final Holdback bytes of the stream, when Last
	Sum     [16]byte // result slot for the processor
	Done    bool     // result slot: the processor finished the whole message
	Sealed  bool     // result slot: Data was sealed for a spool (longer than read)
	Err     error    // a read error or a processing error, in stream order

	buf  []byte
	done chan struct{}
}

// Config describes a pipeline.
type Config struct {
	ChunkSize int        // bytes per chunk, a multiple of 16
	Holdback  int        // trailing bytes kept out of processing
	Workers   int        // processing goroutines; 1 processes inside Next
	Process   func(*Job) // processes one job in place; may set Err
}

// Pipeline delivers processed chunks in order.
type Pipeline struct {
	cfg   Config
	src   io.Reader
	carry []byte
	prev  [16]byte
	index int64
	off   int64
	ended bool // the last job was produced
	taken bool // the last job (or an error) was returned by Next

	// sequential mode
	job *Job

	// parallel mode
	started  bool
	prodDone chan struct{}
	order    chan *Job
	work     chan *Job
	free     chan *Job
	stop     chan struct{}
	wg       sync.WaitGroup
	close    sync.Once

	// closed is set by Close; the producer checks it before every Read of
	// the source.
	closed atomic.Bool
}

// New starts a pipeline over src.
func New(src io.Reader, cfg Config) *Pipeline {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	p := &Pipeline{cfg: cfg, src: src, carry: make([]byte, 0, cfg.Holdback)}
	return p
}

func (p *Pipeline) newJob() *Job {
	return &Job{buf: getBuffer(p.cfg.ChunkSize + p.cfg.Holdback + 16), done: make(chan struct{}, 1)}
}

// buffers recycles chunk buffers across pipelines, by capacity. A pool
// holds the address of each buffer's first byte (pointer-shaped, so putting
// it costs no allocation); every buffer in a pool has that pool's capacity.
var buffers sync.Map // int -> *sync.Pool of *byte

func pool(size int) *sync.Pool {
	if v, ok := buffers.Load(size); ok {
		return v.(*sync.Pool)
	}
	v, _ := buffers.LoadOrStore(size, new(sync.Pool))
	return v.(*sync.Pool)
}

func getBuffer(size int) []byte {
	if p, ok := pool(size).Get().(*byte); ok {
		return unsafe.Slice(p, size)
	}
	return make([]byte, size)
}

// PutBuffer recycles the buffer behind a slice returned by Detach, once the
// caller is done with it. The slice must not be used afterwards.
func PutBuffer(b []byte) {
	if cap(b) == 0 {
		return
	}
	pool(cap(b)).Put(unsafe.SliceData(b[:cap(b)]))
}

// fill reads the next chunk into j.
func (p *Pipeline) fill(j *Job) {
	j.Index, j.Offset, j.Prev = p.index, p.off, p.prev
	j.Last, j.Trailer, j.Err, j.Done, j.Sealed, j.Sum = false, nil, nil, false, false, [16]byte{}
	size := p.cfg.ChunkSize + p.cfg.Holdback
	b := j.buf[:size]
	n := copy(b, p.carry)
	m, err := readFull(p.src, b[n:], &p.closed)
	t := n + m
	switch {
	case err == nil:
		j.Data = b[:p.cfg.ChunkSize]
		p.carry = append(p.carry[:0], b[p.cfg.ChunkSize:t]...)
	case err == io.EOF:
		p.ended = true
		if t < p.cfg.Holdback {
			j.Data, j.Err = b[:0], ErrShort
			return
		}
		j.Data = b[:t-p.cfg.Holdback]
		j.Trailer = b[t-p.cfg.Holdback : t]
		j.Last = true
	default:
		p.ended = true
		j.Data, j.Err = b[:0], err
		return
	}
	if d := len(j.Data); d >= 16 {
		copy(p.prev[:], j.Data[d-16:])
	}
	p.index++
	p.off += int64(len(j.Data))
}

// readFull is io.ReadFull except that it returns io.EOF for a clean end of
// the source, however much was read, and passes every other error through:
// a source that itself reports io.ErrUnexpectedEOF (a truncated HTTP body)
// is an error, not the end of the stream.
func readFull(r io.Reader, b []byte, closed *atomic.Bool) (int, error) {
	n := 0
	for n < len(b) {
		if closed.Load() {
			return n, ErrClosed
		}
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Next returns the next processed job in stream order, io.EOF after the
// last one, or ErrClosed after Close. The job stays valid until it is passed
// to Release or Detach; with one worker, also only until the next call to
// Next, which reuses it.
func (p *Pipeline) Next() (*Job, error) {
	if p.closed.Load() {
		return nil, ErrClosed
	}
	if p.taken {
		return nil, io.EOF
	}
	if p.cfg.Workers == 1 {
		if p.job == nil {
			p.job = p.newJob()
		}
		j := p.job
		p.fill(j)
		if j.Err == nil {
			p.cfg.Process(j)
		}
		p.taken = j.Last || j.Err != nil
		return j, nil
	}
	if !p.started {
		// Read the first chunk here: a message that fits in one chunk
		// never starts a goroutine.
		p.started = true
		j := p.newJob()
		p.fill(j)
		if j.Last || j.Err != nil {
			if j.Err == nil {
				p.cfg.Process(j)
			}
			p.taken = true
			p.job = j
			return j, nil
		}
		p.start(j)
	}
	select {
	case j, ok := <-p.order:
		if !ok {
			return nil, ErrClosed
		}
		<-j.done
		p.taken = j.Last || j.Err != nil
		return j, nil
	case <-p.stop:
		return nil, ErrClosed
	}
}

// Release hands a job's buffer back for reuse.
func (p *Pipeline) Release(j *Job) {
	if j == nil || j == p.job || p.free == nil {
		return
	}
	select {
	case p.free <- j:
	default:
	}
}

// Detach takes ownership of the job's Data (and Trailer) away from the
// pipeline: the job gets a new buffer and can still be released. Hand the
// slice to PutBuffer when done with it.
func (p *Pipeline) Detach(j *Job) []byte {
	data := j.Data
	j.buf = getBuffer(len(j.buf))
	j.Data, j.Trailer = nil, nil
	return data
}

// Close stops the pipeline and recycles its idle buffers. Release the
// current job before calling it. It does not close the source and does not
// wait for a Read of the source in progress (the producer exits when that
// Read returns); the producer checks for Close before every Read, so at
// most one Read — one that passed that check as Close ran — begins after
// Close has returned, and none after it.
func (p *Pipeline) Close() {
	p.close.Do(func() {
		p.closed.Store(true)
		p.taken = true
		if p.job != nil {
			// Sequential mode, or a parallel pipeline that never started.
			PutBuffer(p.job.buf)
			p.job = nil
		}
		if p.stop != nil {
			close(p.stop)
			select {
			case <-p.prodDone:
				p.drainFree()
			default:
				// The producer drains the free list when it exits.
			}
		}
	})
}

// drainFree recycles the buffers of idle jobs. Only called once the producer,
// the free list's only reader, has stopped or is stopping.
func (p *Pipeline) drainFree() {
	for {
		select {
		case j := <-p.free:
			PutBuffer(j.buf)
		default:
			return
		}
	}
}

func (p *Pipeline) start(first *Job) {
	w := p.cfg.Workers
	n := 2 * w
	p.order = make(chan *Job, n)
	p.work = make(chan *Job, n)
	p.free = make(chan *Job, n)
	p.stop = make(chan struct{})
	p.prodDone = make(chan struct{})
	for range n - 1 {
		p.free <- p.newJob()
	}
	p.order <- first
	p.work <- first
	for range w {
		p.wg.Add(1)
		go p.worker()
	}
	go p.produce()
}

func (p *Pipeline) worker() {
	defer p.wg.Done()
	for j := range p.work {
		p.cfg.Process(j)
		j.done <- struct{}{}
	}
}

func (p *Pipeline) produce() {
	defer func() {
		close(p.work)
		close(p.prodDone)
		select {
		case <-p.stop:
			p.drainFree()
		default:
		}
	}()
	for !p.ended {
		var j *Job
		select {
		case j = <-p.free:
		case <-p.stop:
			return
		}
		if p.closed.Load() {
			PutBuffer(j.buf)
			return
		}
		p.fill(j)
		select {
		case p.order <- j:
		case <-p.stop:
			return
		}
		if j.Err != nil {
			j.done <- struct{}{}
			return
		}
		select {
		case p.work <- j:
		case <-p.stop:
			return
		}
	}
}

// Scratch returns 16 bytes of per-job scratch space that Data never uses.
func (j *Job) Scratch() []byte { return j.buf[len(j.buf)-16 : len(j.buf)-16 : len(j.buf)] }
