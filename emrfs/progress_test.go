package emrfs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// ackCounter counts the bytes S3 has acknowledged (writes, copies) or
// may deliver (reads). For a write the hook runs once a request has been
// carried out and before its response leaves, so the client can never
// have heard of more. For a GET it counts, as the request arrives and
// before any of its body is sent, the bytes the request asks for (its
// Range, clamped to the stored size getSize): S3 cannot deliver more.
// GETs count only while getSize is set (a copy's GETs are not
// acknowledged writes).
type ackCounter struct {
	bytes   atomic.Int64
	getSize atomic.Int64 // stored size of the object GETs read; 0: GETs do not count
}

// rangeLen returns the number of bytes a GET with Range header rng serves
// from an object of size bytes.
func rangeLen(rng string, size int64) int64 {
	var first, last int64
	switch {
	case rng == "":
		return size
	case strings.HasPrefix(rng, "bytes=-"):
		n, _ := strconv.ParseInt(strings.TrimPrefix(rng, "bytes=-"), 10, 64)
		return min(n, size)
	case strings.HasSuffix(rng, "-"):
		fmt.Sscanf(rng, "bytes=%d-", &first)
		last = size - 1
	default:
		fmt.Sscanf(rng, "bytes=%d-%d", &first, &last)
	}
	return max(0, min(last, size-1)-first+1)
}

func (a *ackCounter) hook(r emrfstest.S3Request, handled bool) {
	if size := a.getSize.Load(); !handled && r.Op() == "GetObject" && size > 0 {
		a.bytes.Add(rangeLen(r.Header.Get("Range"), size))
		return
	}
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
// io.Copy, CSE and not), of Open (the same objects read back) and of Copy
// (server-side, UploadPartCopy and re-encrypting) never exceeds what S3
// has acknowledged or may have delivered by the stack's request log, and
// ends at the size.
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
	// Reads: progress counts plaintext bytes released, never more than
	// the (ciphertext) bytes the GETs so far asked S3 for. The CSE object
	// is read with the default (authenticated) policy, through a spool.
	for _, bucket := range []string{testBucket, cseMetaBucket} {
		t.Run("open/"+bucket, func(t *testing.T) {
			head, err := e.api.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("progress")})
			if err != nil {
				t.Fatal(err)
			}
			ack.getSize.Store(aws.ToInt64(head.ContentLength))
			defer ack.getSize.Store(0)
			ack.bytes.Store(0)
			p := &progressCheck{t: t, ack: &ack, total: -2}
			f, err := e.c.Open(context.Background(), "s3://"+bucket+"/progress", func(o *OpenOptions) { o.Progress = p.fn })
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(f)
			f.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes, %v", len(got), err)
			}
			if p.done != int64(len(data)) || p.total != int64(len(data)) || p.calls < 2 {
				t.Errorf("last progress (%d, %d) after %d calls, want (%d, %d) after several", p.done, p.total, p.calls, len(data), len(data))
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
