package emrfs

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// nestedConfigurations returns configurations JSON whose emrfs-site
// classification, turning SSE on, sits depth levels below the top.
func nestedConfigurations(depth int) []byte {
	inner := `{"Classification": "emrfs-site", "Properties": {"fs.s3.enableServerSideEncryption": "true"}}`
	for range depth {
		inner = `{"Classification": "x", "Configurations": [` + inner + `]}`
	}
	return []byte("[" + inner + "]")
}

func TestLoadConfigurationsJSONStrict(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"second properties", `[{"Classification": "emrfs-site", "Properties": {"fs.s3.enableServerSideEncryption": "true"}, "properties": {}}]`,
			`Configurations[0]: key "properties": duplicates "Properties"`},
		{"property twice", `[{"Classification": "emrfs-site", "Properties": {"fs.s3.cse.enabled": "true", "fs.s3.cse.enabled": "false"}}]`,
			`Configurations[0].Properties: key "fs.s3.cse.enabled": given twice`},
		{"classification twice", `[{"Classification": "emrfs-site", "CLASSIFICATION": "x"}]`, `key "CLASSIFICATION": duplicates "Classification"`},
		{"unknown field", `[{"Classification": "emrfs-site", "Propertes": {}}]`, `key "Propertes": unknown field`},
		{"wrapper twice", `{"Configurations": [], "configurations": []}`, `key "configurations": duplicates "Configurations"`},
		{"wrapper unknown", `{"Configurations": [], "Cluster": {}}`, `key "Cluster": unknown field`},
		{"too deep", string(nestedConfigurations(MaxConfigurationsDepth + 1)), "nested 17 levels deep; the limit is 16"},
	} {
		_, err := LoadConfigurationsJSON([]byte(tc.doc))
		if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrSyntax naming %q", tc.name, err, tc.want)
		}
	}
	c, err := LoadConfigurationsJSON(nestedConfigurations(MaxConfigurationsDepth))
	if err != nil {
		t.Fatal(err)
	}
	if b := mustBucket(t, c, "b"); b.SSE == nil {
		t.Errorf("SSE at depth %d was dropped", MaxConfigurationsDepth)
	}
}

func TestLoadConfigurationsJSONTooLarge(t *testing.T) {
	doc := append([]byte(`[{"Classification": "x", "Properties": {"a": "`), bytes.Repeat([]byte("x"), MaxConfigurationsSize)...)
	doc = append(doc, `"}}]`...)
	_, err := LoadConfigurationsJSON(doc)
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "too large") || !strings.Contains(err.Error(), "16 MiB") {
		t.Fatalf("error %v, want ErrTooLarge naming the 16 MiB limit", err)
	}
}

func TestApplySecurityConfigurationStrict(t *testing.T) {
	const mapping = `{"Role": "arn:aws:iam::123456789101:role/r1", "IdentifierType": "User", "Identifiers": ["u"]}`
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"at-rest twice", `{"EncryptionConfiguration": {"EnableAtRestEncryption": true, "EnableAtRestEncryption": false,
			"AtRestEncryptionConfiguration": {"S3EncryptionConfiguration": {"EncryptionMode": "SSE-S3"}}}}`,
			`SecurityConfiguration.EncryptionConfiguration: key "EnableAtRestEncryption": given twice`},
		{"rolemappings variant", `{"AuthorizationConfiguration": {"EmrFsConfiguration": {"RoleMappings": [` + mapping + `], "rolemappings": []}}}`,
			`SecurityConfiguration.AuthorizationConfiguration.EmrFsConfiguration: key "rolemappings": duplicates "RoleMappings"`},
		{"empty RoleMappings twice", `{"AuthorizationConfiguration": {"EmrFsConfiguration": {"RoleMappings": [], "RoleMappings": []}}}`,
			`key "RoleMappings": given twice`},
		{"mode twice", `{"EncryptionConfiguration": {"EnableAtRestEncryption": true, "AtRestEncryptionConfiguration": {"S3EncryptionConfiguration":
			{"EncryptionMode": "SSE-S3", "encryptionmode": "CSE-KMS"}}}}`, `key "encryptionmode": duplicates "EncryptionMode"`},
		{"unknown", `{"EncryptionConfiguration": {"EnableAtRestEncryption": true, "AtRestEncryptionConfiguration": {"S3EncryptionConfiguration":
			{"EncryptionMode": "SSE-S3", "AwsKmsKeyId": "k"}}}}`, `key "AwsKmsKeyId": unknown field`},
		{"override unknown", `{"EncryptionConfiguration": {"EnableAtRestEncryption": true, "AtRestEncryptionConfiguration": {"S3EncryptionConfiguration":
			{"EncryptionMode": "SSE-S3", "Overrides": [{"Bucket": "b", "EncryptionMode": "SSE-S3"}]}}}}`, `Overrides[0]: key "Bucket": unknown field`},
		{"top unknown", `{"EncryptionConfig": {}}`, `key "EncryptionConfig": unknown field`},
		{"too deep", `{"AuthenticationConfiguration": ` + strings.Repeat(`{"a": `, 70) + `1` + strings.Repeat(`}`, 71), "nested deeper than 64"},
	} {
		c := NewConfig()
		err := c.ApplySecurityConfiguration([]byte(tc.doc))
		if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrSyntax naming %q", tc.name, err, tc.want)
		}
		if c.sec != nil {
			t.Errorf("%s: configuration changed", tc.name)
		}
	}
	big := fmt.Sprintf(`{"AuthenticationConfiguration": {"a": "%s"}}`, strings.Repeat("x", MaxSecurityConfigurationSize))
	if err := NewConfig().ApplySecurityConfiguration([]byte(big)); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("oversized security configuration: %v", err)
	}
	if err := NewConfig().ApplySecurityConfiguration(readTestdata(t, "security-configuration.json")); err != nil {
		t.Errorf("the sample security configuration: %v", err)
	}
}

func TestLoadHadoopXMLTooLarge(t *testing.T) {
	head := "<configuration><property><name>fs.s3.cse.enabled</name><value>"
	tail := "</value></property></configuration>"
	over := head + strings.Repeat("x", MaxHadoopXMLSize) + tail
	_, err := LoadHadoopXML(strings.NewReader(over))
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "too large") ||
		!strings.Contains(err.Error(), "16 MiB") || strings.Contains(err.Error(), "EOF") {
		t.Fatalf("oversized XML: %v, want a too-large error naming the 16 MiB limit", err)
	}
	under := head + strings.Repeat("x", MaxHadoopXMLSize-len(head)-len(tail)) + tail
	if _, err := LoadHadoopXML(strings.NewReader(under)); err != nil {
		t.Fatalf("XML of exactly the limit: %v", err)
	}
}

func TestExpansionBounded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"cycle", map[string]string{"fs.s3.enableServerSideEncryption": "${x}", "x": "${y}", "y": "${x}"}, "after 20 rounds"},
		{"doubling", map[string]string{"fs.s3.enableServerSideEncryption": "${g}", "g": "${g}${g}"}, "more than 1024 references"},
		{"long", map[string]string{"fs.s3.enableServerSideEncryption": "${g}", "g": "${h}${h}", "h": strings.Repeat("y", 40000)}, "longer than 65536 bytes (64 KiB)"},
		{"wide", map[string]string{"fs.s3a.encryption.algorithm": strings.Repeat("${w}", 100), "w": strings.Repeat("x", 1000)}, "longer than 65536"},
	} {
		c := configOf(tc.props)
		_, err := c.Bucket("b")
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want a *ConfigError saying %q", tc.name, err, tc.want)
			continue
		}
		if strings.Count(err.Error(), tc.want) != 1 {
			t.Errorf("%s: reported more than once: %v", tc.name, err)
		}
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate passed", tc.name)
		}
	}
	// A chain of 19 references is fine.
	props := map[string]string{"fs.s3.enableServerSideEncryption": "${c0}", "c19": "true"}
	for i := range 19 {
		props[fmt.Sprintf("c%d", i)] = fmt.Sprintf("${c%d}", i+1)
	}
	if b := mustBucket(t, configOf(props), "b"); b.SSE == nil {
		t.Error("a chain of 19 references did not resolve")
	}
}

func BenchmarkBucketPathologicalExpansion(b *testing.B) {
	props := map[string]string{"g": "${g}${g}"}
	for _, p := range []string{"fs.s3.enableServerSideEncryption", "fs.s3.cse.enabled", "fs.s3a.encryption.algorithm",
		"fs.s3a.encryption.key", "fs.s3.cse.cryptoMode", "fs.s3a.encryption.context"} {
		props[p] = "${g}"
	}
	c := configOf(props)
	for b.Loop() {
		c.Bucket("b")
	}
}
