package authz

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestParseStrictAndBounded(t *testing.T) {
	big := strings.Repeat(" ", MaxRoleMappingsSize) + "[]"
	if _, err := ParseRoleMappings([]byte(big)); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("ParseRoleMappings: %v", err)
	}
	if _, err := ParseRoleMappingProperty(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ParseRoleMappingProperty: %v", err)
	}
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	if _, err := ParseRoleMappings([]byte(deep)); err == nil || !strings.Contains(err.Error(), "nested deeper than 64") {
		t.Errorf("deep RoleMappings: %v", err)
	}
	// (The security configuration around RoleMappings is emrfs's:
	// TestSecurityConfigurationRoleMappingsStrict.)
	_, err := ParseRoleMappings([]byte(`[{"Role": "arn:aws:iam::123456789101:role/r", "IdentifierType": "User", "Identifiers": ["u"], "role": "x"}]`))
	var me *MappingError
	if !errors.As(err, &me) {
		t.Errorf("duplicated field inside a mapping: %v, want a *MappingError", err)
	}
}

func TestAssumeRoleErrorAdvice(t *testing.T) {
	for code, want := range map[string]string{
		"Throttling":              "STS throttled the request rate, which says nothing about permissions",
		"AccessDenied":            "trust policy",
		"RegionDisabledException": "not activated",
		"ExpiredToken":            "expired or invalid",
		"":                        "could not be reached",
	} {
		var inner error = errors.New("dial tcp: connection refused")
		if code != "" {
			inner = &smithy.GenericAPIError{Code: code, Message: "m"}
		}
		e := &AssumeRoleError{Role: "arn:aws:iam::111122223333:role/r", Err: inner}
		if !strings.Contains(e.Error(), want) {
			t.Errorf("%q: %v, want advice %q", code, e, want)
		}
		if e.Throttled() != (code == "Throttling") {
			t.Errorf("%q: Throttled() = %t", code, e.Throttled())
		}
		if code == "Throttling" && strings.Contains(e.Error(), "trust policy") {
			t.Errorf("throttling blamed on the trust policy: %v", e)
		}
	}
}
