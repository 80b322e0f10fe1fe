package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
	"unsafe"
)

// input returns n deterministic, non-repeating bytes.
func input(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// got is a copy of what Next returned for one job.
type got struct {
	index, offset int64
	data, trailer []byte
	prev          [16]byte
	sum           [16]byte
	last          bool
	err           error
}

// drain reads a pipeline to its end, copying and releasing every job. It
// stops after a job that carries an error, and checks that Next then keeps
// returning io.EOF.
func drain(t *testing.T, p *Pipeline) []got {
	t.Helper()
	var out []got
	for {
		j, err := p.Next()
		if err == io.EOF {
			if len(out) == 0 || !(out[len(out)-1].last || out[len(out)-1].err != nil) {
				t.Fatalf("io.EOF after %d jobs, before a last job or an error", len(out))
			}
			for range 2 {
				if j, err := p.Next(); j != nil || err != io.EOF {
					t.Fatalf("Next after the end = %v, %v; want nil, io.EOF", j, err)
				}
			}
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, got{
			index: j.Index, offset: j.Offset, prev: j.Prev, sum: j.Sum, last: j.Last, err: j.Err,
			data: bytes.Clone(j.Data), trailer: bytes.Clone(j.Trailer),
		})
		p.Release(j)
	}
}

// xorIndex is a processor whose result depends on the job: it adds the chunk
// number to every byte and records the chunk number in Sum. Later chunks
// finish first, so that workers complete out of order.
func xorIndex(slow bool) func(*Job) {
	return func(j *Job) {
		if slow {
			time.Sleep(time.Duration(3-j.Index%4) * 50 * time.Microsecond)
		}
		for i := range j.Data {
			j.Data[i] += byte(j.Index)
		}
		j.Sum[0] = byte(j.Index)
	}
}

// checkStream checks that jobs are the whole of in, in order, cut into
// chunks of the configured size, processed by xorIndex, with the last
// holdback bytes as the trailer of a single last job.
func checkStream(t *testing.T, name string, jobs []got, in []byte, chunk, holdback int) {
	t.Helper()
	var off int64
	for i, j := range jobs {
		if j.err != nil {
			t.Fatalf("%s: job %d: unexpected error %v", name, i, j.err)
		}
		if j.index != int64(i) || j.offset != off {
			t.Fatalf("%s: job %d has Index %d Offset %d; want %d, %d", name, i, j.index, j.offset, i, off)
		}
		if j.last != (i == len(jobs)-1) {
			t.Fatalf("%s: job %d of %d: Last = %v", name, i, len(jobs), j.last)
		}
		if !j.last && len(j.data) != chunk {
			t.Fatalf("%s: job %d is not last but holds %d bytes, not the chunk size %d", name, i, len(j.data), chunk)
		}
		var prev [16]byte
		if off >= 16 {
			copy(prev[:], in[off-16:off])
		}
		if j.prev != prev {
			t.Fatalf("%s: job %d: Prev is not the 16 input bytes before the chunk", name, i)
		}
		want := bytes.Clone(in[off : off+int64(len(j.data))])
		for k := range want {
			want[k] += byte(i)
		}
		if !bytes.Equal(j.data, want) || j.sum[0] != byte(i) {
			t.Fatalf("%s: job %d: data or Sum is not this chunk's processed input", name, i)
		}
		off += int64(len(j.data))
	}
	if len(jobs) == 0 {
		t.Fatalf("%s: no jobs", name)
	}
	if off != int64(len(in)-holdback) {
		t.Fatalf("%s: jobs cover %d bytes; want %d", name, off, len(in)-holdback)
	}
	if tr := jobs[len(jobs)-1].trailer; !bytes.Equal(tr, in[len(in)-holdback:]) {
		t.Fatalf("%s: trailer %x; want the last %d bytes %x", name, tr, holdback, in[len(in)-holdback:])
	}
}

var workerCounts = []int{1, 2, 3, 8}

func TestOrderAcrossWorkers(t *testing.T) {
	for _, w := range workerCounts {
		for _, chunk := range []int{16, 48} {
			for _, holdback := range []int{0, 16} {
				for _, size := range []int{holdback, 1 + holdback, 40*chunk + holdback, 40*chunk + 5 + holdback, 1000} {
					in := input(size)
					name := fmt.Sprintf("workers=%d chunk=%d holdback=%d size=%d", w, chunk, holdback, size)
					p := New(iotest.HalfReader(bytes.NewReader(in)), Config{ChunkSize: chunk, Holdback: holdback, Workers: w, Process: xorIndex(true)})
					checkStream(t, name, drain(t, p), in, chunk, holdback)
					p.Close()
				}
			}
		}
	}
}

// TestHoldbackEdges covers stream sizes around the holdback and around
// whole chunks: a stream that ends exactly at a chunk boundary plus the
// holdback yields a last job with no data, only the trailer.
func TestHoldbackEdges(t *testing.T) {
	const chunk = 32
	for _, holdback := range []int{0, 16, 17} {
		for _, w := range []int{1, 3} {
			sizes := []int{holdback, holdback + 1, chunk - 1, chunk, chunk + 1}
			for k := 1; k <= 3; k++ {
				sizes = append(sizes, k*chunk+holdback-1, k*chunk+holdback, k*chunk+holdback+1)
			}
			for _, size := range sizes {
				if size < holdback {
					continue
				}
				in := input(size)
				name := fmt.Sprintf("holdback=%d workers=%d size=%d", holdback, w, size)
				p := New(bytes.NewReader(in), Config{ChunkSize: chunk, Holdback: holdback, Workers: w, Process: xorIndex(false)})
				jobs := drain(t, p)
				p.Close()
				checkStream(t, name, jobs, in, chunk, holdback)
				if n := size - holdback; len(jobs) != n/chunk+1 {
					t.Fatalf("%s: %d jobs; want %d (every whole chunk, then the rest, possibly empty)", name, len(jobs), n/chunk+1)
				}
			}
		}
	}
}

func TestShorterThanHoldback(t *testing.T) {
	processed := false
	for _, w := range []int{1, 3} {
		for size := range 16 {
			p := New(bytes.NewReader(input(size)), Config{ChunkSize: 32, Holdback: 16, Workers: w, Process: func(*Job) { processed = true }})
			jobs := drain(t, p)
			p.Close()
			if len(jobs) != 1 || !errors.Is(jobs[0].err, ErrShort) || jobs[0].last || len(jobs[0].data) != 0 {
				t.Fatalf("workers=%d size=%d: got %+v; want one job with ErrShort and no data", w, size, jobs)
			}
		}
	}
	if processed {
		t.Fatal("a job with a read error was processed")
	}
}

// eofWithData returns its last bytes together with io.EOF, as many
// io.Readers (an http.Response body among them) may.
type eofWithData struct {
	r   *bytes.Reader
	max int
}

func (e *eofWithData) Read(p []byte) (int, error) {
	if len(p) > e.max {
		p = p[:e.max]
	}
	n, err := e.r.Read(p)
	if err == nil && e.r.Len() == 0 {
		err = io.EOF
	}
	return n, err
}

func TestSourceReturnsDataWithEOF(t *testing.T) {
	const chunk = 32
	for _, holdback := range []int{0, 16} {
		for _, w := range []int{1, 3} {
			for _, size := range []int{holdback, holdback + 1, chunk + holdback - 1, chunk + holdback, chunk + holdback + 1, 3*chunk + holdback, 200} {
				for _, max := range []int{1, 7, chunk + holdback, 1 << 20} {
					in := input(size)
					name := fmt.Sprintf("holdback=%d workers=%d size=%d read<=%d", holdback, w, size, max)
					for _, src := range []io.Reader{&eofWithData{bytes.NewReader(in), max}, iotest.DataErrReader(bytes.NewReader(in))} {
						p := New(src, Config{ChunkSize: chunk, Holdback: holdback, Workers: w, Process: xorIndex(false)})
						checkStream(t, name, drain(t, p), in, chunk, holdback)
						p.Close()
					}
				}
			}
		}
	}
}

// TestReadErrorInOrder checks that a source error arrives after every chunk
// read before it, processed, and ends the stream.
func TestReadErrorInOrder(t *testing.T) {
	const chunk, holdback = 32, 16
	boom := errors.New("connection reset")
	for _, w := range workerCounts {
		for _, srcErr := range []error{boom, io.ErrUnexpectedEOF} {
			for _, size := range []int{0, 5, chunk + holdback, 10*chunk + 7} {
				in := input(size)
				var processed atomic.Int64
				proc := xorIndex(true)
				p := New(io.MultiReader(bytes.NewReader(in), iotest.ErrReader(srcErr)), Config{ChunkSize: chunk, Holdback: holdback, Workers: w, Process: func(j *Job) {
					processed.Add(1)
					proc(j)
				}})
				jobs := drain(t, p)
				p.Close()
				name := fmt.Sprintf("workers=%d err=%v size=%d", w, srcErr, size)
				full := 0 // chunks read whole before the error
				for (full+1)*chunk+holdback <= size {
					full++
				}
				if len(jobs) != full+1 {
					t.Fatalf("%s: %d jobs; want %d chunks then the error", name, len(jobs), full+1)
				}
				e := jobs[full]
				if !errors.Is(e.err, srcErr) || e.last || len(e.data) != 0 || e.index != int64(full) {
					t.Fatalf("%s: final job %+v; want Index %d with the source's error and no data", name, e, full)
				}
				for i, j := range jobs[:full] {
					want := bytes.Clone(in[i*chunk : (i+1)*chunk])
					for k := range want {
						want[k] += byte(i)
					}
					if j.index != int64(i) || j.offset != int64(i*chunk) || j.last || j.err != nil || !bytes.Equal(j.data, want) {
						t.Fatalf("%s: job %d before the error is not chunk %d, processed", name, i, i)
					}
				}
				if n := processed.Load(); n != int64(full) {
					t.Fatalf("%s: %d jobs processed; want the %d read whole (never the failed one)", name, n, full)
				}
			}
		}
	}
}

// TestProcessErrorInOrder checks that an error set by the processor arrives
// in stream order and ends the stream for the consumer.
func TestProcessErrorInOrder(t *testing.T) {
	bad := errors.New("tag mismatch")
	for _, w := range workerCounts {
		base := runtime.NumGoroutine()
		p := New(bytes.NewReader(input(64*16)), Config{ChunkSize: 16, Holdback: 16, Workers: w, Process: func(j *Job) {
			xorIndex(true)(j)
			if j.Index == 5 {
				j.Err = bad
			}
		}})
		jobs := drain(t, p)
		p.Close()
		if len(jobs) != 6 || !errors.Is(jobs[5].err, bad) {
			t.Fatalf("workers=%d: got %d jobs, last error %v; want 6 jobs ending with the processor's error", w, len(jobs), jobs[len(jobs)-1].err)
		}
		for i, j := range jobs[:5] {
			if j.index != int64(i) || j.err != nil {
				t.Fatalf("workers=%d: job %d out of order or failed: %+v", w, i, j)
			}
		}
		settle(t, base)
	}
}

// settle waits for the goroutines started since base to exit.
func settle(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines still running, %d before the pipeline:\n%s", runtime.NumGoroutine(), base, buf)
		}
		time.Sleep(time.Millisecond)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestOneWorkerStartsNoGoroutine checks the package doc's promise for one
// worker, and Next's for a stream that fits in one chunk: every chunk is
// processed on the goroutine that calls Next. It does not compare goroutine
// counts while the pipeline runs — the runtime's finalizer and cleanup
// goroutines count as user goroutines while they run, so such a count grows
// under GC pressure (issue 16) — and afterwards waits, with a deadline, for
// the count to come back to where it was.
func TestOneWorkerStartsNoGoroutine(t *testing.T) {
	base := runtime.NumGoroutine()
	caller := goroutineID()
	onCaller := func(what string) func(*Job) {
		return func(j *Job) {
			if id := goroutineID(); id != caller {
				t.Errorf("%s: chunk %d processed on goroutine %d, not on the caller of Next (%d)", what, j.Index, id, caller)
			}
		}
	}
	p := New(bytes.NewReader(input(1000)), Config{ChunkSize: 16, Holdback: 16, Workers: 1, Process: onCaller("one worker")})
	if jobs := drain(t, p); len(jobs) < 2 {
		t.Fatalf("one worker: %d jobs, want several", len(jobs))
	}
	p.Close()
	// A parallel pipeline whose stream fits in one chunk does not start its
	// workers either.
	p = New(bytes.NewReader(input(40)), Config{ChunkSize: 32, Holdback: 16, Workers: 4, Process: onCaller("one chunk on 4 workers")})
	if jobs := drain(t, p); len(jobs) != 1 {
		t.Fatalf("one-chunk stream on 4 workers: %d jobs, want 1", len(jobs))
	}
	p.Close()
	settle(t, base)
}

// goroutineID returns the id of the calling goroutine, from its stack
// header "goroutine N [...]".
func goroutineID() int64 {
	var buf [64]byte
	s := strings.TrimPrefix(string(buf[:runtime.Stack(buf[:], false)]), "goroutine ")
	id, err := strconv.ParseInt(s[:strings.IndexByte(s, ' ')], 10, 64)
	if err != nil {
		panic("pipeline test: cannot parse the goroutine id: " + err.Error())
	}
	return id
}

// waitFor polls cond until it holds, failing the test after 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCloseWithJobsInFlight(t *testing.T) {
	for _, w := range []int{2, 4} {
		base := runtime.NumGoroutine()
		gate := make(chan struct{})
		var inFlight sync.Map // data pointers of jobs blocked in Process
		p := New(zeros{}, Config{ChunkSize: 64, Holdback: 16, Workers: w, Process: func(j *Job) {
			if j.Index >= 2 {
				inFlight.Store(unsafe.SliceData(j.Data), true)
				<-gate
			}
		}})
		for range 2 {
			j, err := p.Next()
			if err != nil || j.Err != nil {
				t.Fatal(err, j.Err)
			}
			p.Release(j)
		}
		// Wait until the workers hold jobs and the producer has filled the
		// rest of the queue.
		waitFor(t, "the workers hold jobs", func() bool {
			n := 0
			inFlight.Range(func(any, any) bool { n++; return true })
			return n >= w
		})
		closed := make(chan struct{})
		go func() { p.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatal("Close waits for jobs blocked in Process")
		}
		p.Close() // a second Close is harmless
		if j, err := p.Next(); j != nil || err == nil {
			t.Fatalf("Next after Close = %v, %v; want an error", j, err)
		}

		// A buffer held by a blocked worker must not be handed to another
		// pipeline of the same size.
		q := New(bytes.NewReader(input(64*40)), Config{ChunkSize: 64, Holdback: 16, Workers: 2, Process: func(j *Job) {
			if _, ok := inFlight.Load(unsafe.SliceData(j.Data)); ok {
				t.Errorf("a new pipeline got a buffer still held by a worker of a closed one")
			}
		}})
		drain(t, q)
		q.Close()

		close(gate)
		settle(t, base)
	}
}

func TestCloseWhileSourceBlocks(t *testing.T) {
	base := runtime.NumGoroutine()
	release := make(chan struct{})
	src := &gatedReader{gate: release, after: 3}
	p := New(src, Config{ChunkSize: 16, Holdback: 16, Workers: 3, Process: func(*Job) {}})
	j, err := p.Next()
	if err != nil || j.Err != nil {
		t.Fatal(err, j.Err)
	}
	p.Release(j)
	waitFor(t, "the source blocks", src.blocked.Load)
	done := make(chan struct{})
	go func() { p.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for a source that is blocked in Read")
	}
	close(release)
	settle(t, base)
}

// gatedReader serves zeros, and blocks every read after the first few
// until gate is closed.
type gatedReader struct {
	gate    chan struct{}
	after   int64
	reads   atomic.Int64
	blocked atomic.Bool
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.reads.Add(1) > g.after {
		g.blocked.Store(true)
		<-g.gate
	}
	clear(p)
	return len(p), nil
}

func TestCloseBeforeNext(t *testing.T) {
	base := runtime.NumGoroutine()
	for _, w := range []int{1, 3} {
		reads := 0
		p := New(readerFunc(func(b []byte) (int, error) { reads++; return len(b), nil }), Config{ChunkSize: 16, Holdback: 16, Workers: w, Process: func(*Job) {}})
		p.Close()
		if j, err := p.Next(); j != nil || err == nil {
			t.Fatalf("workers=%d: Next after Close = %v, %v; want an error", w, j, err)
		}
		if reads != 0 {
			t.Fatalf("workers=%d: a pipeline closed before Next read its source %d times", w, reads)
		}
	}
	settle(t, base)
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

// TestNoReadAfterClose checks what Close promises about the source: it is
// not read again once Close has returned, except by a Read already in
// progress.
func TestNoReadAfterClose(t *testing.T) {
	for it := range 300 {
		var reads atomic.Int64
		src := readerFunc(func(b []byte) (int, error) { reads.Add(1); clear(b); return len(b), nil })
		p := New(src, Config{ChunkSize: 16, Holdback: 16, Workers: 2, Process: func(*Job) {}})
		for range 2 {
			j, _ := p.Next()
			p.Release(j)
		}
		p.Close()
		n := reads.Load()
		time.Sleep(time.Millisecond)
		// A Read that passed the producer's check just before Close may
		// begin just after it returns (on a busy machine, it did); no
		// Read starts after that one.
		m := reads.Load()
		if m > n+1 {
			t.Fatalf("iteration %d: %d Reads of the source started after Close returned", it, m-n)
		}
		time.Sleep(time.Millisecond)
		if k := reads.Load(); k > m {
			t.Fatalf("iteration %d: the source is still being read after Close (%d more Reads)", it, k-n)
		}
	}
}

// TestNextAfterCloseIsNotEOF checks that a closed pipeline does not look
// like a stream that ended cleanly.
func TestNextAfterCloseIsNotEOF(t *testing.T) {
	for _, w := range []int{1, 3} {
		p := New(zeros{}, Config{ChunkSize: 16, Holdback: 16, Workers: w, Process: func(*Job) {}})
		j, _ := p.Next()
		p.Release(j)
		p.Close()
		if _, err := p.Next(); !errors.Is(err, ErrClosed) {
			t.Fatalf("workers=%d: Next after Close: %v; want ErrClosed", w, err)
		}
	}
}

// TestJobValidUntilRelease checks the documented lifetime of a job: with
// several workers it stays valid, across later calls to Next, until it is
// released; with one worker the next call to Next reuses it.
func TestJobValidUntilRelease(t *testing.T) {
	in := input(100)
	p := New(bytes.NewReader(in), Config{ChunkSize: 16, Holdback: 16, Workers: 3, Process: func(*Job) {}})
	defer p.Close()
	j0, _ := p.Next()
	for range 3 {
		j, err := p.Next()
		if err != nil {
			t.Fatal(err)
		}
		p.Release(j)
	}
	if !bytes.Equal(j0.Data, in[:16]) {
		t.Fatal("an unreleased job's data changed while later jobs were taken")
	}
	p.Release(j0)

	q := New(bytes.NewReader(in), Config{ChunkSize: 16, Holdback: 16, Workers: 1, Process: func(*Job) {}})
	defer q.Close()
	k0, _ := q.Next()
	k1, _ := q.Next()
	if k0 != k1 || !bytes.Equal(k1.Data, in[16:32]) {
		t.Fatal("with one worker, Next did not reuse the job for the next chunk")
	}
}

// TestDetach checks that detached data survives the rest of the stream, and
// that buffers handed back with PutBuffer, dirty, serve later pipelines
// correctly.
func TestDetach(t *testing.T) {
	const chunk, holdback = 32, 16
	for _, w := range []int{1, 3} {
		in := input(30*chunk + 5 + holdback)
		p := New(bytes.NewReader(in), Config{ChunkSize: chunk, Holdback: holdback, Workers: w, Process: xorIndex(w > 1)})
		var kept [][]byte
		var trailer []byte
		for {
			j, err := p.Next()
			if err == io.EOF {
				break
			}
			if err != nil || j.Err != nil {
				t.Fatal(err, j.Err)
			}
			if j.Last {
				trailer = bytes.Clone(j.Trailer)
			}
			d := p.Detach(j)
			if j.Data != nil || j.Trailer != nil {
				t.Fatal("Detach left Data or Trailer on the job")
			}
			kept = append(kept, d)
			p.Release(j)
		}
		p.Close()
		var jobs []got
		for i, d := range kept {
			jobs = append(jobs, got{index: int64(i), offset: int64(i * chunk), data: d, sum: [16]byte{byte(i)}, last: i == len(kept)-1})
			if i > 0 {
				copy(jobs[i].prev[:], in[i*chunk-16:i*chunk])
			}
		}
		jobs[len(jobs)-1].trailer = trailer
		checkStream(t, fmt.Sprintf("detached, workers=%d", w), jobs, in, chunk, holdback)

		// Hand the buffers back dirty; pipelines that reuse them must not
		// see the old bytes.
		for _, d := range kept {
			d = d[:cap(d)]
			for i := range d {
				d[i] = 0xAA
			}
			PutBuffer(d)
		}
		for _, size := range []int{holdback, 5*chunk + holdback, 5*chunk + 3 + holdback} {
			in := input(size)
			q := New(bytes.NewReader(in), Config{ChunkSize: chunk, Holdback: holdback, Workers: w, Process: xorIndex(false)})
			checkStream(t, fmt.Sprintf("recycled buffers, workers=%d size=%d", w, size), drain(t, q), in, chunk, holdback)
			q.Close()
		}
	}
}

func TestScratch(t *testing.T) {
	in := input(10*32 + 7 + 16)
	p := New(bytes.NewReader(in), Config{ChunkSize: 32, Holdback: 16, Workers: 3, Process: func(j *Job) {
		s := j.Scratch()
		if len(s) != 0 || cap(s) != 16 {
			t.Errorf("Scratch has len %d cap %d; want 0, 16", len(s), cap(s))
		}
		s = append(s, bytes.Repeat([]byte{0xFF}, 16)...)
		_ = s
		xorIndex(false)(j)
	}})
	checkStream(t, "scratch written", drain(t, p), in, 32, 16)
	p.Close()
}
