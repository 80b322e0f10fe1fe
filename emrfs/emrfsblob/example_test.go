package emrfsblob_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfsblob"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// A blob bucket over a CSE-KMS bucket: blob writes are encrypted as EMRFS
// encrypts them, reads and attributes are plaintext.
func ExampleOpenBucket() {
	ctx := context.Background()
	st, err := emrfstest.New(ctx) // a local S3 + KMS; real programs use AWS
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	api := s3.NewFromConfig(st.Config, st.S3Options)
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")}); err != nil {
		log.Fatal(err)
	}

	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", st.KMS.CreateKey(types.KeySpecSymmetricDefault))
	cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
	c, err := emrfs.New(api, cfg, func(o *emrfs.Options) { o.KMS = kms.NewFromConfig(st.Config) })
	if err != nil {
		log.Fatal(err)
	}
	bkt, err := emrfsblob.OpenBucket(c, "lake")
	if err != nil {
		log.Fatal(err)
	}
	defer bkt.Close()

	if err := bkt.WriteAll(ctx, "events/day=1/part-0.json", []byte(`{"n":1}`), nil); err != nil {
		log.Fatal(err)
	}
	data, err := bkt.ReadAll(ctx, "events/day=1/part-0.json")
	if err != nil {
		log.Fatal(err)
	}
	attrs, err := bkt.Attributes(ctx, "events/day=1/part-0.json")
	if err != nil {
		log.Fatal(err)
	}
	head, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lake"), Key: aws.String("events/day=1/part-0.json")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d bytes (%d stored, envelope %t)\n", data, attrs.Size, aws.ToInt64(head.ContentLength), head.Metadata["x-amz-key-v2"] != "")
	// Output:
	// {"n":1}: 7 bytes (23 stored, envelope true)
}
