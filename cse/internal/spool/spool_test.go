package spool

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"testing"
)

func appendAll(t *testing.T, s *Spool, records [][]byte) {
	t.Helper()
	for i, r := range records {
		if err := s.Append(s.Seal(nil, r, uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
}

func readBack(s *Spool, sizes []int) ([][]byte, error) {
	r := s.Reader()
	var out [][]byte
	for i, n := range sizes {
		buf := make([]byte, n+Overhead)
		if _, err := io.ReadFull(r, buf); err != nil {
			return out, err
		}
		pt, err := s.Open(buf[:0], buf, uint64(i))
		if err != nil {
			return out, err
		}
		out = append(out, pt)
	}
	return out, nil
}

func TestRoundTripSealedAndRemoved(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("file created before the first record: %v", ents)
	}
	records := [][]byte{bytes.Repeat([]byte("secret plaintext "), 1000), {1, 2, 3}, {}}
	appendAll(t, s, records)
	if s.Records() != 3 {
		t.Fatalf("Records() = %d, want 3", s.Records())
	}
	if runtime.GOOS == "linux" {
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("spool file still linked while in use: %v", ents)
		}
	}
	raw, err := io.ReadAll(s.Reader())
	if err != nil {
		t.Fatal(err)
	}
	if want := 17000 + 3 + 3*Overhead; len(raw) != want {
		t.Fatalf("spool holds %d bytes, want %d", len(raw), want)
	}
	if bytes.Contains(raw, []byte("secret plaintext")) {
		t.Fatal("plaintext reached the disk")
	}
	got, err := readBack(s, []int{17000, 3, 0})
	if err != nil {
		t.Fatal(err)
	}
	for i := range records {
		if !bytes.Equal(got[i], records[i]) {
			t.Fatalf("record %d differs", i)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("spool file left behind: %v", ents)
	}
}

func TestTamperDetected(t *testing.T) {
	cases := []struct {
		name string
		edit func(t *testing.T, f *os.File)
	}{
		{"bit flipped", func(t *testing.T, f *os.File) {
			if _, err := f.WriteAt([]byte{0xff}, 10); err != nil {
				t.Fatal(err)
			}
		}},
		{"records swapped", func(t *testing.T, f *os.File) {
			a, b := make([]byte, 100+Overhead), make([]byte, 100+Overhead)
			f.ReadAt(a, 0)
			f.ReadAt(b, int64(len(a)))
			f.WriteAt(b, 0)
			f.WriteAt(a, int64(len(a)))
		}},
		{"truncated", func(t *testing.T, f *os.File) {
			if err := f.Truncate(100 + Overhead + 50); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			appendAll(t, s, [][]byte{make([]byte, 100), bytes.Repeat([]byte{7}, 100)})
			tc.edit(t, s.f)
			if _, err := readBack(s, []int{100, 100}); !errors.Is(err, ErrCorrupt) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("got %v, want ErrCorrupt or a short read", err)
			}
		})
	}
}

func TestRecordOnlyOpensAtItsPosition(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sealed := s.Seal(nil, []byte("record"), 4)
	if _, err := s.Open(nil, sealed, 5); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("record 4 opened as record 5: %v", err)
	}
	if got, err := s.Open(nil, sealed, 4); err != nil || string(got) != "record" {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestUnwritableDir(t *testing.T) {
	s, err := New(t.TempDir() + "/missing")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Append(s.Seal(nil, []byte("x"), 0)); err == nil || !bytes.Contains([]byte(err.Error()), []byte("TempDir")) {
		t.Fatalf("Append in a missing directory: %v, want an error naming TempDir", err)
	}
}

func TestEmptySpoolReader(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Reader().Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("Read of an empty spool = %d, %v", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
