package cse

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/emrs3/emrs3/cse/internal/aesgcm"
	"github.com/emrs3/emrs3/cse/internal/pipeline"
	"github.com/emrs3/emrs3/cse/internal/spool"
)

// NewGCMDecryptReader returns a reader of the plaintext of an AES-GCM
// message: ciphertext is the ciphertext followed by the 16-byte tag, as
// NewGCMEncryptReader and crypto/cipher's Seal produce it.
//
// By default no plaintext byte is returned before the tag has been verified:
// the first Read decrypts the whole message, holding the plaintext in memory
// up to DecryptOptions.MemoryLimit and beyond that in a temporary file sealed
// under a random in-memory key (removed on Close and on every error). A
// message that is not authentic yields an error wrapping ErrNotAuthentic and
// no plaintext at all.
//
// With DecryptOptions.DelayedAuthentication, plaintext is returned as it is
// decrypted and the final Read returns the authentication error instead of
// io.EOF; see that option for what this means.
//
// Close releases the workers and any spool file; it does not close
// ciphertext. Errors from ciphertext are returned as they are, wrapped.
func NewGCMDecryptReader(ciphertext io.Reader, key, iv, aad []byte, optFns ...func(*DecryptOptions)) (io.ReadCloser, error) {
	o, err := decryptOptions(optFns)
	if err != nil {
		return nil, err
	}
	c, err := newGCMCore(ciphertext, key, iv, aad, o.StreamOptions, aesgcm.TagSize, processDecrypt)
	if err != nil {
		return nil, err
	}
	// Unless chunks are decrypted on several cores as they are released
	// (parallel delayed mode), workers only hash the ciphertext and Read
	// applies the keystream straight into the caller's buffer: no copy, and
	// in the default mode the held bytes are ciphertext, not plaintext.
	c.deferCTR = c.seq || !o.DelayedAuthentication
	d := &gcmDecrypter{gcmCore: c, opts: o}
	if c.deferCTR {
		d.ctr = c.k.CTR(c.iv[:], 0)
	}
	return d, nil
}

func processDecrypt(c *gcmCore, j *pipeline.Job) {
	if tooLarge(j) {
		j.Err = aesgcm.ErrTooLarge
		return
	}
	if j.Index == 0 && j.Last {
		// One chunk: open it with the standard library's fused kernel.
		// Data and Trailer are adjacent in the job's buffer.
		msg := j.Data[:len(j.Data)+len(j.Trailer)]
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
	j.Sum = c.k.ChunkHash(j.Data, j.Scratch())
	if !c.deferCTR {
		c.xor(j)
	}
}

type gcmDecrypter struct {
	*gcmCore
	opts DecryptOptions

	cur   *pipeline.Job
	out   []byte
	outCT bool  // out is ciphertext that Read decrypts with ctr
	end   bool  // the last chunk has been taken from the pipeline
	err   error // sticky; io.EOF at the end

	// authenticate-before-release state
	verified  bool
	held      [][]byte
	served    []byte // the held chunk being returned
	heldPlain bool   // held is a one-chunk message already opened
	heldN     int64
	spool     *spool.File
	spoolBuf  []byte
}

func (d *gcmDecrypter) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if d.opts.DelayedAuthentication {
			d.nextDelayed()
		} else {
			d.nextVerified()
		}
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

// take returns the next job from the pipeline, or sets d.err.
func (d *gcmDecrypter) take() *pipeline.Job {
	if d.cur != nil {
		d.pl.Release(d.cur)
		d.cur = nil
	}
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
		default:
			d.fail(fmt.Errorf("cse: reading ciphertext: %w", j.Err))
		}
		return nil
	}
	if j.Last {
		d.end = true
	}
	return j
}

// check folds in a chunk's hash and, on the last chunk, verifies the tag.
func (d *gcmDecrypter) check(j *pipeline.Job) error {
	if j.Done {
		return nil
	}
	d.hash.Add(j.Sum, len(j.Data))
	if !j.Last {
		return nil
	}
	tag := d.hash.Tag(d.iv[:])
	if subtle.ConstantTimeCompare(tag[:], j.Trailer) != 1 {
		return gcmError("tag mismatch")
	}
	return nil
}

func (d *gcmDecrypter) nextDelayed() {
	if d.end {
		d.err = io.EOF
		return
	}
	j := d.take()
	if j == nil {
		return
	}
	d.cur = j
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
	switch {
	case len(d.held) > 0:
		d.out = d.held[0]
		d.outCT = !d.heldPlain
		d.served = d.held[0]
		d.held[0] = nil
		d.held = d.held[1:]
	case d.spool != nil:
		out, err := d.spool.Next(d.spoolBuf)
		if err == io.EOF {
			d.err = io.EOF
			d.closeSpool()
			return
		}
		if err != nil {
			d.fail(fmt.Errorf("cse: reading the decryption spool: %w", err))
			return
		}
		d.spoolBuf = out[:0]
		d.out = out
		d.outCT = true
	default:
		d.err = io.EOF
	}
}

// verifyAll decrypts and authenticates the whole message before any of it is
// released.
func (d *gcmDecrypter) verifyAll() {
	for !d.end {
		j := d.take()
		if j == nil {
			return
		}
		d.cur = j
		if err := d.check(j); err != nil {
			d.fail(err)
			return
		}
		if j.Done {
			// A one-chunk message, already opened and authenticated.
			d.held = append(d.held, d.pl.Detach(j))
			d.heldPlain = true
			break
		}
		if err := d.hold(j); err != nil {
			d.fail(err)
			return
		}
	}
	d.verified = true
	if d.spool != nil {
		if err := d.spool.Rewind(); err != nil {
			d.fail(fmt.Errorf("cse: rewinding the decryption spool: %w", err))
		}
	}
}

// hold keeps a chunk of not yet authenticated plaintext.
func (d *gcmDecrypter) hold(j *pipeline.Job) error {
	n := int64(len(j.Data))
	if n == 0 {
		return nil
	}
	d.cur = j // released by the next take
	if d.spool == nil && d.heldN+n <= d.opts.MemoryLimit {
		d.held = append(d.held, d.pl.Detach(j))
		d.heldN += n
		return nil
	}
	if d.spool == nil {
		s, err := spool.New(d.opts.TempDir)
		if err != nil {
			return err
		}
		d.spool = s
		for i, h := range d.held {
			if err := s.Write(h); err != nil {
				return err
			}
			clear(h)
			pipeline.PutBuffer(h)
			d.held[i] = nil
		}
		d.held, d.heldN = nil, 0
	}
	return d.spool.Write(j.Data)
}

func (d *gcmDecrypter) closeSpool() {
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
		pipeline.PutBuffer(d.served)
		d.served = nil
	}
	d.closeSpool()
	if d.cur != nil {
		clear(d.cur.Data)
		d.pl.Release(d.cur)
		d.cur = nil
	}
	d.pl.Close()
}

func (d *gcmDecrypter) Close() error {
	if d.err == nil || d.err == io.EOF {
		d.fail(errClosed)
	} else {
		d.closeSpool()
		d.pl.Release(d.cur)
		d.cur = nil
		d.pl.Close()
	}
	return nil
}
