package emrfs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/emrs3/emrs3/emrfs/internal/hadoopconf"
	"github.com/emrs3/emrs3/internal/redact"
	"github.com/emrs3/emrs3/internal/strictjson"
)

// Config is an EMRFS / Hadoop configuration: the properties of emrfs-site
// and core-site (fs.s3.* and fs.s3a.*, global and per bucket) plus,
// optionally, an EMR security configuration. Bucket resolves it into the
// encryption of one bucket.
//
// Precedence, highest first:
//  1. the security configuration's Overrides entry for the bucket;
//  2. the security configuration's S3EncryptionConfiguration;
//  3. per-bucket properties (fs.s3.bucket.NAME.*, fs.s3a.bucket.NAME.*);
//  4. global properties (fs.s3.*, fs.s3a.*).
//
// Between the two families, fs.s3.* (EMRFS) wins over fs.s3a.* (S3A) when
// both choose an encryption; the conflict is reported by Warnings. Among
// resources, a later one wins (Set, Merge) unless the property was marked
// final in an earlier Hadoop XML resource. Values may refer to other
// properties as ${name}, as in Hadoop.
//
// A Config is not safe for concurrent modification; concurrent Bucket,
// Validate, Get and String calls are safe once it is no longer modified.
// New takes a copy (Clone): changing a Config after New does not change
// the Client.
type Config struct {
	props    *hadoopconf.Conf
	sec      *securityConfig
	warnings []string // from loading and merging
}

// Clone returns a deep copy of c: later changes to either (Set, Merge,
// ApplySecurityConfiguration) do not affect the other. A nil c clones to
// an empty configuration.
func (c *Config) Clone() *Config {
	if c == nil || c.props == nil {
		return NewConfig()
	}
	// The security configuration is never modified once applied (a later
	// ApplySecurityConfiguration or Merge replaces it), so it is shared.
	return &Config{props: c.props.Clone(), sec: c.sec, warnings: slices.Clone(c.warnings)}
}

// NewConfig returns an empty configuration: no encryption.
func NewConfig() *Config {
	return &Config{props: hadoopconf.New()}
}

// ErrSyntax is matched by errors.Is for input the loaders cannot parse
// (malformed XML or JSON).
var ErrSyntax = errors.New("emrfs: malformed configuration")

// LoadHadoopXML reads a Hadoop configuration resource such as
// emrfs-site.xml or core-site.xml. Load several and Merge them in the order
// Hadoop would (core-site, then emrfs-site).
func LoadHadoopXML(r io.Reader) (*Config, error) {
	p, w, err := hadoopconf.Parse(r)
	if errors.Is(err, hadoopconf.ErrTooLarge) {
		return nil, fmt.Errorf("%w: Hadoop XML resource is %w: more than %d bytes, the limit is %d bytes (%s)",
			ErrSyntax, ErrTooLarge, MaxHadoopXMLSize, MaxHadoopXMLSize, sizeString(MaxHadoopXMLSize))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	return &Config{props: p, warnings: w}, nil
}

// MaxHadoopXMLSize is the largest resource LoadHadoopXML reads,
// MaxConfigurationsSize the largest EMR configurations JSON
// LoadConfigurationsJSON accepts, and MaxSecurityConfigurationSize the
// largest security configuration ApplySecurityConfiguration accepts; larger
// input is an error matching ErrTooLarge.
const (
	MaxHadoopXMLSize             = hadoopconf.MaxResourceSize
	MaxConfigurationsSize        = 16 << 20
	MaxSecurityConfigurationSize = 1 << 20
)

// MaxConfigurationsDepth is how many levels of Configurations may nest
// inside the top-level ones; deeper nesting is an error (it used to be
// dropped without a word).
const MaxConfigurationsDepth = 16

// ErrTooLarge is matched by errors.Is (together with ErrSyntax) for a
// configuration resource or value over its size limit; the message names
// the limit.
var ErrTooLarge = errors.New("too large")

// tooLarge reports input over a size limit.
func tooLarge(what string, size, limit int64) error {
	return fmt.Errorf("%w: %s is %w: %d bytes, the limit is %d bytes (%s)", ErrSyntax, what, ErrTooLarge, size, limit, sizeString(limit))
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// LoadConfigurationsJSON reads EMR "configurations" JSON: an array of
// {"Classification": ..., "Properties": {...}, "Configurations": [...]}
// (or an object holding such an array under "Configurations", as
// describe-cluster prints). The properties of the emrfs-site and core-site
// classifications, at any nesting depth up to MaxConfigurationsDepth, are
// taken in document order, and the EMR Serverless disk encryption
// properties (SparkDiskEncryptionKeyArn, SparkDiskEncryptionContext) of
// spark-defaults; other classifications are ignored.
//
// Parsing is strict, since these properties decide encryption: a key
// given twice (for the fields Classification, Properties and
// Configurations also as a case variant, which encoding/json would take
// for the same field), a property given twice in one Properties object,
// an unknown field, nesting deeper than MaxConfigurationsDepth and input
// over MaxConfigurationsSize are errors that match ErrSyntax and name
// what is at fault.
func LoadConfigurationsJSON(data []byte) (*Config, error) {
	if len(data) > MaxConfigurationsSize {
		return nil, tooLarge("EMR configurations JSON", int64(len(data)), MaxConfigurationsSize)
	}
	data = bytes.TrimSpace(data)
	var list []emrConfiguration
	if len(data) > 0 && data[0] == '{' {
		if err := strictjson.Check(data, strictjson.ConfigurationsObject, ""); err != nil {
			return nil, fmt.Errorf("%w: EMR configurations JSON: %w", ErrSyntax, err)
		}
		var wrap struct {
			Configurations []emrConfiguration `json:"Configurations"`
		}
		if err := json.Unmarshal(data, &wrap); err != nil {
			return nil, fmt.Errorf("%w: EMR configurations JSON: %v", ErrSyntax, err)
		}
		list = wrap.Configurations
	} else {
		if err := strictjson.Check(data, strictjson.Configurations, "Configurations"); err != nil {
			return nil, fmt.Errorf("%w: EMR configurations JSON: %w", ErrSyntax, err)
		}
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("%w: EMR configurations JSON: %v", ErrSyntax, err)
		}
	}
	c := NewConfig()
	if err := c.addConfigurations(list, "Configurations", 0); err != nil {
		return nil, err
	}
	return c, nil
}

type emrConfiguration struct {
	Classification string                     `json:"Classification"`
	Properties     map[string]json.RawMessage `json:"Properties"`
	Configurations []emrConfiguration         `json:"Configurations"`
}

func (c *Config) addConfigurations(list []emrConfiguration, path string, depth int) error {
	if len(list) > 0 && depth > MaxConfigurationsDepth {
		return fmt.Errorf("%w: EMR configurations JSON: %s: configurations nested %d levels deep; the limit is %d levels (flatten them: properties are read at any level)",
			ErrSyntax, path, depth, MaxConfigurationsDepth)
	}
	for i, e := range list {
		switch strings.ToLower(strings.TrimSpace(e.Classification)) {
		case "emrfs-site", "core-site":
			for _, k := range sortedKeys(e.Properties) {
				c.props.Set(k, jsonScalar(e.Properties[k]))
			}
		case "spark-defaults":
			// Only the EMR Serverless disk encryption settings.
			for _, k := range []string{SparkDiskEncryptionKeyArn, SparkDiskEncryptionContext} {
				if v, ok := e.Properties[k]; ok {
					c.props.Set(k, jsonScalar(v))
				}
			}
		}
		if err := c.addConfigurations(e.Configurations, fmt.Sprintf("%s[%d].Configurations", path, i), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// jsonScalar turns a property value into text: strings as they are, other
// JSON (true, 42) as written.
func jsonScalar(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return string(bytes.TrimSpace(raw))
}

// Set sets a property, as Configuration.set does (final flags do not stop
// code). Use the names of emrfs-site and core-site, e.g.
// Set("fs.s3.cse.enabled", "true").
func (c *Config) Set(key, value string) { c.props.Set(key, value) }

// Get returns a property's value with ${name} references expanded. An
// expansion that fails (references that still expand after 20 rounds, as
// Hadoop refuses too, or a value that would grow beyond 64 KiB) returns
// the value as written; Bucket and Validate report it as a *ConfigError.
func (c *Config) Get(key string) (string, bool) { return c.props.Get(key) }

// Merge adds other's properties and security configuration to c; other's
// win, except properties marked final in c. other is not modified.
func (c *Config) Merge(other *Config) {
	if other == nil {
		return
	}
	c.warnings = append(c.warnings, other.warnings...)
	c.warnings = append(c.warnings, c.props.Merge(other.props)...)
	if other.sec != nil {
		c.sec = other.sec
	}
}

// String lists the configuration, one property per line, sorted, with the
// values of properties that can hold key material or credentials redacted.
//
// A property that a secret property refers to as ${name} (directly or
// through other references) is redacted too, since its value is then key
// material under another name.
func (c *Config) String() string {
	if c == nil || c.props == nil {
		return ""
	}
	var b strings.Builder
	secret := c.secretProperties()
	for _, k := range c.props.Keys() {
		v, _ := c.props.Raw(k)
		if secret[k] && v != "" {
			v = redacted
		}
		fmt.Fprintf(&b, "%s=%s", k, v)
		if c.props.Final(k) {
			b.WriteString(" (final)")
		}
		b.WriteByte('\n')
	}
	if c.sec != nil {
		b.WriteString(c.sec.String())
	}
	return b.String()
}

// GoString is String, so that %#v never prints key material either.
func (c *Config) GoString() string { return c.String() }

// Format writes String under every verb, so that no verb prints key
// material.
func (c Config) Format(f fmt.State, verb rune) {
	s := (&c).String()
	redact.Format(f, verb, s, s)
}

// secretProperties returns the properties whose values must not be
// printed: those whose names say they hold secrets, and every property
// they refer to as ${name}, transitively.
func (c *Config) secretProperties() map[string]bool {
	secret := map[string]bool{}
	var queue []string
	for _, k := range c.props.Keys() {
		if isSecretProperty(k) {
			secret[k] = true
			queue = append(queue, k)
		}
	}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		v, _ := c.props.Raw(k)
		for _, ref := range hadoopconf.References(v) {
			if !secret[ref] {
				secret[ref] = true
				queue = append(queue, ref)
			}
		}
	}
	return secret
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
