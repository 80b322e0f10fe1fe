package emrfs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emrs3/emrs3/internal/redact"
)

// ErrInvalidConfig is matched by errors.Is for every configuration problem
// reported by Config.Bucket, Config.Validate, Config.ApplySecurityConfiguration
// and the loaders' semantic checks. Use errors.As with *ConfigError for the
// details.
var ErrInvalidConfig = errors.New("emrfs: invalid configuration")

// ConfigError describes one configuration problem: the property at fault,
// its value (redacted when the property can hold key material), what is
// wrong and what to set instead.
type ConfigError struct {
	// Bucket is the bucket whose resolved settings have the problem, or ""
	// for the global settings.
	Bucket string
	// Property is the property (or security-configuration field) at fault.
	Property string
	// Value is the offending value; "<redacted>" for properties that can hold
	// key material.
	Value string
	// Problem says what is wrong.
	Problem string
	// Fix says what to set.
	Fix string
	// Err is the underlying error, if any (for a malformed role mapping,
	// the *authz.MappingError); Unwrap returns it.
	Err error
}

// Error implements error.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("emrfs: ")
	if e.Bucket != "" {
		fmt.Fprintf(&b, "bucket %q: ", e.Bucket)
	}
	b.WriteString(e.Property)
	if e.Value != "" {
		fmt.Fprintf(&b, "=%q", e.Value)
	}
	b.WriteString(": ")
	b.WriteString(e.Problem)
	if e.Fix != "" {
		b.WriteString("; ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

// Is reports whether target is ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// Unwrap returns Err.
func (e *ConfigError) Unwrap() error { return e.Err }

// newConfigError builds a ConfigError, redacting the value of secret
// properties.
func newConfigError(bucket, property, value, problem, fix string) *ConfigError {
	if isSecretProperty(property) && value != "" {
		value = redacted
	}
	return &ConfigError{Bucket: bucket, Property: property, Value: value, Problem: problem, Fix: fix}
}

const redacted = redact.Redacted

// isSecretProperty reports whether a property's value may be key material
// or a credential, and so must never be printed.
func isSecretProperty(name string) bool { return redact.SecretProperty(name) }
