package authz

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
)

// The EMRFS (emrfs-site) properties that [ReadProperties] and
// [NewFromProperties] read.
const (
	// PropertyRoleMapping holds role mappings in text form; see
	// [ParseRoleMappingProperty].
	PropertyRoleMapping = "fs.s3.authorization.roleMapping"
	// PropertySTSEndpoint is the STS endpoint roles are assumed through: a
	// host name (sts.eu-west-1.amazonaws.com) or a URL.
	PropertySTSEndpoint = "fs.s3.sts.endpoint"
	// PropertySessionDuration is the assumed-role session length in whole
	// seconds, 900 to 43200.
	PropertySessionDuration = "fs.s3.sts.sessionDurationSeconds"
	// PropertyCustomProvider names a custom credentials provider registered
	// in a [ProviderRegistry].
	PropertyCustomProvider = "fs.s3.customAWSCredentialsProvider"
)

// Properties are the credential settings of an EMRFS configuration.
type Properties struct {
	// Mappings are the role mappings of fs.s3.authorization.roleMapping;
	// nil when it is unset or blank.
	Mappings []Mapping
	// STSEndpoint is fs.s3.sts.endpoint as a URL (https:// is added to a
	// bare host name); "" when unset.
	STSEndpoint string
	// STSRegion is the region named by an AWS STS endpoint host
	// (sts.REGION.amazonaws.com, and us-east-1 for sts.amazonaws.com); ""
	// for other hosts. Requests to the endpoint are signed for it.
	STSRegion string
	// Duration is fs.s3.sts.sessionDurationSeconds; zero when unset.
	Duration time.Duration
	// CustomProvider is the name in fs.s3.customAWSCredentialsProvider;
	// "" when unset.
	CustomProvider string
}

// ErrInvalidProperty is wrapped by every [*PropertyError].
var ErrInvalidProperty = errors.New("authz: invalid property")

// PropertyError reports a credentials property whose value cannot be used.
// A role-mapping error also unwraps to the [*MappingError].
type PropertyError struct {
	Property string // the property's name
	Value    string // the offending value ("" for fs.s3.authorization.roleMapping, which is named by the MappingError)
	Err      error  // what is wrong
}

func (e *PropertyError) Error() string {
	msg := strings.TrimPrefix(e.Err.Error(), "authz: ")
	if e.Value == "" {
		return fmt.Sprintf("authz: %s: %s", e.Property, msg)
	}
	return fmt.Sprintf("authz: %s=%q: %s", e.Property, e.Value, msg)
}

// Unwrap returns the underlying error.
func (e *PropertyError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidProperty.
func (e *PropertyError) Is(target error) bool { return target == ErrInvalidProperty }

// ReadProperties reads and checks the credentials properties through get
// (emrfs.Config.Get has this signature). Blank values count as unset.
// Every invalid property is reported, joined, as [*PropertyError]s.
func ReadProperties(get func(name string) (string, bool)) (Properties, error) {
	var p Properties
	var errs []error
	value := func(name string) string {
		v, _ := get(name)
		return strings.TrimSpace(v)
	}
	if v := value(PropertyRoleMapping); v != "" {
		ms, err := ParseRoleMappingProperty(v)
		if err != nil {
			errs = append(errs, &PropertyError{PropertyRoleMapping, "", err})
		}
		p.Mappings = ms
	}
	if v := value(PropertySTSEndpoint); v != "" {
		ep, region, err := parseSTSEndpoint(v)
		if err != nil {
			errs = append(errs, &PropertyError{PropertySTSEndpoint, redactUserInfo(v), err})
		}
		p.STSEndpoint, p.STSRegion = ep, region
	}
	if v := value(PropertySessionDuration); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			errs = append(errs, &PropertyError{PropertySessionDuration, v, errors.New("not a whole number of seconds; set 900 to 43200")})
		case n < minDurationSeconds || n > maxDurationSeconds:
			errs = append(errs, &PropertyError{PropertySessionDuration, v, errors.New("out of range; STS accepts 900 to 43200 seconds (and no more than the role's maximum session duration)")})
		default:
			p.Duration = time.Duration(n) * time.Second
		}
	}
	p.CustomProvider = value(PropertyCustomProvider)
	if err := errors.Join(errs...); err != nil {
		return Properties{}, err
	}
	return p, nil
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
		return "", "", errors.New("not an STS endpoint; set a host name such as sts.eu-west-1.amazonaws.com or a URL such as https://sts.eu-west-1.amazonaws.com")
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
	return "<redacted>"
}

// PropertiesOptions configure [NewFromProperties].
type PropertiesOptions struct {
	// Mappings, when not nil, are used instead of
	// fs.s3.authorization.roleMapping, which is then ignored (a warning is
	// logged when it is set). Pass the role mappings of an EMR security
	// configuration here: on a cluster, EMR writes them into that
	// property, so they win over an emrfs-site value, as the security
	// configuration's encryption settings do.
	Mappings []Mapping
	// Providers resolves fs.s3.customAWSCredentialsProvider; nil means
	// DefaultProviders.
	Providers *ProviderRegistry
	// STS are applied to the STS client after fs.s3.sts.endpoint.
	STS []func(*sts.Options)
	// Resolver are applied to the resolver's Options after the properties
	// (Groups, Logger, DenyUnmapped, ExternalID, ...).
	Resolver []func(*Options)
	// TracerProvider, when set, puts an "authz.AssumeRole" span around
	// every AssumeRole (see TraceSTS) and is given to the STS client, so
	// that the SDK's own STS spans nest inside it.
	TracerProvider tracing.TracerProvider
}

// NewFromProperties returns a Resolver configured by EMRFS properties read
// through get (emrfs.Config.Get has this signature):
//
//   - fs.s3.authorization.roleMapping: the role mappings, unless
//     PropertiesOptions.Mappings are given;
//   - fs.s3.sts.endpoint: the STS client's BaseEndpoint (and its signing
//     region for sts.REGION.amazonaws.com hosts);
//   - fs.s3.sts.sessionDurationSeconds: Options.Duration;
//   - fs.s3.customAWSCredentialsProvider: Options.Custom, built by the
//     factory registered under that name.
//
// Roles are assumed with awsCfg's credentials through
// sts.NewFromConfig(awsCfg), and those credentials sign the requests no
// mapping matches (Options.Default). Errors are [*PropertyError]s, or the
// errors of [New] and of the provider's factory.
func NewFromProperties(ctx context.Context, awsCfg aws.Config, get func(name string) (string, bool), optFns ...func(*PropertiesOptions)) (*Resolver, error) {
	var po PropertiesOptions
	for _, fn := range optFns {
		fn(&po)
	}
	p, err := ReadProperties(get)
	if err != nil {
		return nil, err
	}
	ignored := po.Mappings != nil && p.Mappings != nil
	if po.Mappings != nil {
		p.Mappings = po.Mappings
	}
	var custom CustomFunc
	if p.CustomProvider != "" {
		reg := po.Providers
		if reg == nil {
			reg = DefaultProviders
		}
		custom, err = reg.New(ctx, p.CustomProvider, ProviderConfig{Get: get, AWS: awsCfg})
		if err != nil {
			return nil, &PropertyError{PropertyCustomProvider, p.CustomProvider, err}
		}
	}
	stsFns := append([]func(*sts.Options){func(o *sts.Options) {
		if p.STSEndpoint != "" {
			o.BaseEndpoint = aws.String(p.STSEndpoint)
		}
		if p.STSRegion != "" {
			o.Region = p.STSRegion
		}
	}}, po.STS...)
	if po.TracerProvider != nil {
		stsFns = append([]func(*sts.Options){func(o *sts.Options) { o.TracerProvider = po.TracerProvider }}, stsFns...)
	}
	client := TraceSTS(sts.NewFromConfig(awsCfg, stsFns...), po.TracerProvider)
	resFns := append([]func(*Options){func(o *Options) {
		o.Default = awsCfg.Credentials
		o.Duration = p.Duration
		if custom != nil {
			o.Custom = custom
			o.CustomName = p.CustomProvider
		}
	}}, po.Resolver...)
	r, err := New(client, p.Mappings, resFns...)
	if err != nil {
		return nil, err
	}
	if ignored {
		r.logger.LogAttrs(ctx, slog.LevelWarn, "authz: "+PropertyRoleMapping+" is ignored: the security configuration's role mappings take precedence")
	}
	return r, nil
}
