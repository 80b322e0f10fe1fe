// Package spool holds authenticated-mode plaintext that does not fit in
// memory in a temporary file, sealed record by record with AES-GCM under a
// random key that lives only in memory. Neither plaintext nor the object's
// own ciphertext reaches the disk, and a record changed on disk is detected
// when it is read back.
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
)

// ErrCorrupt reports a spool file changed while it was in use.
var ErrCorrupt = errors.New("spool: temporary file was modified or truncated")

// File is a sealed spool. It is not safe for concurrent use.
type File struct {
	f       *os.File
	name    string
	aead    cipher.AEAD
	written uint64
	read    uint64
	size    int64
	rbuf    []byte
	hdr     [4]byte
}

// New creates a spool file in dir (os.TempDir when empty).
func New(dir string) (*File, error) {
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
	f, err := os.CreateTemp(dir, "emrs3-spool-*")
	if err != nil {
		return nil, fmt.Errorf("spool: cannot create a temporary file (set TempDir to a writable directory): %w", err)
	}
	return &File{f: f, name: f.Name(), aead: aead}, nil
}

func (s *File) nonce(i uint64) []byte {
	var n [12]byte
	binary.BigEndian.PutUint64(n[4:], i)
	return n[:]
}

// Write seals p as the next record. p is left untouched.
func (s *File) Write(p []byte) error {
	if cap(s.rbuf) < len(p)+16 {
		s.rbuf = make([]byte, 0, len(p)+16)
	}
	sealed := s.aead.Seal(s.rbuf[:0], s.nonce(s.written), p, nil)
	binary.BigEndian.PutUint32(s.hdr[:], uint32(len(sealed)))
	if _, err := s.f.Write(s.hdr[:]); err != nil {
		return fmt.Errorf("spool: writing temporary file: %w", err)
	}
	if _, err := s.f.Write(sealed); err != nil {
		return fmt.Errorf("spool: writing temporary file: %w", err)
	}
	s.written++
	s.size += int64(len(p))
	return nil
}

// Size returns the plaintext bytes written.
func (s *File) Size() int64 { return s.size }

// Rewind prepares the spool for reading from the first record.
func (s *File) Rewind() error {
	s.read = 0
	_, err := s.f.Seek(0, io.SeekStart)
	return err
}

// Next opens the next record into dst's storage and returns it, or io.EOF
// after the last record.
func (s *File) Next(dst []byte) ([]byte, error) {
	if s.read == s.written {
		return nil, io.EOF
	}
	if _, err := io.ReadFull(s.f, s.hdr[:]); err != nil {
		return nil, ErrCorrupt
	}
	n := int(binary.BigEndian.Uint32(s.hdr[:]))
	if n < 16 || n > 1<<30 {
		return nil, ErrCorrupt
	}
	if cap(s.rbuf) < n {
		s.rbuf = make([]byte, n)
	}
	buf := s.rbuf[:n]
	if _, err := io.ReadFull(s.f, buf); err != nil {
		return nil, ErrCorrupt
	}
	out, err := s.aead.Open(dst[:0], s.nonce(s.read), buf, nil)
	if err != nil {
		return nil, ErrCorrupt
	}
	s.read++
	return out, nil
}

// Name returns the path of the temporary file.
func (s *File) Name() string { return s.name }

// Close closes and removes the file.
func (s *File) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	if rerr := os.Remove(s.name); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	s.f = nil
	clear(s.rbuf[:cap(s.rbuf)])
	return err
}
