package emrfs_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emrs3/emrs3/emrfs"
)

// Load the EMR "configurations" JSON a cluster was created with and resolve
// the encryption of two buckets.
func ExampleLoadConfigurationsJSON() {
	cfg, err := emrfs.LoadConfigurationsJSON([]byte(`[
	  {"Classification": "emrfs-site", "Properties": {
	    "fs.s3.enableServerSideEncryption": "true",
	    "fs.s3.serverSideEncryption.kms.keyId": "a4567b8-9900-12ab-1234-123a45678901",
	    "fs.s3.bucket.public-data.serverSideEncryption.kms.keyId": "alias/public"}}]`))
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"logs", "public-data"} {
		b, err := cfg.Bucket(name)
		if err != nil {
			panic(err)
		}
		fmt.Println(b)
	}
	// Output:
	// bucket logs: SSE SSE-KMS(key=a4567b8-9900-12ab-1234-123a45678901)
	// bucket public-data: SSE SSE-KMS(key=alias/public)
}

// Read Hadoop XML (core-site.xml with S3A settings) and merge settings from
// code; later settings win.
func ExampleLoadHadoopXML() {
	cfg, err := emrfs.LoadHadoopXML(strings.NewReader(`<configuration>
	  <property><name>fs.s3a.encryption.algorithm</name><value>CSE-KMS</value></property>
	  <property><name>fs.s3a.encryption.key</name><value>alias/data</value></property>
	</configuration>`))
	if err != nil {
		panic(err)
	}
	cfg.Set("fs.s3a.encryption.cse.v1.compatibility.enabled", "true")
	b, err := cfg.Bucket("data")
	if err != nil {
		panic(err)
	}
	fmt.Println(b.CSE.IsKMS(), b.CSE.KMSKeyID, b.CSE.V2, b.CSE.Compatibility)
	// Output: true alias/data true true
}

// A security configuration overrides emrfs-site, and its Overrides choose
// per bucket.
func ExampleConfig_ApplySecurityConfiguration() {
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.enableServerSideEncryption", "true")
	err := cfg.ApplySecurityConfiguration([]byte(`{"EncryptionConfiguration": {
	  "EnableAtRestEncryption": true,
	  "AtRestEncryptionConfiguration": {"S3EncryptionConfiguration": {
	    "EncryptionMode": "CSE-KMS",
	    "AwsKmsKey": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
	    "Overrides": [{"BucketName": "public-data", "EncryptionMode": "SSE-S3"}]}}}}`))
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"raw", "public-data"} {
		b, _ := cfg.Bucket(name)
		fmt.Println(b)
	}
	// Output:
	// bucket raw: CSE CSE-KMS key=arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab storage=ObjectMetadata mode=EncryptionOnly v2=false
	// bucket public-data: SSE SSE-S3
}

// Validate reports every problem; each names the property and what to set.
func ExampleConfig_Validate() {
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3a.bucket.archive.encryption.algorithm", "SSE-C")
	err := cfg.Validate()
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *emrfs.ConfigError
		if errors.As(e, &ce) {
			fmt.Printf("[%s] %s: %s\n", ce.Bucket, ce.Property, ce.Problem)
		}
	}
	// Output:
	// [] fs.s3.cse.kms.keyId: fs.s3.cse.kms.keyId cannot be empty
	// [archive] fs.s3a.bucket.archive.encryption.key: SSE-C needs a key
}

// Warnings reports settings that disagree but do not stop the configuration
// from being used.
func ExampleConfig_Warnings() {
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.enableServerSideEncryption", "true")
	cfg.Set("fs.s3a.encryption.algorithm", "SSE-KMS")
	for _, w := range cfg.Warnings() {
		fmt.Println(w)
	}
	// Output:
	// fs.s3.enableServerSideEncryption (SSE SSE-S3) and fs.s3a.encryption.algorithm (SSE SSE-KMS(key=aws/s3 (account default))) disagree; using the fs.s3.* setting
}

// Validate names a mistyped property in the encryption and authorization
// namespaces together with the closest known name.
func ExampleConfig_Validate_typo() {
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enable", "true") // meant fs.s3.cse.enabled
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	fmt.Println(cfg.Validate())
	// Output:
	// emrfs: fs.s3.cse.enable="true": unknown property; did you mean fs.s3.cse.enabled?
}
