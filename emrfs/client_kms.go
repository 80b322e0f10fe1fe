package emrfs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/emrs3/emrs3/cse"
)

// objectCtxKey carries the object a KMS call is made for, so that
// Options.Credentials can choose the KMS credentials too.
type objectCtxKey struct{}

type objectRef struct{ bucket, key string }

func withObject(ctx context.Context, bucket, key string) context.Context {
	return context.WithValue(ctx, objectCtxKey{}, objectRef{bucket, key})
}

// kmsWithCredentials sends each KMS call with the credentials
// Options.Credentials chooses for the object being encrypted or decrypted
// (op "kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey").
type kmsWithCredentials struct {
	c   *Client
	api cse.KMSAPI
}

func (k kmsWithCredentials) opts(ctx context.Context, op string) ([]func(*kms.Options), error) {
	ref, _ := ctx.Value(objectCtxKey{}).(objectRef)
	p, err := k.c.opts.Credentials(ctx, "kms:"+op, ref.bucket, ref.key)
	if err != nil || p == nil {
		return nil, err
	}
	return []func(*kms.Options){func(o *kms.Options) { o.Credentials = p }}, nil
}

func (k kmsWithCredentials) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	o, err := k.opts(ctx, "GenerateDataKey")
	if err != nil {
		return nil, err
	}
	return k.api.GenerateDataKey(ctx, in, append(optFns, o...)...)
}

func (k kmsWithCredentials) Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	o, err := k.opts(ctx, "Decrypt")
	if err != nil {
		return nil, err
	}
	return k.api.Decrypt(ctx, in, append(optFns, o...)...)
}

func (k kmsWithCredentials) DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	o, err := k.opts(ctx, "DescribeKey")
	if err != nil {
		return nil, err
	}
	return k.api.DescribeKey(ctx, in, append(optFns, o...)...)
}

// kmsClient returns Options.KMS, wrapped to apply per-request credentials
// when Options.Credentials is set.
func (c *Client) kmsClient() cse.KMSAPI {
	if c.opts.KMS == nil || c.opts.Credentials == nil {
		return c.opts.KMS
	}
	return kmsWithCredentials{c: c, api: c.opts.KMS}
}
