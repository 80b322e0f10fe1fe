package emrfs

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// WriteTokenKey is the user-metadata key (stored as the
// x-amz-meta-emrfs-write-token header) of the write token: 16 random
// characters that Create and Copy put on every object they write, unless
// the object carries a client-side-encryption envelope in its metadata
// (whose wrapped key and IV are unique already). When the response to the
// request that makes an object visible is lost, or the request fails in a
// way that leaves doubt, the token (or envelope) tells whether the object
// at the key is the one this write made. A streamed copy does not carry the
// source's token over.
const WriteTokenKey = "emrfs-write-token"

const (
	// commitTimeout bounds a request that makes an object visible
	// (PutObject, CompleteMultipartUpload, CopyObject and the instruction
	// file's and the unencrypted length's follow-ups). Once sent, such a
	// request is waited for even if the caller's context is cancelled, so
	// that its outcome is known.
	commitTimeout = 10 * time.Minute
	// verifyTimeout bounds the HEAD (and the fencing abort) that find out
	// whether a write whose outcome is in doubt took effect.
	verifyTimeout = time.Minute
)

// ErrCommitUnknown is matched (errors.Is) by a *CommitError whose outcome
// could not be found out: the object may or may not have been written.
var ErrCommitUnknown = errors.New("emrfs: it is unknown whether the write took effect")

// ErrPreconditionFailed is matched (errors.Is) when a write with
// CreateOptions.IfMatch failed because the object at the key is no longer
// the one with that ETag (or there is none).
var ErrPreconditionFailed = errors.New("emrfs: the object is not the one the write was conditioned on (If-Match failed)")

// CommitError is the error of a Writer's Close or of Copy when the request
// that was to make the object visible (PutObject, CompleteMultipartUpload,
// CopyObject) or a step right after it failed. Before returning it, Close
// or Copy found out — from the object's write token or envelope, with a
// HEAD sent even if the caller's context is cancelled — what the bucket
// holds; a write found in place is a success, not a CommitError.
type CommitError struct {
	// Op is the S3 operation that failed ("PutObject",
	// "CompleteMultipartUpload", "CopyObject", ...).
	Op string
	// URI is the object's URI.
	URI string
	// Committed reports that an object of this write is visible at URI
	// although the write failed (a later step failed and the object could
	// not be deleted again): it may be incomplete or unreadable.
	Committed bool
	// Unknown reports that it could not be found out whether the write
	// took effect; Committed is then false. It matches ErrCommitUnknown.
	Unknown bool
	// Err is the failure.
	Err error

	kind error // fs.ErrExist, ErrPreconditionFailed or nil
}

// Error says what failed and what the bucket holds.
func (e *CommitError) Error() string {
	switch {
	case e.Unknown:
		return fmt.Sprintf("emrfs: %s of %s failed, and it is unknown whether the object was written (it was not found, but the request may still take effect); check %s before relying on it: %v", e.Op, e.URI, e.URI, e.Err)
	case e.Committed:
		return fmt.Sprintf("emrfs: %s of %s: the object is visible although the write failed: %v", e.Op, e.URI, e.Err)
	}
	return fmt.Sprintf("emrfs: %s of %s failed; no object of this write is visible: %v", e.Op, e.URI, e.Err)
}

// Unwrap returns the failure (and fs.ErrExist or ErrPreconditionFailed
// when a conditional write found another object).
func (e *CommitError) Unwrap() []error {
	if e.kind != nil {
		return []error{e.Err, e.kind}
	}
	return []error{e.Err}
}

// Is reports whether target is ErrCommitUnknown and the outcome is unknown.
func (e *CommitError) Is(target error) bool { return target == ErrCommitUnknown && e.Unknown }

// newWriteToken returns a fresh write token.
func newWriteToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// envelopeMarkKeys are the envelope metadata keys whose values are unique
// to one write: wrapped keys, IVs, message ids, commitments.
var envelopeMarkKeys = []string{"x-amz-key", "x-amz-key-v2", "x-amz-iv", "x-amz-3", "x-amz-i", "x-amz-d"}

// envelopeMark returns the pairs of meta unique to one write, or nil.
func envelopeMark(meta map[string]string) map[string]string {
	var m map[string]string
	for _, k := range envelopeMarkKeys {
		if v, ok := meta[k]; ok && v != "" {
			if m == nil {
				m = map[string]string{}
			}
			m[k] = v
		}
	}
	return m
}

// withToken returns meta with a fresh write token, and the mark (the pairs
// to look for) that identifies the write.
func withToken(meta map[string]string) (map[string]string, map[string]string) {
	tok := newWriteToken()
	out := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		if !strings.EqualFold(k, WriteTokenKey) {
			out[k] = v
		}
	}
	out[WriteTokenKey] = tok
	return out, map[string]string{WriteTokenKey: tok}
}

// maxMetadataSize is S3's limit on the user metadata of an object (keys
// and values, UTF-8 bytes).
const maxMetadataSize = 2 << 10

func metadataSize(meta map[string]string) int {
	n := 0
	for k, v := range meta {
		n += len(k) + len(v)
	}
	return n
}

// commitReq describes a request that makes an object visible.
type commitReq struct {
	op   string
	loc  Location
	b    *Bucket
	mark map[string]string // metadata pairs unique to this write; nil: cannot tell
	// uploadID is the multipart upload a CompleteMultipartUpload
	// completes: when in doubt it is aborted, which settles the outcome.
	uploadID string
	// cond is what a 412 means: fs.ErrExist (If-None-Match: *) or
	// ErrPreconditionFailed (If-Match); nil for an unconditional write.
	cond error
}

// commitContext returns the context of a request that makes an object
// visible: ctx's values without its cancellation, bounded by
// commitTimeout.
func commitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
}

// settle finds out the outcome of r after its request failed with err. It
// returns nil when this write's object is in place, and a *CommitError
// otherwise (err itself when the request was never sent). It runs even
// when ctx is cancelled.
func (c *Client) settle(ctx context.Context, r commitReq, err error) error {
	var unsent *unsentError
	if errors.As(err, &unsent) {
		return err // never sent: nothing to find out
	}
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), verifyTimeout)
	defer cancel()
	uri := r.loc.String()
	ours, herr := c.isOurs(vctx, r)
	if ours {
		c.log().Warn("emrfs: the response to a write was lost or failed, but the object is this write's: the write succeeded",
			"op", r.op, "uri", uri, "error", err)
		return nil
	}
	ce := &CommitError{Op: r.op, URI: uri, Err: err}
	if r.cond != nil && statusOf(err) == 412 {
		ce.kind = r.cond
	}
	if answeredNo(err) {
		// S3 refused the request: it did not take effect.
		return ce
	}
	if r.uploadID != "" {
		// Abort the upload: once aborted it can never complete; if it is
		// gone already, the CompleteMultipartUpload completed it.
		aerr := c.abortOnce(vctx, r.loc, r.uploadID)
		switch {
		case aerr == nil:
			c.log().Debug("emrfs: aborted the multipart upload after its CompleteMultipartUpload failed", "uri", uri, "upload", r.uploadID)
			return ce
		case isNotExist(aerr):
			ours, _ := c.isOurs(vctx, r)
			c.log().Warn("emrfs: CompleteMultipartUpload failed, but the upload had completed: the write succeeded",
				"uri", uri, "in_place", ours, "error", err)
			return nil
		}
		herr = errors.Join(herr, fmt.Errorf("aborting the upload: %w", aerr))
	}
	ce.Unknown = true
	if herr != nil {
		ce.Err = errors.Join(err, fmt.Errorf("finding out whether it was written: %w", herr))
	}
	c.log().Warn("emrfs: a write failed and it is unknown whether it took effect", "op", r.op, "uri", uri, "error", ce.Err)
	return ce
}

// errNoMark says a write carries nothing that identifies it.
var errNoMark = errors.New("emrfs: the write carries no write token (its metadata was too large), so its object cannot be recognized")

// isOurs reports whether the object at r.loc carries r.mark. A missing
// object is (false, nil).
func (c *Client) isOurs(ctx context.Context, r commitReq) (bool, error) {
	head, err := c.head(ctx, r.loc, r.b)
	if isNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if len(r.mark) == 0 {
		return false, errNoMark
	}
	return hasMark(head, r.mark), nil
}

func hasMark(head *s3.HeadObjectOutput, mark map[string]string) bool {
	for k, v := range mark {
		got, ok := head.Metadata[strings.ToLower(k)]
		if !ok {
			for hk, hv := range head.Metadata {
				if strings.EqualFold(hk, k) {
					got, ok = hv, true
				}
			}
		}
		if !ok || got != v {
			return false
		}
	}
	return true
}

// statusOf returns the HTTP status of an S3 error response, 0 if err is
// not one.
func statusOf(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// answeredNo reports whether err is S3's refusal of the request (a 4xx
// response), which means it did not take effect — except NoSuchUpload,
// which after a CompleteMultipartUpload may mean an earlier attempt
// completed the upload.
func answeredNo(err error) bool {
	st := statusOf(err)
	if st < 400 || st >= 500 {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload" {
		return false
	}
	return true
}
