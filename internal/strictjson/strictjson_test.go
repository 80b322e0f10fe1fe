package strictjson

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		schema    *Schema
		want      string // substring of the error; "" for none
	}{
		{"ok", `{"EncryptionConfiguration": {"EnableAtRestEncryption": true}}`, SecurityConfiguration, ""},
		{"duplicate", `{"EncryptionConfiguration": {"EnableAtRestEncryption": true, "EnableAtRestEncryption": false}}`, SecurityConfiguration,
			`SecurityConfiguration.EncryptionConfiguration: key "EnableAtRestEncryption": given twice`},
		{"case variant", `{"AuthorizationConfiguration": {"EmrFsConfiguration": {"RoleMappings": [], "rolemappings": []}}}`, SecurityConfiguration,
			`key "rolemappings": duplicates "RoleMappings"`},
		{"kelvin sign", "{\"Kind\": 1, \"\u212aind\": 2}", nil, `duplicates "Kind"`},
		{"unknown", `{"EncryptionConfiguration": {"EnableAtRestEncryptoin": true}}`, SecurityConfiguration, `key "EnableAtRestEncryptoin": unknown field`},
		{"opaque section dup", `{"AuthenticationConfiguration": {"a": 1, "A": 2}}`, SecurityConfiguration, `key "A": duplicates "a"`},
		{"opaque section free", `{"AuthenticationConfiguration": {"KerberosConfiguration": {"Provider": "ClusterDedicatedKdc"}}}`, SecurityConfiguration, ""},
		{"map keeps case", `[{"Classification": "core-site", "Properties": {"a.b": "1", "A.B": "2"}}]`, Configurations, ""},
		{"map exact dup", `[{"Classification": "core-site", "Properties": {"a.b": "1", "a.b": "2"}}]`, Configurations, `Configurations[0].Properties: key "a.b": given twice`},
		{"field variant", `[{"Classification": "core-site", "Properties": {}, "properties": {}}]`, Configurations, `key "properties": duplicates "Properties"`},
		{"delegated", `[{"Role": "r", "Role": "s"}]`, RoleMappings, ""},
		{"deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), nil, "nested deeper than 64"},
		{"deep enough", strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), nil, ""},
		{"trailing", `{} {}`, nil, "data after"},
		{"truncated", `{"a": [1, 2`, nil, "EOF"},
	} {
		err := Check([]byte(tc.doc), tc.schema, map[*Schema]string{SecurityConfiguration: "SecurityConfiguration", Configurations: "Configurations"}[tc.schema])
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
		var se *Error
		if err != nil && errors.As(err, &se) && !errors.Is(err, ErrStrict) {
			t.Errorf("%s: %v does not match ErrStrict", tc.name, err)
		}
	}
}
