package cse

import (
	"errors"
	"io"
	"sync"

	"github.com/emrs3/emrs3/cse/internal/aesgcm"
)

// landingSource is a ciphertext source that fetches parts of the stream
// concurrently and holds each one in memory before Read returns it, as
// emrfs's concurrent ranged GETs do. A GCM decrypter reading from a
// landingSource (with StreamOptions.Concurrency > 1) hashes and decrypts
// each part where it lands, on the goroutine that fetched it, instead of
// after it has come through the in-order stream: the parts' GHASH
// contributions are recorded per chunk and combined in stream order (by
// powers of H), so the tag is checked exactly as before and plaintext is
// still released in order and, by default, only once it has verified.
type landingSource interface {
	io.Reader
	// StreamSize returns the length of the whole stream, tag included.
	StreamSize() int64
	// OnLand registers fn, to be called for each part [off, off+len(b))
	// of the stream once it is in memory and before Read returns any of
	// its bytes. fn may rewrite b in place: Read then returns what fn
	// left. It is called at most once per part, possibly on several
	// goroutines at once. OnLand is called before the first Read.
	OnLand(fn func(off int64, b []byte))
}

// landed is a chunk decrypted where it landed: its stream offset, length
// and partial hash.
type landed struct {
	n   int
	sum [16]byte
}

// landings records the chunks that were hashed and decrypted in their
// parts, keyed by stream offset, until the pipeline reaches them.
type landings struct {
	k         *aesgcm.Key
	iv        [12]byte
	chunkSize int64
	dataEnd   int64 // stream size minus the tag

	mu sync.Mutex
	m  map[int64]landed
}

// land hashes and decrypts, in place, every chunk of the stream that lies
// wholly within b (the stream bytes [off, off+len(b))), and records it.
func (l *landings) land(off int64, b []byte) {
	end := off + int64(len(b))
	x := (off + l.chunkSize - 1) / l.chunkSize * l.chunkSize
	var scratch [16]byte
	var keep [16]byte
	for ; x < end; x += l.chunkSize {
		e := min(x+l.chunkSize, l.dataEnd)
		if e <= x || e > end || e > aesgcm.MaxPlaintext {
			return
		}
		chunk := b[x-off : e-off]
		sum := l.k.ChunkHash(chunk, scratch[:0])
		// XORChunk overwrites the 16 bytes after its output: keep them.
		after := b[e-off : cap(b)]
		if len(after) >= aesgcm.TagSize {
			k := copy(keep[:], b[e-off:min(end, e+aesgcm.TagSize)-off])
			l.k.XORChunk(chunk, chunk, l.iv[:], uint64(x/16))
			copy(b[e-off:], keep[:k])
		} else {
			l.k.CTR(l.iv[:], uint64(x/16)).XORKeyStream(chunk, chunk)
		}
		l.mu.Lock()
		l.m[x] = landed{n: len(chunk), sum: sum}
		l.mu.Unlock()
	}
}

// errLanding reports a chunk decrypted where it landed whose bounds are not
// those of the stream's chunk: a bug, never tolerated (its bytes are
// plaintext now and cannot be hashed again).
var errLanding = errors.New("cse: internal error: a chunk decrypted where it landed does not match the stream's chunking")

// take returns and forgets the partial hash of the chunk at stream offset
// off, of length n, if it was decrypted where it landed.
func (l *landings) take(off int64, n int) ([16]byte, bool, error) {
	if l == nil || n == 0 {
		return [16]byte{}, false, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.m[off]
	if !ok {
		return [16]byte{}, false, nil
	}
	delete(l.m, off)
	if c.n != n {
		return [16]byte{}, false, errLanding
	}
	return c.sum, true, nil
}
