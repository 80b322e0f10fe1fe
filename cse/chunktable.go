package cse

import (
	"crypto/subtle"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/emrs3/emrs3/cse/internal/aesgcm"
)

// ChunkTable is what one authenticated pass over a GCM message leaves
// behind for authenticated random access: for each chunk of the
// ciphertext (StreamOptions.ChunkSize bytes, the last one shorter), its
// GHASH contribution, 16 bytes. Once the pass has verified the tag, a
// chunk fetched again is authentic exactly when its own GHASH equals the
// recorded one, so a range of the object can be read, checked and
// released without reading the rest ([Content.NewChunkReader]).
//
// Record a table by setting StreamOptions.ChunkTable on a GCM decrypter
// (authenticating or not): it is Complete only once the decrypter has
// verified the tag. A table holds no key, but the hashes are evaluations
// of a polynomial in the message's GHASH key H, from which H can be
// computed: keep tables in memory only, as key material, and Wipe them
// when done. A table is bound to the content key and IV of the message it
// was recorded from; with any other it rejects every chunk.
//
// Memory: 16 bytes per chunk, 64 KiB per GiB of ciphertext at the default
// chunk size. Methods are safe for concurrent use once Complete.
type ChunkTable struct {
	chunkSize int
	size      int64 // ciphertext bytes, tag excluded; set when complete
	sums      [][16]byte
	complete  atomic.Bool
	wipeOnce  sync.Once
}

// ChunkSize returns the size of the chunks the table covers.
func (t *ChunkTable) ChunkSize() int { return t.chunkSize }

// Complete reports whether the pass that recorded t verified the tag; only
// a complete table can be used.
func (t *ChunkTable) Complete() bool { return t != nil && t.complete.Load() }

// MemSize returns the bytes of memory the table's hashes take.
func (t *ChunkTable) MemSize() int64 { return int64(cap(t.sums)) * 16 }

// Wipe clears the recorded hashes; t is unusable afterwards. It must not
// run concurrently with a reader of t.
func (t *ChunkTable) Wipe() {
	t.wipeOnce.Do(func() {
		t.complete.Store(false)
		clear(t.sums)
		t.sums = nil
	})
}

// record appends the hash of the next chunk (n bytes of ciphertext).
func (t *ChunkTable) record(sum [16]byte, n int) {
	if n > 0 && !t.complete.Load() {
		t.sums = append(t.sums, sum)
	}
}

// finish marks t complete: the tag of the size-byte message verified.
func (t *ChunkTable) finish(size int64) {
	if int64(len(t.sums)) != (size+int64(t.chunkSize)-1)/int64(t.chunkSize) {
		return // not recorded from the first chunk on: never complete
	}
	t.size = size
	t.complete.Store(true)
}

// Span returns the ciphertext bytes [start, end) that hold plaintext bytes
// [off, off+n) of the message — whole chunks, the tag excluded; the
// plaintext of byte i of the message is at ciphertext offset i. n is
// clamped to the message.
func (t *ChunkTable) Span(off, n int64) (start, end int64) {
	if !t.Complete() || off < 0 || n <= 0 || off >= t.size {
		return 0, 0
	}
	cs := int64(t.chunkSize)
	last := min(off+n, t.size)
	start = off / cs * cs
	end = min((last+cs-1)/cs*cs, t.size)
	return start, end
}

// NewChunkReader returns the plaintext of ciphertext bytes [start, end) of
// the message c describes, read from ciphertext, which must deliver
// exactly those bytes; start must be a chunk boundary of t and end a chunk
// boundary or the end of the message, as [ChunkTable.Span] returns them.
// Each chunk is read whole and checked against t before any of its bytes
// is returned: a chunk that differs yields an error matching
// ErrNotAuthentic and none of its plaintext. t must be Complete.
func (c *Content) NewChunkReader(ciphertext io.Reader, t *ChunkTable, start, end int64) (io.Reader, error) {
	if c.Algorithm != AlgGCM && c.Algorithm != AlgCommitting {
		return nil, fmt.Errorf("cse: chunk tables apply to GCM content, not %v", c.Algorithm)
	}
	if !t.Complete() {
		return nil, fmt.Errorf("cse: chunk table is not complete (its pass did not verify the tag)")
	}
	cs := int64(t.chunkSize)
	if start < 0 || start > end || end > t.size || start%cs != 0 || (end%cs != 0 && end != t.size) {
		return nil, fmt.Errorf("cse: ciphertext span [%d, %d) is not whole chunks of the table", start, end)
	}
	k, nonce, err := gcmParams(c.Key, c.IV)
	if err != nil {
		return nil, err
	}
	return &chunkReader{k: k, iv: nonce, t: t, src: ciphertext, off: start, end: end}, nil
}

type chunkReader struct {
	k        *aesgcm.Key
	iv       [12]byte
	t        *ChunkTable
	src      io.Reader
	off, end int64
	buf      []byte
	out      []byte
	err      error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.next()
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

func (r *chunkReader) next() {
	if r.off >= r.end {
		r.err = io.EOF
		return
	}
	cs := int64(r.t.chunkSize)
	n := min(cs, r.t.size-r.off)
	if cap(r.buf) < int(n)+16 {
		r.buf = make([]byte, n, n+16)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.src, r.buf); err != nil {
		clear(r.buf)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		r.err = fmt.Errorf("cse: reading ciphertext: %w", err)
		return
	}
	i := r.off / cs
	sum := r.k.ChunkHash(r.buf, r.buf[n:n:n+16])
	want := r.t.sums[i]
	if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
		clear(r.buf)
		r.err = gcmError(fmt.Sprintf("chunk %d differs from the one authenticated", i))
		return
	}
	r.k.XORChunk(r.buf, r.buf, r.iv[:], uint64(r.off/16))
	r.out = r.buf
	r.off += n
}
