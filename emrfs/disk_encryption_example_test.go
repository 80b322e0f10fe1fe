package emrfs_test

import (
	"fmt"

	"github.com/emrs3/emrs3/emrfs"
)

// ExampleParseDiskEncryption reads the diskEncryptionConfiguration of an
// EMR Serverless job run and seals the Client's spool files under that key
// and context.
func ExampleParseDiskEncryption() {
	overrides := []byte(`{"diskEncryptionConfiguration": {
		"encryptionKeyArn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"encryptionContext": {"applicationId": "00fabcd1234"}}}`)
	d, err := emrfs.ParseDiskEncryption(overrides)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d)
	// Then: emrfs.New(s3Client, cfg, func(o *emrfs.Options) {
	//	o.KMS = kms.NewFromConfig(awsCfg)
	//	o.DiskEncryption = d
	// })
	// Output:
	// disk encryption: KMS key arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab context applicationId:00fabcd1234
}

// ExampleConfig_DiskEncryption takes the disk encryption from the Spark
// properties of a configuration file.
func ExampleConfig_DiskEncryption() {
	cfg, err := emrfs.LoadConfigurationsJSON([]byte(`[{"Classification": "spark-defaults", "Properties": {
		"spark.emr-serverless.disk.encryptionKeyArn": "alias/emr-disk",
		"spark.emr-serverless.disk.encryptionContext": "applicationId:00fabcd1234,team:etl"}}]`))
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := cfg.DiskEncryption()
	fmt.Println(d, err)
	// Output:
	// disk encryption: KMS key alias/emr-disk context applicationId:00fabcd1234,team:etl <nil>
}
