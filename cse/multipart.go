package cse

import (
	"errors"
	"fmt"
	"sync"

	"github.com/emrs3/emrs3/cse/internal/aesgcm"
)

// MultipartEncryptor encrypts one GCM message as the consecutive parts of a
// multipart upload, the way the AWS Java client does: every part but the last
// is a multiple of 16 bytes, parts are encrypted in order, and the tag is
// appended to the last part. Once encrypted, parts may be uploaded
// concurrently. Concatenated, the parts equal crypto/cipher's Seal of the
// whole plaintext. A MultipartEncryptor is not safe for concurrent use.
type MultipartEncryptor struct {
	k    *aesgcm.Key
	iv   [12]byte
	hash *aesgcm.Hash
	opts StreamOptions
	off  int64
	done bool
}

// errPartSize reports a part, other than the last, whose size is not a
// multiple of 16 bytes.
var errPartSize = errors.New("cse: every part but the last must be a multiple of 16 bytes")

// newMultipartEncryptor starts a GCM message for a multipart upload.
func newMultipartEncryptor(key, iv, aad []byte, optFns ...func(*StreamOptions)) (*MultipartEncryptor, error) {
	o, err := streamOptions(optFns)
	if err != nil {
		return nil, err
	}
	k, nonce, err := gcmParams(key, iv)
	if err != nil {
		return nil, err
	}
	return &MultipartEncryptor{k: k, iv: nonce, hash: k.NewHash(aad), opts: o}, nil
}

// EncryptPart encrypts the next part in place and returns it. When last is
// true the 16-byte tag is appended (in part's spare capacity if it has 16
// bytes, otherwise in a new slice) and the encryptor is finished. The part
// is split into chunks encrypted on StreamOptions.Concurrency goroutines.
func (m *MultipartEncryptor) EncryptPart(part []byte, last bool) ([]byte, error) {
	if m.done {
		return nil, errors.New("cse: EncryptPart called after the last part")
	}
	if !last && len(part)%16 != 0 {
		return nil, fmt.Errorf("%w (got %d)", errPartSize, len(part))
	}
	if m.off+int64(len(part)) > aesgcm.MaxPlaintext {
		return nil, ErrTooLarge
	}
	chunk := m.opts.ChunkSize
	nchunks := (len(part) + chunk - 1) / chunk
	sums := make([][16]byte, nchunks)
	workers := min(m.opts.Concurrency, nchunks)
	// Each worker takes a contiguous run of chunks, in order. A chunk
	// sealed in place by the fused kernel overwrites the 16 bytes after it:
	// within a run they are saved and put back; the last chunk of a run,
	// whose successor another worker may be reading, takes the composed
	// path, which writes only the chunk.
	run := func(first, end int) {
		var scratch [aesgcm.TagSize]byte
		for i := first; i < end; i++ {
			lo := i * chunk
			hi := min(lo+chunk, len(part))
			c := part[lo:hi]
			b := uint64((m.off + int64(lo)) / 16)
			if i == end-1 || cap(part)-hi < aesgcm.TagSize {
				// The composed path, in place without touching
				// the following bytes.
				m.k.CTR(m.iv[:], b).XORKeyStream(c, c)
				sums[i] = m.k.ChunkHash(c, scratch[:0])
				continue
			}
			var after [aesgcm.TagSize]byte
			copy(after[:], part[hi:hi+aesgcm.TagSize])
			_, sums[i] = m.k.SealChunk(part[lo:hi:hi+aesgcm.TagSize], c, m.iv[:], b)
			copy(part[hi:hi+aesgcm.TagSize], after[:])
		}
	}
	if workers <= 1 {
		run(0, nchunks)
	} else {
		var wg sync.WaitGroup
		per := (nchunks + workers - 1) / workers
		for first := 0; first < nchunks; first += per {
			wg.Go(func() { run(first, min(first+per, nchunks)) })
		}
		wg.Wait()
	}
	for i, s := range sums {
		m.hash.Add(s, min(chunk, len(part)-i*chunk))
	}
	m.off += int64(len(part))
	if !last {
		return part, nil
	}
	m.done = true
	tag := m.hash.Tag(m.iv[:])
	return append(part, tag[:]...), nil
}

// Size returns the plaintext bytes encrypted so far.
func (m *MultipartEncryptor) Size() int64 { return m.off }
