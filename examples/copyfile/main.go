// Command copyfile copies a local file into S3 with client-side encryption
// (CSE-KMS, or SSE-KMS with -sse), streaming it through an encrypting
// multipart upload in bounded memory while it reports progress, and with
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

	"github.com/emrs3/emrs3/examples/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "copyfile:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("copyfile", flag.ContinueOnError)
	var f demo.Flags
	f.Register(fs)
	verify := fs.Bool("verify", false, "read the object back and compare it with the file")
	every := fs.Duration("progress", 500*time.Millisecond, "progress report interval")
	if err := fs.Parse(args); err != nil {
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
	pr := &progress{r: file}
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
	w, err := env.Client.Create(ctx, dst)
	if err != nil {
		stopProgress()
		return err
	}
	_, err = io.Copy(w, pr)
	if err != nil {
		w.Abort()
	} else {
		err = w.Close()
	}
	stopProgress()
	if err != nil {
		return fmt.Errorf("copy aborted, nothing written to %s: %w", dst, err)
	}
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

// progress counts the bytes read from the file.
type progress struct {
	r io.Reader
	n atomic.Int64
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n.Add(int64(n))
	return n, err
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
