package authz_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/tracing"

	"github.com/emrs3/emrs3/authz"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// spanRecorder keeps the name path ("parent > child") of every span; the
// parent is the span active in the context given to StartSpan, as in
// smithy-go's convention.
type spanRecorder struct {
	mu    sync.Mutex
	paths []string
}

type recSpan struct {
	tracing.Span // nil; only the methods below are called
	path         string
}

func (s *recSpan) SetProperty(k, v any)         {}
func (s *recSpan) SetStatus(tracing.SpanStatus) {}
func (s *recSpan) End()                         {}
func (s *recSpan) Name() string                 { return s.path }

func (r *spanRecorder) Tracer(string, ...tracing.TracerOption) tracing.Tracer { return r }

func (r *spanRecorder) StartSpan(ctx context.Context, name string, _ ...tracing.SpanOption) (context.Context, tracing.Span) {
	path := name
	if p, ok := tracing.GetSpan(ctx); ok {
		if ps, ok := p.(*recSpan); ok {
			path = ps.path + " > " + name
		}
	}
	s := &recSpan{path: path}
	r.mu.Lock()
	r.paths = append(r.paths, path)
	r.mu.Unlock()
	return tracing.WithSpan(ctx, s), s
}

func TestTraceSTS(t *testing.T) {
	st := emrfstest.Start(t)
	role := emrfstest.RoleARN("traced")
	st.STS.CreateRole(role, emrfstest.AdminARN)
	rec := &spanRecorder{}
	api := authz.TraceSTS(sts.NewFromConfig(st.Config, func(o *sts.Options) { o.TracerProvider = rec }), rec)
	if _, err := api.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("traced-session")}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	found := false
	for _, p := range rec.paths {
		if p == "authz.AssumeRole > STS.AssumeRole" {
			found = true
		}
		if !strings.HasPrefix(p, "authz.AssumeRole") {
			t.Errorf("span %q outside authz.AssumeRole", p)
		}
	}
	if !found {
		t.Errorf("no STS.AssumeRole span inside authz.AssumeRole:\n%s", strings.Join(rec.paths, "\n"))
	}
	if authz.TraceSTS(nil, rec) != nil {
		t.Error("TraceSTS(nil) is not nil")
	}
}

// printTracer prints the authz and STS spans, indented under their parent.
type printTracer struct{}

type printSpan struct {
	tracing.Span
	depth int
}

func (printSpan) SetProperty(k, v any)         {}
func (printSpan) SetStatus(tracing.SpanStatus) {}
func (printSpan) End()                         {}

func (p printTracer) Tracer(string, ...tracing.TracerOption) tracing.Tracer { return p }

func (printTracer) StartSpan(ctx context.Context, name string, _ ...tracing.SpanOption) (context.Context, tracing.Span) {
	depth := 0
	if parent, ok := tracing.GetSpan(ctx); ok {
		if ps, ok := parent.(printSpan); ok {
			depth = ps.depth + 1
		}
	}
	if strings.HasPrefix(name, "authz.") || strings.HasPrefix(name, "STS.") {
		fmt.Println(strings.Repeat("  ", depth) + name)
	}
	s := printSpan{depth: depth}
	return tracing.WithSpan(ctx, s), s
}

// Trace the STS calls of role mappings with the tracer provider the SDK
// clients use.
func ExampleTraceSTS() {
	ctx := context.Background()
	st, err := emrfstest.New(ctx) // a local STS; use your AWS config instead
	if err != nil {
		panic(err)
	}
	defer st.Close()
	role := emrfstest.RoleARN("analytics")
	st.STS.CreateRole(role, emrfstest.AdminARN)

	var tp tracing.TracerProvider = printTracer{} // e.g. smithyoteltracing.Adapt(otel's provider)
	client := authz.TraceSTS(sts.NewFromConfig(st.Config, func(o *sts.Options) { o.TracerProvider = tp }), tp)
	if _, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("example")}); err != nil {
		panic(err)
	}
	// Output:
	// authz.AssumeRole
	//   STS.AssumeRole
}
