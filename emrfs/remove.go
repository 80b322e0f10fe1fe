package emrfs

import (
	"context"
	"io/fs"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Remove deletes the object at uri. As in S3, removing a key that does not
// exist is not an error. Remove does not delete "directories"; list and
// remove their keys instead.
//
// In a bucket with client-side encryption and
// fs.s3.cse.cryptoStorageMode.deleteInstructionFiles.enabled
// (CSE.DeleteInstructionFiles), the object's instruction file
// (<key>.instruction) is deleted too, after the object. As in EMRFS the
// setting is off by default, and then instruction files stay behind (List
// hides them; a later write in instruction-file mode replaces them). In a
// bucket without client-side encryption "<key>.instruction" is an ordinary
// object and is never touched.
func (c *Client) Remove(ctx context.Context, uri string) error {
	loc, b, err := c.target("remove", uri)
	if err != nil {
		return err
	}
	if loc.Key == "" || strings.HasSuffix(loc.Key, "/") {
		return &fs.PathError{Op: "remove", Path: uri, Err: errIsDir}
	}
	// The object first: a crash in between leaves an orphan instruction
	// file (hidden by List), never an object without its envelope.
	if err := c.deleteKey(ctx, loc); err != nil {
		return pathError("remove", uri, err)
	}
	if b.CSE != nil && b.CSE.DeleteInstructionFiles {
		if err := c.deleteKey(ctx, instructionOf(loc)); err != nil {
			return pathError("remove", uri, err)
		}
	}
	return nil
}

// deleteKey deletes the object at loc (no error if there is none).
func (c *Client) deleteKey(ctx context.Context, loc Location) error {
	_, err := send(ctx, c.req(loc, nil), &s3.DeleteObjectInput{}, c.s3.DeleteObject)
	return err
}

// instructionOf returns the location of the instruction file of the
// object at loc.
func instructionOf(loc Location) Location {
	return Location{Scheme: loc.Scheme, Bucket: loc.Bucket, Key: loc.Key + InstructionSuffix}
}
