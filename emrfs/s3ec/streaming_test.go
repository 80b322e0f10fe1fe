package s3ec_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
	"github.com/emrs3/emrs3/emrfs/s3ec"
)

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// atSend records, when the PutObject request of key goes out, how much of
// the plaintext body has been read.
type atSend struct {
	base *http.Client
	key  string
	body *countingReader
	read *atomic.Int64
}

func (a atSend) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && strings.HasSuffix(req.URL.Path, "/"+a.key) {
		a.read.Store(a.body.n.Load())
	}
	return a.base.Do(req)
}

// TestStreaming: PutObject has read none of a plaintext body of known
// length when its request goes out — it encrypts as the SDK sends, never
// buffering the object — and GetObject holds at most Options.BufferSize
// bytes in memory: a larger object needs the spool directory, a smaller
// one does not.
func TestStreaming(t *testing.T) {
	e := newEnv(t, func(o *emrfstest.Options) { o.TLS = true })
	const size = 4 << 20
	pt := data(size)
	body := &countingReader{r: bytes.NewReader(pt)}
	var read atomic.Int64
	read.Store(-1)
	cfg := e.st.Config.Copy()
	cfg.HTTPClient = atSend{base: e.st.HTTPClient, key: "big", body: body, read: &read}
	c, err := s3ec.New(s3.NewFromConfig(cfg, e.st.S3Options), cse.NewKMSProvider(e.kms, e.key))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("big"), Body: body, ContentLength: aws.Int64(size)}); err != nil {
		t.Fatal(err)
	}
	if got := read.Load(); got != 0 {
		t.Errorf("PutObject had read %d plaintext bytes when its request went out, want 0", got)
	}
	if got := body.n.Load(); got != size {
		t.Errorf("PutObject read %d plaintext bytes, want %d", got, size)
	}

	missing := filepath.Join(t.TempDir(), "missing")
	small := e.client(t, func(o *s3ec.Options) {
		o.BufferSize = 64 << 10
		o.TempFolderPath = missing
	})
	if _, _, err := get(context.Background(), small, "big"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("GetObject of %d bytes with a 64 KiB buffer and no spool directory = %v, want the spool's error", size, err)
	}
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("small"), Body: bytes.NewReader(pt[:60<<10])}); err != nil {
		t.Fatal(err)
	}
	if got, _, err := get(context.Background(), small, "small"); err != nil || !bytes.Equal(got, pt[:60<<10]) {
		t.Fatalf("GetObject of 60 KiB with a 64 KiB buffer: %d bytes, %v", len(got), err)
	}
	if got, _, err := get(context.Background(), e.client(t, func(o *s3ec.Options) { o.BufferSize = 64 << 10; o.TempFolderPath = t.TempDir() }), "big"); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("GetObject of %d bytes with a 64 KiB buffer, spooled: %d bytes, %v", size, len(got), err)
	}
}
