package s3ec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/cse"
)

// unencryptedLength is the metadata key of the plaintext length.
const unencryptedLength = "x-amz-unencrypted-content-length"

// PutObject encrypts in.Body under a fresh data key and uploads it with
// the envelope in the object's metadata (or, with Options.InstructionFile,
// in "<key>.instruction", written after the object). Every other field of in
// is sent as given. The body is encrypted as the SDK reads it; see the
// package doc for what it needs to know the plaintext length.
func (c *Client) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if in == nil || aws.ToString(in.Bucket) == "" || aws.ToString(in.Key) == "" {
		return nil, errors.New("s3ec: PutObject: Bucket and Key are required")
	}
	bucket, key := *in.Bucket, *in.Key
	if set := plaintextChecksums(in); len(set) > 0 {
		return nil, objectError("PutObject", bucket, key, fmt.Errorf("%s describe the plaintext, but S3 receives the ciphertext: leave them unset (set ChecksumAlgorithm to have the SDK checksum the ciphertext)", strings.Join(set, ", ")))
	}
	if k := reservedMetadata(in.Metadata); k != "" {
		return nil, objectError("PutObject", bucket, key, fmt.Errorf("metadata key %q is reserved for the encryption envelope", k))
	}
	body := in.Body
	if body == nil {
		body = bytes.NewReader(nil)
	}
	n, err := plaintextLength(body, in.ContentLength)
	if err != nil {
		return nil, objectError("PutObject", bucket, key, err)
	}
	env, content, err := c.enc.Encrypt(ctx, cse.ObjectInfo{Bucket: bucket, Key: key, PlaintextSize: n, EncryptionContext: requestContext(ctx)})
	if err != nil {
		return nil, objectError("PutObject", bucket, key, err)
	}
	cb := newCipherBody(body, n, content)
	content.Wipe()
	defer cb.wipe()

	put := *in
	put.Body = cb.body()
	put.ContentLength = aws.Int64(cb.size)
	put.Metadata = make(map[string]string, len(in.Metadata)+len(env.Metadata)+1)
	for k, v := range in.Metadata {
		put.Metadata[k] = v
	}
	for k, v := range env.Metadata {
		put.Metadata[k] = v
	}
	if n == 0 {
		// As the official clients write it; cse leaves an unknown length
		// out and takes 0 for unknown.
		put.Metadata[unencryptedLength] = "0"
	}
	out, err := c.s3.PutObject(ctx, &put, optFns...)
	if err != nil {
		return out, objectError("PutObject", bucket, key, err)
	}
	if env.Instruction != nil {
		ikey := env.InstructionKey
		if _, err := c.s3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: in.Bucket, Key: &ikey, Body: bytes.NewReader(env.Instruction),
			ContentLength:        aws.Int64(int64(len(env.Instruction))),
			Metadata:             env.InstructionMetadata,
			ExpectedBucketOwner:  in.ExpectedBucketOwner,
			ServerSideEncryption: in.ServerSideEncryption, SSEKMSKeyId: in.SSEKMSKeyId,
			BucketKeyEnabled: in.BucketKeyEnabled,
		}, optFns...); err != nil {
			return out, objectError("PutObject", bucket, key, fmt.Errorf("the object was written but its instruction file %s was not, so it cannot be decrypted: %w", ikey, err))
		}
	}
	return out, nil
}

// plaintextLength is the number of bytes PutObject encrypts: contentLength
// when set, else what the body says it holds.
func plaintextLength(body io.Reader, contentLength *int64) (int64, error) {
	if contentLength != nil {
		if *contentLength < 0 {
			return 0, fmt.Errorf("ContentLength %d is negative", *contentLength)
		}
		return *contentLength, nil
	}
	if l, ok := body.(interface{ Len() int }); ok {
		return int64(l.Len()), nil
	}
	if s, ok := body.(io.Seeker); ok {
		cur, err := s.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0, fmt.Errorf("finding the length of the body: %w", err)
		}
		end, err := s.Seek(0, io.SeekEnd)
		if err != nil {
			return 0, fmt.Errorf("finding the length of the body: %w", err)
		}
		if _, err := s.Seek(cur, io.SeekStart); err != nil {
			return 0, fmt.Errorf("finding the length of the body: %w", err)
		}
		return end - cur, nil
	}
	return 0, errors.New("the plaintext length is unknown: set ContentLength, or pass a Body with a Len method or an io.Seeker (emrfs.Client.Create streams bodies of any length)")
}

// cipherBody is the ciphertext of a plaintext body of known length,
// encrypted as it is read. When the plaintext can seek, so can it — back to
// its start (the same ciphertext again: same key, IV and plaintext) and to
// its end — which is what the SDK does to hash, checksum and retry.
type cipherBody struct {
	src     io.Reader
	seeker  io.Seeker
	start   int64 // where src was when the body was made
	n       int64 // plaintext bytes
	size    int64 // ciphertext bytes
	content *cse.Content
	r       io.ReadCloser
	pos     int64
}

// seekableCipherBody adds Seek to a cipherBody over a seekable plaintext.
type seekableCipherBody struct{ *cipherBody }

func newCipherBody(src io.Reader, n int64, c *cse.Content) *cipherBody {
	own := *c
	own.Key = bytes.Clone(c.Key)
	own.IV = bytes.Clone(c.IV)
	own.AAD = bytes.Clone(c.AAD)
	b := &cipherBody{src: src, n: n, size: c.EncryptedSize(n), content: &own}
	if s, ok := src.(io.Seeker); ok {
		if pos, err := s.Seek(0, io.SeekCurrent); err == nil {
			b.seeker, b.start = s, pos
		}
	}
	return b
}

// body is what PutObject sends: seekable when the plaintext is.
func (b *cipherBody) body() io.Reader {
	if b.seeker != nil {
		return seekableCipherBody{b}
	}
	return b
}

// Read encrypts the next bytes of the plaintext.
func (b *cipherBody) Read(p []byte) (int, error) {
	if b.pos >= b.size {
		return 0, io.EOF
	}
	if b.r == nil {
		if b.content == nil {
			return 0, errors.New("s3ec: the request body was read after PutObject returned")
		}
		r, err := b.content.NewEncryptReader(&exactReader{r: b.src, left: b.n})
		if err != nil {
			return 0, err
		}
		b.r = r
	}
	n, err := b.r.Read(p)
	b.pos += int64(n)
	if err == io.EOF && b.pos != b.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Len is the number of ciphertext bytes left.
func (b *cipherBody) Len() int { return int(b.size - b.pos) }

// Seek moves to the start or the end of the ciphertext, or nowhere.
func (b seekableCipherBody) Seek(off int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = off
	case io.SeekCurrent:
		abs = b.pos + off
	case io.SeekEnd:
		abs = b.size + off
	default:
		return b.pos, errors.New("s3ec: invalid whence")
	}
	switch abs {
	case b.pos:
	case 0:
		if _, err := b.seeker.Seek(b.start, io.SeekStart); err != nil {
			return b.pos, fmt.Errorf("s3ec: rewinding the plaintext body: %w", err)
		}
		b.closeReader()
		b.pos = 0
	case b.size:
		b.closeReader()
		b.pos = b.size
	default:
		return b.pos, fmt.Errorf("s3ec: the ciphertext body seeks only to its start or end, not to %d", abs)
	}
	return abs, nil
}

func (b *cipherBody) closeReader() {
	if b.r != nil {
		b.r.Close()
		b.r = nil
	}
}

// wipe releases the content key once PutObject is done with the body.
func (b *cipherBody) wipe() {
	b.closeReader()
	if b.content != nil {
		b.content.Wipe()
		b.content = nil
	}
}

// exactReader reads left bytes of r: fewer is io.ErrUnexpectedEOF, the rest
// is not read.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		return n, fmt.Errorf("s3ec: the body ended %d bytes before its length: %w", e.left, io.ErrUnexpectedEOF)
	}
	if err == io.EOF || e.left == 0 {
		return n, io.EOF
	}
	return n, err
}
