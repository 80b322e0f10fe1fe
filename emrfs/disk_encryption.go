package emrfs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"unicode/utf8"

	"github.com/emrs3/emrs3/emrfs/internal/encctx"
)

// Spark properties of EMR Serverless disk encryption, read by
// Config.DiskEncryption from the configuration files (Hadoop XML, or the
// spark-defaults classification of configurations JSON).
const (
	// SparkDiskEncryptionKeyArn names the KMS key local disk is encrypted
	// under.
	SparkDiskEncryptionKeyArn = "spark.emr-serverless.disk.encryptionKeyArn"
	// SparkDiskEncryptionContext is the optional encryption context, as
	// "key1:value1,key2:value2".
	SparkDiskEncryptionContext = "spark.emr-serverless.disk.encryptionContext"
)

// EMR Serverless limits on a disk encryption context.
const (
	maxDiskContextPairs  = 8
	maxDiskContextKey    = 128
	maxDiskContextValue  = 384
	diskEncryptionJSONOp = "diskEncryptionConfiguration"
)

// DiskEncryption is the encryption of what a Client writes to local disk —
// the spool of an authenticated read of an object larger than
// Options.DecryptMemoryLimit — in the shape of EMR Serverless's
// diskEncryptionConfiguration: a customer managed KMS key and an optional
// encryption context.
//
// The zero value (no key) means the default: each spool file is sealed
// under a key derived from a random secret that lives only in memory. With
// a key, the Client checks once that the key is enabled and symmetric
// (kms:DescribeKey; asymmetric keys are refused, as EMR Serverless does),
// asks KMS for an AES-256 data key under the key and the context
// (kms:GenerateDataKey) at most once per Options.DiskKeyRotation, and
// derives each spool file's own key from it and a fresh per-file salt. The
// wrapped data key, the key ARN and the context are written in the header
// of every spool file, so that the file names its key: opening it needs
// kms:Decrypt with that context. The context appears in CloudTrail in
// plaintext and must not hold secrets. The KMS calls go to the region of a
// key ARN (else Options.KMS's region), with the credentials
// Options.Credentials chooses for the object whose read needs a new data
// key (ops "kms:DescribeKey", "kms:GenerateDataKey"); the data key then
// serves every spool of the Client until it rotates.
//
// Set it in Options.DiskEncryption (for the Client), in
// OpenOptions.DiskEncryption (for one Open), or let the Client take it
// from its Config (see Config.DiskEncryption). ParseDiskEncryption reads
// the JSON form.
type DiskEncryption struct {
	// KeyARN is the KMS key: a key ARN (as EMR Serverless requires), a key
	// id, alias/NAME or an alias ARN. Empty means the default random key.
	KeyARN string `json:"encryptionKeyArn,omitempty"`
	// EncryptionContext is sent with every GenerateDataKey and Decrypt of
	// the data key: at most 8 pairs, keys of 1–128 and values of 1–384
	// characters. Key policies may condition on
	// kms:EncryptionContext:<key>.
	EncryptionContext map[string]string `json:"encryptionContext,omitempty"`
}

// IsZero reports whether d is the default: no customer key.
func (d *DiskEncryption) IsZero() bool { return d == nil || d.KeyARN == "" }

// String describes the configuration; nothing in it is secret.
func (d *DiskEncryption) String() string {
	if d.IsZero() {
		return "disk encryption: random in-memory key"
	}
	s := "disk encryption: KMS key " + d.KeyARN
	if len(d.EncryptionContext) > 0 {
		s += " context " + formatDiskContext(d.EncryptionContext)
	}
	return s
}

// clone returns a deep copy, nil for the default.
func (d *DiskEncryption) clone() *DiskEncryption {
	if d.IsZero() {
		return nil
	}
	return &DiskEncryption{KeyARN: d.KeyARN, EncryptionContext: maps.Clone(d.EncryptionContext)}
}

// Validate checks d against the EMR Serverless rules. Errors are
// *ConfigError matching ErrInvalidConfig.
func (d *DiskEncryption) Validate() error { return d.validate(diskEncryptionJSONOp) }

func (d *DiskEncryption) validate(field string) error {
	if d == nil {
		return nil
	}
	if d.KeyARN == "" {
		if len(d.EncryptionContext) > 0 {
			return newConfigError("", field+".encryptionContext", formatDiskContext(d.EncryptionContext),
				"an encryption context without a KMS key", "set encryptionKeyArn to the key, or remove the context")
		}
		return nil
	}
	if err := checkKMSKeyID("", field+".encryptionKeyArn", d.KeyARN); err != nil {
		return err
	}
	return checkDiskContext(field+".encryptionContext", d.EncryptionContext)
}

func checkDiskContext(field string, ec map[string]string) error {
	if len(ec) > maxDiskContextPairs {
		return newConfigError("", field, "", fmt.Sprintf("%d pairs, more than the %d EMR Serverless allows", len(ec), maxDiskContextPairs), "keep at most 8 pairs")
	}
	for _, k := range sortedKeys(ec) {
		v := ec[k]
		if n := utf8.RuneCountInString(k); n < 1 || n > maxDiskContextKey {
			return newConfigError("", field, k, fmt.Sprintf("key of %d characters", n), "use keys of 1 to 128 characters")
		}
		if n := utf8.RuneCountInString(v); n < 1 || n > maxDiskContextValue {
			return newConfigError("", field, k+":"+v, fmt.Sprintf("value of %d characters", n), "use values of 1 to 384 characters")
		}
	}
	return nil
}

// ParseDiskEncryption reads EMR Serverless disk encryption JSON: the
// configuration itself, as given to `aws emr-serverless create-application
// --disk-encryption-configuration`,
//
//	{"encryptionKeyArn": "arn:aws:kms:...", "encryptionContext": {"applicationId": "..."}}
//
// or an object that holds it under "diskEncryptionConfiguration", as in
// StartJobRun's --configuration-overrides (other members of that object are
// ignored). An empty configuration ({}) returns the default (a zero
// DiskEncryption), as an empty configuration unsets disk encryption in EMR
// Serverless. Unknown members of the configuration are refused. A syntax
// error matches ErrSyntax; a semantic one is a *ConfigError matching
// ErrInvalidConfig.
func ParseDiskEncryption(data []byte) (*DiskEncryption, error) {
	var wrap map[string]json.RawMessage
	if err := json.Unmarshal(data, &wrap); err != nil {
		return nil, fmt.Errorf("%w: disk encryption JSON: %v", ErrSyntax, err)
	}
	field := diskEncryptionJSONOp
	if inner, ok := wrap[diskEncryptionJSONOp]; ok {
		data = inner
	} else {
		field = "disk encryption JSON"
	}
	d := &DiskEncryption{}
	if string(bytes.TrimSpace(data)) == "null" {
		return d, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(d); err != nil {
		return nil, fmt.Errorf("%w: %s: %v (want {\"encryptionKeyArn\": ..., \"encryptionContext\": {...}})", ErrSyntax, field, err)
	}
	d.KeyARN = strings.TrimSpace(d.KeyARN)
	if err := d.validate(field); err != nil {
		return nil, err
	}
	return d, nil
}

// parseDiskContext parses spark.emr-serverless.disk.encryptionContext,
// written key1:value1,key2:value2 (the encryption-context syntax of
// internal/encctx: values may hold ':', as ARNs do), and checks the EMR
// Serverless limits.
func parseDiskContext(property, s string) (map[string]string, error) {
	m, err := encctx.Parse(s)
	if err != nil {
		return nil, newConfigError("", property, s, "malformed encryption context: "+err.Error(), "write the context as key1:value1,key2:value2")
	}
	return m, checkDiskContext(property, m)
}

// formatDiskContext writes a context as key1:value1,key2:value2, sorted.
func formatDiskContext(ec map[string]string) string { return encctx.Format(ec, ':') }

// localDiskJSON is the LocalDiskEncryptionConfiguration of an EMR security
// configuration.
type localDiskJSON struct {
	EncryptionKeyProviderType  string   `json:"EncryptionKeyProviderType"`
	AwsKmsKey                  string   `json:"AwsKmsKey"`
	EnableEbsEncryption        flexBool `json:"EnableEbsEncryption"`
	S3Object                   string   `json:"S3Object"`
	EncryptionKeyProviderClass string   `json:"EncryptionKeyProviderClass"`
}

const secDiskPath = "SecurityConfiguration.EncryptionConfiguration.AtRestEncryptionConfiguration.LocalDiskEncryptionConfiguration"

// diskFromSecurity maps a security configuration's local-disk section to
// the disk encryption of spool files: an AwsKms provider names the key;
// a custom provider has no key this client can use, so spool files keep
// the default random key (with a warning).
func diskFromSecurity(j *localDiskJSON, atRest bool) (d *DiskEncryption, warning string, err error) {
	if j == nil {
		return nil, "", nil
	}
	if !atRest {
		return nil, "security configuration: LocalDiskEncryptionConfiguration is ignored because EnableAtRestEncryption is false", nil
	}
	switch strings.ToLower(strings.TrimSpace(j.EncryptionKeyProviderType)) {
	case "awskms":
		key := strings.TrimSpace(j.AwsKmsKey)
		if key == "" {
			return nil, "", newConfigError("", secDiskPath+".AwsKmsKey", "", "EncryptionKeyProviderType AwsKms needs a KMS key", "set AwsKmsKey to a KMS key ARN")
		}
		if err := checkKMSKeyID("", secDiskPath+".AwsKmsKey", key); err != nil {
			return nil, "", err
		}
		return &DiskEncryption{KeyARN: key}, "", nil
	case "custom":
		return nil, "security configuration: LocalDiskEncryptionConfiguration uses a Custom key provider, which this client cannot call; spool files are sealed under the key of " + SparkDiskEncryptionKeyArn + " if it is set, else under a random in-memory key", nil
	}
	return nil, "", newConfigError("", secDiskPath+".EncryptionKeyProviderType", j.EncryptionKeyProviderType, "unknown key provider type", "set AwsKms or Custom")
}

// DiskEncryption returns the disk encryption the configuration asks for,
// or nil for the default (random in-memory key):
//
//  1. the security configuration's LocalDiskEncryptionConfiguration when
//     it names a KMS key (EncryptionKeyProviderType AwsKms, AwsKmsKey), as
//     a security configuration overrides the properties;
//  2. the Spark properties SparkDiskEncryptionKeyArn and
//     SparkDiskEncryptionContext ("key1:value1,key2:value2"), from Hadoop
//     XML or the spark-defaults classification of configurations JSON.
//
// Errors are *ConfigError matching ErrInvalidConfig.
func (c *Config) DiskEncryption() (*DiskEncryption, error) {
	if c.sec != nil && c.sec.disk != nil {
		return c.sec.disk.clone(), nil
	}
	key, _ := c.Get(SparkDiskEncryptionKeyArn)
	ctx, _ := c.Get(SparkDiskEncryptionContext)
	key = strings.TrimSpace(key)
	ec, err := parseDiskContext(SparkDiskEncryptionContext, ctx)
	if err != nil {
		return nil, err
	}
	if key == "" {
		if len(ec) > 0 {
			return nil, newConfigError("", SparkDiskEncryptionContext, ctx, "an encryption context without a KMS key",
				"set "+SparkDiskEncryptionKeyArn+" too, or remove the context")
		}
		return nil, nil
	}
	if err := checkKMSKeyID("", SparkDiskEncryptionKeyArn, key); err != nil {
		return nil, err
	}
	return &DiskEncryption{KeyARN: key, EncryptionContext: ec}, nil
}
