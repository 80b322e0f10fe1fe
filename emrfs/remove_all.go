package emrfs

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// maxDeleteKeys is the S3 limit on keys in one DeleteObjects request, and
// the most keys one ListObjectsV2 page returns.
const maxDeleteKeys = 1000

// maxReportedFailures caps RemoveAllError.Failed.
const maxReportedFailures = 1000

// FailedKey is one key a DeleteObjects request did not delete.
type FailedKey struct {
	Key     string // the object key
	Code    string // the S3 error code, e.g. "AccessDenied"
	Message string // the S3 error message
}

// RemoveAllError is returned by RemoveAll when S3 refused to delete some
// keys: DeleteObjects reports failures per key, and RemoveAll deletes
// every other key before returning it.
type RemoveAllError struct {
	// URI is the argument of RemoveAll.
	URI string
	// Failed lists the keys that were not deleted, in the order S3
	// reported them; at most the first 1000 are kept.
	Failed []FailedKey
	// Count is the number of keys that were not deleted (len(Failed) or
	// more). Instruction files kept because their object could not be
	// deleted are not counted.
	Count int
}

// Error names the first failed keys and their S3 error codes.
func (e *RemoveAllError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "emrfs: removeall %s: %d key(s) not deleted:", e.URI, e.Count)
	for i, f := range e.Failed {
		if i == 10 {
			fmt.Fprintf(&b, " and %d more (see RemoveAllError.Failed)", e.Count-10)
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %s (%s: %s)", f.Key, f.Code, f.Message)
	}
	return b.String()
}

// Unwrap returns fs.ErrPermission when a key failed with AccessDenied, so
// that errors.Is(err, fs.ErrPermission) works.
func (e *RemoveAllError) Unwrap() []error {
	for _, f := range e.Failed {
		if f.Code == "AccessDenied" {
			return []error{fs.ErrPermission}
		}
	}
	return nil
}

// RemoveAll deletes everything at and under uri with DeleteObjects
// requests of up to 1000 keys, listing the keys with ListObjectsV2 (1000
// per page). Removing N keys costs ⌈N/1000⌉ list requests plus ⌈N/1000⌉
// (occasionally one more, see below) DeleteObjects requests; a missing
// prefix is not an error.
//
// What is removed depends on the form of uri:
//
//   - "s3://bucket/dir/" (a trailing slash) removes every key starting
//     with "dir/";
//   - "s3://bucket/dir" removes the object "dir" (in a bucket with
//     client-side encryption also "dir.instruction"), the EMRFS directory
//     marker "dir_$folder$", and every key starting with "dir/" — never
//     "dir2/...", unlike the raw prefix "dir";
//   - "s3://bucket/" removes every key of the bucket.
//
// Every key listed is deleted, instruction files included, whatever
// CSE.DeleteInstructionFiles says. In a bucket with client-side
// encryption an instruction file is deleted only after S3 has confirmed
// that its object is gone (it goes into a later request than its
// object), so an interrupted or partly failed RemoveAll never leaves an
// object without its envelope; an instruction file whose object could not
// be deleted is kept.
//
// With Options.Credentials (role mappings), each key is deleted with the
// credentials chosen for it (op "DeleteObjects"): consecutive keys with
// the same credentials share a request, so a prefix that spans several
// role mappings costs a request more per change of role.
//
// DeleteObjects is sent in quiet mode (S3 reports failed keys only). When
// S3 refuses some keys, RemoveAll deletes all the others and then returns
// a *RemoveAllError listing the refused keys (errors.Is(err,
// fs.ErrPermission) for AccessDenied). A failed request (listing or
// delete) stops it with an *fs.PathError.
func (c *Client) RemoveAll(ctx context.Context, uri string) error {
	loc, b, err := c.target("removeall", uri)
	if err != nil {
		return err
	}
	r := &remover{c: c, ctx: ctx, uri: uri, bucket: loc.Bucket, cse: b.CSE != nil, inBatch: map[string]bool{}, held: map[string]bool{}}
	prefix := loc.Key
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		// The "directory" prefix: the object itself and its marker first.
		if err := r.add(prefix); err != nil {
			return err
		}
		if err := r.add(prefix + folderMarkerSuffix); err != nil {
			return err
		}
		if r.cse {
			if err := r.add(prefix + InstructionSuffix); err != nil {
				return err
			}
		}
		prefix += "/"
	}
	in := &s3.ListObjectsV2Input{Prefix: aws.String(prefix), MaxKeys: aws.Int32(maxDeleteKeys)}
	dir := Location{Scheme: loc.Scheme, Bucket: loc.Bucket, Key: prefix}
	for {
		out, err := send(ctx, c.req(dir, nil), in, c.s3.ListObjectsV2)
		if err != nil {
			return pathError("removeall", uri, err)
		}
		for _, o := range out.Contents {
			if err := r.add(aws.ToString(o.Key)); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
			break
		}
		in.ContinuationToken = out.NextContinuationToken
	}
	for len(r.batch) > 0 {
		if err := r.flush(); err != nil {
			return err
		}
	}
	if r.failed.Count > 0 {
		r.failed.URI = uri
		return &r.failed
	}
	return nil
}

// remover batches the keys of one RemoveAll into DeleteObjects requests.
type remover struct {
	c      *Client
	ctx    context.Context
	uri    string
	bucket string
	cse    bool // instruction files wait for their objects

	batch   []string
	creds   aws.CredentialsProvider // of batch, with Options.Credentials
	inBatch map[string]bool         // object keys in batch (CSE only)
	held    map[string]bool         // objects in batch whose instruction file waits (CSE only)
	refused map[string]bool         // object keys S3 refused to delete (CSE only)
	failed  RemoveAllError
}

// add queues key, sending a DeleteObjects request when the batch is full
// or, with Options.Credentials, when key is deleted with other credentials
// than the batch (role mappings choose them per key, as for Remove).
func (r *remover) add(key string) error {
	if r.c.opts.Credentials != nil {
		p, err := r.c.opts.Credentials(r.ctx, "DeleteObjects", r.bucket, key)
		if err != nil {
			return pathError("removeall", r.uri, fmt.Errorf("emrfs: choosing credentials for DeleteObjects s3://%s/%s: %w", r.bucket, key, err))
		}
		if len(r.batch) > 0 && !sameCredentials(p, r.creds) {
			if err := r.flush(); err != nil {
				return err
			}
		}
		if len(r.batch) == 0 {
			r.creds = p
		} else if !sameCredentials(p, r.creds) {
			// The released instruction files of the batch just sent
			// are signed otherwise: send them first.
			if err := r.flush(); err != nil {
				return err
			}
			r.creds = p
		}
	}
	if r.cse {
		if obj, ok := strings.CutSuffix(key, InstructionSuffix); ok {
			switch {
			case r.inBatch[obj]:
				r.held[obj] = true // after its object's request
				return nil
			case r.refused[obj]:
				return nil // its object is still there: keep the envelope
			}
		} else {
			r.inBatch[key] = true
		}
	}
	r.batch = append(r.batch, key)
	if len(r.batch) >= maxDeleteKeys {
		return r.flush()
	}
	return nil
}

// flush sends the batch; instruction files held back for objects that are
// now gone start the next batch.
func (r *remover) flush() error {
	batch := r.batch
	r.batch = nil
	objs := make([]types.ObjectIdentifier, len(batch))
	for i, k := range batch {
		objs[i] = types.ObjectIdentifier{Key: aws.String(k)}
	}
	// The request's credentials are those of its first key (add keeps
	// keys with other credentials out of it).
	first := Location{Scheme: "s3", Bucket: r.bucket, Key: batch[0]}
	out, err := send(r.ctx, r.c.req(first, nil), &s3.DeleteObjectsInput{
		Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)},
	}, r.c.s3.DeleteObjects)
	if err != nil {
		return pathError("removeall", r.uri, err)
	}
	r.c.log().DebugContext(r.ctx, "emrfs: DeleteObjects", "bucket", r.bucket, "keys", len(batch), "errors", len(out.Errors))
	for _, e := range out.Errors {
		key := aws.ToString(e.Key)
		if r.failed.Count < maxReportedFailures {
			r.failed.Failed = append(r.failed.Failed, FailedKey{Key: key, Code: aws.ToString(e.Code), Message: aws.ToString(e.Message)})
		}
		r.failed.Count++
		if r.cse && r.inBatch[key] {
			if r.refused == nil {
				r.refused = map[string]bool{}
			}
			r.refused[key] = true
		}
	}
	if !r.cse {
		return nil
	}
	held := r.held
	r.inBatch, r.held = map[string]bool{}, map[string]bool{}
	for _, k := range batch {
		if held[k] && !r.refused[k] {
			if err := r.add(k + InstructionSuffix); err != nil {
				return err
			}
		}
	}
	return nil
}

// sameCredentials is sameProvider, also matching equal static providers
// (credentials.StaticCredentialsProvider values are not comparable), so
// that keys deleted with them still share DeleteObjects requests. Other
// providers that are not comparable count as different: return pointers
// (aws.NewCredentialsCache) from Options.Credentials to batch their keys.
func sameCredentials(a, b aws.CredentialsProvider) bool {
	if sa, ok := a.(credentials.StaticCredentialsProvider); ok {
		sb, ok := b.(credentials.StaticCredentialsProvider)
		return ok && sa.Value == sb.Value
	}
	return sameProvider(a, b)
}
