package emrfs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/tracing"

	"github.com/emrs3/emrs3/authz"
	"github.com/emrs3/emrs3/emrfs/internal/rolemap"
)

// STS session lengths accepted by fs.s3.sts.sessionDurationSeconds.
const (
	minSessionSeconds = 900
	maxSessionSeconds = 43200
)

// roleSettings are the credential settings of an EMRFS configuration.
type roleSettings struct {
	mappings    []authz.Mapping // fs.s3.authorization.roleMapping; nil when unset
	stsEndpoint string          // fs.s3.sts.endpoint as a URL; "" when unset
	stsRegion   string          // the region an AWS STS host names; "" for others
	duration    time.Duration   // fs.s3.sts.sessionDurationSeconds; 0 when unset
	custom      string          // fs.s3.customAWSCredentialsProvider; "" when unset
}

// roleMappingProperty parses fs.s3.authorization.roleMapping; nil when it
// is unset or blank. An invalid value is a *ConfigError wrapping the
// *authz.MappingError.
func (c *Config) roleMappingProperty() ([]authz.Mapping, error) {
	name := emrfsPrefix + pRoleMapping
	v, _ := c.Get(name)
	if v = strings.TrimSpace(v); v == "" {
		return nil, nil
	}
	ms, err := rolemap.ParseRoleMappingProperty(v)
	if err != nil {
		problem := strings.TrimPrefix(err.Error(), "authz: ")
		if errors.Is(err, rolemap.ErrTooLarge) {
			err = fmt.Errorf("%w: %w", ErrTooLarge, err)
		}
		return nil, &ConfigError{Property: name, Problem: problem,
			Fix: "write mappings as ROLE-ARN=u:USER;USER,ROLE-ARN=g:GROUP,ROLE-ARN=p:s3://bucket/prefix", Err: err}
	}
	return ms, nil
}

// roleSettings reads and checks the credential properties. Blank values
// count as unset; every invalid property is reported, joined, as
// *ConfigErrors.
func (c *Config) roleSettings() (roleSettings, error) {
	var s roleSettings
	var errs []error
	value := func(rest string) (string, string) {
		v, _ := c.Get(emrfsPrefix + rest)
		return strings.TrimSpace(v), emrfsPrefix + rest
	}
	ms, err := c.roleMappingProperty()
	if err != nil {
		errs = append(errs, err)
	}
	s.mappings = ms
	if v, p := value(pSTSEndpoint); v != "" {
		ep, region, err := parseSTSEndpoint(v)
		if err != nil {
			errs = append(errs, newConfigError("", p, redactUserInfo(v), err.Error(),
				"set a host name such as sts.eu-west-1.amazonaws.com or a URL such as https://sts.eu-west-1.amazonaws.com"))
		}
		s.stsEndpoint, s.stsRegion = ep, region
	}
	if v, p := value(pSTSDuration); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			errs = append(errs, newConfigError("", p, v, "not a whole number of seconds", "set 900 to 43200"))
		case n < minSessionSeconds || n > maxSessionSeconds:
			errs = append(errs, newConfigError("", p, v, "out of range", "STS accepts 900 to 43200 seconds (and no more than the role's maximum session duration)"))
		default:
			s.duration = time.Duration(n) * time.Second
		}
	}
	s.custom, _ = value(pCustomCredentials)
	if err := errors.Join(errs...); err != nil {
		return roleSettings{}, err
	}
	return s, nil
}

// stsHost matches AWS STS endpoint host names and captures the region.
var stsHost = regexp.MustCompile(`^sts(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\.amazonaws\.com(?:\.cn)?$`)

// parseSTSEndpoint turns fs.s3.sts.endpoint into a base endpoint URL and,
// for AWS STS hosts, the region to sign for.
func parseSTSEndpoint(v string) (endpoint, region string, err error) {
	s := v
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, perr := url.Parse(s)
	if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", errors.New("not an STS endpoint")
	}
	host := strings.ToLower(u.Hostname())
	if m := stsHost.FindStringSubmatch(host); m != nil {
		region = m[1]
	} else if host == "sts.amazonaws.com" {
		region = "us-east-1"
	}
	return u.String(), region, nil
}

// redactUserInfo hides a password written into an endpoint URL, so that it
// is never printed.
func redactUserInfo(v string) string {
	if !strings.Contains(v, "@") {
		return v
	}
	s := v
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = url.User("redacted")
		return u.String()
	}
	return redacted
}

// RoleOptions configure NewRoleResolver.
type RoleOptions struct {
	// Providers resolves fs.s3.customAWSCredentialsProvider; nil means
	// DefaultProviders.
	Providers *Providers
	// STS are applied to the STS client after fs.s3.sts.endpoint.
	STS []func(*sts.Options)
	// Resolver are applied to the resolver's Options after the properties
	// (Groups, Logger, DenyUnmapped, ExternalID, ...).
	Resolver []func(*authz.Options)
	// TracerProvider, when set, puts an "authz.AssumeRole" span around
	// every AssumeRole (see authz.TraceSTS) and is given to the STS client,
	// so that the SDK's own STS spans nest inside it.
	TracerProvider tracing.TracerProvider
}

// String describes the options (they hold no credentials).
func (o RoleOptions) String() string {
	return fmt.Sprintf("emrfs.RoleOptions{Providers: %s, STS: %d, Resolver: %d, TracerProvider: %t}",
		o.Providers, len(o.STS), len(o.Resolver), o.TracerProvider != nil)
}

// newRoleResolver builds the resolver of NewRoleResolver.
func newRoleResolver(ctx context.Context, cfg *Config, awsCfg aws.Config, ro RoleOptions) (*authz.Resolver, error) {
	s, err := cfg.roleSettings()
	if err != nil {
		return nil, err
	}
	mappings := s.mappings
	ignored := false
	if sec := cfg.securityRoleMappings(); sec != nil {
		ignored = mappings != nil
		mappings = sec
	}
	var custom authz.CustomFunc
	if s.custom != "" {
		custom, err = ro.Providers.orDefault().newCredentials(ctx, s.custom, ProviderConfig{Get: cfg.Get, AWS: awsCfg})
		if err != nil {
			return nil, &ConfigError{Property: emrfsPrefix + pCustomCredentials, Value: s.custom, Problem: err.Error(),
				Fix: "register the provider with Providers.RegisterCredentials (RoleOptions.Providers or DefaultProviders)", Err: err}
		}
	}
	stsFns := append([]func(*sts.Options){func(o *sts.Options) {
		if s.stsEndpoint != "" {
			o.BaseEndpoint = aws.String(s.stsEndpoint)
		}
		if s.stsRegion != "" {
			o.Region = s.stsRegion
		}
	}}, ro.STS...)
	if ro.TracerProvider != nil {
		stsFns = append([]func(*sts.Options){func(o *sts.Options) { o.TracerProvider = ro.TracerProvider }}, stsFns...)
	}
	client := authz.TraceSTS(sts.NewFromConfig(awsCfg, stsFns...), ro.TracerProvider)
	var logger *slog.Logger
	resFns := append([]func(*authz.Options){func(o *authz.Options) {
		o.Default = awsCfg.Credentials
		o.Duration = s.duration
		if custom != nil {
			o.Custom = custom
			o.CustomName = s.custom
		}
	}}, ro.Resolver...)
	resFns = append(resFns, func(o *authz.Options) { logger = o.Logger })
	r, err := authz.New(client, mappings, resFns...)
	if err != nil {
		return nil, err
	}
	if ignored && logger != nil {
		logger.LogAttrs(ctx, slog.LevelWarn, "emrfs: "+emrfsPrefix+pRoleMapping+" is ignored: the security configuration's role mappings take precedence")
	}
	return r, nil
}
