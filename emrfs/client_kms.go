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

// kmsInRegion sends every call to the KMS region of a bucket's CSE
// settings (fs.s3.cse.kms.region, fs.s3a.encryption.cse.kms.region): the
// region is set in the call's kms.Options, so the endpoint is resolved and
// the request signed for it.
type kmsInRegion struct {
	api    cse.KMSAPI
	region string
}

func (k kmsInRegion) opt(o *kms.Options) { o.Region = k.region }

func (k kmsInRegion) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	return k.api.GenerateDataKey(ctx, in, append(optFns, k.opt)...)
}

func (k kmsInRegion) Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	return k.api.Decrypt(ctx, in, append(optFns, k.opt)...)
}

func (k kmsInRegion) DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	return k.api.DescribeKey(ctx, in, append(optFns, k.opt)...)
}

// kmsClient returns Options.KMS, wrapped to apply per-request credentials
// when Options.Credentials is set and to call the given region when it is
// not "".
func (c *Client) kmsClient(region string) cse.KMSAPI {
	if c.opts.KMS == nil {
		return nil
	}
	api := c.opts.KMS
	if c.opts.Credentials != nil {
		api = kmsWithCredentials{c: c, api: api}
	}
	if region != "" {
		api = kmsInRegion{api: api, region: region}
	}
	return api
}

// kmsProviderOptions applies a bucket's CSE settings that reach the KMS
// materials provider's own options (CSE.KMSAnyKey, CSE.KMSSkipKeyCheck).
func kmsProviderOptions(s *CSE) func(*cse.KMSOptions) {
	return func(o *cse.KMSOptions) {
		o.AnyKey = s.KMSAnyKey
		o.SkipKeyCheck = s.KMSSkipKeyCheck
	}
}
