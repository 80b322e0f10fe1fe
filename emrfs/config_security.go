package emrfs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emrs3/emrs3/authz"
	"github.com/emrs3/emrs3/emrfs/internal/rolemap"
	"github.com/emrs3/emrs3/internal/strictjson"
)

// Encryption modes of an EMR security configuration's
// S3EncryptionConfiguration.
const (
	secSSES3     = "SSE-S3"
	secSSEKMS    = "SSE-KMS"
	secCSEKMS    = "CSE-KMS"
	secCSECustom = "CSE-Custom"
)

const secPath = "SecurityConfiguration.EncryptionConfiguration.AtRestEncryptionConfiguration.S3EncryptionConfiguration"

const secAuthzPath = "SecurityConfiguration.AuthorizationConfiguration.EmrFsConfiguration.RoleMappings"

// securityConfig is the part of an EMR security configuration that decides
// S3 encryption.
type securityConfig struct {
	// s3 is nil when the security configuration does not encrypt S3 data at
	// rest; then emrfs-site decides.
	s3        *secEncryption
	overrides map[string]*secEncryption
	order     []string // override bucket names in document order
	// roleMappings are the AuthorizationConfiguration's role mappings; nil
	// when it has none.
	roleMappings []authz.Mapping
	// disk is the LocalDiskEncryptionConfiguration's KMS key; nil when it
	// names none.
	disk *DiskEncryption
	// diskWarning says why a LocalDiskEncryptionConfiguration gives no key
	// (a Custom provider, at-rest encryption off); New logs it.
	diskWarning string
}

// secEncryption is one S3 encryption choice of a security configuration.
type secEncryption struct {
	field         string // where it came from, for messages
	mode          string
	kmsKey        string
	s3Object      string
	providerClass string
}

func (s *securityConfig) forBucket(bucket string) *secEncryption {
	if s == nil || s.s3 == nil {
		return nil
	}
	if o := s.overrides[bucket]; o != nil {
		return o
	}
	return s.s3
}

func (s *securityConfig) String() string {
	var b strings.Builder
	if s.s3 == nil {
		b.WriteString("security configuration: S3 encryption at rest off\n")
	} else {
		fmt.Fprintf(&b, "security configuration: S3 encryption %s\n", s.s3)
		for _, name := range s.order {
			fmt.Fprintf(&b, "security configuration: bucket %s: S3 encryption %s\n", name, s.overrides[name])
		}
	}
	for i, m := range s.roleMappings {
		fmt.Fprintf(&b, "security configuration: role mapping %d: %s %s %s\n", i, m.Role, m.IdentifierType, strings.Join(m.Identifiers, ";"))
	}
	return b.String()
}

func (e *secEncryption) String() string {
	s := e.mode
	if e.kmsKey != "" {
		s += " key=" + e.kmsKey
	}
	if e.providerClass != "" {
		s += " provider=" + e.providerClass
	}
	if e.s3Object != "" {
		s += " jar=" + e.s3Object
	}
	return s
}

// flexBool is a JSON boolean that EMR also accepts as "true" / "false".
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch t := v.(type) {
	case bool:
		*b = flexBool(t)
		return nil
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true":
			*b = true
			return nil
		case "false", "":
			*b = false
			return nil
		}
	case nil:
		*b = false
		return nil
	}
	return fmt.Errorf("%s is not a boolean (want true or false)", data)
}

type secEncryptionJSON struct {
	BucketName                 string `json:"BucketName"`
	EncryptionMode             string `json:"EncryptionMode"`
	AwsKmsKey                  string `json:"AwsKmsKey"`
	S3Object                   string `json:"S3Object"`
	EncryptionKeyProviderClass string `json:"EncryptionKeyProviderClass"`
}

type securityConfigJSON struct {
	EncryptionConfiguration *struct {
		EnableAtRestEncryption        flexBool `json:"EnableAtRestEncryption"`
		EnableInTransitEncryption     flexBool `json:"EnableInTransitEncryption"`
		AtRestEncryptionConfiguration *struct {
			S3EncryptionConfiguration *struct {
				secEncryptionJSON
				Overrides []secEncryptionJSON `json:"Overrides"`
			} `json:"S3EncryptionConfiguration"`
			LocalDiskEncryptionConfiguration *localDiskJSON `json:"LocalDiskEncryptionConfiguration"`
		} `json:"AtRestEncryptionConfiguration"`
	} `json:"EncryptionConfiguration"`
	AuthorizationConfiguration *struct {
		EmrFsConfiguration *struct {
			RoleMappings json.RawMessage `json:"RoleMappings"`
		} `json:"EmrFsConfiguration"`
	} `json:"AuthorizationConfiguration"`
}

// ApplySecurityConfiguration applies an EMR security configuration (the
// JSON given to `aws emr create-security-configuration`). Its S3 encryption
// at rest (EncryptionMode SSE-S3, SSE-KMS, CSE-KMS or CSE-Custom, and
// per-bucket Overrides) overrides the encryption chosen by emrfs-site and
// core-site properties, as on a cluster; CSE details it does not carry
// (storage mode, V2, crypto mode, ...) still come from emrfs-site. Booleans
// may be JSON booleans or "true"/"false" strings.
//
// Its LocalDiskEncryptionConfiguration, when it names a KMS key
// (EncryptionKeyProviderType AwsKms, AwsKmsKey), becomes the disk
// encryption of the client's spool files (see Config.DiskEncryption).
//
// The role mappings of its AuthorizationConfiguration
// (EmrFsConfiguration.RoleMappings) are kept, see [Config.RoleMappings];
// they replace fs.s3.authorization.roleMapping, as on a cluster, where EMR
// writes them into that property.
//
// Parsing is strict, since the document decides encryption and
// credentials: a key given twice (a case variant included, which
// encoding/json would take for the same field), a field this package does
// not know in the sections it reads, nesting deeper than 64 levels and a
// document over MaxSecurityConfigurationSize are syntax errors that name
// the key and where it is. The sections it does not read
// (InTransitEncryptionConfiguration, AuthenticationConfiguration, ...) and
// LocalDiskEncryptionConfiguration, of which only the key provider fields
// are read, are checked for duplicated keys only.
//
// A syntax error matches ErrSyntax; a semantic one (unknown mode, missing or
// malformed key, bad bucket name) is a *ConfigError matching
// ErrInvalidConfig, and an invalid role mapping is an *authz.MappingError
// that also matches ErrInvalidConfig; in all cases c is left unchanged. A
// later call replaces the earlier security configuration.
func (c *Config) ApplySecurityConfiguration(data []byte) error {
	if len(data) > MaxSecurityConfigurationSize {
		return tooLarge("security configuration JSON", int64(len(data)), MaxSecurityConfigurationSize)
	}
	if err := strictjson.Check(data, strictjson.SecurityConfiguration, "SecurityConfiguration"); err != nil {
		return fmt.Errorf("%w: security configuration JSON: %w", ErrSyntax, err)
	}
	var raw securityConfigJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("%w: security configuration JSON: %v", ErrSyntax, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: security configuration JSON: data after the top-level object", ErrSyntax)
	}
	sec := &securityConfig{}
	var errs []error
	enc := raw.EncryptionConfiguration
	if enc != nil && enc.AtRestEncryptionConfiguration != nil && enc.AtRestEncryptionConfiguration.S3EncryptionConfiguration != nil {
		s3c := enc.AtRestEncryptionConfiguration.S3EncryptionConfiguration
		if !enc.EnableAtRestEncryption {
			c.warnings = append(c.warnings, "security configuration: S3EncryptionConfiguration is ignored because EnableAtRestEncryption is false")
		} else {
			var err error
			if sec.s3, err = newSecEncryption(secPath, s3c.secEncryptionJSON); err != nil {
				errs = append(errs, err)
			}
			sec.overrides = map[string]*secEncryption{}
			for i, o := range s3c.Overrides {
				field := fmt.Sprintf("%s.Overrides[%d]", secPath, i)
				if !bucketNameRE.MatchString(o.BucketName) {
					errs = append(errs, newConfigError("", field+".BucketName", o.BucketName, "not a bucket name", "set the name of the bucket the override applies to"))
					continue
				}
				if _, dup := sec.overrides[o.BucketName]; dup {
					errs = append(errs, newConfigError("", field+".BucketName", o.BucketName, "a second override for the same bucket", "keep one override per bucket"))
					continue
				}
				e, err := newSecEncryption(field, o)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				sec.overrides[o.BucketName] = e
				sec.order = append(sec.order, o.BucketName)
			}
		}
	}
	if enc != nil && enc.AtRestEncryptionConfiguration != nil {
		d, w, err := diskFromSecurity(enc.AtRestEncryptionConfiguration.LocalDiskEncryptionConfiguration, bool(enc.EnableAtRestEncryption))
		if w != "" {
			c.warnings = append(c.warnings, w)
		}
		if err != nil {
			errs = append(errs, err)
		}
		sec.disk, sec.diskWarning = d, w
	}
	if ac := raw.AuthorizationConfiguration; ac != nil {
		if ac.EmrFsConfiguration == nil || len(ac.EmrFsConfiguration.RoleMappings) == 0 {
			errs = append(errs, newConfigError("", secAuthzPath, "", "AuthorizationConfiguration needs EmrFsConfiguration.RoleMappings",
				"give the role mappings, or remove AuthorizationConfiguration"))
		} else {
			ms, err := rolemap.ParseRoleMappings(ac.EmrFsConfiguration.RoleMappings)
			if err != nil {
				errs = append(errs, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, secAuthzPath, err))
			}
			sec.roleMappings = ms
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c.sec = sec
	return nil
}

// RoleMappings returns the role mappings that decide the credentials of
// each request: those of the security configuration's
// AuthorizationConfiguration when one was applied (they take precedence,
// as on a cluster), else those of fs.s3.authorization.roleMapping. It
// returns nil when neither is set. A malformed property is a *ConfigError
// wrapping an *authz.MappingError.
func (c *Config) RoleMappings() ([]authz.Mapping, error) {
	if c.sec != nil && c.sec.roleMappings != nil {
		return cloneMappings(c.sec.roleMappings), nil
	}
	return c.roleMappingProperty()
}

// securityRoleMappings returns the security configuration's role mappings,
// or nil.
func (c *Config) securityRoleMappings() []authz.Mapping {
	if c.sec == nil {
		return nil
	}
	return cloneMappings(c.sec.roleMappings)
}

// cloneMappings returns a deep copy, so that the applied security
// configuration stays immutable (Config.Clone shares it).
func cloneMappings(ms []authz.Mapping) []authz.Mapping {
	if ms == nil {
		return nil
	}
	out := make([]authz.Mapping, len(ms))
	for i, m := range ms {
		m.Identifiers = slices.Clone(m.Identifiers)
		out[i] = m
	}
	return out
}

func newSecEncryption(field string, j secEncryptionJSON) (*secEncryption, error) {
	e := &secEncryption{field: field, kmsKey: strings.TrimSpace(j.AwsKmsKey), s3Object: strings.TrimSpace(j.S3Object),
		providerClass: strings.TrimSpace(j.EncryptionKeyProviderClass)}
	switch strings.ToUpper(strings.TrimSpace(j.EncryptionMode)) {
	case "SSE-S3":
		e.mode = secSSES3
	case "SSE-KMS":
		e.mode = secSSEKMS
	case "CSE-KMS":
		e.mode = secCSEKMS
	case "CSE-CUSTOM":
		e.mode = secCSECustom
	default:
		return nil, newConfigError("", field+".EncryptionMode", j.EncryptionMode, "unknown encryption mode",
			"set SSE-S3, SSE-KMS, CSE-KMS or CSE-Custom")
	}
	switch e.mode {
	case secSSES3:
		if e.kmsKey != "" {
			return nil, newConfigError("", field+".AwsKmsKey", e.kmsKey, "SSE-S3 takes no KMS key", "remove AwsKmsKey or use EncryptionMode SSE-KMS")
		}
	case secSSEKMS, secCSEKMS:
		if e.kmsKey == "" {
			return nil, newConfigError("", field+".AwsKmsKey", "", e.mode+" needs a KMS key", "set AwsKmsKey to a KMS key ARN")
		}
		if err := checkKMSKeyID("", field+".AwsKmsKey", e.kmsKey); err != nil {
			return nil, err
		}
	case secCSECustom:
		if e.providerClass == "" {
			return nil, newConfigError("", field+".EncryptionKeyProviderClass", "", "CSE-Custom needs a provider",
				"set EncryptionKeyProviderClass to the provider's class name (in Go, the name it was registered under)")
		}
	}
	return e, nil
}
