package cse

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestGCMEncryptWriterAAD(t *testing.T) {
	key, iv := testKey(95)
	aad := []byte{0x00, 0x73}
	for _, m := range modes {
		for _, size := range testSizes {
			pt := randBytes(uint64(size), size)
			var buf bytes.Buffer
			w, err := newGCMEncryptWriter(&buf, key, iv, aad, m.opt)
			if err != nil {
				t.Fatal(err)
			}
			// Uneven writes, so that chunk and write boundaries differ.
			for rest := pt; len(rest) > 0; {
				n := min(len(rest), 1+len(rest)%23)
				if _, err := w.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), stdSeal(key, iv, aad, pt)) {
				t.Fatalf("%s size %d: output differs from crypto/cipher Seal with AAD", m.name, size)
			}
		}
	}
}

func TestGCMEncryptWriterCloseWithError(t *testing.T) {
	key, iv := testKey(96)
	cause := errors.New("source failed")
	for _, m := range modes {
		for _, written := range []int{0, 1, testChunk, 3*testChunk + 5} {
			var buf bytes.Buffer
			w, err := newGCMEncryptWriter(&buf, key, iv, nil, m.opt)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(randBytes(7, written)); err != nil {
				t.Fatal(err)
			}
			if err := w.CloseWithError(cause); !errors.Is(err, cause) {
				t.Fatalf("%s written=%d: CloseWithError = %v, want it to wrap the cause", m.name, written, err)
			}
			if err := w.Close(); !errors.Is(err, cause) {
				t.Fatalf("%s: Close after CloseWithError = %v, want the same error", m.name, err)
			}
			if _, err := w.Write([]byte{1}); err == nil {
				t.Fatalf("%s: Write after CloseWithError succeeded", m.name)
			}
			// No tag was written: what reached dst does not decrypt.
			r, err := newGCMDecryptReader(bytes.NewReader(buf.Bytes()), key, iv, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := io.ReadAll(r); !errors.Is(err, ErrNotAuthentic) || len(got) != 0 {
				t.Fatalf("%s written=%d: abandoned message decrypts: %d bytes, %v", m.name, written, len(got), err)
			}
			r.Close()
		}
	}
	// A nil cause still abandons the message.
	var buf bytes.Buffer
	w, _ := newGCMEncryptWriter(&buf, key, iv, nil)
	w.Write([]byte("partial"))
	if err := w.CloseWithError(nil); err == nil {
		t.Fatal("CloseWithError(nil) returned nil")
	}
}

type failingWriter struct{ after int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.after < len(p) {
		n := f.after
		f.after = 0
		return n, errors.New("disk full")
	}
	f.after -= len(p)
	return len(p), nil
}

func TestGCMEncryptWriterDestinationError(t *testing.T) {
	key, iv := testKey(97)
	for _, m := range modes {
		w, err := newGCMEncryptWriter(&failingWriter{after: 100}, key, iv, nil, m.opt)
		if err != nil {
			t.Fatal(err)
		}
		var werr error
		for i := 0; i < 100 && werr == nil; i++ {
			_, werr = w.Write(make([]byte, testChunk))
		}
		cerr := w.Close()
		if werr == nil && cerr == nil {
			t.Fatalf("%s: a failing destination was never reported", m.name)
		}
		if cerr == nil || cerr.Error() != "disk full" {
			t.Fatalf("%s: Close = %v, want the destination's error", m.name, cerr)
		}
		if _, err := w.Write([]byte{1}); err == nil {
			t.Fatalf("%s: Write after Close succeeded", m.name)
		}
	}
}
