package emrfs

import (
	"context"
	"io/fs"
	"strings"
)

// CreateOptions configure one Create call.
type CreateOptions struct {
	// ContentType is the object's Content-Type; empty leaves S3's default.
	ContentType string
	// Metadata is user metadata stored as x-amz-meta-* headers.
	Metadata map[string]string
	// Progress, when set, is told the bytes S3 has acknowledged.
	Progress ProgressFunc

	// copyFrom is the source URI when Copy re-encrypts (the materials
	// description then has Path = source and DstPath = destination).
	copyFrom string
}

// Create starts writing the object at uri and returns a Writer. Nothing is
// written at uri before Close: data smaller than one part
// (Options.PartSize) is sent with a single PutObject at Close; larger data
// becomes a multipart upload whose parts are uploaded concurrently while
// writing, completed at Close. If any write or part upload fails, ctx is
// cancelled, or Abort is called, the multipart upload is aborted and no
// object is created (an existing object at uri is left as it was).
//
// For a bucket with client-side encryption, the data is encrypted with
// AES-GCM under a fresh data key from the bucket's materials provider; the
// envelope goes in the object's metadata or, with CSE.InstructionFile, in
// <key>.instruction, written after the object as the AWS clients do. Parts
// are multiples of 16 bytes with the tag at the end of the last, as the
// AWS clients write them. A single-PUT object records its plaintext size
// (x-amz-unencrypted-content-length); a multipart one does so only with
// CSE.AddUnencryptedLength, by copying the object onto itself.
//
// Close returns nil only when the object is complete. If a step after the
// object became visible fails — writing the instruction file, or adding
// the unencrypted length — Close deletes the object again and returns the
// error, so that no unreadable or incomplete object is left; an object
// that was at uri before has then been replaced and is gone too. (If that
// delete fails as well, the error says so.)
func (c *Client) Create(ctx context.Context, uri string, optFns ...func(*CreateOptions)) (_ *Writer, err error) {
	ctx, span := c.startSpan(ctx, spanCreate, uriProps(uri)...)
	defer func() { span.end(err) }()
	loc, b, err := c.target("create", uri)
	if err != nil {
		return nil, err
	}
	if loc.Key == "" || strings.HasSuffix(loc.Key, "/") {
		return nil, &fs.PathError{Op: "create", Path: uri, Err: errIsDir}
	}
	var o CreateOptions
	for _, fn := range optFns {
		fn(&o)
	}
	st, err := c.cseFor(ctx, b)
	if err != nil {
		return nil, pathError("create", uri, err)
	}
	return newWriter(ctx, c, loc, b, o, st), nil
}
