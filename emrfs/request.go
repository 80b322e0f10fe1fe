package emrfs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// objectReq is what every S3 request about one object shares: the bucket
// and key it names (for a listing, the prefix, and for DeleteObjects the
// first key: what the credentials are chosen for), the server-side
// encryption of its bucket and, for a copy, that of the source.
type objectReq struct {
	c      *Client
	bucket string
	key    string
	sse    *SSE // nil: none
	src    *SSE // the copy source's (CopyObject, UploadPartCopy)
}

// req returns the request target for the object at loc in a bucket with
// server-side encryption sse (nil: none).
func (c *Client) req(loc Location, sse *SSE) objectReq {
	return objectReq{c: c, bucket: loc.Bucket, key: loc.Key, sse: sse}
}

// from returns r for a copy whose source is in a bucket with server-side
// encryption src.
func (r objectReq) from(src *SSE) objectReq {
	r.src = src
	return r
}

// send makes one S3 call about r's object, the one place that does: it
// names the object in in (Bucket and Key; Bucket alone for ListObjectsV2
// and DeleteObjects), sets the SSE fields that request takes (see SSE),
// sends it with the credentials Options.Credentials chooses for the
// operation and object (an error choosing them is an *unsentError), and
// returns S3's error classified (see s3Err), so that "not found" and
// "access denied" match fs.ErrNotExist and fs.ErrPermission. The caller
// fills the rest of in.
func send[In, Out any](ctx context.Context, r objectReq, in *In, call func(context.Context, *In, ...func(*s3.Options)) (*Out, error)) (*Out, error) {
	f := fieldsOf(in)
	ro, err := r.c.reqOpts(ctx, f.op, r.bucket, r.key)
	if err != nil {
		return nil, &unsentError{err}
	}
	*f.bucket = aws.String(r.bucket)
	if f.key != nil {
		*f.key = aws.String(r.key)
	}
	r.sse.fill(f.sse, r.src)
	out, err := call(ctx, in, ro...)
	if err != nil {
		return nil, s3Err(err)
	}
	return out, nil
}

// unsentError is the error of a request that was never sent (its
// credentials could not be chosen): it took no effect.
type unsentError struct{ err error }

func (e *unsentError) Error() string { return e.err.Error() }
func (e *unsentError) Unwrap() error { return e.err }

// reqFields points at the fields of one S3 request that send fills.
type reqFields struct {
	op          string // the operation, as Options.Credentials is told it
	bucket, key **string
	sse         sseTargets
}

// sseTargets points at the SSE fields of one request; nil where the
// request has none.
type sseTargets struct {
	kind                 *types.ServerSideEncryption
	kmsKeyID, kmsContext **string
	bucketKey            **bool
	customer             ssecTargets // the object's SSE-C key
	source               ssecTargets // the copy source's SSE-C key
}

// ssecTargets points at the three fields of an SSE-C key.
type ssecTargets struct{ alg, key, md5 **string }

// fieldsOf returns the fields of in, a request of one of the operations
// the Client sends. The x-amz-server-side-encryption headers are fields
// of the requests that write an object (PutObject, CopyObject,
// CreateMultipartUpload; S3 rejects them on GetObject and HeadObject);
// the SSE-C key is one of every request that reads or writes the
// object's data, CompleteMultipartUpload included, and a copy names the
// source's key too.
func fieldsOf(in any) reqFields {
	switch in := in.(type) {
	// Reads.
	case *s3.GetObjectInput:
		return reqFields{"GetObject", &in.Bucket, &in.Key, sseTargets{customer: ssecTargets{&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5}}}
	case *s3.HeadObjectInput:
		return reqFields{"HeadObject", &in.Bucket, &in.Key, sseTargets{customer: ssecTargets{&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5}}}
	// Writes of a whole object.
	case *s3.PutObjectInput:
		return reqFields{"PutObject", &in.Bucket, &in.Key, sseTargets{&in.ServerSideEncryption, &in.SSEKMSKeyId, &in.SSEKMSEncryptionContext, &in.BucketKeyEnabled,
			ssecTargets{&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5}, ssecTargets{}}}
	case *s3.CopyObjectInput:
		return reqFields{"CopyObject", &in.Bucket, &in.Key, sseTargets{&in.ServerSideEncryption, &in.SSEKMSKeyId, &in.SSEKMSEncryptionContext, &in.BucketKeyEnabled,
			ssecTargets{&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5},
			ssecTargets{&in.CopySourceSSECustomerAlgorithm, &in.CopySourceSSECustomerKey, &in.CopySourceSSECustomerKeyMD5}}}
	// Multipart uploads.
	case *s3.CreateMultipartUploadInput:
		return reqFields{"CreateMultipartUpload", &in.Bucket, &in.Key, sseTargets{&in.ServerSideEncryption, &in.SSEKMSKeyId, &in.SSEKMSEncryptionContext, &in.BucketKeyEnabled,
			ssecTargets{&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5}, ssecTargets{}}}
	case *s3.UploadPartInput:
		return reqFields{"UploadPart", &in.Bucket, &in.Key, sseTargets{customer: ssecTargets{&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5}}}
	case *s3.UploadPartCopyInput:
		return reqFields{"UploadPartCopy", &in.Bucket, &in.Key, sseTargets{customer: ssecTargets{&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5},
			source: ssecTargets{&in.CopySourceSSECustomerAlgorithm, &in.CopySourceSSECustomerKey, &in.CopySourceSSECustomerKeyMD5}}}
	case *s3.CompleteMultipartUploadInput:
		return reqFields{"CompleteMultipartUpload", &in.Bucket, &in.Key, sseTargets{customer: ssecTargets{&in.SSECustomerAlgorithm, &in.SSECustomerKey, &in.SSECustomerKeyMD5}}}
	case *s3.AbortMultipartUploadInput:
		return reqFields{"AbortMultipartUpload", &in.Bucket, &in.Key, sseTargets{}}
	// Deletes and listings.
	case *s3.DeleteObjectInput:
		return reqFields{"DeleteObject", &in.Bucket, &in.Key, sseTargets{}}
	case *s3.DeleteObjectsInput:
		return reqFields{"DeleteObjects", &in.Bucket, nil, sseTargets{}}
	case *s3.ListObjectsV2Input:
		return reqFields{"ListObjectsV2", &in.Bucket, nil, sseTargets{}}
	}
	panic(fmt.Sprintf("emrfs: no S3 request fields for %T", in))
}
