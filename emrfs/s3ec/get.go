package s3ec

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/cse"
)

// ErrRange is returned by GetObject for a Range or PartNumber: parts of an
// object cannot be authenticated on their own. emrfs.Client reads ranges
// when its policy allows unauthenticated ones.
var ErrRange = errors.New("s3ec: GetObject decrypts whole objects only (no Range or PartNumber)")

// GetObject gets the object (and its instruction file when its metadata
// holds no envelope) and returns its output with Body the plaintext and
// ContentLength the plaintext length (nil when the envelope does not say,
// as for CBC objects without x-amz-unencrypted-content-length). The other
// fields are S3's, so checksums and ETag describe the ciphertext.
//
// Body releases no plaintext until the whole object has been read and
// authenticated, unless Options.DelayedAuthentication is set; a modified
// object fails with an error matching cse.ErrNotAuthentic. Envelope and
// policy errors (*cse.PolicyError, *cse.ContextMismatchError, an envelope
// that matches cse.ErrNotAuthentic, ...) are returned by GetObject itself,
// before any of the body is read. Close the Body.
func (c *Client) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if in == nil || aws.ToString(in.Bucket) == "" || aws.ToString(in.Key) == "" {
		return nil, errors.New("s3ec: GetObject: Bucket and Key are required")
	}
	bucket, key := *in.Bucket, *in.Key
	if in.Range != nil || in.PartNumber != nil {
		return nil, objectError("GetObject", bucket, key, ErrRange)
	}
	out, err := c.s3.GetObject(ctx, in, optFns...)
	if err != nil {
		return out, objectError("GetObject", bucket, key, err)
	}
	pt, err := c.decrypt(ctx, bucket, key, in, out, optFns)
	if err != nil {
		out.Body.Close()
		return nil, objectError("GetObject", bucket, key, err)
	}
	return pt, nil
}

func (c *Client) decrypt(ctx context.Context, bucket, key string, in *s3.GetObjectInput, out *s3.GetObjectOutput, optFns []func(*s3.Options)) (*s3.GetObjectOutput, error) {
	fetch := func(ctx context.Context, ikey string) ([]byte, error) { return c.instruction(ctx, in, ikey, optFns) }
	content, err := c.dec.Decrypt(ctx, out.Metadata, fetch, cse.ObjectInfo{Bucket: bucket, Key: key, EncryptionContext: requestContext(ctx)})
	if err != nil {
		return nil, err
	}
	defer content.Wipe()
	r, err := content.NewDecryptReader(out.Body, func(o *cse.StreamOptions) {
		o.DelayedAuthentication = c.opts.DelayedAuthentication
		o.MemoryLimit = c.opts.BufferSize
		o.TempDir = c.opts.TempFolderPath
	})
	if err != nil {
		return nil, err
	}
	pt := *out
	pt.Body = &plainBody{ReadCloser: r, ciphertext: out.Body}
	pt.ContentLength = nil
	switch {
	case content.PlaintextSize >= 0:
		pt.ContentLength = aws.Int64(content.PlaintextSize)
	case content.Algorithm != cse.AlgCBC && out.ContentLength != nil:
		if n, err := content.DecryptedSize(*out.ContentLength, nil); err == nil {
			pt.ContentLength = aws.Int64(n)
		}
	}
	return &pt, nil
}

// instruction reads ikey, the object's "<key>.instruction" (the current
// version: instruction files are not versioned with their object), up to
// Options.MaxInstructionFileSize bytes.
func (c *Client) instruction(ctx context.Context, in *s3.GetObjectInput, ikey string, optFns []func(*s3.Options)) ([]byte, error) {
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: in.Bucket, Key: &ikey, ExpectedBucketOwner: in.ExpectedBucketOwner}, optFns...)
	if err != nil {
		return nil, fmt.Errorf("the object's envelope is in its instruction file %s, which cannot be read: %w", ikey, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, c.opts.MaxInstructionFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the instruction file %s: %w", ikey, err)
	}
	if int64(len(b)) > c.opts.MaxInstructionFileSize {
		return nil, fmt.Errorf("the instruction file %s is larger than Options.MaxInstructionFileSize (%d bytes)", ikey, c.opts.MaxInstructionFileSize)
	}
	return b, nil
}

// plainBody closes the decrypting reader and the S3 body under it.
type plainBody struct {
	io.ReadCloser
	ciphertext io.Closer
}

func (p *plainBody) Close() error {
	err := p.ReadCloser.Close()
	if cerr := p.ciphertext.Close(); err == nil {
		err = cerr
	}
	return err
}
