package authz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// fakeSTS is a Go fake of AssumeRole for the credential-caching logic; the
// STS wire protocol is covered by the integration test.
type fakeSTS struct {
	mu       sync.Mutex
	calls    []sts.AssumeRoleInput
	lifetime time.Duration
	fail     error
	delay    time.Duration
}

func (f *fakeSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, *in)
	if f.fail != nil {
		return nil, f.fail
	}
	life := f.lifetime
	if life == 0 {
		life = time.Hour
	}
	n := len(f.calls)
	return &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{
		AccessKeyId:     aws.String(fmt.Sprintf("ASIA%d", n)),
		SecretAccessKey: aws.String(fmt.Sprintf("secret-%s-%s-%d", aws.ToString(in.RoleArn), aws.ToString(in.RoleSessionName), n)),
		SessionToken:    aws.String("token"),
		Expiration:      aws.Time(time.Now().Add(life)),
	}}, nil
}

func (f *fakeSTS) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

var defaultCreds = credentials.NewStaticCredentialsProvider("AKIADEFAULT", "default-secret", "")

func newResolver(t testing.TB, client AssumeRoleAPI, m []Mapping, optFns ...func(*Options)) *Resolver {
	t.Helper()
	fns := append([]func(*Options){func(o *Options) {
		o.Default = defaultCreds
		o.Groups = staticGroups{"admin1": {"AdminGroup"}}
	}}, optFns...)
	r, err := New(client, m, fns...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func asUser(u string) context.Context { return WithIdentity(context.Background(), Identity{User: u}) }

func secret(t *testing.T, p aws.CredentialsProvider) string {
	t.Helper()
	c, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c.SecretAccessKey
}

func TestResolveAssumesMappedRole(t *testing.T) {
	f := &fakeSTS{}
	r := newResolver(t, f, seedMappings, func(o *Options) {
		o.Duration = 15 * time.Minute
		o.ExternalID = "ext-1"
	})
	d, p, err := r.Resolve(asUser("user1"), "s3://any/x")
	if err != nil {
		t.Fatal(err)
	}
	if d.Index != 0 || d.Role != seedMappings[0].Role {
		t.Fatalf("decision %+v", d)
	}
	if got, want := secret(t, p), "secret-"+seedMappings[0].Role+"-user1-1"; got != want {
		t.Fatalf("credentials %q, want %q", got, want)
	}
	in := f.calls[0]
	if aws.ToString(in.RoleArn) != seedMappings[0].Role || aws.ToString(in.RoleSessionName) != "user1" ||
		aws.ToInt32(in.DurationSeconds) != 900 || aws.ToString(in.ExternalId) != "ext-1" {
		t.Fatalf("AssumeRole input %+v", in)
	}

	// Warm: same provider, no new STS call. Another user of the same role
	// gets its own session.
	_, p2, err := r.Resolve(asUser("user1"), "s3://other/y")
	if err != nil || p2 != p || f.count() != 1 {
		t.Fatalf("warm resolve: %v, same provider %v, %d STS calls", err, p2 == p, f.count())
	}
	_, p3, err := r.Resolve(asUser("admin1"), "s3://other/y")
	if err != nil {
		t.Fatal(err)
	}
	if got := secret(t, p3); !strings.Contains(got, "AdminGroup-admin1") || f.count() != 2 {
		t.Fatalf("admin1 got %q after %d calls", got, f.count())
	}
}

func TestResolveDefaultAndDeny(t *testing.T) {
	f := &fakeSTS{}
	r := newResolver(t, f, seedMappings)
	d, p, err := r.Resolve(asUser("nobody"), "s3://elsewhere/k")
	if err != nil || d.Index != -1 || secret(t, p) != "default-secret" {
		t.Fatalf("unmapped: %+v %v", d, err)
	}
	r = newResolver(t, f, seedMappings, func(o *Options) { o.DenyUnmapped = true; o.Default = nil })
	_, p, err = r.Resolve(asUser("nobody"), "s3://elsewhere/k")
	if !errors.Is(err, ErrAccessDenied) || p != nil {
		t.Fatalf("deny: %v %v", p, err)
	}
	if f.count() != 0 {
		t.Fatalf("STS called %d times for unmapped requests", f.count())
	}
	if _, _, err := r.Resolve(asUser("user1"), "http://x/y"); err == nil {
		t.Fatal("non-S3 location accepted")
	}
}

func TestResolveFailsClosed(t *testing.T) {
	boom := errors.New("AccessDenied: not trusted")
	f := &fakeSTS{fail: boom}
	r := newResolver(t, f, seedMappings)
	d, p, err := r.Resolve(asUser("user1"), "s3://MyBucket/x")
	if p != nil {
		t.Fatal("credentials returned although the role could not be assumed")
	}
	var are *AssumeRoleError
	if !errors.As(err, &are) || are.Role != seedMappings[0].Role || !errors.Is(err, boom) {
		t.Fatalf("error %v does not name role %s", err, seedMappings[0].Role)
	}
	if !strings.Contains(err.Error(), seedMappings[0].Role) || d.Role != seedMappings[0].Role {
		t.Fatalf("error %q / decision %+v", err, d)
	}
	// The failure is not cached: once STS works, the role is assumed.
	f.mu.Lock()
	f.fail = nil
	f.mu.Unlock()
	if _, p, err := r.Resolve(asUser("user1"), "s3://MyBucket/x"); err != nil || p == nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestResolveRejectsExpiredCredentials(t *testing.T) {
	f := &fakeSTS{lifetime: -time.Minute}
	r := newResolver(t, f, seedMappings, func(o *Options) { o.ExpiryWindow = time.Nanosecond })
	_, p, err := r.Resolve(asUser("user1"), "s3://x/y")
	var are *AssumeRoleError
	if p != nil || !errors.As(err, &are) {
		t.Fatalf("expired STS credentials: %v, %v", p, err)
	}
}

// TestResolveRefreshesBeforeExpiry: credentials inside the expiry window
// are replaced although still valid, and others are reused. The SDK's
// credentials cache reads the real clock, so instead of waiting for the
// window the test puts fresh credentials inside it: they are valid for 5
// minutes and the window is 7 (outside it: 1).
func TestResolveRefreshesBeforeExpiry(t *testing.T) {
	f := &fakeSTS{lifetime: 5 * time.Minute}
	r := newResolver(t, f, seedMappings, func(o *Options) { o.ExpiryWindow = 7 * time.Minute })
	_, p, err := r.Resolve(asUser("user1"), "s3://x/y")
	if err != nil {
		t.Fatal(err)
	}
	if f.count() != 1 {
		t.Fatalf("%d STS calls", f.count())
	}
	first := secret(t, p)
	second := secret(t, p)
	if f.count() != 3 || first == second {
		t.Fatalf("credentials inside the expiry window not refreshed: %d STS calls", f.count())
	}
	_, p2, err := r.Resolve(asUser("user1"), "s3://x/y")
	if err != nil || p2 != p || f.count() != 4 {
		t.Fatalf("resolve inside the window: same provider %v, %d STS calls, %v", p2 == p, f.count(), err)
	}

	f = &fakeSTS{lifetime: 5 * time.Minute}
	r = newResolver(t, f, seedMappings, func(o *Options) { o.ExpiryWindow = time.Minute })
	_, p, err = r.Resolve(asUser("user1"), "s3://x/y")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := secret(t, p), secret(t, p); a != b || f.count() != 1 {
		t.Fatalf("credentials outside the expiry window refreshed: %d STS calls", f.count())
	}
}

func TestResolveCoalescesConcurrentCallers(t *testing.T) {
	f := &fakeSTS{delay: 20 * time.Millisecond}
	r := newResolver(t, f, seedMappings)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := "user1"
			if i%2 == 1 {
				u = "admin1"
			}
			_, p, err := r.Resolve(asUser(u), "s3://x/y")
			if err == nil {
				var c aws.Credentials
				if c, err = p.Retrieve(context.Background()); err == nil && !strings.Contains(c.SecretAccessKey, "-"+u+"-") {
					err = fmt.Errorf("%s got credentials %s", u, c.SecretAccessKey)
				}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if f.count() != 2 {
		t.Fatalf("%d STS calls for 2 (role, session) pairs", f.count())
	}
}

func TestResolveCustomFirst(t *testing.T) {
	custom := credentials.NewStaticCredentialsProvider("AKIACUSTOM", "custom-secret", "")
	boom := errors.New("vault sealed")
	f := &fakeSTS{}
	r := newResolver(t, f, seedMappings, func(o *Options) {
		o.Custom = func(_ context.Context, id Identity, uri string) (aws.CredentialsProvider, bool, error) {
			switch id.User {
			case "user1":
				return custom, true, nil
			case "broken":
				return nil, false, boom
			}
			return nil, false, nil
		}
	})
	d, p, err := r.Resolve(asUser("user1"), "s3://x/y")
	if err != nil || d.Index != -1 || d.Reason != "custom credentials provider" || secret(t, p) != "custom-secret" {
		t.Fatalf("custom: %+v %v", d, err)
	}
	if _, p, err := r.Resolve(asUser("broken"), "s3://MyBucket/y"); !errors.Is(err, boom) || p != nil {
		t.Fatalf("custom error: %v", err)
	}
	if d, _, err := r.Resolve(asUser("bob"), "s3://MyBucket/y"); err != nil || d.Index != 1 {
		t.Fatalf("custom declined: %+v %v", d, err)
	}
	if f.count() != 1 {
		t.Fatalf("%d STS calls", f.count())
	}
}

func TestResolvePair(t *testing.T) {
	m := []Mapping{
		{Role: "arn:aws:iam::123456789101:role/a", IdentifierType: Prefix, Identifiers: []string{"s3://a/", "s3://a2"}},
		{Role: "arn:aws:iam::123456789101:role/b", IdentifierType: Prefix, Identifiers: []string{"s3://b/"}},
	}
	r := newResolver(t, &fakeSTS{}, m, func(o *Options) { o.Groups = staticGroups{} })
	tests := []struct {
		src, dst string
		same     bool
	}{
		{"s3://a/x", "s3a://a2/y", true},
		{"s3://a/x", "s3://b/y", false},
		{"s3://a/x", "s3://c/y", false},
		{"s3://c/x", "s3://d/y", true},
	}
	for _, tt := range tests {
		p, err := r.ResolvePair(asUser("u"), tt.src, tt.dst)
		if err != nil {
			t.Fatal(err)
		}
		if p.SameRole != tt.same || p.Src.Credentials == nil || p.Dst.Credentials == nil {
			t.Errorf("%s -> %s: %+v", tt.src, tt.dst, p)
		}
		if !tt.same && secret(t, p.Src.Credentials) == secret(t, p.Dst.Credentials) {
			t.Errorf("%s -> %s: both sides share credentials", tt.src, tt.dst)
		}
	}
	r = newResolver(t, &fakeSTS{fail: errors.New("no")}, m, func(o *Options) { o.Groups = staticGroups{} })
	if _, err := r.ResolvePair(asUser("u"), "s3://c/x", "s3://b/y"); err == nil || !strings.Contains(err.Error(), "role/b") {
		t.Fatalf("destination failure: %v", err)
	}
}

func TestResolveLogsDecisionWithoutSecrets(t *testing.T) {
	var buf bytes.Buffer
	r := newResolver(t, &fakeSTS{}, seedMappings, func(o *Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
		o.DecisionLevel = slog.LevelInfo
	})
	if _, _, err := r.Resolve(asUser("admin1"), "s3://elsewhere/k"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"user":"admin1"`, `"uri":"s3://elsewhere/k"`, `"index":2`, `"identifier":"AdminGroup"`, seedMappings[2].Role} {
		if !strings.Contains(out, want) {
			t.Errorf("log %s lacks %s", out, want)
		}
	}
	if strings.Contains(out, "secret") || strings.Contains(out, "ASIA") || strings.Contains(out, "token") {
		t.Errorf("log leaks credentials: %s", out)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	if _, err := New(&fakeSTS{}, seedMappings); err == nil {
		t.Error("no default credentials and no DenyUnmapped accepted")
	}
	if _, err := New(nil, seedMappings, func(o *Options) { o.Default = defaultCreds }); err == nil {
		t.Error("mappings without STS client accepted")
	}
	bad := []Mapping{{Role: "r", IdentifierType: User, Identifiers: []string{"u"}}}
	if _, err := New(&fakeSTS{}, bad, func(o *Options) { o.Default = defaultCreds }); !errors.Is(err, ErrInvalidMapping) {
		t.Errorf("invalid mapping: %v", err)
	}
	for _, tt := range []struct {
		name string
		fn   func(*Options)
		msg  string
	}{
		{"negative duration", func(o *Options) { o.Duration = -time.Hour }, "Duration"},
		{"short duration", func(o *Options) { o.Duration = 899 * time.Second }, "900 to 43200"},
		{"long duration", func(o *Options) { o.Duration = 43201 * time.Second }, "900 to 43200"},
		{"fractional duration", func(o *Options) { o.Duration = 900*time.Second + time.Millisecond }, "whole seconds"},
		{"short external id", func(o *Options) { o.ExternalID = "x" }, "ExternalID"},
		{"long external id", func(o *Options) { o.ExternalID = strings.Repeat("x", 1225) }, "2 to 1224"},
		{"external id with space", func(o *Options) { o.ExternalID = "a b" }, "ExternalID"},
		{"negative window", func(o *Options) { o.ExpiryWindow = -time.Second }, "ExpiryWindow"},
	} {
		_, err := New(&fakeSTS{}, seedMappings, func(o *Options) { o.Default = defaultCreds }, tt.fn)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	for _, fn := range []func(*Options){
		func(o *Options) { o.Duration = 900 * time.Second; o.ExternalID = "ab" },
		func(o *Options) { o.Duration = 12 * time.Hour; o.ExternalID = strings.Repeat("x", 1224) },
		func(o *Options) { o.ExternalID = "arn:aws:iam::123:a/b+c=d,e.f@g_h-i" },
	} {
		if _, err := New(&fakeSTS{}, seedMappings, func(o *Options) { o.Default = defaultCreds }, fn); err != nil {
			t.Errorf("valid options refused: %v", err)
		}
	}
}

func TestDefaultDuration(t *testing.T) {
	f := &fakeSTS{}
	r := newResolver(t, f, seedMappings)
	if _, _, err := r.Resolve(asUser("user1"), "s3://x/y"); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToInt32(f.calls[0].DurationSeconds); got != int32(DefaultDuration/time.Second) {
		t.Fatalf("DurationSeconds %d, want %d", got, int32(DefaultDuration/time.Second))
	}
	if r.opts.ExpiryWindow != time.Minute {
		t.Fatalf("ExpiryWindow %s", r.opts.ExpiryWindow)
	}
}

func BenchmarkResolveWarm(b *testing.B) {
	r := newResolver(b, &fakeSTS{}, seedMappings)
	ctx := WithIdentity(context.Background(), Identity{User: "admin1", Groups: []string{"staff", "AdminGroup"}})
	if _, _, err := r.Resolve(ctx, "s3a://elsewhere/dir/file"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.Resolve(ctx, "s3a://elsewhere/dir/file"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolveWarmGroupLookup(b *testing.B) {
	r := newResolver(b, &fakeSTS{}, seedMappings, func(o *Options) {
		o.Groups = CachedGroups(staticGroups{"admin1": {"AdminGroup"}}, time.Hour)
	})
	ctx := asUser("admin1")
	if _, _, err := r.Resolve(ctx, "s3a://elsewhere/dir/file"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.Resolve(ctx, "s3a://elsewhere/dir/file"); err != nil {
			b.Fatal(err)
		}
	}
}
