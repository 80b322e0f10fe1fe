package spool

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

func TestRoundTripAndRemoval(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	records := [][]byte{bytes.Repeat([]byte("secret plaintext "), 1000), {1, 2, 3}, {}}
	for _, r := range records {
		if err := s.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(s.Name())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("secret plaintext")) {
		t.Fatal("plaintext reached the disk")
	}
	if err := s.Rewind(); err != nil {
		t.Fatal(err)
	}
	for i, want := range records {
		got, err := s.Next(nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	if _, err := s.Next(nil); err != io.EOF {
		t.Fatalf("after last record: %v, want io.EOF", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("spool file left behind: %v", ents)
	}
}

func TestTamperDetected(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(s.Name(), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff}, 10); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s.Rewind()
	if _, err := s.Next(nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
}
