package emrfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestFileReadAtSeek(t *testing.T) {
	api := newTestS3(t)
	c := newTestClient(t, api)
	data := randomBytes(200_000, 11)
	uri := "s3://" + testBucket + "/read/seek"
	writeObject(t, c, uri, data)
	f, err := c.Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Size() != int64(len(data)) {
		t.Fatalf("Size = %d", f.Size())
	}

	tests := []struct {
		off, n  int64
		wantN   int
		wantEOF bool
	}{
		{0, 10, 10, false},
		{12345, 4096, 4096, false},
		{int64(len(data)) - 5, 10, 5, true},
		{int64(len(data)), 1, 0, true},
		{int64(len(data)) - 1, 1, 1, false},
	}
	var wg sync.WaitGroup
	for _, tc := range tests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := make([]byte, tc.n)
			n, err := f.ReadAt(p, tc.off)
			if n != tc.wantN || (err == io.EOF) != tc.wantEOF || (err != nil && err != io.EOF) {
				t.Errorf("ReadAt(%d, %d) = %d, %v", tc.n, tc.off, n, err)
				return
			}
			if !bytes.Equal(p[:n], data[tc.off:tc.off+int64(n)]) {
				t.Errorf("ReadAt(%d, %d) bytes differ", tc.n, tc.off)
			}
		}()
	}
	wg.Wait()

	seeks := []struct {
		off    int64
		whence int
		want   int64
	}{
		{100, io.SeekStart, 100},
		{50, io.SeekCurrent, 150},
		{-1000, io.SeekEnd, int64(len(data)) - 1000},
	}
	for _, s := range seeks {
		pos, err := f.Seek(s.off, s.whence)
		if err != nil || pos != s.want {
			t.Fatalf("Seek(%d, %d) = %d, %v", s.off, s.whence, pos, err)
		}
		p := make([]byte, 10)
		if _, err := io.ReadFull(f, p); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p, data[pos:pos+10]) {
			t.Errorf("read after Seek(%d,%d) differs", s.off, s.whence)
		}
		if _, err := f.Seek(-10, io.SeekCurrent); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Seek(-1, io.SeekStart); err == nil {
		t.Error("negative Seek succeeded")
	}
	if _, err := f.Seek(int64(len(data))+10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Read(make([]byte, 4)); n != 0 || err != io.EOF {
		t.Errorf("Read past end = %d, %v", n, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Read(make([]byte, 1)); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
}

func TestFileResumesBrokenGet(t *testing.T) {
	api := newTestS3(t)
	c0 := newTestClient(t, api)
	data := randomBytes(300_000, 13)
	uri := "s3://" + testBucket + "/read/resume"
	writeObject(t, c0, uri, data)

	fault := &faultS3{S3API: api, cutAfter: 40_000}
	fault.cuts.Store(5)
	c := newTestClient(t, fault)
	if got := readObject(t, c, uri); !bytes.Equal(got, data) {
		t.Fatalf("resumed read: %d bytes, differ from %d", len(got), len(data))
	}
	if n := fault.count("GetObject"); n < 6 {
		t.Errorf("GetObject calls = %d, want >= 6 (5 broken + resume)", n)
	}

	fault.cuts.Store(3)
	f, err := c.Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := make([]byte, 200_000)
	if n, err := f.ReadAt(p, 50_000); err != nil || n != len(p) {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	if !bytes.Equal(p, data[50_000:250_000]) {
		t.Error("resumed ReadAt differs")
	}
}

func TestFileGivesUpOnPersistentFailure(t *testing.T) {
	api := newTestS3(t)
	c0 := newTestClient(t, api)
	uri := "s3://" + testBucket + "/read/dead"
	writeObject(t, c0, uri, randomBytes(1000, 1))
	c := newTestClient(t, &zeroBodyS3{api})
	f, err := c.Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.ReadAll(f); err == nil {
		t.Error("ReadAll succeeded with a body that always breaks")
	}
	if _, err := f.ReadAt(make([]byte, 10), 0); err == nil {
		t.Error("ReadAt succeeded with a body that always breaks")
	}
}

// zeroBodyS3 returns GET bodies that fail before the first byte.
type zeroBodyS3 struct{ S3API }

func (z *zeroBodyS3) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	out, err := z.S3API.GetObject(ctx, in, o...)
	if err != nil {
		return nil, err
	}
	out.Body = &brokenBody{rc: out.Body}
	return out, nil
}

func TestOpenErrors(t *testing.T) {
	api := newTestS3(t)
	c := newTestClient(t, api)
	tests := []struct {
		uri  string
		want error
	}{
		{"s3://" + testBucket + "/missing", fs.ErrNotExist},
		{"s3://no-such-bucket/x", fs.ErrNotExist},
		{"http://" + testBucket + "/x", ErrInvalidURI},
		{"s3://" + testBucket + "/dir/", errIsDir},
	}
	for _, tc := range tests {
		_, err := c.Open(context.Background(), tc.uri)
		if !errors.Is(err, tc.want) {
			t.Errorf("Open(%q) = %v, want %v", tc.uri, err, tc.want)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Path != tc.uri {
			t.Errorf("Open(%q) error %v is not a *fs.PathError naming the URI", tc.uri, err)
		}
	}
}

func TestOpenContextCancelled(t *testing.T) {
	api := newTestS3(t)
	c := newTestClient(t, api)
	uri := "s3://" + testBucket + "/read/ctx"
	writeObject(t, c, uri, []byte("0123456789"))
	ctx, cancel := context.WithCancel(context.Background())
	f, err := c.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cancel()
	if _, err := f.Read(make([]byte, 4)); !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel = %v", err)
	}
}

// TestFileResumesServerCut has the server itself cut the connection of a
// GET mid-body (emrfstest S3.BreakNextGet).
func TestFileResumesServerCut(t *testing.T) {
	api, st := newTestStack(t)
	c := newTestClient(t, api)
	data := randomBytes(500_000, 17)
	uri := "s3://" + testBucket + "/read/cut"
	writeObject(t, c, uri, data)
	// Open's GET (of the first part, here the whole object) is the one
	// cut: its body is what the first Read reads.
	st.S3.ResetRequests()
	st.S3.BreakNextGet(123_457)
	f, err := c.Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes after a cut, differ from %d", len(got), len(data))
	}
	var ranges []string
	for _, r := range st.S3.Requests() {
		if r.Method == "GET" && r.Key == "read/cut" {
			ranges = append(ranges, r.Header.Get("Range")+" if-match="+r.Header.Get("If-Match"))
		}
	}
	if len(ranges) != 2 || !strings.HasPrefix(ranges[1], "bytes=123457-") || strings.HasSuffix(ranges[1], "if-match=") {
		t.Errorf("GETs = %q, want the second from byte 123457 with If-Match", ranges)
	}
}
