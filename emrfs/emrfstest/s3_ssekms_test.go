package emrfstest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

func TestS3SSEKMSUsesKMS(t *testing.T) {
	ctx := context.Background()
	st, admin := newS3(t)
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault, emrfstest.UserARN("alice"))
	alice := s3.NewFromConfig(st.ConfigFor(st.AddUser("alice")), st.S3Options)
	bob := s3.NewFromConfig(st.ConfigFor(st.AddUser("bob")), st.S3Options)
	put := func(c *s3.Client, k, kmsKey string) error {
		in := &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(k), Body: strings.NewReader("data"), ServerSideEncryption: s3types.ServerSideEncryptionAwsKms}
		if kmsKey != "" {
			in.SSEKMSKeyId = aws.String(kmsKey)
		}
		_, err := c.PutObject(ctx, in)
		return err
	}
	get := func(c *s3.Client, k string) (*s3.GetObjectOutput, error) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(k)})
		if err == nil {
			out.Body.Close()
		}
		return out, err
	}

	if err := put(alice, "a", keyID); err != nil {
		t.Fatal(err)
	}
	out, err := get(alice, "a")
	if err != nil || aws.ToString(out.SSEKMSKeyId) != st.KMS.KeyARN(keyID) {
		t.Fatalf("GetObject: %v, key %q", err, aws.ToString(out.SSEKMSKeyId))
	}
	if _, err := get(bob, "a"); apiCode(err) != "AccessDenied" {
		t.Fatalf("bob reading alice's SSE-KMS object: %v", err)
	}
	if err := put(bob, "b", keyID); apiCode(err) != "AccessDenied" {
		t.Fatalf("bob writing under alice's key: %v", err)
	}
	if err := put(admin, "c", "alias/missing"); apiCode(err) != "KMS.NotFoundException" {
		t.Fatalf("unknown key: %v", err)
	}
	if err := put(bob, "d", ""); err != nil {
		t.Fatalf("default aws/s3 key: %v", err)
	}
	st.KMS.SetEnabled(keyID, false)
	if _, err := get(alice, "a"); apiCode(err) != "KMS.DisabledException" {
		t.Fatalf("reading under a disabled key: %v", err)
	}

	var ops []string
	for _, c := range st.KMS.Audit() {
		ops = append(ops, c.Operation+":"+c.Err)
		if c.EncryptionContext["aws:s3:arn"] == "" {
			t.Errorf("call %+v lacks the aws:s3:arn context", c)
		}
	}
	want := "GenerateDataKey: Decrypt: Decrypt:AccessDeniedException GenerateDataKey:AccessDeniedException GenerateDataKey:NotFoundException GenerateDataKey: Decrypt:DisabledException"
	if strings.Join(ops, " ") != want {
		t.Fatalf("KMS audit\n got %s\nwant %s", strings.Join(ops, " "), want)
	}
}
