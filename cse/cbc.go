package cse

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/emrs3/emrs3/cse/internal/pipeline"
)

// newCBCDecryptReader returns a reader of the plaintext of an AES-256-CBC
// stream with PKCS#7 padding: the content cipher of V1 objects and of
// EMRFS's default CSE objects (V2 with AES/CBC/PKCS5Padding).
//
// CBC is not authenticated: plaintext is released as it is decrypted, and
// only the padding of the final block is checked. A wrong padding or a
// length that is not a positive multiple of 16 is reported, at the end, as an
// *AuthenticationError that says nothing more, so that it cannot serve as a
// padding oracle. Reading CBC objects is a legacy mode that callers should
// enable explicitly (see the package documentation).
//
// Close stops the workers; it does not close ciphertext.
func newCBCDecryptReader(ciphertext io.Reader, key, iv []byte, optFns ...func(*StreamOptions)) (io.ReadCloser, error) {
	o, err := streamOptions(optFns)
	if err != nil {
		return nil, err
	}
	block, err := cbcParams(key, iv)
	if err != nil {
		return nil, err
	}
	return newCBC(ciphertext, block, iv, o, true), nil
}

// newCBC returns a CBC decrypter; pad says whether the stream ends with the
// message's padded final block.
func newCBC(ciphertext io.Reader, block cipher.Block, iv []byte, o StreamOptions, pad bool) *cbcDecrypter {
	d := &cbcDecrypter{block: block, seq: o.Concurrency == 1, pad: pad}
	copy(d.iv[:], iv)
	d.pl = pipeline.New(ciphertext, pipeline.Config{
		ChunkSize: o.ChunkSize,
		Holdback:  16,
		Workers:   o.Concurrency,
		Process:   d.process,
	})
	return d
}

func cbcParams(key, iv []byte) (cipher.Block, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("cse: content key must be 32 bytes (AES-256), got %d", len(key))
	}
	if len(iv) != 16 {
		return nil, fmt.Errorf("cse: CBC IV must be 16 bytes, got %d", len(iv))
	}
	return aes.NewCipher(key)
}

type cbcDecrypter struct {
	block cipher.Block
	iv    [16]byte
	seq   bool
	pad   bool
	mode  cipher.BlockMode // the sequential mode's continuous chain
	pl    *pipeline.Pipeline
	cur   *pipeline.Job
	out   []byte
	end   bool
	err   error
}

func (d *cbcDecrypter) process(j *pipeline.Job) {
	data := j.Data
	if j.Last {
		data = j.Data[:len(j.Data)+len(j.Trailer)]
	}
	if len(data)%16 != 0 {
		j.Err = errCBC
		return
	}
	iv := d.iv[:]
	if j.Index > 0 {
		iv = j.Prev[:]
	}
	if d.seq {
		if d.mode == nil {
			d.mode = cipher.NewCBCDecrypter(d.block, iv)
		}
		d.mode.CryptBlocks(data, data)
	} else {
		cipher.NewCBCDecrypter(d.block, iv).CryptBlocks(data, data)
	}
	if j.Last && d.pad {
		n, ok := unpad(data)
		if !ok {
			clear(data)
			j.Data = j.Data[:0]
			j.Err = errCBC
			return
		}
		j.Data = data[:n]
	} else if j.Last {
		j.Data = data
	}
}

// unpad checks PKCS#7 padding in time independent of the padding's value and
// returns the plaintext length.
func unpad(data []byte) (int, bool) {
	if len(data) < 16 {
		return 0, false
	}
	last := data[len(data)-16:]
	p := last[15]
	good := subtle.ConstantTimeLessOrEq(1, int(p)) & subtle.ConstantTimeLessOrEq(int(p), 16)
	for i := 0; i < 16; i++ {
		// Bytes at positions 16-p .. 15 must equal p.
		in := subtle.ConstantTimeLessOrEq(16-int(p), i)
		eq := subtle.ConstantTimeByteEq(last[i], p)
		good &= subtle.ConstantTimeSelect(in, eq, 1)
	}
	return len(data) - int(p), good == 1
}

func (d *cbcDecrypter) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if d.end {
			d.err = io.EOF
			return 0, io.EOF
		}
		if d.cur != nil {
			d.pl.Release(d.cur)
			d.cur = nil
		}
		j, err := d.pl.Next()
		switch {
		case err != nil:
			d.err = errClosed
		case j.Err == nil:
			d.cur, d.out, d.end = j, j.Data, j.Last
		case errors.Is(j.Err, pipeline.ErrShort), errors.Is(j.Err, ErrNotAuthentic):
			d.err = errCBC
		default:
			d.err = fmt.Errorf("cse: reading ciphertext: %w", j.Err)
		}
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

func (d *cbcDecrypter) Close() error {
	d.pl.Release(d.cur)
	d.cur = nil
	d.pl.Close()
	if d.err == nil || d.err == io.EOF {
		d.err = errClosed
	}
	d.out = nil
	return nil
}
