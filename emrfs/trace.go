package emrfs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go/tracing"

	"github.com/emrs3/emrs3/cse"
)

// TracerScope is the instrumentation scope of the Client's spans: the name
// it passes to Options.TracerProvider's Tracer.
const TracerScope = "github.com/emrs3/emrs3/emrfs"

// Span names and properties. Span names follow the SDK's "Service.Operation"
// form so that ours read naturally next to its "S3.GetObject" and
// "KMS.Decrypt" spans.
const (
	spanOpen   = "emrfs.Open"
	spanCreate = "emrfs.Create"
	spanCopy   = "emrfs.Copy"
	spanKMS    = "emrfs.KMS." // + operation

	propBucket = "aws.s3.bucket"
	propKey    = "aws.s3.key"
)

// opSpan is one of the Client's spans; nil when there is no
// TracerProvider, so that the calls cost nothing then.
type opSpan struct{ s tracing.Span }

// startSpan starts a span named name as a child of the span in ctx, if
// any, and returns the context that makes it the parent of the spans
// started under it: the SDK's operation spans take their parent from the
// context passed to the operation (its Tracer.StartSpan gets that
// context), so every S3 and KMS call made with the returned context nests
// inside. props are key, value pairs.
//
// The span ends with end; spans whose work continues after the call
// returns (the GETs of a File, the parts of a Writer) keep the returned
// context, so their SDK spans are children of it too.
func (c *Client) startSpan(ctx context.Context, name string, props ...string) (context.Context, *opSpan) {
	if c.opts.TracerProvider == nil {
		return ctx, nil
	}
	return startSpan(ctx, c.opts.TracerProvider.Tracer(TracerScope), name, props...)
}

func startSpan(ctx context.Context, t tracing.Tracer, name string, props ...string) (context.Context, *opSpan) {
	ctx, s := t.StartSpan(ctx, name, func(o *tracing.SpanOptions) {
		o.Kind = tracing.SpanKindInternal
		for i := 0; i+1 < len(props); i += 2 {
			o.Properties.Set(props[i], props[i+1])
		}
	})
	return ctx, &opSpan{s}
}

// uriProps returns the span properties naming the object at uri.
func uriProps(uri string) []string {
	loc, err := ParseURI(uri)
	if err != nil {
		return []string{"emrfs.uri", uri}
	}
	return []string{propBucket, loc.Bucket, propKey, loc.Key}
}

// end records err (nil: success) as the span's status and ends it. It is
// safe on a nil span.
func (s *opSpan) end(err error) {
	if s == nil {
		return
	}
	s.s.SetProperty("error", err != nil)
	if err != nil {
		s.s.SetProperty("exception.type", fmt.Sprintf("%T", err))
		s.s.SetProperty("exception.message", err.Error())
		s.s.SetStatus(tracing.SpanStatusError)
	} else {
		s.s.SetStatus(tracing.SpanStatusOK)
	}
	s.s.End()
}

// tracedKMS starts a span around every KMS call of client-side encryption
// and disk encryption ("emrfs.KMS.Decrypt", ...), naming the object the
// call is made for and the key, so that the SDK's own "KMS.Decrypt" span
// nests inside it.
type tracedKMS struct {
	t   tracing.Tracer
	api cse.KMSAPI
}

// traceKMS wraps api in a tracedKMS when tp is set.
func traceKMS(api cse.KMSAPI, tp tracing.TracerProvider) cse.KMSAPI {
	if api == nil || tp == nil {
		return api
	}
	return tracedKMS{t: tp.Tracer(TracerScope), api: api}
}

func (k tracedKMS) start(ctx context.Context, op string, keyID *string) (context.Context, *opSpan) {
	props := []string{"rpc.service", "KMS", "rpc.method", op}
	if ref, ok := ctx.Value(objectCtxKey{}).(objectRef); ok {
		props = append(props, propBucket, ref.bucket, propKey, ref.key)
	}
	if keyID != nil && *keyID != "" {
		props = append(props, "aws.kms.key_id", *keyID)
	}
	return startSpan(ctx, k.t, spanKMS+op, props...)
}

func (k tracedKMS) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	ctx, s := k.start(ctx, "GenerateDataKey", in.KeyId)
	out, err := k.api.GenerateDataKey(ctx, in, optFns...)
	s.end(err)
	return out, err
}

func (k tracedKMS) Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	ctx, s := k.start(ctx, "Decrypt", in.KeyId)
	out, err := k.api.Decrypt(ctx, in, optFns...)
	s.end(err)
	return out, err
}

func (k tracedKMS) DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	ctx, s := k.start(ctx, "DescribeKey", in.KeyId)
	out, err := k.api.DescribeKey(ctx, in, optFns...)
	s.end(err)
	return out, err
}
