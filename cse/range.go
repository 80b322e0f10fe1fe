package cse

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"io"

	"github.com/emrs3/emrs3/cse/internal/aesgcm"
)

// Range is the ciphertext to fetch for a plaintext byte range of an object,
// with what [Content.NewRangeReader] needs to turn it into that plaintext.
// [Content.Range] builds it.
//
// A range read is not authenticated: GCM ranges are decrypted with AES-CTR
// without the tag, and CBC is never authenticated.
type Range struct {
	// Offset is the first ciphertext byte to fetch.
	Offset int64
	// Length is the number of ciphertext bytes to fetch; 0 means the range
	// is empty and nothing need be fetched.
	Length int64

	cbc      bool
	block    int64 // GCM: counter block of the first fetched byte
	ivInData bool  // CBC: the first fetched block is the IV of the next
	final    bool  // CBC: the fetched bytes end with the padded final block
	skip     int64 // decrypted bytes to drop
	n        int64 // plaintext bytes wanted (CBC: at most)
}

// HTTPRange returns the value of the HTTP Range header that fetches r, or ""
// when r is empty.
func (r Range) HTTPRange() string {
	if r.Length == 0 {
		return ""
	}
	return fmt.Sprintf("bytes=%d-%d", r.Offset, r.Offset+r.Length-1)
}

// Size returns the number of plaintext bytes the range yields; for a CBC
// range that reaches the end of the object it is an upper bound, as the
// padding is only known once the last block is decrypted.
func (r Range) Size() int64 { return r.n }

var errRange = errors.New("cse: range offset and length must not be negative")

// gcmRange returns the ciphertext range to fetch for plaintext bytes
// [off, off+n) of a GCM object of ciphertextSize bytes (tag included). The
// range is clamped to the plaintext; it never includes the tag.
//
// It fetches only the 16-byte blocks that hold the range. The Java client
// fetches one more block on each side (lower = start − start%16 − 16,
// upper = end + 16 − end%16 + 16); AES-CTR needs no neighbouring block, so
// the plaintext is the same and fewer bytes travel.
func gcmRange(off, n, ciphertextSize int64) (Range, error) {
	if off < 0 || n < 0 {
		return Range{}, errRange
	}
	pt, err := gcmPlaintextSize(ciphertextSize)
	if err != nil {
		return Range{}, err
	}
	if off >= pt || n == 0 {
		return Range{}, nil
	}
	end := off + min(n, pt-off)
	first := off &^ 15
	last := min((end+15)&^15, pt)
	return Range{Offset: first, Length: last - first, block: first / 16, skip: off - first, n: end - off}, nil
}

// cbcRange returns the ciphertext range to fetch for plaintext bytes
// [off, off+n) of a CBC object of ciphertextSize bytes: the blocks holding
// the range and the block before them, which is their IV.
func cbcRange(off, n, ciphertextSize int64) (Range, error) {
	if off < 0 || n < 0 {
		return Range{}, errRange
	}
	if ciphertextSize < 16 || ciphertextSize%16 != 0 {
		return Range{}, errCBC
	}
	// The plaintext is at most ciphertextSize-1 bytes (padding is 1..16).
	if off >= ciphertextSize-1 || n == 0 {
		return Range{}, nil
	}
	end := off + min(n, ciphertextSize-1-off)
	first := off &^ 15
	start := max(first-16, 0)
	last := min((end+15)&^15, ciphertextSize)
	return Range{
		Offset: start, Length: last - start, cbc: true,
		ivInData: first > 0, final: last == ciphertextSize,
		skip: off - first, n: end - off,
	}, nil
}

// newRangeReader decrypts the ciphertext fetched for r (exactly r.Length
// bytes from r.Offset) and returns the plaintext of the range. key is the
// content key and iv the object's IV (12 bytes for GCM, 16 for CBC). A body
// shorter than r.Length is reported as io.ErrUnexpectedEOF.
func newRangeReader(ciphertext io.Reader, key, iv []byte, r Range) (io.Reader, error) {
	if r.Length == 0 {
		return eofReader{}, nil
	}
	body := &exactReader{r: ciphertext, n: r.Length}
	var plain io.Reader
	if !r.cbc {
		k, nonce, err := gcmParams(key, iv)
		if err != nil {
			return nil, err
		}
		if r.Offset+r.Length > aesgcm.MaxPlaintext {
			return nil, ErrTooLarge
		}
		plain = cipher.StreamReader{S: k.CTR(nonce[:], uint64(r.block)), R: body}
	} else {
		block, err := cbcParams(key, iv)
		if err != nil {
			return nil, err
		}
		chainIV := iv
		if r.ivInData {
			chainIV = make([]byte, 16)
			if _, err := io.ReadFull(body, chainIV); err != nil {
				return nil, io.ErrUnexpectedEOF
			}
		}
		plain = newCBC(body, block, chainIV, StreamOptions{Concurrency: 1, ChunkSize: DefaultChunkSize / 4}, r.final)
	}
	return &rangeReader{r: plain, skip: r.skip, n: r.n, mayEnd: r.final}, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// exactReader reads exactly n bytes from r.
type exactReader struct {
	r io.Reader
	n int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.n {
		p = p[:e.n]
	}
	n, err := e.r.Read(p)
	e.n -= int64(n)
	if err == io.EOF && e.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// rangeReader drops skip bytes and then returns at most n.
type rangeReader struct {
	r      io.Reader
	skip   int64
	n      int64
	mayEnd bool // the plaintext may end before skip (CBC padding)
}

func (rr *rangeReader) Read(p []byte) (int, error) {
	for rr.skip > 0 {
		var buf [16]byte
		k, err := rr.r.Read(buf[:min(int64(len(buf)), rr.skip)])
		rr.skip -= int64(k)
		if err != nil {
			if err == io.EOF && !rr.mayEnd {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
	}
	if rr.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > rr.n {
		p = p[:rr.n]
	}
	n, err := rr.r.Read(p)
	rr.n -= int64(n)
	if rr.n == 0 && err == nil {
		err = io.EOF
	}
	return n, err
}
