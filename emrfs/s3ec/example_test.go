package s3ec_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
	"github.com/emrs3/emrs3/emrfs/s3ec"
)

// The calls of the official S3 Encryption Client for Go v4, streaming, on
// the local S3 and KMS of emrfstest.
func Example() {
	ctx := context.Background()
	st, err := emrfstest.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	keyID := st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
	s3Client := s3.NewFromConfig(st.Config, st.S3Options)
	if _, err := s3Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bucket")}); err != nil {
		log.Fatal(err)
	}

	// materials.NewKmsKeyring(kmsClient, keyID) in the official client.
	c, err := s3ec.New(s3Client, cse.NewKMSProvider(kms.NewFromConfig(st.Config), keyID))
	if err != nil {
		log.Fatal(err)
	}
	ctx = s3ec.WithEncryptionContext(ctx, map[string]string{"team": "data"})
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("bucket"), Key: aws.String("report.csv"),
		Body: strings.NewReader("id,total\n1,42\n"),
	}); err != nil {
		log.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("report.csv")})
	if err != nil {
		log.Fatal(err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d bytes: %q\n", *out.ContentLength, body)
	fmt.Println("format V3 (content cipher):", out.Metadata["x-amz-c"])
	// Output:
	// 14 bytes: "id,total\n1,42\n"
	// format V3 (content cipher): 115
}
