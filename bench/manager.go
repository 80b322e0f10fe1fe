//lint:file-ignore SA1019 the baseline is feature/s3/manager, which the issue names (deprecated in favour of the v0 transfermanager)

package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs"
)

// transferShape is the part size and the number of parts in flight of a
// run: the emrs3 Writer's defaults, or EMRS3_BENCH_PART_SIZE and
// EMRS3_BENCH_CONCURRENCY. emrs3 and the manager baselines use the same.
func transferShape() (partSize int64, concurrency int) {
	partSize, concurrency = emrfs.DefaultPartSize, emrfs.DefaultConcurrency
	if v, err := strconv.ParseInt(os.Getenv("EMRS3_BENCH_PART_SIZE"), 10, 64); err == nil {
		partSize = v
	}
	if v, err := strconv.Atoi(os.Getenv("EMRS3_BENCH_CONCURRENCY")); err == nil {
		concurrency = v
	}
	return partSize, concurrency
}

// managerImpl is unencrypted feature/s3/manager at emrs3's part size and
// concurrency: Uploader for PUT (concurrent multipart upload from an
// io.Reader), Downloader for GET (concurrent ranged GETs into an
// io.WriterAt, here one that discards).
type managerImpl struct {
	client   *s3.Client
	bucket   string
	partSize int64
	conc     int
}

// managerShape is the manager baselines' part size and concurrency:
// transferShape, unless EMRS3_BENCH_MANAGER_PART_SIZE or
// EMRS3_BENCH_MANAGER_CONCURRENCY say otherwise (to compare emrs3's defaults
// with the SDK tools at another setting in one run).
func managerShape() (partSize int64, concurrency int) {
	partSize, concurrency = transferShape()
	if v, err := strconv.ParseInt(os.Getenv("EMRS3_BENCH_MANAGER_PART_SIZE"), 10, 64); err == nil {
		partSize = v
	}
	if v, err := strconv.Atoi(os.Getenv("EMRS3_BENCH_MANAGER_CONCURRENCY")); err == nil {
		concurrency = v
	}
	return partSize, concurrency
}

func newManager(e env, hc *http.Client) (impl, error) {
	ps, c := managerShape()
	return &managerImpl{client: s3Client(e, hc), bucket: e.Bucket, partSize: ps, conc: c}, nil
}

func (m *managerImpl) put(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	_, err := manager.NewUploader(m.client, func(u *manager.Uploader) {
		u.PartSize, u.Concurrency = m.partSize, m.conc
	}).Upload(ctx, &s3.PutObjectInput{Bucket: &m.bucket, Key: &key, Body: struct{ io.Reader }{body}})
	return err
}

func (m *managerImpl) get(ctx context.Context, key string, w io.Writer) (int64, error) {
	d := manager.NewDownloader(m.client, func(d *manager.Downloader) {
		d.PartSize, d.Concurrency = m.partSize, m.conc
	})
	in := &s3.GetObjectInput{Bucket: &m.bucket, Key: &key}
	if w == io.Discard {
		// What the benchmark measures: nothing is held.
		return d.Download(ctx, discardAt{}, in)
	}
	// Tests check the bytes: hold them, then pass them on.
	buf := manager.NewWriteAtBuffer(nil)
	n, err := d.Download(ctx, buf, in)
	if err != nil {
		return n, err
	}
	_, err = w.Write(buf.Bytes())
	return n, err
}

func (m *managerImpl) rangeTail(context.Context, string, int64, int64, io.Writer) (int64, error) {
	return 0, errUnsupported
}

// discardAt is an io.WriterAt that drops what it is given.
type discardAt struct{}

func (discardAt) WriteAt(p []byte, off int64) (int, error) { return len(p), nil }
