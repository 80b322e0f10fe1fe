package emrfs

import (
	"context"
	"errors"
	"io/fs"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// s3Error classifies an S3 error as an io/fs error while keeping the
// original SDK error reachable through errors.As.
type s3Error struct {
	kind error // fs.ErrNotExist, fs.ErrPermission or nil
	err  error
}

func (e *s3Error) Error() string { return e.err.Error() }

func (e *s3Error) Unwrap() []error {
	if e.kind == nil {
		return []error{e.err}
	}
	return []error{e.kind, e.err}
}

// classify returns fs.ErrNotExist or fs.ErrPermission for S3 errors that
// mean "no such object" or "access denied", else nil.
func classify(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchBucket", "NoSuchUpload":
			return fs.ErrNotExist
		case "AccessDenied", "AccessDeniedException", "Forbidden", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch":
			return fs.ErrPermission
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return fs.ErrNotExist
		case http.StatusForbidden:
			return fs.ErrPermission
		}
	}
	return nil
}

// pathError wraps err, an error from an S3 call, in an *fs.PathError naming
// the operation and URI. S3 "not found" and "access denied" errors match
// fs.ErrNotExist and fs.ErrPermission with errors.Is.
func pathError(op, uri string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	var se *s3Error
	if !errors.As(err, &se) {
		err = s3Err(err)
	}
	return &fs.PathError{Op: op, Path: uri, Err: err}
}

// s3Err classifies err, the error of an S3 call: one that means "not
// found" or "access denied" (see classify) becomes an *s3Error matching
// fs.ErrNotExist or fs.ErrPermission. A cancelled or timed-out call, and
// any other error, is returned as it is.
func s3Err(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if k := classify(err); k != nil {
		return &s3Error{kind: k, err: err}
	}
	return err
}

func isNotExist(err error) bool { return classify(err) == fs.ErrNotExist }
