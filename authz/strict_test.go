package authz

import (
	"errors"
	"strings"
	"testing"
)

func TestParseStrictAndBounded(t *testing.T) {
	big := strings.Repeat(" ", MaxRoleMappingsSize) + "[]"
	if _, err := ParseRoleMappings([]byte(big)); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("ParseRoleMappings: %v", err)
	}
	if _, err := ParseSecurityConfiguration([]byte(big)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ParseSecurityConfiguration: %v", err)
	}
	if _, err := ParseRoleMappingProperty(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ParseRoleMappingProperty: %v", err)
	}
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	if _, err := ParseRoleMappings([]byte(deep)); err == nil || !strings.Contains(err.Error(), "nested deeper than 64") {
		t.Errorf("deep RoleMappings: %v", err)
	}
	_, err := ParseSecurityConfiguration([]byte(`{"AuthorizationConfiguration": {"EmrFsConfiguration": {"RoleMappings": [], "RoleMappings": []}}}`))
	if err == nil || !strings.Contains(err.Error(), `key "RoleMappings": given twice`) {
		t.Errorf("duplicated empty RoleMappings: %v", err)
	}
	_, err = ParseSecurityConfiguration([]byte(`{"AuthorizationConfiguration": {"EmrFsConfiguration": {"RoleMappings": [{"Role": "arn:aws:iam::123456789101:role/r", "IdentifierType": "User", "Identifiers": ["u"], "role": "x"}]}}}`))
	var me *MappingError
	if !errors.As(err, &me) {
		t.Errorf("duplicated field inside a mapping: %v, want a *MappingError", err)
	}
}
