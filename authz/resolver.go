package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/singleflight"

	"github.com/emrs3/emrs3/authz/internal/location"
	"github.com/emrs3/emrs3/authz/internal/session"
)

// AssumeRoleAPI is the STS operation the resolver needs; *sts.Client
// implements it. Configure the STS endpoint (fs.s3.sts.endpoint) on the
// client with sts.Options.BaseEndpoint, or let emrfs.NewRoleResolver do it.
type AssumeRoleAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

var _ AssumeRoleAPI = (*sts.Client)(nil)

// CustomFunc is a custom credentials provider, the Go form of an EMRFS
// fs.s3.customAWSCredentialsProvider class (package emrfs builds one from
// that property). It is consulted before the role mappings for every
// request: when it returns ok, its provider signs the request; when it
// returns an error, the request fails; otherwise the mappings decide. uri
// is the request's location (s3://bucket/key).
type CustomFunc func(ctx context.Context, id Identity, uri string) (p aws.CredentialsProvider, ok bool, err error)

// Options configure a [Resolver].
type Options struct {
	// Default signs requests that no mapping matches (the cluster's own
	// credentials, usually aws.Config.Credentials). It is required unless
	// DenyUnmapped is set.
	Default aws.CredentialsProvider
	// DenyUnmapped fails requests that no mapping matches with
	// ErrAccessDenied instead of using Default.
	DenyUnmapped bool
	// Duration is the assumed-role session length
	// (fs.s3.sts.sessionDurationSeconds): whole seconds from 15 minutes to
	// 12 hours, and no more than the role's maximum session duration. Zero
	// means DefaultDuration.
	Duration time.Duration
	// ExternalID is sent with every AssumeRole call when not empty: 2 to
	// 1224 characters of [\w+=,.@:/-].
	ExternalID string
	// ExpiryWindow is how long before expiry assumed-role credentials are
	// refreshed; zero means one minute. It is capped at half of Duration
	// when Duration is set.
	ExpiryWindow time.Duration
	// MaxSessions bounds the cached credentials providers, one per (role,
	// session name) pair, for long-running services with many users; zero
	// means DefaultMaxSessions. Providers unused for longer than Duration
	// (whose credentials have expired by then) are dropped, and when more
	// than MaxSessions remain the least recently used are dropped.
	//
	// A dropped provider that is still in use (held by a request in
	// flight, or by the source side of a copy while the destination is
	// resolved) is reused, with its credentials, when its (role, session)
	// comes back: sessions in use never cost a second AssumeRole and the
	// two sides of a same-role copy get the same provider, so the copy
	// stays server-side. One that is no longer held is recreated on its
	// next use, with one AssumeRole. The first time MaxSessions is below
	// the number of sessions in use, the Logger gets a warning (once).
	MaxSessions int
	// Groups resolves the groups of identities without Groups; nil means
	// CachedGroups(OSGroups{}, DefaultGroupCacheTTL).
	Groups GroupResolver
	// Logger receives one record per decision (no secrets) at
	// DecisionLevel, refused requests at Warn, and the MaxSessions
	// warning; nil discards.
	Logger *slog.Logger
	// DecisionLevel is the level of the per-request decision records;
	// nil means slog.LevelDebug, so that a Logger at the usual Info level
	// is not flooded with one record per request. Set slog.LevelInfo for
	// an audit log.
	DecisionLevel slog.Leveler
	// Custom, when set, is consulted before the mappings (the
	// fs.s3.customAWSCredentialsProvider equivalent). If it returns ok,
	// its provider is used; if it returns an error, the request fails.
	Custom CustomFunc
	// CustomName names Custom in decisions and logs, so that an audit log
	// tells which custom provider answered; emrfs.NewRoleResolver sets it to
	// the fs.s3.customAWSCredentialsProvider value.
	CustomName string
}

// DefaultMaxSessions is the default of Options.MaxSessions. A cached
// provider with its credentials takes about 2 KiB.
const DefaultMaxSessions = 10000

// DefaultDuration is the assumed-role session length when
// Options.Duration is zero: 15 minutes, the shortest STS allows and the
// stscreds default (STS alone would give one hour, but the SDK always sends
// DurationSeconds).
const DefaultDuration = 15 * time.Minute

// externalID is the character set of an STS ExternalId, which is also
// limited to 2-1224 characters.
var externalID = regexp.MustCompile(`^[\w+=,.@:/-]+$`)

// Resolver chooses the credentials of each request from its identity and
// location. It is safe for concurrent use.
type Resolver struct {
	client   AssumeRoleAPI
	mappings []compiled
	// opts is held by pointer so that printing a struct that holds a
	// Resolver by value shows an address, never Default's credentials.
	opts   *Options
	logger *slog.Logger

	providers *bounded[providerKey, *aws.CredentialsCache]
	creating  singleflight.Group
	now       func() time.Time

	// dropped holds weak pointers to providers evicted for want of room
	// (providerKey -> weak.Pointer[aws.CredentialsCache]); see provider.
	dropped        sync.Map
	pressureLogged atomic.Bool
	decisionLevel  slog.Level
}

// New returns a Resolver for the mappings, which are validated again here
// (errors are [*MappingError]s). client may be nil only if no mapping is
// given.
func New(client AssumeRoleAPI, mappings []Mapping, optFns ...func(*Options)) (*Resolver, error) {
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	c, err := compile(mappings)
	if err != nil {
		return nil, err
	}
	if client == nil && len(c) > 0 {
		return nil, errors.New("authz: New needs an STS client to assume the mapped roles")
	}
	if o.Default == nil && !o.DenyUnmapped {
		return nil, errors.New("authz: Options.Default is nil; set the default credentials or DenyUnmapped")
	}
	if o.ExpiryWindow < 0 || o.MaxSessions < 0 {
		return nil, errors.New("authz: Options.ExpiryWindow and MaxSessions must not be negative")
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Duration%time.Second != 0 || o.Duration < minDurationSeconds*time.Second || o.Duration > maxDurationSeconds*time.Second {
		return nil, fmt.Errorf("authz: Options.Duration %s is not a session length STS accepts; set whole seconds from 15m to 12h (900 to 43200 s)", o.Duration)
	}
	if o.ExternalID != "" && (len(o.ExternalID) < 2 || len(o.ExternalID) > 1224 || !externalID.MatchString(o.ExternalID)) {
		return nil, fmt.Errorf("authz: Options.ExternalID (%d characters) is not an ExternalId STS accepts; use 2 to 1224 characters of letters, digits and +=,.@:/-_", len(o.ExternalID))
	}
	if o.ExpiryWindow == 0 {
		o.ExpiryWindow = time.Minute
	}
	if o.ExpiryWindow > o.Duration/2 {
		o.ExpiryWindow = o.Duration / 2
	}
	if o.Groups == nil {
		o.Groups = CachedGroups(OSGroups{}, DefaultGroupCacheTTL)
	}
	r := &Resolver{client: client, mappings: c, opts: &o, logger: o.Logger, now: time.Now,
		providers: newBounded[providerKey, *aws.CredentialsCache](o.MaxSessions, o.Duration, time.Now())}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	r.decisionLevel = slog.LevelDebug
	if o.DecisionLevel != nil {
		r.decisionLevel = o.DecisionLevel.Level()
	}
	r.providers.onEvict = r.evicted
	return r, nil
}

// Resolve decides which credentials sign a request for the location uri
// (s3://, s3a:// or s3n://bucket/key) made with ctx, whose identity comes
// from [WithIdentity]. For a mapped role it makes sure credentials can be
// obtained: when the role cannot be assumed it returns an [*AssumeRoleError]
// and no provider. The returned provider refreshes itself before expiry.
func (r *Resolver) Resolve(ctx context.Context, uri string) (Decision, aws.CredentialsProvider, error) {
	id, hasID := IdentityFrom(ctx)
	d, p, err := r.resolve(ctx, id, hasID, uri)
	if err != nil {
		if r.logger.Enabled(ctx, slog.LevelWarn) {
			r.logger.LogAttrs(ctx, slog.LevelWarn, "authz: request refused",
				slog.String("uri", uri), slog.String("user", id.User), slog.Any("decision", d), slog.String("error", err.Error()))
		}
		return d, nil, err
	}
	if r.logger.Enabled(ctx, r.decisionLevel) {
		r.logger.LogAttrs(ctx, r.decisionLevel, "authz: decision",
			slog.String("uri", uri), slog.String("user", id.User), slog.Any("decision", d))
	}
	return d, p, nil
}

func (r *Resolver) resolve(ctx context.Context, id Identity, hasID bool, uri string) (Decision, aws.CredentialsProvider, error) {
	loc, err := location.Parse(uri)
	if err != nil {
		return Decision{Index: -1, Reason: "invalid location"}, nil, fmt.Errorf("authz: %w", err)
	}
	if r.opts.Custom != nil {
		name := "custom credentials provider"
		if r.opts.CustomName != "" {
			name += " " + r.opts.CustomName
		}
		p, ok, err := r.opts.Custom(ctx, id, uri)
		if err != nil {
			return Decision{Index: -1, Reason: name + " failed", custom: true}, nil,
				fmt.Errorf("authz: %s for %s: %w", name, uri, err)
		}
		if ok {
			if p == nil {
				return Decision{Index: -1, Reason: name + " failed", custom: true}, nil, fmt.Errorf("authz: %s for %s returned ok with a nil provider", name, uri)
			}
			return Decision{Index: -1, Reason: name, custom: true}, p, nil
		}
	}
	d, err := evaluate(ctx, r.mappings, r.opts.Groups, id, hasID, loc)
	if err != nil {
		return d, nil, err
	}
	if d.Index < 0 {
		if r.opts.DenyUnmapped {
			d.Reason = "no role mapping matches and unmapped requests are denied"
			return d, nil, fmt.Errorf("%w: no role mapping matches %s for user %q", ErrAccessDenied, uri, id.User)
		}
		d.Reason = "no role mapping matches; default credentials"
		return d, r.opts.Default, nil
	}
	p := r.provider(d.Role, session.Name(id.User))
	if _, err := p.Retrieve(ctx); err != nil {
		return d, nil, err
	}
	return d, p, nil
}

// Pair holds the resolution of the two locations of a copy or rename.
type Pair struct {
	Src, Dst Side
	// SameRole is set when both sides are signed with the same mapped
	// role, or both with the default credentials. Only then may a copy
	// be done server-side; otherwise stream the data through the client,
	// reading with Src.Credentials and writing with Dst.Credentials.
	SameRole bool
}

// Side is the decision and credentials for one location.
type Side struct {
	Decision
	Credentials aws.CredentialsProvider
}

// ResolvePair resolves both locations of a copy or rename from src to dst.
// Either failing fails the pair.
func (r *Resolver) ResolvePair(ctx context.Context, src, dst string) (Pair, error) {
	sd, sp, err := r.Resolve(ctx, src)
	if err != nil {
		return Pair{}, fmt.Errorf("authz: copy source: %w", err)
	}
	dd, dp, err := r.Resolve(ctx, dst)
	if err != nil {
		return Pair{}, fmt.Errorf("authz: copy destination: %w", err)
	}
	same := !sd.custom && !dd.custom && sd.Role == dd.Role
	return Pair{Src: Side{sd, sp}, Dst: Side{dd, dp}, SameRole: same}, nil
}
