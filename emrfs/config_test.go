package emrfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	testKeyARN   = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	testSSECKey  = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" // bytes 0..31
	testSSECMD5  = "tP/LI3N87DFaSk0aoqYgzg=="                     // base64(md5(bytes 0..31)), computed with Python hashlib
	kmsProviderC = KMSMaterialsProvider
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "config", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadXML(t testing.TB, name string) *Config {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "config", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := LoadHadoopXML(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func configOf(props map[string]string) *Config {
	c := NewConfig()
	for k, v := range props {
		c.Set(k, v)
	}
	return c
}

func mustBucket(t *testing.T, c *Config, name string) *Bucket {
	t.Helper()
	b, err := c.Bucket(name)
	if err != nil {
		t.Fatalf("Bucket(%q): %v", name, err)
	}
	return b
}

func TestLoadTestdata(t *testing.T) {
	t.Run("emrfs-site JSON SSE-KMS (seed 000)", func(t *testing.T) {
		c, err := LoadConfigurationsJSON(readTestdata(t, "emrfs-site-sse-kms.json"))
		if err != nil {
			t.Fatal(err)
		}
		b := mustBucket(t, c, "mybucket")
		want := &SSE{Kind: SSEKMS, KMSKeyID: "a4567b8-9900-12ab-1234-123a45678901"}
		if !reflect.DeepEqual(b.SSE, want) || b.CSE != nil {
			t.Errorf("got %v, want SSE %v", b, want)
		}
	})
	t.Run("core-site XML S3A deprecated names (seed 002)", func(t *testing.T) {
		c := loadXML(t, "core-site-sse-kms.xml")
		b := mustBucket(t, c, "mybucket")
		want := &SSE{Kind: SSEKMS, KMSKeyID: "arn:aws:kms:us-west-2:360379543683:key/071a86ff-8881-4ba0-9230-95af6d01ca01"}
		if !reflect.DeepEqual(b.SSE, want) {
			t.Errorf("got %v, want %v", b.SSE, want)
		}
	})
	t.Run("emrfs-site XML CSE-KMS, every CSE property", func(t *testing.T) {
		c := loadXML(t, "emrfs-site-cse-kms.xml")
		b := mustBucket(t, c, "mybucket")
		want := &CSE{
			Provider: kmsProviderC, KMSKeyID: testKeyARN, KMSRegion: "us-east-1",
			InstructionFile: true, DeleteInstructionFiles: true, CryptoMode: CryptoModeAuthenticatedEncryption,
			V2: true, MaterialsDescriptionEnabled: true, AddUnencryptedLength: true,
		}
		if b.SSE != nil || !reflect.DeepEqual(b.CSE, want) {
			t.Errorf("got %+v, want %+v", b.CSE, want)
		}
	})
	t.Run("nested configurations, per-bucket forms", func(t *testing.T) {
		c, err := LoadConfigurationsJSON(readTestdata(t, "configurations-nested.json"))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.Get("JAVA_HOME"); ok {
			t.Error("property of an unrelated classification was loaded")
		}
		tests := []struct {
			bucket string
			want   *SSE
		}{
			{"other", &SSE{Kind: SSES3}}, // fs.s3 (SSE-S3) wins over fs.s3a (SSE-KMS)
			{"analytics", &SSE{Kind: SSEKMS, KMSKeyID: "alias/analytics"}},
			{"logs.example", &SSE{Kind: SSES3}},
		}
		for _, tt := range tests {
			if b := mustBucket(t, c, tt.bucket); !reflect.DeepEqual(b.SSE, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.bucket, b.SSE, tt.want)
			}
		}
		w := strings.Join(c.Warnings(), "\n")
		if !strings.Contains(w, "fs.s3.enableServerSideEncryption (SSE SSE-S3) and fs.s3a.encryption.algorithm (SSE SSE-KMS(key=aws/s3 (account default), context={project=hr,team=payroll})) disagree") {
			t.Errorf("missing fs.s3/fs.s3a conflict warning in:\n%s", w)
		}
		if !strings.Contains(w, "bucket secret-data:") {
			t.Errorf("missing per-bucket conflict warning in:\n%s", w)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("Validate: %v", err)
		}
	})
}

func TestS3AAlgorithms(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		sse   *SSE
		cse   *CSE
	}{
		{"blank is none", map[string]string{"fs.s3a.encryption.algorithm": " "}, nil, nil},
		{"AES256", map[string]string{"fs.s3a.encryption.algorithm": "AES256"}, &SSE{Kind: SSES3}, nil},
		{"sse-s3 lower case", map[string]string{"fs.s3a.encryption.algorithm": "sse-s3"}, &SSE{Kind: SSES3}, nil},
		{"SSE-KMS default key", map[string]string{"fs.s3a.encryption.algorithm": "SSE-KMS"}, &SSE{Kind: SSEKMS}, nil},
		{"SSE-KMS key and context", map[string]string{
			"fs.s3a.encryption.algorithm": "SSE-KMS", "fs.s3a.encryption.key": testKeyARN,
			"fs.s3a.encryption.context": "a=1, b = 2"},
			&SSE{Kind: SSEKMS, KMSKeyID: testKeyARN, Context: map[string]string{"a": "1", "b": "2"}}, nil},
		{"DSSE-KMS", map[string]string{"fs.s3a.encryption.algorithm": "DSSE-KMS", "fs.s3a.encryption.key": "alias/x"},
			&SSE{Kind: DSSEKMS, KMSKeyID: "alias/x"}, nil},
		{"CSE-KMS", map[string]string{"fs.s3a.encryption.algorithm": "CSE-KMS", "fs.s3a.encryption.key": testKeyARN,
			"fs.s3a.encryption.cse.kms.region": "eu-west-1", "fs.s3a.encryption.cse.v1.compatibility.enabled": "TRUE"},
			nil, &CSE{Provider: kmsProviderC, KMSKeyID: testKeyARN, KMSRegion: "eu-west-1", CryptoMode: CryptoModeAuthenticatedEncryption,
				V2: true, Compatibility: true, S3A: true}},
		{"CSE-CUSTOM", map[string]string{"fs.s3a.encryption.algorithm": "CSE-CUSTOM",
			"fs.s3a.encryption.cse.custom.keyring.class.name": "com.example.Keyring", "fs.s3a.cse.customKeyringProvider.uri": "s3://b/k.jar"},
			nil, &CSE{Provider: "com.example.Keyring", ProviderURI: "s3://b/k.jar", CryptoMode: CryptoModeAuthenticatedEncryption, V2: true, S3A: true}},
		{"per-bucket over global", map[string]string{"fs.s3a.encryption.algorithm": "AES256",
			"fs.s3a.bucket.b1.encryption.algorithm": "SSE-KMS", "fs.s3a.bucket.b1.encryption.key": "alias/b1"},
			&SSE{Kind: SSEKMS, KMSKeyID: "alias/b1"}, nil},
		{"per-bucket deprecated name over global current name", map[string]string{"fs.s3a.encryption.algorithm": "SSE-KMS",
			"fs.s3a.bucket.b1.server-side-encryption-algorithm": "AES256"},
			&SSE{Kind: SSES3}, nil},
		{"per-bucket blank turns off", map[string]string{"fs.s3a.encryption.algorithm": "AES256",
			"fs.s3a.bucket.b1.encryption.algorithm": ""}, nil, nil},
		{"other bucket's setting ignored", map[string]string{"fs.s3a.bucket.b2.encryption.algorithm": "AES256"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustBucket(t, configOf(tt.props), "b1")
			if !reflect.DeepEqual(b.SSE, tt.sse) || !reflect.DeepEqual(b.CSE, tt.cse) {
				t.Errorf("got SSE %v CSE %+v; want SSE %v CSE %+v", b.SSE, b.CSE, tt.sse, tt.cse)
			}
		})
	}
}

func TestS3ASSEC(t *testing.T) {
	c := configOf(map[string]string{"fs.s3a.encryption.algorithm": "SSE-C", "fs.s3a.encryption.key": testSSECKey})
	b := mustBucket(t, c, "b")
	if b.SSE == nil || b.SSE.Kind != SSEC || b.SSE.CustomerKeyMD5() != testSSECMD5 {
		t.Fatalf("got %v md5 %q", b.SSE, b.SSE.CustomerKeyMD5())
	}
}

func TestEMRFSProperties(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		sse   *SSE
		cse   *CSE
	}{
		{"nothing", nil, nil, nil},
		{"SSE-S3", map[string]string{"fs.s3.enableServerSideEncryption": "true"}, &SSE{Kind: SSES3}, nil},
		{"SSE-KMS with context", map[string]string{"fs.s3.enableServerSideEncryption": "True",
			"fs.s3.serverSideEncryption.kms.keyId":                   testKeyARN,
			"fs.s3.serverSideEncryption.kms.customEncryptionContext": "key1:value1,key2:value2"},
			&SSE{Kind: SSEKMS, KMSKeyID: testKeyARN, Context: map[string]string{"key1": "value1", "key2": "value2"}}, nil},
		{"per-bucket key", map[string]string{"fs.s3.enableServerSideEncryption": "true",
			"fs.s3.serverSideEncryption.kms.keyId":              "alias/global",
			"fs.s3.bucket.b1.serverSideEncryption.kms.keyId":    "alias/b1",
			"fs.s3.bucket.other.serverSideEncryption.kms.keyId": "alias/other"},
			&SSE{Kind: SSEKMS, KMSKeyID: "alias/b1"}, nil},
		{"per-bucket SSE off", map[string]string{"fs.s3.enableServerSideEncryption": "true",
			"fs.s3.bucket.b1.enableServerSideEncryption": "false"}, nil, nil},
		{"CSE custom provider defaults", map[string]string{"fs.s3.cse.enabled": "true",
			"fs.s3.cse.encryptionMaterialsProvider": "com.example.MyProvider", "fs.s3.cse.encryptionMaterialsProvider.uri": "s3://b/p.jar"},
			nil, &CSE{Provider: "com.example.MyProvider", ProviderURI: "s3://b/p.jar", CryptoMode: CryptoModeEncryptionOnly}},
		{"CSE-KMS region falls back to S3A", map[string]string{"fs.s3.cse.enabled": "true",
			"fs.s3.cse.encryptionMaterialsProvider": kmsProviderC, "fs.s3.cse.kms.keyId": "alias/k",
			"fs.s3a.encryption.cse.kms.region": "ap-south-1", "fs.s3.cse.cryptoMode": "strictauthenticatedencryption"},
			nil, &CSE{Provider: kmsProviderC, KMSKeyID: "alias/k", KMSRegion: "ap-south-1", CryptoMode: CryptoModeStrictAuthenticatedEncryption}},
		{"same choice in both families", map[string]string{"fs.s3.enableServerSideEncryption": "true",
			"fs.s3a.encryption.algorithm": "AES256"}, &SSE{Kind: SSES3}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := configOf(tt.props)
			b := mustBucket(t, c, "b1")
			if !reflect.DeepEqual(b.SSE, tt.sse) || !reflect.DeepEqual(b.CSE, tt.cse) {
				t.Errorf("got SSE %v CSE %+v; want SSE %v CSE %+v", b.SSE, b.CSE, tt.sse, tt.cse)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name     string
		props    map[string]string
		property string // the *ConfigError's Property
		problem  string // substring of its Problem
		fix      string // substring of its Fix
	}{
		{"SSE and CSE both on", map[string]string{"fs.s3.enableServerSideEncryption": "true", "fs.s3.cse.enabled": "true",
			"fs.s3.cse.encryptionMaterialsProvider": kmsProviderC, "fs.s3.cse.kms.keyId": testKeyARN},
			"fs.s3.cse.enabled", "mutually exclusive", "fs.s3.enableServerSideEncryption=false"},
		{"SSE and CSE across families", map[string]string{"fs.s3.enableServerSideEncryption": "true",
			"fs.s3a.encryption.algorithm": "CSE-KMS", "fs.s3a.encryption.key": testKeyARN},
			"fs.s3a.encryption.algorithm", "mutually exclusive", "turn one"},
		{"CSE without provider", map[string]string{"fs.s3.cse.enabled": "true"},
			"fs.s3.cse.encryptionMaterialsProvider", "EncryptionMaterialsProvider is not specified using fs.s3.cse.encryptionMaterialsProvider", KMSMaterialsProvider},
		{"CSE-KMS without key", map[string]string{"fs.s3.cse.enabled": "true", "fs.s3.cse.encryptionMaterialsProvider": kmsProviderC},
			"fs.s3.cse.kms.keyId", "fs.s3.cse.kms.keyId cannot be empty", "set it to the KMS key"},
		{"S3A CSE-KMS without key", map[string]string{"fs.s3a.encryption.algorithm": "CSE-KMS"},
			"fs.s3a.encryption.key", "CSE-KMS needs a KMS key", "set fs.s3a.encryption.key"},
		{"per-bucket CSE-KMS without key", map[string]string{"fs.s3a.bucket.b1.encryption.algorithm": "CSE-KMS"},
			"fs.s3a.bucket.b1.encryption.key", "CSE-KMS needs a KMS key", "set fs.s3a.bucket.b1.encryption.key"},
		{"per-bucket EMRFS CSE without provider", map[string]string{"fs.s3.bucket.b1.cse.enabled": "true"},
			"fs.s3.bucket.b1.cse.encryptionMaterialsProvider", "EncryptionMaterialsProvider is not specified", "registered custom provider"},
		{"S3A CSE-CUSTOM without class", map[string]string{"fs.s3a.encryption.algorithm": "CSE-CUSTOM"},
			"fs.s3a.encryption.cse.custom.keyring.class.name", "needs a keyring provider", "class name"},
		{"SSE-C without key", map[string]string{"fs.s3a.encryption.algorithm": "SSE-C"},
			"fs.s3a.encryption.key", "SSE-C needs a key", "openssl rand -base64 32"},
		{"SSE-C key not base64", map[string]string{"fs.s3a.encryption.algorithm": "SSE-C", "fs.s3a.encryption.key": "not base64!"},
			"fs.s3a.encryption.key", "not valid base64", "256-bit"},
		{"SSE-C key 128-bit", map[string]string{"fs.s3a.encryption.algorithm": "SSE-C", "fs.s3a.encryption.key": "AAECAwQFBgcICQoLDA0ODw=="},
			"fs.s3a.encryption.key", "16 bytes, want 32", "256-bit"},
		{"AES256 with a key", map[string]string{"fs.s3a.encryption.algorithm": "AES256", "fs.s3a.encryption.key": testKeyARN},
			"fs.s3a.encryption.key", "a key is set but fs.s3a.encryption.algorithm is AES256", "SSE-KMS"},
		{"AES256 with a key, old names", map[string]string{"fs.s3a.server-side-encryption-algorithm": "AES256", "fs.s3a.server-side-encryption.key": "k"},
			"fs.s3a.server-side-encryption.key", "a key is set", "remove fs.s3a.server-side-encryption.key"},
		{"unknown algorithm", map[string]string{"fs.s3a.encryption.algorithm": "ROT13"},
			"fs.s3a.encryption.algorithm", "Unknown encryption algorithm ROT13", "SSE-KMS"},
		{"malformed ARN (SSE-KMS)", map[string]string{"fs.s3.enableServerSideEncryption": "true",
			"fs.s3.serverSideEncryption.kms.keyId": "arn:aws:kms:us-east-1:12345:key/abc"},
			"fs.s3.serverSideEncryption.kms.keyId", "malformed KMS key ARN", "12 digits"},
		{"malformed ARN (per bucket)", map[string]string{"fs.s3.enableServerSideEncryption": "true",
			"fs.s3.bucket.b1.serverSideEncryption.kms.keyId": "arn:aws:s3:::bucket"},
			"fs.s3.bucket.b1.serverSideEncryption.kms.keyId", "malformed KMS key ARN", "arn:aws:kms:REGION"},
		{"malformed ARN (CSE)", map[string]string{"fs.s3.cse.enabled": "true", "fs.s3.cse.encryptionMaterialsProvider": kmsProviderC,
			"fs.s3.cse.kms.keyId": "arn:aws:kms:us-east-1:123456789012:keys/x"},
			"fs.s3.cse.kms.keyId", "malformed KMS key ARN", "key/KEY-ID"},
		{"not a key id", map[string]string{"fs.s3a.encryption.algorithm": "SSE-KMS", "fs.s3a.encryption.key": "my key"},
			"fs.s3a.encryption.key", "not a KMS key id", "alias/NAME"},
		{"bad boolean", map[string]string{"fs.s3.cse.enabled": "yes"},
			"fs.s3.cse.enabled", "not a boolean", "true or false"},
		{"bad storage mode", map[string]string{"fs.s3.cse.enabled": "true", "fs.s3.cse.encryptionMaterialsProvider": "p",
			"fs.s3.cse.cryptoStorageMode": "Sidecar"}, "fs.s3.cse.cryptoStorageMode", "unknown crypto storage mode", "InstructionFile"},
		{"bad crypto mode", map[string]string{"fs.s3.cse.enabled": "true", "fs.s3.cse.encryptionMaterialsProvider": "p",
			"fs.s3.cse.cryptoMode": "GCM"}, "fs.s3.cse.cryptoMode", "unknown crypto mode", "StrictAuthenticatedEncryption"},
		{"bad context", map[string]string{"fs.s3a.encryption.algorithm": "SSE-KMS", "fs.s3a.encryption.context": "novalue"},
			"fs.s3a.encryption.context", "malformed encryption context", "k1=v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := configOf(tt.props)
			_, err := c.Bucket("b1")
			if err == nil {
				t.Fatal("Bucket: no error")
			}
			var ce *ConfigError
			if !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			if ce.Property != tt.property || !strings.Contains(ce.Problem, tt.problem) || !strings.Contains(ce.Fix, tt.fix) {
				t.Errorf("got %+v; want property %q, problem ~%q, fix ~%q", ce, tt.property, tt.problem, tt.fix)
			}
			if ce.Bucket != "b1" {
				t.Errorf("Bucket = %q", ce.Bucket)
			}
			verr := c.Validate()
			if verr == nil || !strings.Contains(verr.Error(), tt.problem) {
				t.Errorf("Validate = %v, want it to report %q", verr, tt.problem)
			}
			if strings.Contains(err.Error(), testSSECKey) || strings.Contains(verr.Error(), testSSECKey) {
				t.Error("error shows key material")
			}
		})
	}
}

func TestValidateReportsAll(t *testing.T) {
	c := configOf(map[string]string{
		"fs.s3a.encryption.algorithm":                         "ROT13",
		"fs.s3a.bucket.b1.encryption.algorithm":               "SSE-C",
		"fs.s3a.bucket.b1.encryption.key":                     "AAECAwQFBgcICQoLDA0ODw==",
		"fs.s3a.bucket.my.dotted.bucket.encryption.algorithm": "AES256",
		"fs.s3a.bucket.my.dotted.bucket.encryption.key":       "alias/x",
	})
	err := c.Validate()
	var problems []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *ConfigError
		if !errors.As(e, &ce) {
			t.Fatalf("%v is not a *ConfigError", e)
		}
		problems = append(problems, ce.Bucket+"|"+ce.Property)
	}
	want := []string{"|fs.s3a.encryption.algorithm", "b1|fs.s3a.bucket.b1.encryption.key", "my.dotted.bucket|fs.s3a.bucket.my.dotted.bucket.encryption.key"}
	if !reflect.DeepEqual(problems, want) {
		t.Errorf("problems = %q, want %q", problems, want)
	}
	if strings.Contains(err.Error(), "AAECAwQFBgcICQoLDA0ODw==") {
		t.Error("Validate shows an SSE-C key")
	}
}

func TestErrorValueNotExpanded(t *testing.T) {
	c := configOf(map[string]string{
		"fs.s3a.encryption.key":                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"fs.s3.enableServerSideEncryption":     "true",
		"fs.s3.serverSideEncryption.kms.keyId": "${fs.s3a.encryption.key}",
	})
	_, err := c.Bucket("b")
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Value != "${fs.s3a.encryption.key}" || strings.Contains(err.Error(), testSSECKey) {
		t.Errorf("error %v shows the expanded value", err)
	}
}

func TestBucketName(t *testing.T) {
	for _, name := range []string{"", "s3://b", "b/key", strings.Repeat("a", 256)} {
		if _, err := NewConfig().Bucket(name); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("Bucket(%q) error = %v", name, err)
		}
	}
}

func TestDeprecatedNameConflictWarning(t *testing.T) {
	c := configOf(map[string]string{"fs.s3a.encryption.algorithm": "SSE-KMS", "fs.s3a.server-side-encryption-algorithm": "AES256"})
	if b := mustBucket(t, c, "b"); b.SSE.Kind != SSEKMS {
		t.Errorf("current name did not win: %v", b.SSE)
	}
	if w := strings.Join(c.Warnings(), "\n"); !strings.Contains(w, "deprecated name fs.s3a.server-side-encryption-algorithm disagree") {
		t.Errorf("warnings: %s", w)
	}
}

func TestFinalAndMerge(t *testing.T) {
	site := loadXML(t, "emrfs-site-cse-kms.xml")
	later := configOf(map[string]string{"fs.s3.cse.enabled": "false", "fs.s3.cse.kms.region": "eu-central-1"})
	site.Merge(later)
	b := mustBucket(t, site, "b")
	if b.CSE == nil {
		t.Fatal("final fs.s3.cse.enabled was overridden by a later resource")
	}
	if b.CSE.KMSRegion != "eu-central-1" {
		t.Errorf("KMSRegion = %q: later resource did not win", b.CSE.KMSRegion)
	}
	if w := strings.Join(site.Warnings(), "\n"); !strings.Contains(w, "fs.s3.cse.enabled is final") {
		t.Errorf("warnings: %s", w)
	}
	site.Set("fs.s3.cse.enabled", "false") // code may override final
	if b := mustBucket(t, site, "b"); b.CSE != nil {
		t.Error("Set did not override")
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := LoadHadoopXML(strings.NewReader("<configuration><property>")); !errors.Is(err, ErrSyntax) {
		t.Errorf("XML: %v", err)
	}
	for _, doc := range []string{"", "{", `[{"Classification": 1}]`, `{"Configurations": {}}`} {
		if _, err := LoadConfigurationsJSON([]byte(doc)); !errors.Is(err, ErrSyntax) {
			t.Errorf("JSON %q: %v", doc, err)
		}
	}
}

func TestConfigStringRedacts(t *testing.T) {
	c := configOf(map[string]string{
		"fs.s3a.encryption.algorithm": "SSE-C", "fs.s3a.encryption.key": testSSECKey,
		"fs.s3a.bucket.b.server-side-encryption.key": testSSECKey, "fs.s3a.secret.key": "wJalrXUtnFEMI",
		"fs.s3.enableServerSideEncryption": "false",
	})
	s := c.String()
	for _, secret := range []string{testSSECKey, "wJalrXUtnFEMI"} {
		if strings.Contains(s, secret) {
			t.Errorf("String shows %q:\n%s", secret, s)
		}
	}
	if !strings.Contains(s, "fs.s3a.encryption.algorithm=SSE-C\n") || !strings.Contains(s, "fs.s3a.encryption.key=<redacted>") {
		t.Errorf("String:\n%s", s)
	}
	b := mustBucket(t, c, "x")
	if got := b.String(); strings.Contains(got, testSSECKey) || got != "bucket x: SSE SSE-C(key=<redacted>)" {
		t.Errorf("Bucket.String = %q", got)
	}
}

func FuzzLoadHadoopXML(f *testing.F) {
	for _, name := range []string{"core-site-sse-kms.xml", "emrfs-site-cse-kms.xml"} {
		f.Add(string(readTestdata(f, name)))
	}
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := LoadHadoopXML(strings.NewReader(doc))
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not match ErrSyntax", err)
			}
			return
		}
		exercise(t, c)
	})
}

func FuzzLoadConfigurationsJSON(f *testing.F) {
	for _, name := range []string{"emrfs-site-sse-kms.json", "configurations-nested.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		c, err := LoadConfigurationsJSON(doc)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not match ErrSyntax", err)
			}
			return
		}
		exercise(t, c)
	})
}

// exercise resolves every bucket a fuzzed configuration names and checks the
// invariants: SSE and CSE never both chosen, errors typed, no panic.
func exercise(t *testing.T, c *Config) {
	names := append(c.namedBuckets(), "b")
	for _, n := range names {
		b, err := c.Bucket(n)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Bucket(%q): untyped error %v", n, err)
			}
			continue
		}
		if b.SSE != nil && b.CSE != nil {
			t.Fatalf("Bucket(%q): both SSE and CSE", n)
		}
	}
	if err := c.Validate(); err != nil && !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Validate: untyped error %v", err)
	}
	_ = c.Warnings()
	_ = c.String()
}

func TestBucketConcurrent(t *testing.T) {
	c, err := LoadConfigurationsJSON(readTestdata(t, "configurations-nested.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ApplySecurityConfiguration(readTestdata(t, "security-configuration.json")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 8)
	for i := range 8 {
		go func() {
			for j := range 50 {
				if _, err := c.Bucket(fmt.Sprintf("b%d-%d", i, j)); err != nil {
					done <- err
					return
				}
				_ = c.Warnings()
			}
			done <- c.Validate()
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
