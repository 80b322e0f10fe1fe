package emrfs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// rawGet returns the stored bytes and metadata of data/key.
func rawGet(t *testing.T, api *s3.Client, key string) ([]byte, map[string]string) {
	t.Helper()
	out, err := api.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, out.Metadata
}

// rawPut stores body with metadata at data/key, bypassing emrfs.
func rawPut(t *testing.T, api *s3.Client, key string, body []byte, meta map[string]string) {
	t.Helper()
	if _, err := api.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(key),
		Body: bytes.NewReader(body), Metadata: meta}); err != nil {
		t.Fatal(err)
	}
}

// readPattern reads f one way and returns how many plaintext bytes it
// released and the first error other than io.EOF.
type readPattern struct {
	name string
	run  func(f *emrfs.File, size int64) (int, error)
}

var readPatterns = []readPattern{
	{"ReadAll", func(f *emrfs.File, _ int64) (int, error) {
		b, err := io.ReadAll(f)
		return len(b), err
	}},
	{"ReadFull", func(f *emrfs.File, size int64) (int, error) {
		b := make([]byte, size+1)
		n, err := io.ReadFull(f, b)
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			err = nil
		}
		return n, err
	}},
	{"SmallReads", func(f *emrfs.File, _ int64) (int, error) {
		total := 0
		b := make([]byte, 1000)
		for {
			n, err := f.Read(b)
			total += n
			if err == io.EOF {
				return total, nil
			}
			if err != nil {
				return total, err
			}
		}
	}},
	{"ReadAtMiddle", func(f *emrfs.File, size int64) (int, error) {
		b := make([]byte, min(100, max(size/2, 1)))
		n, err := f.ReadAt(b, size/2)
		if err == io.EOF {
			err = nil
		}
		return n, err
	}},
	{"ReadAtAll", func(f *emrfs.File, size int64) (int, error) {
		b := make([]byte, size)
		n, err := f.ReadAt(b, 0)
		if err == io.EOF {
			err = nil
		}
		return n, err
	}},
	{"SeekRead", func(f *emrfs.File, size int64) (int, error) {
		if _, err := f.Seek(size/2, io.SeekStart); err != nil {
			return 0, err
		}
		b, err := io.ReadAll(f)
		return len(b), err
	}},
}

// TestCSETamperMatrix tampers with CSE objects of 0, 1, chunk±1 bytes and
// a multipart object in every way the issue lists, and reads each through
// emrfs.Open with every read pattern: in the default mode no plaintext is
// released and every failure matches cse.ErrNotAuthentic inside an
// *fs.PathError.
func TestCSETamperMatrix(t *testing.T) {
	cs := int64(cse.DefaultChunkSize)
	st, c := cseStack(t, func(o *emrfs.Options) {
		o.PartSize = emrfs.MinPartSize
	})
	api := s3.NewFromConfig(st.Config, st.S3Options)
	ctx := context.Background()
	sizes := []int64{0, 1, cs - 1, cs, cs + 1, emrfs.MinPartSize + 17}
	for _, size := range sizes {
		data := randomData(uint64(size)+1, int(size))
		// Two objects of the same size: one is tampered with, the other
		// lends its envelope.
		for _, k := range []string{"orig", "other"} {
			if err := put(t, c, ctx, fmt.Sprintf("s3://data/%s-%d", k, size), data); err != nil {
				t.Fatal(err)
			}
		}
		origBody, origMeta := rawGet(t, api, fmt.Sprintf("orig-%d", size))
		_, otherMeta := rawGet(t, api, fmt.Sprintf("other-%d", size))
		if len(origBody) != int(size)+16 {
			t.Fatalf("stored size %d for %d plaintext bytes", len(origBody), size)
		}
		withLen := func(n int64) func([]byte, map[string]string) ([]byte, map[string]string) {
			return func(b []byte, m map[string]string) ([]byte, map[string]string) {
				m["x-amz-unencrypted-content-length"] = strconv.FormatInt(n, 10)
				return b, m
			}
		}
		tampers := map[string]func([]byte, map[string]string) ([]byte, map[string]string){
			"flipped tag": func(b []byte, m map[string]string) ([]byte, map[string]string) {
				b[len(b)-1] ^= 1
				return b, m
			},
			"appended bytes": func(b []byte, m map[string]string) ([]byte, map[string]string) {
				return append(b, make([]byte, 16)...), m
			},
			"truncated": func(b []byte, m map[string]string) ([]byte, map[string]string) { return b[:len(b)-1], m },
			"other envelope": func(b []byte, _ map[string]string) ([]byte, map[string]string) {
				return b, otherMeta
			},
			"length one more": withLen(size + 1),
		}
		if size > 0 {
			tampers["length 0"] = withLen(0)
			tampers["flipped ciphertext"] = func(b []byte, m map[string]string) ([]byte, map[string]string) {
				b[len(b)/2-8] ^= 0x80
				return b, m
			}
			tampers["length one less"] = withLen(size - 1)
		}
		multipart := size > emrfs.MinPartSize
		for name, tamper := range tampers {
			if multipart && name != "flipped tag" && name != "flipped ciphertext" && name != "length one more" {
				continue // the small sizes cover the rest; keep -race quick
			}
			key := fmt.Sprintf("bad-%d", size)
			meta := map[string]string{}
			for k, v := range origMeta {
				meta[k] = v
			}
			body, meta := tamper(bytes.Clone(origBody), meta)
			rawPut(t, api, key, body, meta)
			for _, p := range readPatterns {
				released, err := func() (int, error) {
					f, err := c.Open(ctx, "s3://data/"+key)
					if err != nil {
						return 0, err
					}
					defer f.Close()
					return p.run(f, f.Size())
				}()
				var pe *fs.PathError
				if released != 0 || !errors.Is(err, cse.ErrNotAuthentic) || !errors.As(err, &pe) {
					t.Errorf("size %d, %s, %s: released %d bytes, error %v; want 0 bytes and an *fs.PathError matching cse.ErrNotAuthentic", size, name, p.name, released, err)
				}
			}
		}
		// The untampered object reads back with every pattern.
		for _, p := range readPatterns {
			f, err := c.Open(ctx, fmt.Sprintf("s3://data/orig-%d", size))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.run(f, size); err != nil {
				t.Errorf("size %d, untampered, %s: %v", size, p.name, err)
			}
			f.Close()
		}
	}
}

// TestCSEEmptyObjectFetched proves that opening a 0-byte CSE object
// fetches it and checks its tag.
func TestCSEEmptyObjectFetched(t *testing.T) {
	st, c := cseStack(t)
	ctx := context.Background()
	if err := put(t, c, ctx, "s3://data/empty", nil); err != nil {
		t.Fatal(err)
	}
	n := len(st.S3.Requests())
	f, err := c.Open(ctx, "s3://data/empty")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if b, err := io.ReadAll(f); err != nil || len(b) != 0 {
		t.Fatalf("empty object: %q, %v", b, err)
	}
	if gets := countReqs(st.S3.Requests()[n:], "GET"); gets != 1 {
		t.Fatalf("%d GETs of the empty object, want 1", gets)
	}
}

func countReqs(reqs []emrfstest.S3Request, method string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method {
			n++
		}
	}
	return n
}

// TestCSESpoolErrorNotRetried proves that a local error (the decryption
// spool cannot be created) reaches the caller once: the object is fetched
// once and not again.
func TestCSESpoolErrorNotRetried(t *testing.T) {
	st, c := cseStack(t, func(o *emrfs.Options) {
		o.TempDir = t.TempDir() + "/missing/dir"
		o.DecryptMemoryLimit = -1
	})
	ctx := context.Background()
	data := randomData(3, 3*cse.DefaultChunkSize)
	if err := put(t, c, ctx, "s3://data/obj", data); err != nil {
		t.Fatal(err)
	}
	n := len(st.S3.Requests())
	b, err := read(c, ctx, "s3://data/obj")
	if err == nil || len(b) != 0 {
		t.Fatalf("read with an unusable spool: %d bytes, %v", len(b), err)
	}
	if gets := countReqs(st.S3.Requests()[n:], "GET"); gets != 1 {
		t.Fatalf("%d GETs after a spool error, want 1 (local errors are not retried)", gets)
	}
}
