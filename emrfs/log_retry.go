package emrfs

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/emrs3/emrs3/cse"
)

// The SDK retries a failed S3 or KMS request itself (its Retryer: 5xx,
// throttling, a broken connection), out of the Client's sight. To tell
// those retries at Debug, every request of a Client whose Logger is
// enabled at Debug carries one more finalize middleware, just inside the
// SDK's "Retry" middleware, so that it sees each attempt: the second and
// later ones are logged with the error of the attempt before.

// retryLogID is the id of the middleware in the SDK's stack.
const retryLogID = "emrfs.RetryLog"

// retryLog counts the attempts of one operation call (a fresh one per
// call; the attempts of one call are sequential).
type retryLog struct {
	log     *slog.Logger
	attrs   []slog.Attr // what the request is about: service, operation, object
	attempt int
	lastErr error
}

func (*retryLog) ID() string { return retryLogID }

func (m *retryLog) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	m.attempt++
	if m.attempt > 1 {
		attrs := append(m.attrs[:len(m.attrs):len(m.attrs)], slog.Int("attempt", m.attempt))
		if m.lastErr != nil {
			attrs = append(attrs, slog.String("error", m.lastErr.Error()))
		}
		m.log.LogAttrs(ctx, slog.LevelDebug, "emrfs: retrying a request", attrs...)
	}
	out, md, err := next.HandleFinalize(ctx, in)
	m.lastErr = err
	return out, md, err
}

// addRetryLog returns the API option that puts a retryLog inside the
// SDK's retry loop of one operation call. A stack without the SDK's
// "Retry" middleware (no retries) is left alone.
func addRetryLog(log *slog.Logger, attrs ...slog.Attr) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		if _, ok := stack.Finalize.Get("Retry"); !ok {
			return nil
		}
		return stack.Finalize.Insert(&retryLog{log: log, attrs: attrs}, "Retry", middleware.After)
	}
}

// debugEnabled reports whether the Client's Logger records Debug.
func (c *Client) debugEnabled(ctx context.Context) bool {
	return c.opts.Logger != nil && c.opts.Logger.Enabled(ctx, slog.LevelDebug)
}

// s3RetryLog returns the per-request S3 option that logs the SDK's
// retries of one request at Debug, or nil when the Logger would drop
// them.
func (c *Client) s3RetryLog(ctx context.Context, op, bucket, key string) func(*s3.Options) {
	if !c.debugEnabled(ctx) {
		return nil
	}
	attrs := []slog.Attr{slog.String("service", "S3"), slog.String("op", op), slog.String("bucket", bucket)}
	if key != "" {
		attrs = append(attrs, slog.String("key", key))
	}
	log := c.opts.Logger
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, addRetryLog(log, attrs...))
	}
}

// loggedKMS logs the SDK's retries of every KMS call at Debug.
type loggedKMS struct {
	log *slog.Logger
	api cse.KMSAPI
}

// logKMS wraps api in a loggedKMS when log is set.
func logKMS(api cse.KMSAPI, log *slog.Logger) cse.KMSAPI {
	if api == nil || log == nil {
		return api
	}
	return loggedKMS{log: log, api: api}
}

func (k loggedKMS) opt(ctx context.Context, op string) []func(*kms.Options) {
	if !k.log.Enabled(ctx, slog.LevelDebug) {
		return nil
	}
	attrs := []slog.Attr{slog.String("service", "KMS"), slog.String("op", op)}
	if ref, ok := ctx.Value(objectCtxKey{}).(objectRef); ok {
		attrs = append(attrs, slog.String("bucket", ref.bucket), slog.String("key", ref.key))
	}
	return []func(*kms.Options){func(o *kms.Options) {
		o.APIOptions = append(o.APIOptions, addRetryLog(k.log, attrs...))
	}}
}

func (k loggedKMS) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	return k.api.GenerateDataKey(ctx, in, append(optFns, k.opt(ctx, "GenerateDataKey")...)...)
}

func (k loggedKMS) Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	return k.api.Decrypt(ctx, in, append(optFns, k.opt(ctx, "Decrypt")...)...)
}

func (k loggedKMS) DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	return k.api.DescribeKey(ctx, in, append(optFns, k.opt(ctx, "DescribeKey")...)...)
}
