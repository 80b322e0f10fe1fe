package emrfsblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/aws/smithy-go"
	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
)

// defaultPageSize is the page size of List when the caller sets none (the
// S3 maximum).
const defaultPageSize = 1000

// ErrNotImplemented is matched (errors.Is) by the errors of features the
// driver does not have: signed URLs, and the writer options emrfs cannot
// apply yet (CacheControl, ContentDisposition, ContentEncoding,
// ContentLanguage, IfNotExist). gcerrors.Code reports them as
// gcerrors.Unimplemented.
var ErrNotImplemented = errors.New("emrfsblob: not implemented")

// OpenBucket returns a *blob.Bucket for the S3 bucket bucketName that reads
// and writes through c, so with the encryption c's configuration gives the
// bucket (client-side encryption included: reads return plaintext,
// attributes and listings report plaintext sizes). Close the bucket when
// done; c is not closed.
func OpenBucket(c *emrfs.Client, bucketName string) (*blob.Bucket, error) {
	drv, err := openBucket(c, bucketName)
	if err != nil {
		return nil, err
	}
	return blob.NewBucket(drv), nil
}

func openBucket(c *emrfs.Client, name string) (*bucket, error) {
	if c == nil {
		return nil, errors.New("emrfsblob: OpenBucket: nil *emrfs.Client")
	}
	if _, err := emrfs.ParseURI("s3://" + name + "/"); err != nil || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("emrfsblob: OpenBucket: invalid bucket name %q", name)
	}
	return &bucket{c: c, name: name}, nil
}

// bucket is the driver.Bucket over an emrfs.Client.
type bucket struct {
	c    *emrfs.Client
	name string
}

var _ driver.Bucket = (*bucket)(nil)

// uri is the emrfs URI of an (escaped) S3 key.
func (b *bucket) uri(rawKey string) string { return "s3://" + b.name + "/" + rawKey }

// ErrorCode maps emrfs, cse and S3 errors to gcerrors codes.
func (b *bucket) ErrorCode(err error) gcerrors.ErrorCode { return errorCode(err) }

func errorCode(err error) gcerrors.ErrorCode {
	var pe *cse.PolicyError
	switch {
	case errors.Is(err, ErrNotImplemented):
		return gcerrors.Unimplemented
	case errors.Is(err, context.Canceled):
		return gcerrors.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return gcerrors.DeadlineExceeded
	case errors.Is(err, fs.ErrNotExist):
		return gcerrors.NotFound
	case errors.Is(err, fs.ErrPermission):
		return gcerrors.PermissionDenied
	case errors.Is(err, fs.ErrExist):
		return gcerrors.FailedPrecondition
	case errors.Is(err, emrfs.ErrInvalidURI), errors.Is(err, fs.ErrInvalid):
		return gcerrors.InvalidArgument
	case errors.Is(err, cse.ErrNotAuthentic):
		// Modified or not what it claims: no gcerrors code says it
		// better; the error itself matches cse.ErrNotAuthentic.
		return gcerrors.Internal
	case errors.Is(err, emrfs.ErrNotEncrypted), errors.Is(err, emrfs.ErrInvalidConfig), errors.As(err, &pe):
		return gcerrors.FailedPrecondition
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "PreconditionFailed", "ConditionalRequestConflict":
			return gcerrors.FailedPrecondition
		case "InvalidArgument", "InvalidRange", "KeyTooLongError", "InvalidBucketName":
			return gcerrors.InvalidArgument
		case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException":
			return gcerrors.ResourceExhausted
		case "NotImplemented":
			return gcerrors.Unimplemented
		case "InternalError", "ServiceUnavailable":
			return gcerrors.Internal
		}
	}
	return gcerrors.Unknown
}

// As exposes the *emrfs.Client (as **emrfs.Client).
func (b *bucket) As(i any) bool {
	p, ok := i.(**emrfs.Client)
	if !ok {
		return false
	}
	*p = b.c
	return true
}

// ErrorAs is errors.As: emrfs errors (*fs.PathError, *emrfs.RemoveAllError,
// ...) wrap the SDK's (smithy.APIError, *s3types.NoSuchKey, ...).
func (b *bucket) ErrorAs(err error, i any) bool { return errors.As(err, i) }

// notFound is the error of a key without an object.
func (b *bucket) notFound(op, key string) error {
	return &fs.PathError{Op: op, Path: b.uri(key), Err: fs.ErrNotExist}
}

// stat returns the object at the escaped key; a "directory" is not found.
func (b *bucket) stat(ctx context.Context, op, rawKey string) (*emrfs.FileInfo, error) {
	fi, err := b.c.Stat(ctx, b.uri(rawKey))
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, b.notFound(op, rawKey)
	}
	return fi, nil
}

// Attributes returns the object's attributes: its Content-Type and other
// headers, user metadata (without the encryption envelope), ETag (of the
// stored, possibly encrypted, bytes), ModTime and plaintext Size. MD5 is
// left nil: for a CSE object the ETag is not the plaintext's MD5.
func (b *bucket) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	fi, err := b.stat(ctx, "attributes", escapeKey(key))
	if err != nil {
		return nil, err
	}
	return &driver.Attributes{
		CacheControl:       fi.CacheControl(),
		ContentDisposition: fi.ContentDisposition(),
		ContentEncoding:    fi.ContentEncoding(),
		ContentLanguage:    fi.ContentLanguage(),
		ContentType:        contentType(fi),
		Metadata:           userMetadata(fi.Metadata()),
		ModTime:            fi.ModTime(),
		Size:               fi.Size(),
		ETag:               fi.ETag(),
		AsFunc: func(i any) bool {
			p, ok := i.(**emrfs.FileInfo)
			if ok {
				*p = fi
			}
			return ok
		},
	}, nil
}

func contentType(fi *emrfs.FileInfo) string {
	if ct := fi.ContentType(); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

// userMetadata drops the envelope's x-amz-* entries and unescapes the
// rest.
func userMetadata(meta map[string]string) map[string]string {
	var out map[string]string
	for k, v := range meta {
		// emrfs's own: the write token Close stores to tell commit
		// outcomes, and envelope keys.
		if strings.HasPrefix(strings.ToLower(k), "x-amz-") || strings.EqualFold(k, emrfs.WriteTokenKey) {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[unescapeMetadataKey(k)] = unescapeMetadataValue(v)
	}
	return out
}

// ListPaged lists a page of keys. The delimiter "/" is sent to S3; other
// delimiters are applied to a flat listing. Instruction files and EMRFS
// directory markers are never listed; sizes are plaintext sizes (in a
// CSE bucket at the cost of one HEAD per object).
func (b *bucket) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	pageSize := opts.PageSize
	if pageSize <= 0 {
		pageSize = defaultPageSize
	}
	var tok pageToken
	if len(opts.PageToken) > 0 {
		var err error
		if tok, err = parsePageToken(opts.PageToken); err != nil {
			return nil, err
		}
	}
	if opts.BeforeList != nil {
		// The driver sets every emrfs.ListOptions field itself: nothing
		// to expose.
		if err := opts.BeforeList(func(any) bool { return false }); err != nil {
			return nil, err
		}
	}
	prefix := escapePrefix(opts.Prefix)
	serverDelim := opts.Delimiter == "/"
	page := &driver.ListPage{}
	var lastRaw, lastDir string
	for fi, err := range b.c.List(ctx, b.uri(prefix), func(o *emrfs.ListOptions) {
		o.Recursive = !serverDelim
		o.PageSize = int32(min(pageSize+1, defaultPageSize))
		o.PlaintextSizes = true
		o.StartAfter = tok.startAfter
	}) {
		if err != nil {
			return nil, err
		}
		raw := strings.TrimPrefix(fi.URI(), "s3://"+b.name+"/")
		key := hexUnescape(raw)
		obj := &driver.ListObject{Key: key}
		switch {
		case fi.IsDir():
			obj.IsDir = true
		case opts.Delimiter != "" && !serverDelim:
			if i := strings.Index(key[min(len(opts.Prefix), len(key)):], opts.Delimiter); i >= 0 {
				obj = &driver.ListObject{Key: key[:len(opts.Prefix)+i+len(opts.Delimiter)], IsDir: true}
			}
		}
		if obj.IsDir {
			if obj.Key == tok.lastDir || obj.Key == lastDir {
				lastRaw = raw
				continue // the rest of a directory already listed
			}
			lastDir = obj.Key
		} else {
			obj.Size, obj.ModTime = fi.Size(), fi.ModTime()
			obj.AsFunc = func(i any) bool {
				p, ok := i.(**emrfs.FileInfo)
				if ok {
					*p = fi
				}
				return ok
			}
		}
		if len(page.Objects) == pageSize {
			// One more entry exists: resume after the last one listed.
			tok := pageToken{startAfter: lastRaw}
			if last := page.Objects[pageSize-1]; last.IsDir {
				tok.lastDir = last.Key
			}
			page.NextPageToken = tok.bytes()
			break
		}
		page.Objects = append(page.Objects, obj)
		lastRaw = raw
	}
	return page, nil
}

// pageToken resumes a listing: S3's StartAfter, and the directory listed
// last (its remaining keys are skipped).
type pageToken struct{ startAfter, lastDir string }

func (t pageToken) bytes() []byte { return []byte(t.startAfter + "\x00" + t.lastDir) }

func parsePageToken(b []byte) (pageToken, error) {
	s, d, ok := strings.Cut(string(b), "\x00")
	if !ok {
		return pageToken{}, fmt.Errorf("emrfsblob: invalid page token: %w", fs.ErrInvalid)
	}
	return pageToken{startAfter: s, lastDir: d}, nil
}

// NewRangeReader opens the object and reads length bytes (all when
// negative) from offset, as plaintext. Under the default CSE policy a
// read that does not start at 0 reads and authenticates the whole object
// first (see emrfs.Client.Open).
func (b *bucket) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	f, err := b.c.Open(ctx, b.uri(escapeKey(key)))
	if err != nil {
		return nil, err
	}
	info, _ := f.Stat()
	fi := info.(*emrfs.FileInfo)
	var r io.Reader = f
	if offset > 0 {
		if offset >= f.Size() {
			r = eofReader{}
		} else if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
	}
	if length >= 0 {
		r = io.LimitReader(r, length)
	}
	if opts.BeforeRead != nil {
		if err := opts.BeforeRead(func(i any) bool {
			p, ok := i.(**emrfs.File)
			if ok {
				*p = f
			}
			return ok
		}); err != nil {
			f.Close()
			return nil, err
		}
	}
	return &reader{f: f, r: r, attrs: driver.ReaderAttributes{ContentType: contentType(fi), ModTime: fi.ModTime(), Size: f.Size()}}, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// reader is a driver.Reader over an *emrfs.File.
type reader struct {
	f     *emrfs.File
	r     io.Reader
	attrs driver.ReaderAttributes
}

func (r *reader) Read(p []byte) (int, error)           { return r.r.Read(p) }
func (r *reader) Close() error                         { return r.f.Close() }
func (r *reader) Attributes() *driver.ReaderAttributes { return &r.attrs }

// As exposes the *emrfs.File (as **emrfs.File).
func (r *reader) As(i any) bool {
	p, ok := i.(**emrfs.File)
	if ok {
		*p = r.f
	}
	return ok
}

// NewTypedWriter starts writing the object with emrfs.Client.Create: in a
// CSE bucket the data is encrypted, and nothing appears at key before
// Close. BeforeWrite can change the emrfs.CreateOptions (as
// **emrfs.CreateOptions) before Create is called.
func (b *bucket) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	co := &emrfs.CreateOptions{
		ContentType:        contentType,
		CacheControl:       opts.CacheControl,
		ContentDisposition: opts.ContentDisposition,
		ContentEncoding:    opts.ContentEncoding,
		ContentLanguage:    opts.ContentLanguage,
		IfAbsent:           opts.IfNotExist, // a conflict matches fs.ErrExist: FailedPrecondition
		Concurrency:        opts.MaxConcurrency,
	}
	if int64(opts.BufferSize) >= emrfs.MinPartSize {
		co.PartSize = int64(opts.BufferSize)
	}
	if len(opts.Metadata) > 0 {
		co.Metadata = make(map[string]string, len(opts.Metadata))
		for k, v := range opts.Metadata {
			co.Metadata[escapeMetadataKey(k)] = escapeMetadataValue(v)
		}
	}
	if opts.BeforeWrite != nil {
		if err := opts.BeforeWrite(func(i any) bool {
			p, ok := i.(**emrfs.CreateOptions)
			if ok {
				*p = co
			}
			return ok
		}); err != nil {
			return nil, err
		}
	}
	w, err := b.c.Create(ctx, b.uri(escapeKey(key)), func(o *emrfs.CreateOptions) { *o = *co })
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Copy copies srcKey to dstKey with emrfs.Client.Copy (server-side when
// both use the same encryption; a CSE object keeps its envelope).
// BeforeCopy sees the emrfs.CopyOptions (as **emrfs.CopyOptions).
func (b *bucket) Copy(ctx context.Context, dstKey, srcKey string, opts *driver.CopyOptions) error {
	co := &emrfs.CopyOptions{}
	if opts.BeforeCopy != nil {
		if err := opts.BeforeCopy(func(i any) bool {
			p, ok := i.(**emrfs.CopyOptions)
			if ok {
				*p = co
			}
			return ok
		}); err != nil {
			return err
		}
	}
	return b.c.Copy(ctx, b.uri(escapeKey(srcKey)), b.uri(escapeKey(dstKey)), func(o *emrfs.CopyOptions) { *o = *co })
}

// Delete removes the object, reporting NotFound when there is none (one
// HEAD before the DELETE, as s3blob does). Its instruction file goes too
// only as the bucket's settings say (CSE.DeleteInstructionFiles).
func (b *bucket) Delete(ctx context.Context, key string) error {
	raw := escapeKey(key)
	if _, err := b.stat(ctx, "delete", raw); err != nil {
		return err
	}
	return b.c.Remove(ctx, b.uri(raw))
}

// SignedURL is not implemented: a signed URL would hand out ciphertext
// (or an upload that bypasses encryption) in a CSE bucket.
func (b *bucket) SignedURL(context.Context, string, *driver.SignedURLOptions) (string, error) {
	return "", fmt.Errorf("emrfsblob: SignedURL: %w", ErrNotImplemented)
}

// Close does nothing; the emrfs.Client belongs to the caller.
func (b *bucket) Close() error { return nil }
