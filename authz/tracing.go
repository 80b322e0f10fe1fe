package authz

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/tracing"
)

// TracerScope is the instrumentation scope of the spans of TraceSTS.
const TracerScope = "github.com/emrs3/emrs3/authz"

// TraceSTS returns api with a span named "authz.AssumeRole" (properties
// aws.iam.role_arn, aws.sts.session_name; no credentials) around every
// AssumeRole, started through tp as a child of the span in the call's
// context. Pass it to New, and give the STS client the same provider
// (sts.Options.TracerProvider): the SDK's own "STS.AssumeRole" span then
// nests inside ours, and ours inside the S3 or KMS request whose signing
// needed the role's credentials. A nil tp returns api unchanged.
func TraceSTS(api AssumeRoleAPI, tp tracing.TracerProvider) AssumeRoleAPI {
	if api == nil || tp == nil {
		return api
	}
	return tracedSTS{t: tp.Tracer(TracerScope), api: api}
}

type tracedSTS struct {
	t   tracing.Tracer
	api AssumeRoleAPI
}

func (s tracedSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	ctx, span := s.t.StartSpan(ctx, "authz.AssumeRole", func(o *tracing.SpanOptions) {
		o.Kind = tracing.SpanKindInternal
		o.Properties.Set("rpc.service", "STS")
		o.Properties.Set("rpc.method", "AssumeRole")
		o.Properties.Set("aws.iam.role_arn", aws.ToString(in.RoleArn))
		o.Properties.Set("aws.sts.session_name", aws.ToString(in.RoleSessionName))
	})
	defer span.End()
	out, err := s.api.AssumeRole(ctx, in, optFns...)
	span.SetProperty("error", err != nil)
	if err != nil {
		span.SetProperty("exception.type", fmt.Sprintf("%T", err))
		span.SetProperty("exception.message", err.Error())
		span.SetStatus(tracing.SpanStatusError)
	} else {
		span.SetStatus(tracing.SpanStatusOK)
	}
	return out, err
}
