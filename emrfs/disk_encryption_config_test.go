package emrfs_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs"
)

const diskARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func TestParseDiskEncryption(t *testing.T) {
	want := &emrfs.DiskEncryption{KeyARN: diskARN, EncryptionContext: map[string]string{"applicationId": "app-1"}}
	for _, in := range []string{
		`{"encryptionKeyArn": "` + diskARN + `", "encryptionContext": {"applicationId": "app-1"}}`,
		`{"diskEncryptionConfiguration": {"encryptionKeyArn": "` + diskARN + `", "encryptionContext": {"applicationId": "app-1"}},
		  "monitoringConfiguration": {}}`,
	} {
		d, err := emrfs.ParseDiskEncryption([]byte(in))
		if err != nil || d.KeyARN != want.KeyARN || !maps.Equal(d.EncryptionContext, want.EncryptionContext) {
			t.Fatalf("ParseDiskEncryption(%s) = %+v, %v", in, d, err)
		}
	}
	for _, in := range []string{`{}`, `{"diskEncryptionConfiguration": {}}`} {
		d, err := emrfs.ParseDiskEncryption([]byte(in))
		if err != nil || !d.IsZero() {
			t.Fatalf("empty configuration %s = %+v, %v; want the default", in, d, err)
		}
	}
	for _, tc := range []struct {
		in   string
		want error
	}{
		{`{"encryptionKeyArn": 5}`, emrfs.ErrSyntax},
		{`{"encryptionKeyArn": "` + diskARN + `", "keyArn": "x"}`, emrfs.ErrSyntax},
		{`[`, emrfs.ErrSyntax},
		{`{"encryptionContext": {"a": "b"}}`, emrfs.ErrInvalidConfig},
		{`{"encryptionKeyArn": "arn:aws:kms:us-east-1:1:key/x"}`, emrfs.ErrInvalidConfig},
		{`{"encryptionKeyArn": "` + diskARN + `", "encryptionContext": {"a": ""}}`, emrfs.ErrInvalidConfig},
		{`{"encryptionKeyArn": "` + diskARN + `", "encryptionContext": {"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1","g":"1","h":"1","i":"1"}}`, emrfs.ErrInvalidConfig},
	} {
		if _, err := emrfs.ParseDiskEncryption([]byte(tc.in)); !errors.Is(err, tc.want) {
			t.Errorf("ParseDiskEncryption(%s) = %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestConfigDiskEncryptionFromSparkProperties(t *testing.T) {
	xml := `<configuration>
  <property><name>spark.emr-serverless.disk.encryptionKeyArn</name><value>` + diskARN + `</value></property>
  <property><name>spark.emr-serverless.disk.encryptionContext</name><value>applicationId:app-1, source:arn:aws:emr-serverless:us-east-1:111122223333:/applications/app-1</value></property>
</configuration>`
	fromXML, err := emrfs.LoadHadoopXML(strings.NewReader(xml))
	if err != nil {
		t.Fatal(err)
	}
	// EMR Serverless writes classification/properties in lower case.
	fromJSON, err := emrfs.LoadConfigurationsJSON([]byte(`[{"classification": "spark-defaults", "properties": {
		"spark.emr-serverless.disk.encryptionKeyArn": "` + diskARN + `",
		"spark.emr-serverless.disk.encryptionContext": "applicationId:app-1,source:arn:aws:emr-serverless:us-east-1:111122223333:/applications/app-1",
		"spark.executor.memory": "4g"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fromJSON.Get("spark.executor.memory"); ok {
		t.Error("other spark-defaults properties were taken")
	}
	want := map[string]string{"applicationId": "app-1", "source": "arn:aws:emr-serverless:us-east-1:111122223333:/applications/app-1"}
	for name, cfg := range map[string]*emrfs.Config{"xml": fromXML, "json": fromJSON} {
		d, err := cfg.DiskEncryption()
		if err != nil || d.KeyARN != diskARN || !maps.Equal(d.EncryptionContext, want) {
			t.Fatalf("%s: DiskEncryption() = %+v, %v", name, d, err)
		}
	}

	for _, tc := range []struct{ key, ctx, prop string }{
		{diskARN, "applicationId", emrfs.SparkDiskEncryptionContext},
		{diskARN, "a:1,b", emrfs.SparkDiskEncryptionContext},
		{diskARN, "a:1,b=2", emrfs.SparkDiskEncryptionContext},
		{diskARN, "a:", emrfs.SparkDiskEncryptionContext},
		{diskARN, "a:1,a:2", emrfs.SparkDiskEncryptionContext},
		{"", "a:1", emrfs.SparkDiskEncryptionContext},
		{"not a key", "", emrfs.SparkDiskEncryptionKeyArn},
	} {
		cfg := emrfs.NewConfig()
		cfg.Set(emrfs.SparkDiskEncryptionKeyArn, tc.key)
		cfg.Set(emrfs.SparkDiskEncryptionContext, tc.ctx)
		_, err := cfg.DiskEncryption()
		var ce *emrfs.ConfigError
		if !errors.As(err, &ce) || ce.Property != tc.prop {
			t.Errorf("key %q context %q: %v, want a *ConfigError for %s", tc.key, tc.ctx, err, tc.prop)
		}
		if err := cfg.Validate(); !errors.As(err, &ce) || ce.Property != tc.prop {
			t.Errorf("Validate with key %q context %q: %v", tc.key, tc.ctx, err)
		}
		// New fails early on it.
		if _, err := emrfs.New(s3.New(s3.Options{}), cfg); !errors.Is(err, emrfs.ErrInvalidConfig) {
			t.Errorf("New with key %q context %q: %v", tc.key, tc.ctx, err)
		}
	}
	// Empty pairs are skipped, as in every encryption-context property
	// (emrfs/internal/encctx).
	cfg := emrfs.NewConfig()
	cfg.Set(emrfs.SparkDiskEncryptionKeyArn, diskARN)
	cfg.Set(emrfs.SparkDiskEncryptionContext, "a:1,,b:2,")
	if d, err := cfg.DiskEncryption(); err != nil || !maps.Equal(d.EncryptionContext, map[string]string{"a": "1", "b": "2"}) {
		t.Errorf("context with empty pairs: %+v, %v", d, err)
	}
	if d, err := emrfs.NewConfig().DiskEncryption(); d != nil || err != nil {
		t.Fatalf("no properties: %+v, %v", d, err)
	}
	// A customer key without a KMS client cannot work: New says so.
	if _, err := emrfs.New(s3.New(s3.Options{}), fromXML); err == nil || !strings.Contains(err.Error(), "Options.KMS") {
		t.Fatalf("New with a disk key and no KMS client: %v", err)
	}
}

func TestConfigDiskEncryptionFromSecurityConfiguration(t *testing.T) {
	sec := func(atRest, local string) string {
		return `{"EncryptionConfiguration": {"EnableInTransitEncryption": false, "EnableAtRestEncryption": ` + atRest + `,
		  "AtRestEncryptionConfiguration": {"LocalDiskEncryptionConfiguration": ` + local + `}}}`
	}
	cfg := emrfs.NewConfig()
	cfg.Set(emrfs.SparkDiskEncryptionKeyArn, "alias/spark-key")
	if err := cfg.ApplySecurityConfiguration([]byte(sec("true", `{"EncryptionKeyProviderType": "AwsKms", "AwsKmsKey": "`+diskARN+`", "EnableEbsEncryption": true}`))); err != nil {
		t.Fatal(err)
	}
	if d, err := cfg.DiskEncryption(); err != nil || d.KeyARN != diskARN || len(d.EncryptionContext) != 0 {
		t.Fatalf("DiskEncryption() = %+v, %v; want the security configuration's key", d, err)
	}
	for _, tc := range []struct{ atRest, local, warning string }{
		{"true", `{"EncryptionKeyProviderType": "Custom", "S3Object": "s3://b/p.jar", "EncryptionKeyProviderClass": "com.example.P"}`, "Custom key provider"},
		{"false", `{"EncryptionKeyProviderType": "AwsKms", "AwsKmsKey": "` + diskARN + `"}`, "EnableAtRestEncryption is false"},
	} {
		cfg := emrfs.NewConfig()
		if err := cfg.ApplySecurityConfiguration([]byte(sec(tc.atRest, tc.local))); err != nil {
			t.Fatal(err)
		}
		if d, err := cfg.DiskEncryption(); d != nil || err != nil {
			t.Fatalf("%s: DiskEncryption() = %+v, %v; want the default", tc.local, d, err)
		}
		if w := strings.Join(cfg.Warnings(), "\n"); !strings.Contains(w, tc.warning) {
			t.Fatalf("warnings %q do not say %q", w, tc.warning)
		}
	}
	for _, local := range []string{`{"EncryptionKeyProviderType": "AwsKms"}`, `{"EncryptionKeyProviderType": "Vault"}`, `{"EncryptionKeyProviderType": "AwsKms", "AwsKmsKey": "arn:nope"}`} {
		if err := emrfs.NewConfig().ApplySecurityConfiguration([]byte(sec("true", local))); !errors.Is(err, emrfs.ErrInvalidConfig) {
			t.Fatalf("%s: %v, want ErrInvalidConfig", local, err)
		}
	}
}
