package spool

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
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

func TestRoundTripSealedAndRemoved(t *testing.T) { bothWays(t, testRoundTrip) }

func testRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := New(Options{Dir: dir})
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
	if want := 17000 + 3 + 3*Overhead; len(raw) != want || s.Size() != int64(want+HeaderSize(0)) {
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

func TestTamperDetected(t *testing.T) { bothWays(t, testTamper) }

func testTamper(t *testing.T) {
	// Records of n bytes: with direct I/O from the first aligned offset
	// past the header (bothWays), record 0 straddles the page-cache part
	// and the direct part, and record 1 is in the direct part.
	const n = 5000
	h := int64(HeaderSize(0))
	cases := []struct {
		name string
		edit func(t *testing.T, f *os.File)
	}{
		{"bit flipped", func(t *testing.T, f *os.File) { flip(t, f, h+10) }},
		{"bit flipped past the page-cache part", func(t *testing.T, f *os.File) { flip(t, f, h+n+Overhead+100) }},
		{"records swapped", func(t *testing.T, f *os.File) {
			a, b := make([]byte, n+Overhead), make([]byte, n+Overhead)
			f.ReadAt(a, h)
			f.ReadAt(b, h+int64(len(a)))
			f.WriteAt(b, h)
			f.WriteAt(a, h+int64(len(a)))
		}},
		{"truncated", func(t *testing.T, f *os.File) {
			if err := f.Truncate(h + n + Overhead + 50); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Options{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			appendAll(t, s, [][]byte{make([]byte, n), bytes.Repeat([]byte{7}, n)})
			tc.edit(t, onDisk(t, s))
			if _, err := readBack(s, []int{n, n}); !errors.Is(err, ErrCorrupt) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("got %v, want ErrCorrupt or a short read", err)
			}
		})
	}
}

// flip inverts the byte at off (writing a fixed value would leave a byte
// that already had it unchanged, once in 256 runs).
func flip(t *testing.T, f *os.File, off int64) {
	t.Helper()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestRecordOnlyOpensAtItsPosition(t *testing.T) {
	s, err := New(Options{Dir: t.TempDir()})
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
	s, err := New(Options{Dir: t.TempDir() + "/missing"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Append(s.Seal(nil, []byte("x"), 0))
	var se *Error
	if !errors.As(err, &se) || se.Op != "create" || !strings.Contains(err.Error(), "/missing") {
		t.Fatalf("Append in a missing directory: %v, want a create *Error naming the directory", err)
	}
}

func TestEmptySpoolReader(t *testing.T) {
	s, err := New(Options{Dir: t.TempDir()})
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

// TestKeySourceHeader: with a key source, the file starts with a header
// holding the salt and the description, and the file key is derived from
// the secret, the salt and the description — each file with a fresh salt.
func TestKeySourceHeader(t *testing.T) { bothWays(t, testKeySourceHeader) }

func testKeySourceHeader(t *testing.T) {
	secret := bytes.Repeat([]byte{0x42}, 32)
	desc := []byte(`{"kms":"key-1"}`)
	calls := 0
	src := func() ([]byte, []byte, error) {
		calls++
		return bytes.Clone(secret), desc, nil
	}
	var salts [][]byte
	for range 2 {
		s, err := New(Options{Dir: t.TempDir(), Key: src})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Append(s.Seal(nil, []byte("record zero"), 0)); err != nil {
			t.Fatal(err)
		}
		raw := make([]byte, s.Size())
		if _, err := onDisk(t, s).ReadAt(raw, 0); err != nil {
			t.Fatal(err)
		}
		salt, gotDesc, off, err := ParseHeader(raw)
		if err != nil || !bytes.Equal(gotDesc, desc) {
			t.Fatalf("ParseHeader: %q, %v", gotDesc, err)
		}
		key, err := DeriveKey(secret, salt, desc)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := aes.NewCipher(key)
		g, _ := cipher.NewGCM(block)
		pt, err := g.Open(nil, make([]byte, 12), raw[off:], nil)
		if err != nil || string(pt) != "record zero" {
			t.Fatalf("record does not open with the derived key: %q, %v", pt, err)
		}
		// Another description does not give the key.
		other, _ := DeriveKey(secret, salt, []byte(`{"kms":"key-2"}`))
		block, _ = aes.NewCipher(other)
		g, _ = cipher.NewGCM(block)
		if _, err := g.Open(nil, make([]byte, 12), raw[off:], nil); err == nil {
			t.Fatal("record opened with a key derived for another description")
		}
		salts = append(salts, bytes.Clone(salt))
		s.Close()
	}
	if calls != 2 || bytes.Equal(salts[0], salts[1]) {
		t.Fatalf("key source called %d times; salts equal: %v", calls, bytes.Equal(salts[0], salts[1]))
	}
}

func TestLimits(t *testing.T) {
	var shared int64
	opts := Options{Dir: t.TempDir(), Limit: int64(HeaderSize(0)) + 2*(100+Overhead)}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := s.Seal(nil, make([]byte, 100), 0)
	for i := range 2 {
		if err := s.Append(rec); err != nil {
			t.Fatalf("record %d within the cap: %v", i, err)
		}
	}
	var se *Error
	if err := s.Append(rec); !errors.As(err, &se) || se.Op != "limit" || se.Scope != "file" || !errors.Is(err, ErrLimit) {
		t.Fatalf("past the cap: %v", err)
	}
	s.Close()

	opts = Options{Dir: t.TempDir(),
		Reserve: func(n int64) (int64, bool) {
			if shared+n > 500 {
				return 500, false
			}
			shared += n
			return 500, true
		},
		Release: func(n int64) { shared -= n }}
	s, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		err = s.Append(rec)
	}
	if !errors.As(err, &se) || se.Scope != "shared" || se.Limit != 500 {
		t.Fatalf("past the shared cap: %v", err)
	}
	if shared == 0 || shared > 500 {
		t.Fatalf("reserved %d", shared)
	}
	s.Close()
	if shared != 0 {
		t.Fatalf("%d bytes still reserved after Close", shared)
	}
}

// onDisk returns the spool's file (through the page cache) once every byte
// appended is on it: with direct I/O, the block being filled is written
// when the spool is read back, and a test that edits or reads the file
// before that writes it first.
func onDisk(t *testing.T, s *Spool) *os.File {
	t.Helper()
	if s.d != nil {
		if err := s.d.sync(); err != nil {
			t.Fatal(err)
		}
	}
	return s.f
}

// TestDirectBlocks spools records across several direct blocks, reads them
// back, appends more (the partial block written for the first read back is
// written again, whole) and reads everything back again. On Linux with a
// TempDir that takes O_DIRECT the spool bypasses the page cache; elsewhere
// the same holds through it.
func TestDirectBlocks(t *testing.T) { bothWays(t, testBlocks) }

// bothWays runs test three ways: with direct I/O (where the system has it)
// from the first aligned offset past the header, with direct I/O from the
// default offset (tests' spools stay below it: all through the page cache
// but with a direct side open), and with no direct I/O.
func bothWays(t *testing.T, test func(t *testing.T)) {
	for _, c := range []struct {
		name   string
		direct bool
		from   int64
	}{{"direct", true, 0}, {"direct-default", true, directFrom}, {"page-cache", false, directFrom}} {
		t.Run(c.name, func(t *testing.T) {
			defer func(v bool, f int64) { directIO, directFrom = v, f }(directIO, directFrom)
			directIO, directFrom = c.direct, c.from
			test(t)
		})
	}
}

func testBlocks(t *testing.T) {
	s, err := New(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var records [][]byte
	var sizes []int
	add := func(n int) {
		for range n {
			r := bytes.Repeat([]byte{byte(len(records))}, 100_000+len(records)*977)
			records = append(records, r)
			sizes = append(sizes, len(r))
			if err := s.Append(s.Seal(nil, r, uint64(len(records)-1))); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func() {
		t.Helper()
		got, err := readBack(s, sizes)
		if err != nil {
			t.Fatal(err)
		}
		for i := range records {
			if !bytes.Equal(got[i], records[i]) {
				t.Fatalf("record %d differs", i)
			}
		}
	}
	add(15) // ~1.6 MiB: one whole block and a partial one
	t.Logf("direct I/O: %v, from %d", s.d != nil, s.directFrom)
	check()
	add(25) // past the partial block, into a third and fourth
	check()
}

// TestDirectWriteFails: a direct write that fails in the background (here
// its descriptor is closed under it) fails a later Append or the read back
// as a write *Error, never a read of what was not written.
func TestDirectWriteFails(t *testing.T) {
	defer func(v bool, f int64) { directIO, directFrom = v, f }(directIO, directFrom)
	directIO, directFrom = true, 0
	s, err := New(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := make([]byte, 100_000)
	if err := s.Append(s.Seal(nil, rec, 0)); err != nil {
		t.Fatal(err)
	}
	if s.d == nil {
		t.Skip("the file system of TempDir refuses O_DIRECT")
	}
	s.d.f.Close()
	i := uint64(1)
	for ; i < 40 && err == nil; i++ { // 4 MB: past several blocks
		err = s.Append(s.Seal(nil, rec, i))
	}
	if err == nil {
		_, err = io.ReadAll(s.Reader())
	}
	var se *Error
	if !errors.As(err, &se) || se.Op != "write" {
		t.Fatalf("after %d records: %v, want a write *Error", i, err)
	}
}
