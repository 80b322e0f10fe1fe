package rolemap

import (
	"errors"
	"strings"
	"testing"

	"github.com/emrs3/emrs3/authz"
)

func TestParseStrictAndBounded(t *testing.T) {
	big := strings.Repeat(" ", MaxSize) + "[]"
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
	var me *authz.MappingError
	if !errors.As(err, &me) {
		t.Errorf("duplicated field inside a mapping: %v, want a *MappingError", err)
	}
}
