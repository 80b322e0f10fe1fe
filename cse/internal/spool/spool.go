// Package spool holds the part of an authenticated-mode message that does
// not fit in memory in a temporary file, sealed record by record with
// AES-256-GCM under a random key that lives only in memory. Neither
// plaintext nor the object's own ciphertext reaches the disk, and a record
// changed, moved, dropped or truncated on disk is detected when it is read
// back.
//
// Records are sealed and opened by any number of goroutines (Seal and Open
// are safe for concurrent use); one goroutine appends them, in order, and
// one reads them back through Reader. Record i is sealed with nonce i, so a
// record only opens at its own position.
package spool

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Overhead is how much longer a sealed record is than its contents.
const Overhead = 16

// ErrCorrupt reports a spool file changed while it was in use.
var ErrCorrupt = errors.New("spool: temporary file was modified or truncated")

// Spool is a sealed spool. Seal and Open are safe for concurrent use; Append,
// Reader and Close are not.
type Spool struct {
	dir     string
	aead    cipher.AEAD
	f       *os.File
	name    string // the file's path until it is unlinked
	records uint64
	size    int64
}

// New returns a spool whose file will be created in dir (os.TempDir when
// empty) by the first Append.
func New(dir string) (*Spool, error) {
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key[:])
	clear(key[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Spool{dir: dir, aead: aead}, nil
}

// nonces are pooled: a nonce passed to cipher.AEAD escapes, and would
// otherwise be allocated for every record.
var nonces = sync.Pool{New: func() any { return new([12]byte) }}

func nonce(rec uint64) *[12]byte {
	n := nonces.Get().(*[12]byte)
	binary.BigEndian.PutUint64(n[4:], rec)
	return n
}

// Seal appends the sealed form of p, as record number rec, to dst and
// returns the result. p and dst may overlap exactly (p[:0]), as with
// cipher.AEAD.
func (s *Spool) Seal(dst, p []byte, rec uint64) []byte {
	n := nonce(rec)
	defer nonces.Put(n)
	return s.aead.Seal(dst, n[:], p, nil)
}

// Open opens record number rec into dst (sealed[:0] to decrypt in place).
func (s *Spool) Open(dst, sealed []byte, rec uint64) ([]byte, error) {
	n := nonce(rec)
	defer nonces.Put(n)
	out, err := s.aead.Open(dst, n[:], sealed, nil)
	if err != nil {
		return nil, ErrCorrupt
	}
	return out, nil
}

// Append writes the next sealed record, creating the file on first use. The
// file is unlinked as soon as it is created where the system allows it, so
// that nothing is left behind even if the process dies.
func (s *Spool) Append(sealed []byte) error {
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "emrs3-spool-*")
		if err != nil {
			return fmt.Errorf("spool: cannot create a temporary file (set TempDir to a writable directory): %w", err)
		}
		s.f, s.name = f, f.Name()
		if os.Remove(s.name) == nil {
			s.name = ""
		}
	}
	if _, err := s.f.Write(sealed); err != nil {
		return fmt.Errorf("spool: writing temporary file: %w", err)
	}
	s.records++
	s.size += int64(len(sealed))
	return nil
}

// Records returns the number of records appended.
func (s *Spool) Records() uint64 { return s.records }

// Reader returns a reader of the sealed records appended so far, from the
// first.
func (s *Spool) Reader() io.Reader {
	if s.f == nil {
		return eofReader{}
	}
	return io.NewSectionReader(s.f, 0, s.size)
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Close closes the file and removes it if it is still linked.
func (s *Spool) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	if s.name != "" {
		if rerr := os.Remove(s.name); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
			err = rerr
		}
	}
	s.f, s.name = nil, ""
	return err
}
