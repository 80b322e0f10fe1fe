package cse

import (
	"errors"
	"fmt"
	"io"

	"github.com/emrs3/emrs3/cse/internal/aesgcm"
	"github.com/emrs3/emrs3/cse/internal/pipeline"
)

// errClosed reports a read from a closed stream.
var errClosed = errors.New("cse: read from a closed stream")

// gcmParams checks a key and IV and expands the key.
func gcmParams(key, iv []byte) (*aesgcm.Key, [12]byte, error) {
	var nonce [12]byte
	if len(key) != 32 {
		return nil, nonce, fmt.Errorf("cse: content key must be 32 bytes (AES-256), got %d", len(key))
	}
	if len(iv) != aesgcm.NonceSize {
		return nil, nonce, fmt.Errorf("cse: GCM IV must be 12 bytes, got %d", len(iv))
	}
	k, err := aesgcm.NewKey(key)
	if err != nil {
		return nil, nonce, err
	}
	copy(nonce[:], iv)
	return k, nonce, nil
}

// gcmCore is the state shared by the GCM encrypter and decrypter.
type gcmCore struct {
	k    *aesgcm.Key
	iv   [12]byte
	aad  []byte
	hash *aesgcm.Hash
	pl   *pipeline.Pipeline
	seq  bool
}

func newGCMCore(src io.Reader, key, iv, aad []byte, o StreamOptions, holdback int, process func(c *gcmCore, j *pipeline.Job)) (*gcmCore, error) {
	k, nonce, err := gcmParams(key, iv)
	if err != nil {
		return nil, err
	}
	c := &gcmCore{k: k, iv: nonce, aad: append([]byte(nil), aad...), seq: o.Concurrency == 1}
	c.hash = k.NewHash(c.aad)
	c.pl = pipeline.New(src, pipeline.Config{
		ChunkSize: o.ChunkSize,
		Holdback:  holdback,
		Workers:   o.Concurrency,
		Process:   func(j *pipeline.Job) { process(c, j) },
	})
	return c, nil
}

// keepTrailer moves the job's trailer (the tag, which follows Data in the
// buffer) into the job's scratch space, so that Data may be extended or
// overwritten in place by 16 bytes. The scratch space must be free.
func keepTrailer(j *pipeline.Job) {
	if len(j.Trailer) == 0 {
		return
	}
	t := j.Scratch()[:len(j.Trailer)]
	copy(t, j.Trailer)
	j.Trailer = t
}

func tooLarge(j *pipeline.Job) bool {
	return j.Offset+int64(len(j.Data)) > aesgcm.MaxPlaintext
}

// newGCMEncryptReader returns a reader of the AES-GCM encryption of
// plaintext: the ciphertext followed by the 16-byte tag, byte-identical to
// crypto/cipher's Seal with the same key (32 bytes), IV (12 bytes) and
// additional data. The S3 Encryption Client's V2 format uses no additional
// data; its V3 suite uses {0x00, 0x73}.
//
// The plaintext is read one chunk at a time and encrypted on
// StreamOptions.Concurrency goroutines, so memory stays bounded whatever the
// size. Close stops the workers; it does not close plaintext.
func newGCMEncryptReader(plaintext io.Reader, key, iv, aad []byte, optFns ...func(*StreamOptions)) (io.ReadCloser, error) {
	o, err := streamOptions(optFns)
	if err != nil {
		return nil, err
	}
	c, err := newGCMCore(plaintext, key, iv, aad, o, 0, processEncrypt)
	if err != nil {
		return nil, err
	}
	return &gcmEncrypter{gcmCore: c}, nil
}

func processEncrypt(c *gcmCore, j *pipeline.Job) {
	if tooLarge(j) {
		j.Err = ErrTooLarge
		return
	}
	if j.Index == 0 && j.Last {
		// The whole message is one chunk: the standard library's fused
		// kernel is fastest.
		j.Data = c.k.AEAD().Seal(j.Data[:0], c.iv[:], j.Data, c.aad)
		j.Done = true
		return
	}
	// One pass of the standard library's fused kernel, in place (the
	// buffer has 16 spare bytes after Data).
	j.Data, j.Sum = c.k.SealChunk(j.Data, j.Data, c.iv[:], uint64(j.Offset/16))
}

type gcmEncrypter struct {
	*gcmCore
	cur  *pipeline.Job
	out  []byte
	tag  [16]byte
	tail []byte
	done bool
	err  error
}

func (e *gcmEncrypter) Read(p []byte) (int, error) {
	for len(e.out) == 0 && len(e.tail) == 0 {
		if e.err != nil {
			return 0, e.err
		}
		if e.done {
			return 0, io.EOF
		}
		e.next()
	}
	var n int
	if len(e.out) > 0 {
		n = copy(p, e.out)
		e.out = e.out[n:]
	}
	if len(e.out) == 0 && n < len(p) && len(e.tail) > 0 {
		m := copy(p[n:], e.tail)
		e.tail = e.tail[m:]
		n += m
	}
	return n, nil
}

func (e *gcmEncrypter) next() {
	if e.cur != nil {
		e.pl.Release(e.cur)
		e.cur = nil
	}
	j, err := e.pl.Next()
	if err != nil {
		e.err = errClosed
		return
	}
	if j.Err != nil {
		e.err = fmt.Errorf("cse: encrypting: %w", j.Err)
		return
	}
	e.cur = j
	e.out = j.Data
	if j.Done {
		e.done = true
		return
	}
	e.hash.Add(j.Sum, len(j.Data))
	if j.Last {
		e.tag = e.hash.Tag(e.iv[:])
		e.tail = e.tag[:]
		e.done = true
	}
}

func (e *gcmEncrypter) Close() error {
	e.pl.Release(e.cur)
	e.cur = nil
	e.pl.Close()
	if e.err == nil {
		e.err = errClosed
	}
	e.out, e.tail = nil, nil
	return nil
}

// newGCMEncryptWriter returns a writer that encrypts what is written to it
// and writes the ciphertext to dst; Close encrypts the last chunk and writes
// the tag. It does not close dst. The output is the same as
// newGCMEncryptReader's.
//
// When the plaintext cannot be completed (its source failed), call
// CloseWithError instead of Close: no tag is written, so what reached dst
// can never be mistaken for an authentic message. Discard it.
func newGCMEncryptWriter(dst io.Writer, key, iv, aad []byte, optFns ...func(*StreamOptions)) (*encryptWriter, error) {
	pr, pw := io.Pipe()
	r, err := newGCMEncryptReader(pr, key, iv, aad, optFns...)
	if err != nil {
		return nil, err
	}
	w := &encryptWriter{pw: pw, done: make(chan error, 1)}
	go func() {
		_, err := io.Copy(dst, r)
		r.Close()
		pr.CloseWithError(errWriterFailed(err))
		w.done <- err
	}()
	return w, nil
}

func errWriterFailed(err error) error {
	if err == nil {
		return io.ErrClosedPipe
	}
	return err
}

// encryptWriter is the writer of newGCMEncryptWriter. It is not safe for
// concurrent use.
type encryptWriter struct {
	pw     *io.PipeWriter
	done   chan error
	closed bool
	err    error
}

var _ io.WriteCloser = (*encryptWriter)(nil)

// Write encrypts p. An error from dst is returned by this or a later Write
// or by Close.
func (w *encryptWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("cse: write to a closed encrypt writer")
	}
	return w.pw.Write(p)
}

// Close encrypts what is left, writes the tag to dst and returns the first
// error from dst, if any. Closing again returns the same result.
func (w *encryptWriter) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	w.pw.Close()
	w.err = <-w.done
	return w.err
}

// CloseWithError ends the message without a tag: cause (or, when nil, an
// error saying the message was abandoned) stops the encryption, and
// CloseWithError returns an error wrapping it. Whatever reached dst is an
// incomplete message that no decrypter accepts. After Close it does nothing
// and returns Close's result.
func (w *encryptWriter) CloseWithError(cause error) error {
	if w.closed {
		return w.err
	}
	if cause == nil {
		cause = errAbandoned
	}
	w.closed = true
	w.pw.CloseWithError(cause)
	w.err = <-w.done
	return w.err
}

var errAbandoned = errors.New("cse: message abandoned before its end")
