// Command copyfile copies a local file into S3 with client-side encryption
// (CSE-KMS, or SSE-KMS with -sse), streaming it through an encrypting
// multipart upload in bounded memory while it reports the bytes S3 has
// acknowledged (emrfs.CreateOptions.Progress), and with
// -verify reads the object back and compares it with the file. If the copy
// fails or is interrupted (Ctrl-C), the upload is aborted and no object
// appears.
//
//	go run ./examples/copyfile -embedded -verify big.parquet                  # embedded local S3 + KMS
//	go run ./examples/copyfile -bucket b -kms-key alias/k big.parquet s3://b/data/big.parquet
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/examples/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	demo.Exit("copyfile", run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("copyfile", flag.ContinueOnError)
	var f demo.Flags
	f.Register(fs)
	verify := fs.Bool("verify", false, "read the object back and compare it with the file")
	every := fs.Duration("progress", 500*time.Millisecond, "progress report interval")
	demo.SetUsage(fs, "[flags] FILE [s3://bucket/key]", `
Copies FILE into S3 with client-side encryption (CSE-KMS; SSE-KMS with -sse)
in a streaming multipart upload, reporting the bytes S3 has acknowledged.
A failed or interrupted (Ctrl-C) copy is aborted: no object appears.
Without a destination it writes s3://BUCKET/<base name of FILE>.`,
		"go run ./examples/copyfile -embedded -verify big.parquet      # embedded S3 + KMS, no AWS account",
		"go run ./examples/copyfile -bucket b -kms-key alias/k big.parquet s3://b/data/big.parquet")
	if err := demo.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return errors.New("usage: copyfile [flags] FILE [s3://bucket/key]")
	}
	src := fs.Arg(0)
	file, err := os.Open(src)
	if err != nil {
		return err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return err
	}
	env, err := demo.Connect(ctx, f)
	if err != nil {
		return err
	}
	defer env.Close()
	dst := "s3://" + env.Bucket + "/" + filepath.Base(src)
	if fs.NArg() == 2 {
		dst = fs.Arg(1)
	}

	start := time.Now()
	pr := &progress{}
	done, stopped := make(chan struct{}), make(chan struct{})
	stopProgress := func() {
		close(done)
		<-stopped
	}
	go func() {
		defer close(stopped)
		t := time.NewTicker(*every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				pr.report(stderr, st.Size(), start)
			}
		}
	}()
	// Progress counts what S3 has acknowledged (parts, or the single PUT),
	// not what was read from the file: io.Copy runs ahead of the upload by
	// up to PartSize×(Concurrency+1) bytes.
	w, err := env.Client.Create(ctx, dst, func(o *emrfs.CreateOptions) {
		o.Progress = func(done, _ int64) { pr.n.Store(done) }
	})
	if err != nil {
		stopProgress()
		return err
	}
	_, err = io.Copy(w, file)
	if err != nil {
		w.Abort()
	} else {
		err = w.Close()
	}
	stopProgress()
	if err != nil {
		return fmt.Errorf("copy aborted, nothing written to %s: %w", dst, err)
	}
	pr.n.Store(st.Size()) // Close returned nil: the whole object is in S3
	pr.report(stderr, st.Size(), start)
	fmt.Fprintf(stdout, "copied %s (%d bytes) to %s in %s\n", src, st.Size(), dst, time.Since(start).Round(time.Millisecond))

	if *verify {
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return err
		}
		want := sha256.New()
		if _, err := io.Copy(want, file); err != nil {
			return err
		}
		obj, err := env.Client.Open(ctx, dst)
		if err != nil {
			return err
		}
		defer obj.Close()
		got := sha256.New()
		n, err := io.Copy(got, obj)
		if err != nil {
			return err
		}
		if n != st.Size() || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
			return fmt.Errorf("verify: %s differs from %s", dst, src)
		}
		fmt.Fprintf(stdout, "verified: %d bytes, sha256 %x\n", n, got.Sum(nil))
	}
	return nil
}

// progress holds the bytes S3 has acknowledged.
type progress struct {
	n atomic.Int64
}

func (p *progress) report(w io.Writer, total int64, start time.Time) {
	n := p.n.Load()
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(n) / float64(total)
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(w, "%12d / %d bytes  %5.1f%%  %6.1f MB/s\n", n, total, pct, float64(n)/secs/1e6)
}
