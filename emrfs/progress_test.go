package emrfs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// ackCounter counts the bytes S3 has acknowledged: the hook runs once a
// request has been carried out and before its response leaves, so the
// client can never have heard of more.
type ackCounter struct {
	bytes atomic.Int64
}

func (a *ackCounter) hook(r emrfstest.S3Request, handled bool) {
	if !handled || r.Status != 0 && r.Status != 200 {
		return
	}
	switch r.Op() {
	case "PutObject", "UploadPart":
		n, _ := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
		if n == 0 {
			n, _ = strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64)
		}
		a.bytes.Add(n)
	case "UploadPartCopy":
		var first, last int64
		if _, err := fmt.Sscanf(r.Header.Get("X-Amz-Copy-Source-Range"), "bytes=%d-%d", &first, &last); err == nil {
			a.bytes.Add(last - first + 1)
		}
	case "CopyObject":
		a.bytes.Store(1 << 62) // a whole copy at once
	}
}

// progressCheck is a ProgressFunc that fails t when done runs ahead of
// the acknowledged bytes or decreases.
type progressCheck struct {
	t     *testing.T
	ack   *ackCounter
	mu    sync.Mutex
	calls int
	done  int64
	total int64
}

func (p *progressCheck) fn(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if acked := p.ack.bytes.Load(); done > acked {
		p.t.Errorf("progress %d ahead of the %d bytes S3 acknowledged", done, acked)
	}
	if done < p.done {
		p.t.Errorf("progress went back from %d to %d", p.done, done)
	}
	p.done, p.total = done, total
}

// TestProgressNeverAhead: the progress of Create (one 40 MiB Write from
// io.Copy, CSE and not) and of Copy (server-side, UploadPartCopy and
// re-encrypting) never exceeds what S3 has acknowledged, and ends at the
// size.
func TestProgressNeverAhead(t *testing.T) {
	e := newCommitEnv(t)
	var ack ackCounter
	e.st.S3.OnRequest(ack.hook)
	defer e.st.S3.OnRequest(nil)
	size := 40 << 20
	if raceEnabled {
		size = 12 << 20 // still one Write of several parts
	}
	data := randomBytes(size, 14)
	for _, bucket := range []string{testBucket, cseMetaBucket} {
		t.Run("create/"+bucket, func(t *testing.T) {
			ack.bytes.Store(0)
			p := &progressCheck{t: t, ack: &ack, total: -2}
			w, err := e.c.Create(context.Background(), "s3://"+bucket+"/progress", func(o *CreateOptions) { o.Progress = p.fn })
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(w, bytes.NewReader(data)) // one Write of 40 MiB
			if err != nil || n != int64(len(data)) {
				t.Fatalf("io.Copy = %d, %v", n, err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if p.done != int64(len(data)) || p.total != int64(len(data)) || p.calls < len(data)/MinPartSize {
				t.Errorf("last progress (%d, %d) after %d calls, want (%d, %d) after one per part", p.done, p.total, p.calls, len(data), len(data))
			}
		})
	}
	small := randomBytes(1000, 15)
	if err := create(context.Background(), e.c, "s3://"+testBucket+"/progress-small", small); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, src, dst string
		threshold      int64
		size           int64
	}{
		{"copy", testBucket + "/progress-small", testBucket + "/progress-copy", maxCopyObjectSize, 1000},
		{"upload-part-copy", testBucket + "/progress", testBucket + "/progress-mpc", MinPartSize, int64(size)},
		{"re-encrypting", testBucket + "/progress", cseMetaBucket + "/progress-cse", maxCopyObjectSize, int64(size)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.c.copyThreshold = tc.threshold
			defer func() { e.c.copyThreshold = maxCopyObjectSize }()
			ack.bytes.Store(0)
			p := &progressCheck{t: t, ack: &ack}
			if err := e.c.Copy(context.Background(), "s3://"+tc.src, "s3://"+tc.dst, func(o *CopyOptions) { o.Progress = p.fn }); err != nil {
				t.Fatal(err)
			}
			if p.done != tc.size || p.total != tc.size {
				t.Errorf("last progress (%d, %d), want (%d, %d)", p.done, p.total, tc.size, tc.size)
			}
		})
	}
}
