package emrfs

import (
	"context"
	"io/fs"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Remove deletes the object at uri and its CSE instruction file
// (<key>.instruction), if any. As in S3, removing a key that does not exist
// is not an error. Remove does not delete "directories"; list and remove
// their keys instead.
func (c *Client) Remove(ctx context.Context, uri string) error {
	loc, _, err := c.target("remove", uri)
	if err != nil {
		return err
	}
	if loc.Key == "" || strings.HasSuffix(loc.Key, "/") {
		return &fs.PathError{Op: "remove", Path: uri, Err: errIsDir}
	}
	// The object first: a crash in between leaves an orphan instruction
	// file (hidden by List), never an object without its envelope.
	if err := c.deleteKey(ctx, loc.Bucket, loc.Key); err != nil {
		return pathError("remove", uri, err)
	}
	if err := c.deleteKey(ctx, loc.Bucket, loc.Key+InstructionSuffix); err != nil {
		return pathError("remove", uri, err)
	}
	return nil
}

func (c *Client) deleteKey(ctx context.Context, bucket, key string) error {
	ro, err := c.reqOpts(ctx, "DeleteObject", bucket, key)
	if err != nil {
		return err
	}
	_, err = c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, ro...)
	return err
}
