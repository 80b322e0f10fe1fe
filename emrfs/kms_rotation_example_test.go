package emrfs_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// After fs.s3.cse.kms.keyId moves to a new key, objects written under the
// old key are read with CSE.KMSAnyKey, set with Options.Bucket; new
// objects are written under the new key.
func ExampleCSE_kmsAnyKey() {
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
	keyA, keyB := st.KMS.CreateKey(types.KeySpecSymmetricDefault), st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	client := func(keyID string, anyKey bool) *emrfs.Client {
		cfg := emrfs.NewConfig()
		cfg.Set("fs.s3.cse.enabled", "true")
		cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
		cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
		cfg.Set("fs.s3.cse.kms.keyId", keyID)
		c, err := emrfs.New(api, cfg, func(o *emrfs.Options) {
			o.KMS = kms.NewFromConfig(st.Config)
			o.Bucket = func(b *emrfs.Bucket) {
				if b.CSE != nil {
					b.CSE.KMSAnyKey = anyKey
				}
			}
		})
		if err != nil {
			log.Fatal(err)
		}
		return c
	}
	w, err := client(keyA, false).Create(ctx, "s3://lake/old")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := io.WriteString(w, "written under key A"); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	_, err = client(keyB, false).Open(ctx, "s3://lake/old")
	fmt.Println("key B only:", strings.Contains(fmt.Sprint(err), "IncorrectKeyException"))

	f, err := client(keyB, true).Open(ctx, "s3://lake/old")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("KMSAnyKey:", string(b))
	// Output:
	// key B only: true
	// KMSAnyKey: written under key A
}
