package emrfs

import (
	"context"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/emrs3/emrs3/authz"
)

// WithRoleMappings signs every request of the Client with the credentials
// that r chooses for the request's identity (authz.WithIdentity on the
// context passed to Open, Create, ...) and for the S3 location it touches:
// the S3 requests, and the KMS requests made for client-side encryption.
// When r cannot assume the mapped role, the request fails with an
// *authz.AssumeRoleError naming the role; it is never sent with other
// credentials. Copies and renames between locations mapped to different
// roles stream the data through the client, reading with the source's
// credentials and writing with the destination's.
func WithRoleMappings(r *authz.Resolver) func(*Options) {
	return func(o *Options) {
		o.Credentials = func(ctx context.Context, op, bucket, key string) (aws.CredentialsProvider, error) {
			_, p, err := r.Resolve(ctx, "s3://"+bucket+"/"+key)
			return p, err
		}
	}
}

// crossCredentials reports whether reading src and writing dst are signed
// with different credentials, in which case a server-side copy (signed by
// the destination's alone) could read what the source's role may not, or
// fail where each role alone would succeed.
func (c *Client) crossCredentials(ctx context.Context, src, dst Location) (bool, error) {
	if c.opts.Credentials == nil {
		return false, nil
	}
	ps, err := c.opts.Credentials(ctx, "GetObject", src.Bucket, src.Key)
	if err != nil {
		return false, err
	}
	pd, err := c.opts.Credentials(ctx, "PutObject", dst.Bucket, dst.Key)
	if err != nil {
		return false, err
	}
	return !sameProvider(ps, pd), nil
}

// sameProvider compares providers without panicking on uncomparable ones
// (which are treated as different).
func sameProvider(a, b aws.CredentialsProvider) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb || !ta.Comparable() {
		return false
	}
	return a == b
}
