package spool

import (
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
)

// Direct I/O. Where the system allows it (Linux, a file system that
// supports O_DIRECT), the bytes of a spool file past its first directFrom
// go between the spool's buffers and the disk without passing through the
// page cache. A large read spools nearly the whole object, and filling the
// page cache with it costs about as much CPU as decrypting it (more on a
// virtual machine whose memory the host backs lazily), evicts what other
// programs had cached, and leaves the system to write it back; the first
// directFrom bytes, which a moderate object's read back finds in memory,
// go through the page cache as before. Past directFrom the file is written
// in blocks of directBlock bytes from aligned buffers, directInFlight at
// once (the last one, padded with zeros to the alignment, when the spool is
// read back), and read back in blocks of directBlock, directInFlight ahead.
// Where O_DIRECT is refused, the whole file goes through the page cache.

// directFrom is the file offset from which a spool file is written with
// direct I/O (raised to the first multiple of directAlign past the header).
var directFrom int64 = 64 << 20

// directIO turns direct I/O off when false (tests of the page-cache path).
var directIO = true

// directAlign is the alignment of direct I/O offsets, lengths and buffers:
// a page, a multiple of every logical block size in use.
const directAlign = 4096

// directBlock is the size of each direct write and read.
const directBlock = 1 << 20

// alignedBuffer returns a buffer of n bytes whose first byte is aligned to
// directAlign.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+directAlign)
	off := 0
	if r := int(uintptrOf(b) % directAlign); r != 0 {
		off = directAlign - r
	}
	return b[off : off+n : off+n]
}

// roundUp rounds n up to a multiple of directAlign.
func roundUp(n int) int { return (n + directAlign - 1) / directAlign * directAlign }

// directInFlight is the number of direct writes, and of read-ahead reads,
// in flight at once: a direct write returns only when the device has the
// bytes, so the spool keeps several going while the stream goes on.
const directInFlight = 4

// directFile is the direct side of a spool file: an O_DIRECT descriptor
// of the same file, the block being filled, and the whole blocks being
// written.
type directFile struct {
	f       *os.File
	buf     []byte // the block being filled: buf[:n] are the bytes past flushed
	n       int
	flushed int64 // bytes of the file in whole blocks, written or being written
	dirty   bool  // buf[:n] is not on disk as it is now

	free      chan []byte    // block buffers not in use
	allocated int            // block buffers made besides the first
	wg        sync.WaitGroup // the writes in flight
	mu        sync.Mutex
	err       error // the first write that failed
}

// openDirectFile opens the file of f again, for direct I/O, or returns nil
// where that is not possible.
func openDirectFile(f *os.File) *directFile {
	if openDirect == 0 || !directIO {
		return nil
	}
	name, ok := reopenPath(f)
	if !ok {
		return nil
	}
	f, err := os.OpenFile(name, os.O_RDWR|openDirect, 0)
	if err != nil {
		return nil
	}
	return &directFile{f: f, buf: alignedBuffer(directBlock), free: make(chan []byte, directInFlight)}
}

// probe finds out whether the file system takes direct writes, with one
// block of zeros at off, where the direct part of the file starts: false
// when it refuses them. It sets where the direct writes start.
func (d *directFile) probe(off int64) (bool, error) {
	d.flushed = off
	err := d.writeAt(d.buf[:directAlign], off)
	if errors.Is(err, errDirectRefused) {
		return false, nil
	}
	return err == nil, err
}

// write appends p to the file. Whole blocks are written in the
// background, directInFlight at most at once; a failure is returned by a
// later write or by sync.
func (d *directFile) write(p []byte) error {
	if err := d.failed(); err != nil {
		return err
	}
	for len(p) > 0 {
		k := copy(d.buf[d.n:], p)
		d.n += k
		d.dirty = true
		p = p[k:]
		if d.n < len(d.buf) {
			continue
		}
		blk, off := d.buf, d.flushed
		d.flushed += int64(d.n)
		d.n, d.dirty = 0, false
		d.buf = d.nextBuffer()
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			if err := d.writeAt(blk, off); err != nil {
				d.mu.Lock()
				if d.err == nil {
					d.err = err
				}
				d.mu.Unlock()
			}
			d.free <- blk
		}()
	}
	return nil
}

// nextBuffer returns a block buffer: a new one while fewer than
// directInFlight+1 exist, else one whose write has ended (waiting for it).
func (d *directFile) nextBuffer() []byte {
	select {
	case b := <-d.free:
		return b
	default:
	}
	if cap(d.free) > 0 && d.allocated < directInFlight {
		d.allocated++
		return alignedBuffer(directBlock)
	}
	return <-d.free
}

func (d *directFile) failed() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// sync waits for the whole blocks in flight and writes the partial block,
// padded with zeros to the alignment, so that the file holds every byte
// written. The block stays in the buffer and is written again, whole, once
// it fills.
func (d *directFile) sync() error {
	d.wg.Wait()
	if err := d.failed(); err != nil {
		return err
	}
	if !d.dirty {
		return nil
	}
	m := roundUp(d.n)
	clear(d.buf[d.n:m])
	if err := d.writeAt(d.buf[:m], d.flushed); err != nil {
		return err
	}
	d.dirty = false
	return nil
}

func (d *directFile) writeAt(b []byte, off int64) error {
	_, err := d.f.WriteAt(b, off)
	if errors.Is(err, syscall.EINVAL) {
		return errDirectRefused
	}
	return err
}

// close waits for the writes in flight and closes the descriptor.
func (d *directFile) close() error {
	d.wg.Wait()
	return d.f.Close()
}

// errDirectRefused reports a direct write the file system refused (EINVAL:
// an alignment it does not accept); the spool then goes through the page
// cache.
var errDirectRefused = errors.New("spool: direct I/O refused")

// directReader reads the bytes [off, end) of a file through its direct
// descriptor, a block at a time, with directInFlight blocks read ahead.
type directReader struct {
	f        *os.File
	pos, end int64 // next byte to return; end of the bytes to return
	next     int64 // file offset of the next block to ask for
	ahead    []chan readResult
	free     chan []byte
	cur      readResult // the block being returned
	have     []byte     // its unread part
}

type readResult struct {
	buf []byte
	off int64 // file offset of buf
	n   int
	err error
}

func newDirectReader(f *os.File, off, end int64) *directReader {
	r := &directReader{f: f, pos: off, end: end, next: off / directAlign * directAlign, free: make(chan []byte, directInFlight+1)}
	for range directInFlight + 1 {
		r.free <- alignedBuffer(directBlock)
	}
	for range directInFlight {
		r.ask()
	}
	return r
}

// ask starts the read of the next block, if any is left.
func (r *directReader) ask() {
	if r.next >= r.end {
		return
	}
	off := r.next
	want := int64(roundUp(int(min(directBlock, r.end-off))))
	r.next += want
	ch := make(chan readResult, 1)
	r.ahead = append(r.ahead, ch)
	buf := <-r.free
	go func() {
		n, err := r.f.ReadAt(buf[:want], off)
		if err == io.EOF {
			err = nil
		}
		ch <- readResult{buf: buf, off: off, n: n, err: err}
	}()
}

func (r *directReader) Read(p []byte) (int, error) {
	if r.pos >= r.end {
		return 0, io.EOF
	}
	if len(r.have) == 0 {
		if r.cur.buf != nil {
			r.free <- r.cur.buf
			r.cur = readResult{}
		}
		if len(r.ahead) == 0 {
			return 0, io.EOF
		}
		res := <-r.ahead[0]
		r.ahead = r.ahead[1:]
		r.cur = res
		if res.err != nil {
			return 0, res.err
		}
		r.ask()
		skip := int(r.pos - res.off)
		if res.n <= skip {
			return 0, io.EOF // the file is shorter than it should be
		}
		r.have = res.buf[skip:min(int64(res.n), r.end-res.off)]
		if int64(res.n) < min(int64(directBlock), r.end-res.off) {
			r.end = res.off + int64(res.n) // short: nothing follows
		}
	}
	n := copy(p, r.have)
	r.have = r.have[n:]
	r.pos += int64(n)
	return n, nil
}
