package emrfs

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/emrs3/emrs3/authz"
)

func TestSecurityConfigurationPrecedence(t *testing.T) {
	c := configOf(map[string]string{
		"fs.s3.enableServerSideEncryption":                        "true",
		"fs.s3.serverSideEncryption.kms.keyId":                    "alias/site",
		"fs.s3.serverSideEncryption.kms.customEncryptionContext":  "team=data",
		"fs.s3.bucket.public-data.serverSideEncryption.kms.keyId": "alias/public",
		"fs.s3.cse.cryptoStorageMode":                             "InstructionFile",
		"fs.s3.cse.encryptionV2.enabled":                          "true",
	})
	if err := c.ApplySecurityConfiguration(readTestdata(t, "security-configuration.json")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		bucket string
		sse    *SSE
		cse    *CSE
	}{
		// The security configuration's CSE-KMS beats emrfs-site SSE; the
		// emrfs-site CSE details still apply.
		{"any-bucket", nil, &CSE{Provider: KMSMaterialsProvider, KMSKeyID: testKeyARN, InstructionFile: true, V2: true, CryptoMode: CryptoModeEncryptionOnly}},
		// An override beats the security configuration's default and the
		// per-bucket emrfs-site key.
		{"public-data", &SSE{Kind: SSES3}, nil},
		// SSE-KMS from the security configuration keeps the emrfs-site context.
		{"kms-data", &SSE{Kind: SSEKMS, KMSKeyID: "arn:aws:kms:us-east-1:123456789012:alias/kms-data", Context: map[string]string{"team": "data"}}, nil},
		{"custom-data", nil, &CSE{Provider: "com.example.P", ProviderURI: "s3://bucket/provider.jar", InstructionFile: true, V2: true, CryptoMode: CryptoModeEncryptionOnly}},
	}
	for _, tt := range tests {
		b := mustBucket(t, c, tt.bucket)
		if !reflect.DeepEqual(b.SSE, tt.sse) || !reflect.DeepEqual(b.CSE, tt.cse) {
			t.Errorf("%s: got SSE %v CSE %+v; want SSE %v CSE %+v", tt.bucket, b.SSE, b.CSE, tt.sse, tt.cse)
		}
	}
	w := strings.Join(c.Warnings(), "\n")
	if !strings.Contains(w, "the security configuration ("+secPath+") overrides fs.s3.enableServerSideEncryption") ||
		!strings.Contains(w, "bucket public-data: the security configuration ("+secPath+".Overrides[0]) overrides") {
		t.Errorf("warnings:\n%s", w)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	s := c.String()
	if !strings.Contains(s, "security configuration: S3 encryption CSE-KMS key="+testKeyARN) ||
		!strings.Contains(s, "security configuration: bucket custom-data: S3 encryption CSE-Custom provider=com.example.P jar=s3://bucket/provider.jar") {
		t.Errorf("String:\n%s", s)
	}
}

func TestSecurityConfigurationDecidesOverConflictingSite(t *testing.T) {
	// emrfs-site alone is invalid (SSE and CSE both on); the security
	// configuration replaces that choice, so the bucket resolves.
	c := configOf(map[string]string{"fs.s3.enableServerSideEncryption": "true", "fs.s3.cse.enabled": "true"})
	if _, err := c.Bucket("b"); err == nil {
		t.Fatal("conflicting emrfs-site accepted")
	}
	err := c.ApplySecurityConfiguration([]byte(`{"EncryptionConfiguration":{"EnableAtRestEncryption":true,
		"AtRestEncryptionConfiguration":{"S3EncryptionConfiguration":{"EncryptionMode":"sse-s3"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if b := mustBucket(t, c, "b"); !reflect.DeepEqual(b.SSE, &SSE{Kind: SSES3}) || b.CSE != nil {
		t.Errorf("got %v", b)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if w := strings.Join(c.Warnings(), "\n"); !strings.Contains(w, "ignored because the security configuration decides the encryption: emrfs: fs.s3.cse.enabled=\"true\": SSE") {
		t.Errorf("warnings:\n%s", w)
	}
	// Problems in the CSE details still count.
	c.Set("fs.s3.cse.cryptoMode", "bogus")
	_ = c.ApplySecurityConfiguration([]byte(`{"EncryptionConfiguration":{"EnableAtRestEncryption":true,
		"AtRestEncryptionConfiguration":{"S3EncryptionConfiguration":{"EncryptionMode":"CSE-KMS","AwsKmsKey":"alias/k"}}}}`))
	if _, err := c.Bucket("b"); err == nil || !strings.Contains(err.Error(), "fs.s3.cse.cryptoMode") {
		t.Errorf("Bucket: %v", err)
	}
}

func TestSecurityConfigurationWithoutS3Encryption(t *testing.T) {
	site := map[string]string{"fs.s3.enableServerSideEncryption": "true"}
	for name, doc := range map[string]string{
		"authorization only": `{"AuthorizationConfiguration":{"EmrFsConfiguration":{"RoleMappings":[
			{"Role":"arn:aws:iam::123456789101:role/r1","IdentifierType":"User","Identifiers":["user1"]}]}}}`,
		"at rest disabled": `{"EncryptionConfiguration":{"EnableAtRestEncryption":"false","AtRestEncryptionConfiguration":
			{"S3EncryptionConfiguration":{"EncryptionMode":"CSE-KMS","AwsKmsKey":"` + testKeyARN + `"}}}}`,
		"local disk only": `{"EncryptionConfiguration":{"EnableAtRestEncryption":true,"AtRestEncryptionConfiguration":
			{"LocalDiskEncryptionConfiguration":{"EncryptionKeyProviderType":"AwsKms","AwsKmsKey":"` + testKeyARN + `"}}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			c := configOf(site)
			if err := c.ApplySecurityConfiguration([]byte(doc)); err != nil {
				t.Fatal(err)
			}
			if b := mustBucket(t, c, "b"); !reflect.DeepEqual(b.SSE, &SSE{Kind: SSES3}) || b.CSE != nil {
				t.Errorf("emrfs-site not used: %v", b)
			}
		})
	}
	c := configOf(site)
	_ = c.ApplySecurityConfiguration([]byte(`{"EncryptionConfiguration":{"EnableAtRestEncryption":false,"AtRestEncryptionConfiguration":{"S3EncryptionConfiguration":{"EncryptionMode":"SSE-S3"}}}}`))
	if w := strings.Join(c.Warnings(), "\n"); !strings.Contains(w, "ignored because EnableAtRestEncryption is false") {
		t.Errorf("warnings: %s", w)
	}
}

func TestSecurityConfigurationErrors(t *testing.T) {
	wrap := func(s3 string) string {
		return `{"EncryptionConfiguration":{"EnableAtRestEncryption":true,"AtRestEncryptionConfiguration":{"S3EncryptionConfiguration":` + s3 + `}}}`
	}
	tests := []struct {
		name, doc, property, problem string
	}{
		{"unknown mode", wrap(`{"EncryptionMode":"SSE-C"}`), secPath + ".EncryptionMode", "unknown encryption mode"},
		{"SSE-KMS without key", wrap(`{"EncryptionMode":"SSE-KMS"}`), secPath + ".AwsKmsKey", "SSE-KMS needs a KMS key"},
		{"CSE-KMS without key", wrap(`{"EncryptionMode":"CSE-KMS"}`), secPath + ".AwsKmsKey", "CSE-KMS needs a KMS key"},
		{"malformed ARN", wrap(`{"EncryptionMode":"CSE-KMS","AwsKmsKey":"arn:aws:kms:us-east-1:1:key/x"}`), secPath + ".AwsKmsKey", "malformed KMS key ARN"},
		{"SSE-S3 with key", wrap(`{"EncryptionMode":"SSE-S3","AwsKmsKey":"alias/x"}`), secPath + ".AwsKmsKey", "SSE-S3 takes no KMS key"},
		{"CSE-Custom without class", wrap(`{"EncryptionMode":"CSE-Custom","S3Object":"s3://b/p.jar"}`), secPath + ".EncryptionKeyProviderClass", "CSE-Custom needs a provider"},
		{"override bad bucket", wrap(`{"EncryptionMode":"SSE-S3","Overrides":[{"BucketName":"s3://b","EncryptionMode":"SSE-S3"}]}`),
			secPath + ".Overrides[0].BucketName", "not a bucket name"},
		{"override duplicate", wrap(`{"EncryptionMode":"SSE-S3","Overrides":[{"BucketName":"b","EncryptionMode":"SSE-S3"},{"BucketName":"b","EncryptionMode":"SSE-S3"}]}`),
			secPath + ".Overrides[1].BucketName", "a second override"},
		{"override bad mode", wrap(`{"EncryptionMode":"SSE-S3","Overrides":[{"BucketName":"b","EncryptionMode":"none"}]}`),
			secPath + ".Overrides[0].EncryptionMode", "unknown encryption mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfig()
			err := c.ApplySecurityConfiguration([]byte(tt.doc))
			var ce *ConfigError
			if !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			if ce.Property != tt.property || !strings.Contains(ce.Problem, tt.problem) || ce.Fix == "" {
				t.Errorf("got %+v, want property %q problem ~%q", ce, tt.property, tt.problem)
			}
			if c.sec != nil {
				t.Error("a rejected security configuration was applied")
			}
		})
	}
	for _, doc := range []string{"", "[]", `{"EncryptionConfiguration":{"EnableAtRestEncryption":"maybe"}}`, `{} {}`, `{"EncryptionConfiguration":{"EnableAtRestEncryption":1}}`} {
		if err := NewConfig().ApplySecurityConfiguration([]byte(doc)); !errors.Is(err, ErrSyntax) {
			t.Errorf("ApplySecurityConfiguration(%q) = %v, want ErrSyntax", doc, err)
		}
	}
}

func TestSecurityConfigurationRoleMappings(t *testing.T) {
	const property = "arn:aws:iam::123456789101:role/from-site=u:user1"
	site := []authz.Mapping{{Role: "arn:aws:iam::123456789101:role/from-site", IdentifierType: authz.User, Identifiers: []string{"user1"}}}
	sec := []authz.Mapping{{Role: "arn:aws:iam::123456789101:role/r1", IdentifierType: authz.User, Identifiers: []string{"user1"}}}

	// Neither: no mappings.
	c := NewConfig()
	if ms, err := c.RoleMappings(); ms != nil || err != nil {
		t.Fatalf("empty config: %v, %v", ms, err)
	}
	// The property alone.
	c.Set("fs.s3.authorization.roleMapping", property)
	if ms, err := c.RoleMappings(); err != nil || !reflect.DeepEqual(ms, site) {
		t.Fatalf("property: %+v, %v", ms, err)
	}
	// A security configuration with an AuthorizationConfiguration wins over
	// the property, as on a cluster (EMR writes its mappings there).
	if err := c.ApplySecurityConfiguration(readTestdata(t, "security-configuration.json")); err != nil {
		t.Fatal(err)
	}
	if ms, err := c.RoleMappings(); err != nil || !reflect.DeepEqual(ms, sec) {
		t.Fatalf("security configuration: %+v, %v", ms, err)
	}
	if s := c.String(); !strings.Contains(s, "security configuration: role mapping 0: arn:aws:iam::123456789101:role/r1 User user1\n") {
		t.Errorf("String does not list the role mappings:\n%s", s)
	}
	// Merge carries them.
	m := configOf(map[string]string{"fs.s3.authorization.roleMapping": property})
	m.Merge(c)
	if ms, _ := m.RoleMappings(); !reflect.DeepEqual(ms, sec) {
		t.Fatalf("after Merge: %+v", ms)
	}
	// One without an AuthorizationConfiguration leaves the property in
	// charge.
	if err := c.ApplySecurityConfiguration([]byte(`{"EncryptionConfiguration":{"EnableAtRestEncryption":false}}`)); err != nil {
		t.Fatal(err)
	}
	if ms, err := c.RoleMappings(); err != nil || !reflect.DeepEqual(ms, site) {
		t.Fatalf("property after a security configuration without mappings: %+v, %v", ms, err)
	}
	// A malformed property is reported with the mapping at fault.
	c.Set("fs.s3.authorization.roleMapping", property+",arn:aws:iam::123456789101:role/x=g:")
	var me *authz.MappingError
	if _, err := c.RoleMappings(); !errors.As(err, &me) || me.Index != 1 || !strings.Contains(err.Error(), "fs.s3.authorization.roleMapping") {
		t.Fatalf("malformed property: %v", err)
	}
}

func TestSecurityConfigurationRoleMappingErrors(t *testing.T) {
	for name, tt := range map[string]struct {
		doc   string
		index int
		field string
	}{
		"bad role":     {`[{"Role":"r1","IdentifierType":"User","Identifiers":["u"]}]`, 0, "Role"},
		"second":       {`[{"Role":"arn:aws:iam::123456789101:role/r1","IdentifierType":"User","Identifiers":["u"]},{"Role":"arn:aws:iam::123456789101:role/r1","IdentifierType":"Host","Identifiers":["u"]}]`, 1, "IdentifierType"},
		"empty":        {`[]`, -1, ""},
		"bad prefix":   {`[{"Role":"arn:aws:iam::123456789101:role/r1","IdentifierType":"Prefix","Identifiers":["hdfs://x/"]}]`, 0, "Identifiers[0]"},
		"not an array": {`{}`, -1, ""},
	} {
		c := NewConfig()
		err := c.ApplySecurityConfiguration([]byte(`{"AuthorizationConfiguration":{"EmrFsConfiguration":{"RoleMappings":` + tt.doc + `}}}`))
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), secAuthzPath) {
			t.Errorf("%s: %v does not match ErrInvalidConfig or name %s", name, err, secAuthzPath)
			continue
		}
		var me *authz.MappingError
		if tt.index >= 0 && (!errors.As(err, &me) || me.Index != tt.index || me.Field != tt.field) {
			t.Errorf("%s: %v, want mapping %d field %s", name, err, tt.index, tt.field)
		}
		if c.sec != nil {
			t.Errorf("%s: a rejected security configuration was applied", name)
		}
	}
}

func TestMergeCarriesSecurityConfiguration(t *testing.T) {
	sec := NewConfig()
	if err := sec.ApplySecurityConfiguration(readTestdata(t, "security-configuration.json")); err != nil {
		t.Fatal(err)
	}
	site := configOf(map[string]string{"fs.s3.enableServerSideEncryption": "true"})
	site.Merge(sec)
	if b := mustBucket(t, site, "public-data"); !reflect.DeepEqual(b.SSE, &SSE{Kind: SSES3}) {
		t.Errorf("public-data: %v", b)
	}
	if b := mustBucket(t, site, "x"); b.CSE == nil {
		t.Errorf("x: %v", b)
	}
	site.Merge(NewConfig()) // a later config without one keeps it
	if b := mustBucket(t, site, "x"); b.CSE == nil {
		t.Errorf("security configuration lost by Merge: %v", b)
	}
}

func FuzzApplySecurityConfiguration(f *testing.F) {
	f.Add(readTestdata(f, "security-configuration.json"))
	f.Add([]byte(`{"EncryptionConfiguration":{"EnableAtRestEncryption":"true","AtRestEncryptionConfiguration":{"S3EncryptionConfiguration":{"EncryptionMode":"SSE-KMS","AwsKmsKey":"alias/a","Overrides":[{"BucketName":"b","EncryptionMode":"SSE-S3"}]}}}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		c := NewConfig()
		if err := c.ApplySecurityConfiguration(doc); err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("untyped error %v", err)
			}
			if c.sec != nil {
				t.Fatal("rejected configuration applied")
			}
			return
		}
		exercise(t, c)
	})
}
