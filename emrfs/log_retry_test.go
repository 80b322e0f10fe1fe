package emrfs_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"regexp"
	"testing"

	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// TestDebugTellsRetry: the SDK's retries of a GET that failed with HTTP
// 500 and of a throttled KMS call are told at Debug, naming the request,
// the attempt and the error before it; at Info the same read and write,
// which succeed, log nothing.
func TestDebugTellsRetry(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		t.Run(level.String(), func(t *testing.T) {
			st := emrfstest.Start(t)
			var buf bytes.Buffer // written under the handler's lock; read once the operations are done
			h := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}})
			c := tracedCSEClient(t, st, &recorder{}, func(o *emrfs.Options) {
				o.Logger = slog.New(h)
				o.DataKeyCacheTTL = -1 // every Open asks KMS
			})
			ctx := context.Background()
			const uri = "s3://traced/retried.txt"
			st.KMS.ThrottleNext(1) // the first KMS call of the write
			w, err := c.Create(ctx, uri)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, "written and read after a retry\n")
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			st.S3.FailNextGets(1) // the first GET of the read
			f, err := c.Open(ctx, uri)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(f)
			f.Close()
			if err != nil || string(got) != "written and read after a retry\n" {
				t.Fatalf("read %q, %v", got, err)
			}
			out := buf.String()
			if level == slog.LevelInfo {
				if out != "" {
					t.Errorf("a read and a write that succeeded after retries logged at Info:\n%s", out)
				}
				return
			}
			for _, want := range []string{
				`level=DEBUG msg="emrfs: retrying a request" service=S3 op=GetObject bucket=traced key=retried.txt attempt=2 error=".*InternalError`,
				`level=DEBUG msg="emrfs: retrying a request" service=KMS op=\w+ bucket=traced key=retried.txt attempt=2 error=".*ThrottlingException`,
			} {
				if !regexp.MustCompile(want).MatchString(out) {
					t.Errorf("no record %s in\n%s", want, out)
				}
			}
		})
	}
}

// TestDebugTellsCacheHit: a second read of a CSE object within the data
// key cache's TTL unwraps its key from the cache, told at Debug, with no
// second KMS Decrypt.
func TestDebugTellsCacheHit(t *testing.T) {
	st := emrfstest.Start(t)
	h := &countingHandler{level: slog.LevelDebug}
	c := tracedCSEClient(t, st, &recorder{}, func(o *emrfs.Options) { o.Logger = slog.New(h) })
	ctx := context.Background()
	const uri = "s3://traced/cached.txt"
	w, err := c.Create(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "read twice\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	decrypts := func() (n int) {
		for _, call := range st.KMS.Audit() {
			if call.Operation == "Decrypt" {
				n++
			}
		}
		return n
	}
	before := decrypts()
	for range 2 {
		f, err := c.Open(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if n := decrypts() - before; n != 1 {
		t.Errorf("%d KMS Decrypt calls for two reads, want 1", n)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	hits := 0
	for _, r := range h.recs {
		if r == "DEBUG emrfs: data key cache hit" {
			hits++
		}
	}
	if hits != 1 {
		t.Errorf("%d Debug records of a cache hit, want 1:\n%q", hits, h.recs)
	}
}
