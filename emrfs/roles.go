package emrfs

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

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
//
// A KMS call made without an object (for example by a custom CSE
// provider's constructor) fails with ErrNoObjectForCredentials: role
// mappings choose credentials by location, and such a call has none.
func WithRoleMappings(r *authz.Resolver) func(*Options) {
	return func(o *Options) {
		o.Credentials = func(ctx context.Context, op, bucket, key string) (aws.CredentialsProvider, error) {
			if bucket == "" {
				return nil, fmt.Errorf("%w: %s", ErrNoObjectForCredentials, op)
			}
			_, p, err := r.Resolve(ctx, "s3://"+bucket+"/"+key)
			return p, err
		}
	}
}

// ErrNoObjectForCredentials is returned (wrapped) for a request that role
// mappings cannot choose credentials for because it is made for no S3
// object: a KMS call outside an object's read or write, for example one a
// custom CSE materials provider makes while it is built. Make such calls
// from the provider's per-object methods, or give the provider its own KMS
// client and credentials.
var ErrNoObjectForCredentials = errors.New("emrfs: role mappings choose credentials by S3 location, and this request is made for no object")

// NewRoleResolver returns the role-mapping resolver cfg describes, for
// WithRoleMappings: the role mappings of cfg's security configuration
// (ApplySecurityConfiguration), which take precedence as on a cluster (a
// warning is logged when fs.s3.authorization.roleMapping is then ignored),
// or else those of fs.s3.authorization.roleMapping; the STS endpoint
// fs.s3.sts.endpoint (the STS client's BaseEndpoint, and its signing
// region for sts.REGION.amazonaws.com hosts); the session length
// fs.s3.sts.sessionDurationSeconds; and the custom credentials provider
// fs.s3.customAWSCredentialsProvider, built by the factory registered under
// that name in RoleOptions.Providers (or DefaultProviders). Roles are
// assumed with awsCfg's credentials through sts.NewFromConfig(awsCfg),
// which also sign requests that no mapping matches unless the resolver
// denies them (authz.Options.DenyUnmapped, through RoleOptions.Resolver).
// Invalid properties are *ConfigErrors (errors.Is(err, ErrInvalidConfig))
// naming the property; a malformed role mapping also unwraps to its
// *authz.MappingError.
func NewRoleResolver(ctx context.Context, cfg *Config, awsCfg aws.Config, optFns ...func(*RoleOptions)) (*authz.Resolver, error) {
	if cfg == nil {
		cfg = NewConfig()
	}
	var ro RoleOptions
	for _, fn := range optFns {
		fn(&ro)
	}
	r, err := newRoleResolver(ctx, cfg, awsCfg, ro)
	if err != nil {
		return nil, fmt.Errorf("emrfs: role mappings: %w", err)
	}
	return r, nil
}

// NewWithRoleMappings returns a Client whose requests are signed per the
// role mappings of cfg: New(client, cfg, WithRoleMappings(r), optFns...)
// with r from NewRoleResolver(ctx, cfg, awsCfg). A nil client means
// s3.NewFromConfig(awsCfg), and Options.KMS defaults to
// kms.NewFromConfig(awsCfg). To configure the resolver (group resolver,
// audit logger, DenyUnmapped), build it with NewRoleResolver and pass
// WithRoleMappings to New.
func NewWithRoleMappings(ctx context.Context, client S3API, cfg *Config, awsCfg aws.Config, optFns ...func(*Options)) (*Client, error) {
	r, err := NewRoleResolver(ctx, cfg, awsCfg)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = s3.NewFromConfig(awsCfg)
	}
	fns := append([]func(*Options){WithRoleMappings(r)}, optFns...)
	fns = append(fns, func(o *Options) {
		if o.KMS == nil {
			o.KMS = kms.NewFromConfig(awsCfg)
		}
	})
	return New(client, cfg, fns...)
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
