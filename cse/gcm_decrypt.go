package cse

import (
	"crypto/cipher"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/emrs3/emrs3/cse/internal/aesgcm"
	"github.com/emrs3/emrs3/cse/internal/pipeline"
	"github.com/emrs3/emrs3/cse/internal/spool"
)

// newGCMDecryptReader returns a reader of the plaintext of an AES-GCM
// message: ciphertext is the ciphertext followed by the 16-byte tag, as
// newGCMEncryptReader and crypto/cipher's Seal produce it.
//
// By default no plaintext byte is returned before the tag has been verified:
// the first Read decrypts and authenticates the whole message, keeping its
// first StreamOptions.MemoryLimit bytes in memory and the rest in a
// temporary file sealed record by record under a key of its own, derived
// from a random in-memory secret or from StreamOptions.SpoolKeys
// (unlinked as soon as it is created where the system allows it, and removed
// on Close and on every error). A message that is not authentic yields an
// error wrapping ErrNotAuthentic and no plaintext at all.
//
// With StreamOptions.DelayedAuthentication, plaintext is returned as it is
// decrypted and the final Read returns the authentication error instead of
// io.EOF; see that option for what this means.
//
// On several cores (StreamOptions.Concurrency), chunks are hashed,
// decrypted and sealed for the spool in parallel while the ciphertext is
// still arriving, and the spool is read back and opened in parallel.
//
// Close releases the workers and any spool file; it does not close
// ciphertext. Errors from ciphertext are returned as they are, wrapped.
func newGCMDecryptReader(ciphertext io.Reader, key, iv, aad []byte, optFns ...func(*StreamOptions)) (io.ReadCloser, error) {
	o, err := decryptOptions(optFns)
	if err != nil {
		return nil, err
	}
	d := &gcmDecrypter{opts: o, authenticate: !o.DelayedAuthentication}
	c, err := newGCMCore(ciphertext, key, iv, aad, o, aesgcm.TagSize, func(_ *gcmCore, j *pipeline.Job) { d.process(j) })
	if err != nil {
		return nil, err
	}
	d.gcmCore = c
	if t := o.ChunkTable; t != nil {
		if t.chunkSize != 0 || len(t.sums) != 0 {
			c.pl.Close()
			return nil, errors.New("cse: StreamOptions.ChunkTable must be a new table")
		}
		t.chunkSize = o.ChunkSize
	}
	// On one goroutine the worker only hashes and Read applies the
	// keystream straight into the caller's buffer: no copy. On several,
	// the workers decrypt.
	d.deferCTR = c.seq
	if d.deferCTR {
		d.ctr = c.k.CTR(c.iv[:], 0)
	}
	if ls, ok := ciphertext.(landingSource); ok && !d.deferCTR {
		// Hash and decrypt each part where it lands (not a one-chunk
		// message: that one is opened whole).
		if size := ls.StreamSize(); size-aesgcm.TagSize > int64(o.ChunkSize) {
			d.landings = &landings{k: c.k, iv: c.iv, chunkSize: int64(o.ChunkSize), dataEnd: size - aesgcm.TagSize, m: map[int64]landed{}}
			ls.OnLand(d.landings.land)
		}
	}
	if d.authenticate && o.MemoryLimit > 0 {
		d.spoolFrom = o.MemoryLimit / int64(o.ChunkSize)
	}
	d.spooler = sync.OnceValues(func() (*spool.Spool, error) { return newSpool(&d.opts) })
	return d, nil
}

type gcmDecrypter struct {
	*gcmCore
	opts StreamOptions

	// deferCTR: the workers only hash, and Read applies ctr, the
	// message's continuous keystream (one goroutine).
	deferCTR bool
	ctr      cipher.Stream

	// landings: the chunks a landingSource's parts were hashed and
	// decrypted into where they landed (nil: none).
	landings *landings

	cur   *pipeline.Job
	out   []byte
	outCT bool  // out is ciphertext that Read decrypts with ctr
	end   bool  // the last chunk has been taken from the pipeline
	err   error // sticky; io.EOF at the end

	// Authenticate-before-release state. The chunks that end within
	// MemoryLimit are held in memory (ciphertext on one goroutine,
	// plaintext on several); those after, from chunk spoolFrom on, are
	// sealed by the workers and appended to the spool, then read back
	// through replay once the tag has verified.
	authenticate bool
	verified     bool
	held         [][]byte
	served       []byte // the held chunk being returned
	heldPlain    bool   // held is a one-chunk message already opened
	spoolFrom    int64
	spooler      func() (*spool.Spool, error)
	spool        *spool.Spool
	replay       *pipeline.Pipeline
	replayCur    *pipeline.Job
	replayed     uint64
	replayEnd    bool
}

// spooled reports whether the workers seal chunk j for the spool.
func (d *gcmDecrypter) spooled(j *pipeline.Job) bool {
	return d.authenticate && len(j.Data) > 0 && j.Offset+int64(len(j.Data)) > d.opts.MemoryLimit
}

// process is the workers' part: hash, decrypt (on several cores) and, for
// chunks past the memory limit, seal for the spool.
func (d *gcmDecrypter) process(j *pipeline.Job) {
	c := d.gcmCore
	if tooLarge(j) {
		j.Err = gcmError("longer than GCM allows (2^36-32 bytes)")
		return
	}
	if j.Index == 0 && j.Last {
		// One chunk: open it with the standard library's fused kernel.
		// Data and Trailer are adjacent in the job's buffer.
		msg := j.Data[:len(j.Data)+len(j.Trailer)]
		if d.opts.ChunkTable != nil {
			j.Sum = c.k.ChunkHash(j.Data, j.Scratch())
		}
		pt, err := c.k.AEAD().Open(j.Data[:0], c.iv[:], msg, c.aad)
		if err != nil {
			clear(msg)
			j.Data = j.Data[:0]
			j.Err = gcmError("tag mismatch")
			return
		}
		j.Data = pt
		j.Done = true
		return
	}
	sum, ok, err := d.landings.take(j.Offset, len(j.Data))
	if err != nil {
		clear(j.Data)
		j.Data, j.Err = j.Data[:0], err
		return
	}
	if ok {
		// Hashed and decrypted in its part: Data is plaintext.
		j.Sum = sum
	} else {
		j.Sum = c.k.ChunkHash(j.Data, j.Scratch())
	}
	// Decrypting or sealing in place overwrites the 16 bytes after Data,
	// where the last chunk's tag is: keep it in the scratch space, which
	// ChunkHash no longer needs.
	keepTrailer(j)
	if !d.deferCTR && !ok {
		// The 16 bytes after Data, which XORChunk may overwrite, are
		// free now that the trailer is kept elsewhere.
		c.k.XORChunk(j.Data, j.Data, c.iv[:], uint64(j.Offset/16))
	}
	if !d.spooled(j) {
		return
	}
	s, err := d.spooler()
	if err != nil {
		clear(j.Data)
		j.Data, j.Err = j.Data[:0], err
		return
	}
	j.Data = s.Seal(j.Data[:0], j.Data, uint64(j.Index-d.spoolFrom))
	j.Sealed = true
}

func (d *gcmDecrypter) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		d.next()
	}
	n := min(len(p), len(d.out))
	if d.outCT {
		d.ctr.XORKeyStream(p[:n], d.out[:n])
	} else {
		copy(p, d.out[:n])
	}
	d.out = d.out[n:]
	return n, nil
}

func (d *gcmDecrypter) next() {
	if d.authenticate {
		d.nextVerified()
	} else {
		d.nextDelayed()
	}
}

// take returns the next job from the pipeline, or sets d.err.
func (d *gcmDecrypter) take() *pipeline.Job {
	d.release()
	j, err := d.pl.Next()
	if err != nil {
		d.fail(errClosed)
		return nil
	}
	if j.Err != nil {
		switch {
		case errors.Is(j.Err, pipeline.ErrShort):
			d.fail(gcmError("shorter than its tag"))
		case errors.Is(j.Err, ErrNotAuthentic):
			d.fail(j.Err)
		case errors.As(j.Err, new(*SpoolError)):
			d.fail(j.Err)
		default:
			d.fail(fmt.Errorf("cse: reading ciphertext: %w", j.Err))
		}
		return nil
	}
	if j.Last {
		d.end = true
	}
	d.cur = j
	return j
}

// release hands the current job back to the pipeline. Plaintext that was
// returned to the caller is not wiped (the caller holds it anyway); fail
// wipes what was never returned.
func (d *gcmDecrypter) release() {
	if d.cur == nil {
		return
	}
	d.pl.Release(d.cur)
	d.cur = nil
}

// check folds in a chunk's hash and, on the last chunk, verifies the tag.
func (d *gcmDecrypter) check(j *pipeline.Job) error {
	t := d.opts.ChunkTable
	if j.Done {
		// A one-chunk message, opened (and so authenticated) whole.
		if t != nil {
			t.record(j.Sum, len(j.Data))
			t.finish(int64(len(j.Data)))
		}
		return nil
	}
	n := len(j.Data)
	if j.Sealed {
		n -= spool.Overhead
	}
	d.hash.Add(j.Sum, n)
	if t != nil {
		t.record(j.Sum, n)
	}
	if !j.Last {
		return nil
	}
	tag := d.hash.Tag(d.iv[:])
	if subtle.ConstantTimeCompare(tag[:], j.Trailer) != 1 {
		return gcmError("tag mismatch")
	}
	if t != nil {
		t.finish(int64(d.hash.Len()))
	}
	return nil
}

func (d *gcmDecrypter) nextDelayed() {
	if d.end {
		d.release()
		d.err = io.EOF
		return
	}
	j := d.take()
	if j == nil {
		return
	}
	d.out = j.Data
	d.outCT = d.deferCTR && !j.Done
	if err := d.check(j); err != nil {
		// The plaintext of this chunk is still returned; the error
		// replaces io.EOF after it.
		d.err = err
	}
}

func (d *gcmDecrypter) nextVerified() {
	if !d.verified {
		d.verifyAll()
		if d.err != nil {
			return
		}
	}
	if d.served != nil {
		pipeline.PutBuffer(d.served)
		d.served = nil
	}
	if len(d.held) > 0 {
		d.out = d.held[0]
		d.outCT = d.deferCTR && !d.heldPlain
		d.served = d.held[0]
		d.held[0] = nil
		d.held = d.held[1:]
		return
	}
	if d.replay == nil || d.replayEnd {
		d.err = io.EOF
		d.closeSpool()
		return
	}
	d.nextReplayed()
}

// verifyAll hashes the whole message, holding or spooling its chunks, and
// checks the tag before any of it is released.
func (d *gcmDecrypter) verifyAll() {
	for !d.end {
		j := d.take()
		if j == nil {
			return
		}
		if err := d.check(j); err != nil {
			d.fail(err)
			return
		}
		if err := d.hold(j); err != nil {
			d.fail(err)
			return
		}
		if j.Done {
			// A one-chunk message, already opened and authenticated.
			d.heldPlain = true
		}
	}
	d.release()
	d.verified = true
	if d.spool != nil {
		d.startReplay()
	}
}

// hold keeps a chunk of the message until the tag has verified.
func (d *gcmDecrypter) hold(j *pipeline.Job) error {
	if j.Sealed {
		if d.spool == nil {
			s, err := d.spooler()
			if err != nil {
				return err
			}
			d.spool = s
		}
		if rec := j.Index - d.spoolFrom; rec < 0 || uint64(rec) != d.spool.Records() {
			return fmt.Errorf("cse: internal error: chunk %d spooled out of order", j.Index)
		}
		return spoolError(d.spool.Append(j.Data))
	}
	if len(j.Data) == 0 {
		return nil
	}
	d.held = append(d.held, d.pl.Detach(j))
	return nil
}

// startReplay starts reading the spool back: records are read ahead and
// opened on the stream's workers.
func (d *gcmDecrypter) startReplay() {
	s := d.spool
	d.replay = pipeline.New(s.Reader(), pipeline.Config{
		ChunkSize: d.opts.ChunkSize + spool.Overhead,
		Workers:   d.opts.Concurrency,
		Process: func(j *pipeline.Job) {
			if len(j.Data) == 0 {
				return
			}
			pt, err := s.Open(j.Data[:0], j.Data, uint64(j.Index))
			if err != nil {
				j.Data, j.Err = j.Data[:0], err
				return
			}
			j.Data = pt
		},
	})
}

// nextReplayed serves the next record of the spool.
func (d *gcmDecrypter) nextReplayed() {
	if d.replayCur != nil {
		d.replay.Release(d.replayCur)
		d.replayCur = nil
	}
	j, err := d.replay.Next()
	if err != nil {
		d.fail(errClosed)
		return
	}
	if j.Err != nil {
		d.fail(fmt.Errorf("cse: reading the decryption spool: %w", spoolError(j.Err)))
		return
	}
	d.replayCur = j
	if len(j.Data) > 0 {
		d.replayed++
	}
	if j.Last {
		d.replayEnd = true
		if d.replayed != d.spool.Records() {
			d.fail(fmt.Errorf("cse: reading the decryption spool: %w", spool.ErrCorrupt))
			return
		}
	}
	d.out = j.Data
	d.outCT = d.deferCTR
}

func (d *gcmDecrypter) closeSpool() {
	if d.replay != nil {
		if d.replayCur != nil {
			clear(d.replayCur.Data)
			d.replay.Release(d.replayCur)
			d.replayCur = nil
		}
		d.replay.Close()
		d.replay = nil
	}
	if d.spool != nil {
		d.spool.Close()
		d.spool = nil
	}
}

// fail records a sticky error and drops every piece of held plaintext.
func (d *gcmDecrypter) fail(err error) {
	d.err = err
	d.out = nil
	for _, h := range d.held {
		clear(h)
		pipeline.PutBuffer(h)
	}
	d.held = nil
	if d.served != nil {
		clear(d.served)
		pipeline.PutBuffer(d.served)
		d.served = nil
	}
	if d.cur != nil && !d.cur.Sealed {
		clear(d.cur.Data)
	}
	d.release()
	d.closeSpool()
	d.pl.Close()
}

func (d *gcmDecrypter) Close() error {
	if d.err == nil || d.err == io.EOF {
		d.fail(errClosed)
		return nil
	}
	// Already failed; the error stays sticky.
	d.release()
	d.closeSpool()
	d.pl.Close()
	return nil
}
