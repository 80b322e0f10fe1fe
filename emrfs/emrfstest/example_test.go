package emrfstest_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

func Example() {
	ctx := context.Background()
	st, err := emrfstest.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	c := kms.NewFromConfig(st.Config) // the unmodified SDK client
	ec := map[string]string{"bucket": "demo"}
	dk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: &keyID, KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: map[string]string{"bucket": "other"}})
	fmt.Println("wrong context:", err != nil)
	for _, call := range st.KMS.Audit() {
		fmt.Printf("%s by %s: error %q\n", call.Operation, call.Principal, call.Err)
	}
	// Output:
	// wrong context: true
	// GenerateDataKey by arn:aws:iam::111122223333:user/admin: error ""
	// Decrypt by arn:aws:iam::111122223333:user/admin: error "InvalidCiphertextException"
}

// An assumed role limited to one prefix: reads inside it succeed, reads
// outside get AccessDenied, and the S3 log names the role.
func ExampleSTS_CreateRole() {
	ctx := context.Background()
	st, err := emrfstest.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	admin := s3.NewFromConfig(st.Config, st.S3Options)
	_, _ = admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bucket")})
	for _, k := range []string{"user1/data", "admin/data"} {
		_, _ = admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(k), Body: strings.NewReader(k)})
	}

	role := emrfstest.RoleARN("role1")
	st.STS.CreateRole(role, emrfstest.UserARN("user1"))
	st.S3.Grant(role, "bucket", "user1/", false)

	user1 := st.ConfigFor(st.AddUser("user1"))
	cfg := user1.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(user1), role))
	c := s3.NewFromConfig(cfg, st.S3Options)

	st.S3.ResetRequests()
	for _, k := range []string{"user1/data", "admin/data"} {
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String(k)})
		fmt.Println(k, "allowed:", err == nil)
	}
	for _, r := range st.S3.Requests() {
		fmt.Println(r.Method, r.Key, r.Principal, r.Status)
	}
	// Output:
	// user1/data allowed: true
	// admin/data allowed: false
	// HEAD user1/data arn:aws:iam::111122223333:role/role1 200
	// HEAD admin/data arn:aws:iam::111122223333:role/role1 403
}
