package emrfs_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/tracing"

	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// recorder is a tracing.TracerProvider that keeps every span. Like
// smithy-go's own convention (and the OpenTelemetry adapter), a span's
// parent is the span active in the context given to StartSpan, and the
// returned context makes the new span the active one.
type recorder struct {
	mu    sync.Mutex
	spans []*recSpan
}

type recSpan struct {
	r      *recorder
	scope  string
	name   string
	parent *recSpan
	props  map[any]any
	status tracing.SpanStatus
	ended  bool
}

type recTracer struct {
	r     *recorder
	scope string
}

func (r *recorder) Tracer(scope string, _ ...tracing.TracerOption) tracing.Tracer {
	return recTracer{r, scope}
}

func (t recTracer) StartSpan(ctx context.Context, name string, opts ...tracing.SpanOption) (context.Context, tracing.Span) {
	var o tracing.SpanOptions
	for _, fn := range opts {
		fn(&o)
	}
	s := &recSpan{r: t.r, scope: t.scope, name: name, props: map[any]any{}}
	for _, k := range []string{"aws.s3.bucket", "aws.s3.key"} {
		if v := o.Properties.Get(k); v != nil {
			s.props[k] = v
		}
	}
	if p, ok := tracing.GetSpan(ctx); ok {
		s.parent, _ = p.(*recSpan)
	}
	t.r.mu.Lock()
	t.r.spans = append(t.r.spans, s)
	t.r.mu.Unlock()
	return tracing.WithSpan(ctx, s), s
}

func (s *recSpan) Name() string                            { return s.name }
func (s *recSpan) Context() tracing.SpanContext            { return tracing.SpanContext{} }
func (s *recSpan) AddEvent(string, ...tracing.EventOption) {}
func (s *recSpan) SetProperty(k, v any) {
	s.r.mu.Lock()
	s.props[k] = v
	s.r.mu.Unlock()
}
func (s *recSpan) SetStatus(st tracing.SpanStatus) {
	s.r.mu.Lock()
	s.status = st
	s.r.mu.Unlock()
}
func (s *recSpan) End() {
	s.r.mu.Lock()
	s.ended = true
	s.r.mu.Unlock()
}

// path is the span's name preceded by its ancestors' ("emrfs.Open >
// S3.GetObject").
func (s *recSpan) path() string {
	var names []string
	for p := s; p != nil; p = p.parent {
		names = append([]string{p.name}, names...)
	}
	return strings.Join(names, " > ")
}

// reset forgets the spans recorded so far.
func (r *recorder) reset() {
	r.mu.Lock()
	r.spans = nil
	r.mu.Unlock()
}

// operations returns the paths of the SDK operation spans ("S3.X",
// "KMS.X") and of the emrfs spans, in the order they started.
func (r *recorder) operations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.spans {
		if strings.HasPrefix(s.name, "S3.") || strings.HasPrefix(s.name, "KMS.") || strings.HasPrefix(s.name, "emrfs.") {
			out = append(out, s.path())
		}
	}
	return out
}

// tracedCSEClient returns a CSE-KMS client on st whose S3 and KMS clients
// and emrfs itself report to rec, as a user plugs in one TracerProvider.
func tracedCSEClient(t *testing.T, st *emrfstest.Stack, rec *recorder, optFns ...func(*emrfs.Options)) *emrfs.Client {
	t.Helper()
	keyID := st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", keyID)
	cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
	api := s3.NewFromConfig(st.Config, st.S3Options, func(o *s3.Options) { o.TracerProvider = rec })
	if _, err := api.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("traced")}); err != nil {
		t.Fatal(err)
	}
	c, err := emrfs.New(api, cfg, append([]func(*emrfs.Options){func(o *emrfs.Options) {
		o.KMS = kms.NewFromConfig(st.Config, func(o *kms.Options) { o.TracerProvider = rec })
		o.TracerProvider = rec
		o.TempDir = t.TempDir()
	}}, optFns...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func contains(list []string, want string) bool {
	for _, s := range list {
		if s == want {
			return true
		}
	}
	return false
}

// TestTraceCSERead: one CSE read shows emrfs.Open with the SDK's S3 and KMS
// operation spans nested inside it (the KMS call inside our
// emrfs.KMS.Decrypt span), and the File's GET nested under Open too.
func TestTraceCSERead(t *testing.T) {
	st := emrfstest.Start(t)
	rec := &recorder{}
	c := tracedCSEClient(t, st, rec)
	ctx := context.Background()
	const uri = "s3://traced/a/b.csv"
	w, err := c.Create(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "hello, traced world\n"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ops := rec.operations()
	for _, want := range []string{
		"emrfs.Create",
		"emrfs.Create > emrfs.KMS.GenerateDataKey > KMS.GenerateDataKey",
		"emrfs.Create > S3.PutObject",
	} {
		if !contains(ops, want) {
			t.Errorf("write: no span %q in\n%s", want, strings.Join(ops, "\n"))
		}
	}

	rec.reset()
	f, err := c.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if string(got) != "hello, traced world\n" {
		t.Fatalf("read %q", got)
	}
	ops = rec.operations()
	for _, want := range []string{
		"emrfs.Open",
		"emrfs.Open > S3.GetObject", // the first part: metadata, size, no HEAD
		"emrfs.Open > emrfs.KMS.Decrypt > KMS.Decrypt",
	} {
		if !contains(ops, want) {
			t.Errorf("read: no span %q in\n%s", want, strings.Join(ops, "\n"))
		}
	}
	// Every SDK operation of the read is inside our span; none is a root.
	for _, op := range ops {
		if !strings.HasPrefix(op, "emrfs.Open") {
			t.Errorf("span %q is outside emrfs.Open", op)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, s := range rec.spans {
		if s.name == "emrfs.Open" {
			if !s.ended || s.status != tracing.SpanStatusOK || s.props["aws.s3.key"] != "a/b.csv" || s.scope != emrfs.TracerScope {
				t.Errorf("emrfs.Open span: ended %v, status %v, props %v, scope %q", s.ended, s.status, s.props, s.scope)
			}
		}
	}
}

// TestTraceCopy: a Copy shows emrfs.Copy with the SDK's S3 spans of the
// copy (the source's HEAD, the server-side CopyObject) nested inside it,
// none outside.
func TestTraceCopy(t *testing.T) {
	st := emrfstest.Start(t)
	rec := &recorder{}
	c := tracedCSEClient(t, st, rec)
	ctx := context.Background()
	w, err := c.Create(ctx, "s3://traced/src.csv")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "copied under a span\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rec.reset()
	if err := c.Copy(ctx, "s3://traced/src.csv", "s3://traced/dst.csv"); err != nil {
		t.Fatal(err)
	}
	ops := rec.operations()
	if !contains(ops, "emrfs.Copy > S3.CopyObject") {
		t.Errorf("no S3.CopyObject span inside emrfs.Copy:\n%s", strings.Join(ops, "\n"))
	}
	for _, op := range ops {
		if !strings.HasPrefix(op, "emrfs.Copy") {
			t.Errorf("span %q is outside emrfs.Copy", op)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, s := range rec.spans {
		if s.name == "emrfs.Copy" && (!s.ended || s.status != tracing.SpanStatusOK || s.props["aws.s3.key"] != "dst.csv") {
			t.Errorf("emrfs.Copy span: ended %v, status %v, props %v", s.ended, s.status, s.props)
		}
	}
}

// TestTraceErrorStatus: a failed Open ends its span with an error status.
func TestTraceErrorStatus(t *testing.T) {
	st := emrfstest.Start(t)
	rec := &recorder{}
	c := tracedCSEClient(t, st, rec)
	if _, err := c.Open(context.Background(), "s3://traced/missing"); err == nil {
		t.Fatal("Open of a missing object succeeded")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, s := range rec.spans {
		if s.name == "emrfs.Open" {
			if !s.ended || s.status != tracing.SpanStatusError || s.props["error"] != true {
				t.Errorf("emrfs.Open span of a failed Open: ended %v, status %v, props %v", s.ended, s.status, s.props)
			}
			return
		}
	}
	t.Fatal("no emrfs.Open span")
}

// countingHandler counts the records it is handed at or above its level.
type countingHandler struct {
	level slog.Level
	mu    sync.Mutex
	recs  []string
}

func (h *countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Level.String()+" "+r.Message)
	h.mu.Unlock()
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

// TestLoggingSilentOnSuccess: at the default level (Info) a successful CSE
// write (single PUT and multipart), read, stat, list, copy and remove log
// nothing.
func TestLoggingSilentOnSuccess(t *testing.T) {
	st := emrfstest.Start(t)
	h := &countingHandler{level: slog.LevelInfo}
	c := tracedCSEClient(t, st, &recorder{}, func(o *emrfs.Options) {
		o.Logger = slog.New(h)
		o.PartSize = emrfs.MinPartSize
	})
	ctx := context.Background()
	for _, n := range []int{100, emrfs.MinPartSize + 100} {
		uri := "s3://traced/obj-" + strings.Repeat("x", n%7)
		data := bytes.Repeat([]byte("0123456789abcdef"), n/16)
		w, err := c.Create(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f, err := c.Open(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(f)
		f.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, %v", len(got), err)
		}
		if _, err := c.Stat(ctx, uri); err != nil {
			t.Fatal(err)
		}
		if err := c.Copy(ctx, uri, uri+".copy"); err != nil {
			t.Fatal(err)
		}
		for _, err := range c.List(ctx, "s3://traced/") {
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Remove(ctx, uri+".copy"); err != nil {
			t.Fatal(err)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.recs) != 0 {
		t.Errorf("successful operations logged at Info or above:\n%s", strings.Join(h.recs, "\n"))
	}
}

// printTracer prints our spans and the SDK's operation spans, indented
// under their parent.
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
	for _, p := range []string{"emrfs.", "S3.", "KMS."} {
		if strings.HasPrefix(name, p) {
			fmt.Println(strings.Repeat("  ", depth) + name)
		}
	}
	s := printSpan{depth: depth}
	return tracing.WithSpan(ctx, s), s
}

// Trace a client-side encrypted read: one TracerProvider for the S3 and
// KMS clients and for emrfs puts the SDK's operation spans inside ours.
func ExampleOptions_tracing() {
	ctx := context.Background()
	st, err := emrfstest.New(ctx) // a local S3 + KMS; use your AWS config instead
	if err != nil {
		panic(err)
	}
	defer st.Close()
	keyID := st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
	setup := s3.NewFromConfig(st.Config, st.S3Options)
	if _, err := setup.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs")}); err != nil {
		panic(err)
	}
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", keyID)
	cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
	writer, err := emrfs.New(setup, cfg, func(o *emrfs.Options) { o.KMS = kms.NewFromConfig(st.Config) })
	if err != nil {
		panic(err)
	}
	w, _ := writer.Create(ctx, "s3://logs/app.log")
	io.WriteString(w, "started\n")
	if err := w.Close(); err != nil {
		panic(err)
	}

	var tp tracing.TracerProvider = printTracer{} // e.g. smithyoteltracing.Adapt(otel's provider)
	c, err := emrfs.New(s3.NewFromConfig(st.Config, st.S3Options, func(o *s3.Options) { o.TracerProvider = tp }), cfg, func(o *emrfs.Options) {
		o.KMS = kms.NewFromConfig(st.Config, func(o *kms.Options) { o.TracerProvider = tp })
		o.TracerProvider = tp
	})
	if err != nil {
		panic(err)
	}
	f, err := c.Open(ctx, "s3://logs/app.log")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if _, err := io.ReadAll(f); err != nil {
		panic(err)
	}
	// Output:
	// emrfs.Open
	//   S3.GetObject
	//   emrfs.KMS.Decrypt
	//     KMS.Decrypt
}
