package emrfs

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestValidateUnknownNames: a name in the encryption and authorization
// namespaces (and their per-bucket forms) that this package does not know
// is an error naming the closest known name when it is close to one (a
// typo), else a warning; elsewhere under fs.s3.* and fs.s3a.* only a near
// miss of a security name counts.
func TestValidateUnknownNames(t *testing.T) {
	tests := []struct {
		property, value string
		bucket          string // the bucket of the error ("" global)
		want            string // substring of the error; "" = no error
		warn            string // substring of a warning
	}{
		{"fs.s3.cse.enable", "true", "", "fs.s3.cse.enable=\"true\": unknown property; did you mean fs.s3.cse.enabled?", ""},
		{"fs.s3.cse.kms.keyID", "k", "", "did you mean fs.s3.cse.kms.keyId?", ""},
		{"fs.s3.cse.encryptionMaterialProvider", "x", "", "did you mean fs.s3.cse.encryptionMaterialsProvider?", ""},
		{"fs.s3.serverSideEncryption.kms.keyid", "k", "", "did you mean fs.s3.serverSideEncryption.kms.keyId?", ""},
		{"fs.s3.authorization.rolemapping", "x", "", "did you mean fs.s3.authorization.roleMapping?", ""},
		{"fs.s3a.encryption.algorithim", "SSE-KMS", "", "did you mean fs.s3a.encryption.algorithm?", ""},
		{"fs.s3a.encryption.keys", "c2VjcmV0", "", `fs.s3a.encryption.keys="<redacted>": unknown property; did you mean fs.s3a.encryption.key?`, ""},
		{"fs.s3.bucket.my.bucket.cse.kms.keyID", "k", "my.bucket", "did you mean fs.s3.bucket.my.bucket.cse.kms.keyId?", ""},
		{"fs.s3a.bucket.b.encryption.contxt", "a=b", "b", "did you mean fs.s3a.bucket.b.encryption.context?", ""},
		{"fs.s3.bucket.b.authorization.roleMapping", "x", "b", "fs.s3.authorization.roleMapping has no per-bucket form", ""},
		{"fs.s3.bucket.b.authorization.rolemapping", "x", "b", "fs.s3.authorization.roleMapping has no per-bucket form", ""},
		// Near misses outside the namespaces.
		{"fs.s3.enableServerSideEncription", "true", "", "did you mean fs.s3.enableServerSideEncryption?", ""},
		{"fs.s3.EnableServerSideEncryption", "true", "", "did you mean fs.s3.enableServerSideEncryption?", ""},
		{"fs.s3.bucket.my.bucket.enableServerSideEncription", "true", "my.bucket", "did you mean fs.s3.bucket.my.bucket.enableServerSideEncryption?", ""},
		{"fs.s3a.bucket.b.server-side-encryption-algorithim", "AES256", "b", "did you mean fs.s3a.bucket.b.server-side-encryption-algorithm?", ""},
		// Far from every known name: a warning (a custom provider's own
		// setting, or a property of a newer EMRFS).
		{"fs.s3.cse.myprovider.keyFile", "/etc/k", "", "", "unknown property fs.s3.cse.myprovider.keyFile is not read by this library"},
		{"fs.s3a.bucket.b.encryption.cse.instruction.file.enabled", "true", "", "", "bucket b: unknown property fs.s3a.bucket.b.encryption.cse.instruction.file.enabled"},
		// Other EMRFS and S3A settings are not this package's business.
		{"fs.s3.maxRetries", "10", "", "", ""},
		{"fs.s3a.connection.maximum", "100", "", "", ""},
		{"fs.s3.buffer.dir", "/tmp", "", "", ""},
		{"fs.s3.bucket.b.maxRetries", "1", "", "", ""},
	}
	for _, tt := range tests {
		c := NewConfig()
		c.Set(tt.property, tt.value)
		err := c.Validate()
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: Validate = %v, want nil", tt.property, err)
			}
		} else {
			var ce *ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidConfig) || ce.Property != tt.property || ce.Bucket != tt.bucket || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: Validate = %v, want a *ConfigError (bucket %q) saying %q", tt.property, err, tt.bucket, tt.want)
			}
			// Operations on the buckets it applies to fail too (fail
			// closed): a typo must not leave data unencrypted.
			b := tt.bucket
			if b == "" {
				b = "any-bucket"
			}
			if _, err := c.Bucket(b); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("%s: Bucket(%s) = %v, want the error", tt.property, b, err)
			}
		}
		w := strings.Join(c.Warnings(), "\n")
		if tt.warn != "" && (!strings.Contains(w, tt.warn) || strings.Count(w, tt.property) != 1) {
			t.Errorf("%s: Warnings = %q, want one saying %q", tt.property, w, tt.warn)
		}
		if tt.warn == "" && strings.Contains(w, tt.property) {
			t.Errorf("%s: Warnings = %q", tt.property, w)
		}
	}
}

// TestValidateUnknownNamesOnce: a global typo is reported once by Validate
// however many buckets are named, and every known property passes.
func TestValidateUnknownNamesOnce(t *testing.T) {
	c := NewConfig()
	c.Set("fs.s3.cse.enable", "true")
	for _, b := range []string{"b1", "b2", "b3"} {
		c.Set("fs.s3.bucket."+b+".enableServerSideEncryption", "true")
	}
	err := c.Validate()
	if n := strings.Count(fmt.Sprint(err), "fs.s3.cse.enable="); n != 1 {
		t.Fatalf("reported %d times: %v", n, err)
	}
	c = NewConfig()
	for _, r := range append(append([]string{}, emrfsRests...), emrfsGlobalRests...) {
		c.Set(emrfsPrefix+r, "")
	}
	for _, r := range emrfsRests {
		c.Set(emrfsBucketPrefix+"my.bucket."+r, "")
	}
	for _, r := range s3aRests {
		c.Set(s3aPrefix+r, "")
		c.Set(s3aBucketPrefix+"my.bucket."+r, "")
	}
	if p := c.unknownNames(); len(p) != 0 {
		t.Fatalf("known names reported: %+v", p)
	}
}
