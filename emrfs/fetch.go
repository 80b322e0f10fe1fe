package emrfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// This file is the one place where reads of stored bytes are retried. The
// rule: only a network fault of the S3 call or of its body is retried — a
// body that breaks or ends early is resumed from the offset reached with a
// ranged GET pinned to the object's ETag (and version id). The GET itself
// (5xx, throttling, a refused connection) is retried by the SDK's retryer,
// not here. Nothing that happens after the bytes have left S3 — decryption,
// authentication, the decryption spool, the local disk — is ever retried:
// such errors reach the caller once.

// objectPin names the one version of an object a File reads: every GET
// carries If-Match on the ETag (and the version id, when one is pinned), so
// bytes of two versions are never mixed.
type objectPin struct {
	c         *Client
	loc       Location
	b         *Bucket
	etag      string
	versionID string
	size      int64 // stored size
}

// getRange GETs the stored bytes [off, end) (off == 0 && end == size: the
// whole object, without a Range header).
func (p *objectPin) getRange(ctx context.Context, off, end int64) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{}
	if off != 0 || end != p.size {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", off, end-1))
	}
	if p.etag != "" {
		in.IfMatch = aws.String(p.etag)
	}
	if p.versionID != "" {
		in.VersionId = aws.String(p.versionID)
	}
	out, err := send(ctx, p.c.req(p.loc, p.b.SSE), in, p.c.s3.GetObject)
	if err != nil {
		return nil, err
	}
	return out.Body, nil
}

// errShortBody reports a GET body that ended before the requested range.
var errShortBody = errors.New("emrfs: object body ended early (the connection was cut or the object is shorter than S3 reported)")

// resumeBody reads the stored bytes [off, end) of the object and resumes a
// body that breaks mid-stream with a ranged GET, pinned to the ETag, from
// the offset reached — so a decrypter reading it sees every byte once, in
// order, and never the break. Each GET that delivers bytes resets the count
// of failures; ReadRetries consecutive GETs that deliver nothing end the
// read with the last error.
//
// Close may run while another goroutine is in Read (a decrypter's producer
// goroutine can still be reading when the decrypter is closed): it closes
// the current GET body, which ends that Read with an error.
type resumeBody struct {
	p        *objectPin
	ctx      context.Context
	off, end int64
	failures int // consecutive failed GETs without progress
	onRead   func(n int)

	mu     sync.Mutex // guards body and closed
	body   io.ReadCloser
	closed bool
}

var errBodyClosed = errors.New("emrfs: read after close")

// newResumeBody returns a resumeBody of the stored bytes [off, end). When
// first is not nil it is the body of a GET of [off, ...) already sent;
// otherwise the first GET is sent now, so that its error (not found, a
// changed ETag) is returned here.
func newResumeBody(ctx context.Context, p *objectPin, off, end int64, first io.ReadCloser) (*resumeBody, error) {
	r := &resumeBody{p: p, ctx: ctx, off: off, end: end, body: first}
	if r.body == nil && off < end {
		b, err := p.getRange(ctx, off, end)
		if err != nil {
			return nil, err
		}
		r.body = b
	}
	return r, nil
}

func (r *resumeBody) Read(p []byte) (int, error) {
	if r.off >= r.end {
		return 0, io.EOF
	}
	if int64(len(p)) > r.end-r.off {
		p = p[:r.end-r.off]
	}
	for {
		r.mu.Lock()
		b, closed := r.body, r.closed
		r.mu.Unlock()
		if closed {
			return 0, errBodyClosed
		}
		if b == nil {
			nb, err := r.p.getRange(r.ctx, r.off, r.end)
			if err != nil {
				return 0, err
			}
			r.mu.Lock()
			if r.closed {
				r.mu.Unlock()
				_ = nb.Close()
				return 0, errBodyClosed
			}
			r.body, b = nb, nb
			r.mu.Unlock()
		}
		n, err := b.Read(p)
		r.off += int64(n)
		if n > 0 {
			r.failures = 0
			if r.onRead != nil {
				r.onRead(n)
			}
		}
		if err == nil || (err == io.EOF && r.off >= r.end) {
			if r.off >= r.end {
				err = io.EOF
			}
			return n, err
		}
		// Broken (or short) body: resume from r.off on the next call.
		r.mu.Lock()
		mine := r.body == b
		if mine {
			r.body = nil
		}
		closed = r.closed
		r.mu.Unlock()
		if mine {
			_ = b.Close()
		}
		if closed {
			return n, errBodyClosed
		}
		if err == io.EOF {
			err = errShortBody
		}
		if r.ctx.Err() != nil {
			return n, r.ctx.Err()
		}
		r.p.c.log().Debug("emrfs: resuming a broken GET", "uri", r.p.loc.String(), "offset", r.off, "end", r.end, "error", err)
		if n > 0 {
			return n, nil
		}
		if r.failures++; r.failures > r.p.c.opts.ReadRetries {
			return 0, err
		}
	}
}

// Close closes the current GET body; later Reads fail.
func (r *resumeBody) Close() error {
	r.mu.Lock()
	b := r.body
	r.body, r.closed = nil, true
	r.mu.Unlock()
	if b == nil {
		return nil
	}
	return b.Close()
}

// readFullAt reads the stored bytes [off, off+len(p)) into p, resuming
// broken bodies.
func (p *objectPin) readFullAt(ctx context.Context, buf []byte, off int64) error {
	r, err := newResumeBody(ctx, p, off, off+int64(len(buf)), nil)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.ReadFull(r, buf)
	return err
}
