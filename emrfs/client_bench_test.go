//lint:file-ignore SA1019 the brief asks for a comparison with manager.Uploader/Downloader, deprecated in favour of transfermanager (not a pinned module).

package emrfs

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const benchSize = 24 << 20

// BenchmarkCreate compares Create's streaming multipart upload with
// manager.Uploader on the same gofakes3 server over HTTP.
func BenchmarkCreate(b *testing.B) {
	api := newGofakes3(b)
	data := randomBytes(benchSize, 1)
	ctx := context.Background()
	b.Run("emrfs", func(b *testing.B) {
		c := newTestClient(b, api, func(o *Options) { o.Concurrency = 4 })
		b.SetBytes(benchSize)
		for b.Loop() {
			w, err := c.Create(ctx, "s3://"+testBucket+"/bench/emrfs")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("manager.Uploader", func(b *testing.B) {
		up := manager.NewUploader(api, func(u *manager.Uploader) { u.PartSize = MinPartSize; u.Concurrency = 4 })
		b.SetBytes(benchSize)
		for b.Loop() {
			_, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("bench/manager"), Body: bytes.NewReader(data)})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOpen compares a sequential Read through Open with one plain
// GetObject and with manager.Downloader (concurrent ranged GETs).
func BenchmarkOpen(b *testing.B) {
	api := newGofakes3(b)
	c := newTestClient(b, api)
	uri := "s3://" + testBucket + "/bench/read"
	writeObject(b, c, uri, randomBytes(benchSize, 2))
	ctx := context.Background()
	b.Run("emrfs.Read", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			f, err := c.Open(ctx, uri)
			if err != nil {
				b.Fatal(err)
			}
			if n, err := io.Copy(io.Discard, f); err != nil || n != benchSize {
				b.Fatal(n, err)
			}
			f.Close()
		}
	})
	b.Run("emrfs.ReadAt", func(b *testing.B) {
		b.SetBytes(benchSize)
		buf := make([]byte, benchSize)
		for b.Loop() {
			f, err := c.Open(ctx, uri)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.ReadAt(buf, 0); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("GetObject", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("bench/read")})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, out.Body); err != nil {
				b.Fatal(err)
			}
			out.Body.Close()
		}
	})
	b.Run("manager.Downloader", func(b *testing.B) {
		d := manager.NewDownloader(api, func(d *manager.Downloader) { d.PartSize = MinPartSize; d.Concurrency = 4 })
		buf := manager.NewWriteAtBuffer(make([]byte, benchSize))
		b.SetBytes(benchSize)
		for b.Loop() {
			if _, err := d.Download(ctx, buf, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("bench/read")}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCSE measures Create and Open of a CSE-KMS object (AES-GCM in
// parts, KMS emulator over HTTP) on the emrfstest stack.
func BenchmarkCSE(b *testing.B) {
	e := newCSEEnv(b)
	c := e.client(b, s3aCSE, func(o *Options) { o.Concurrency = 4 })
	data := randomBytes(benchSize, 3)
	uri := "s3://" + testBucket + "/bench/cse"
	ctx := context.Background()
	b.Run("Create", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			w, err := c.Create(ctx, uri)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Open.Read", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			f, err := c.Open(ctx, uri)
			if err != nil {
				b.Fatal(err)
			}
			if n, err := io.Copy(io.Discard, f); err != nil || n != benchSize {
				b.Fatal(n, err)
			}
			f.Close()
		}
	})
}
