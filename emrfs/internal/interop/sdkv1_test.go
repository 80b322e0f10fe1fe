//lint:file-ignore SA1019 s3crypto interop tests need aws-sdk-go v1, which is deprecated

package interop

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	v1aws "github.com/aws/aws-sdk-go/aws"
	v1creds "github.com/aws/aws-sdk-go/aws/credentials"
	v1session "github.com/aws/aws-sdk-go/aws/session"
	v1kms "github.com/aws/aws-sdk-go/service/kms"
	v1s3 "github.com/aws/aws-sdk-go/service/s3"
	"github.com/aws/aws-sdk-go/service/s3/s3crypto"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
	"github.com/emrs3/emrs3/internal/miniotest"
)

func v1Session(t *testing.T, st *emrfstest.Stack) *v1session.Session {
	t.Helper()
	c, err := st.Config.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sess, err := v1session.NewSession(&v1aws.Config{
		Region: v1aws.String(st.Region), Endpoint: v1aws.String(st.URL), S3ForcePathStyle: v1aws.Bool(true),
		Credentials: v1creds.NewStaticCredentials(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		HTTPClient:  st.HTTPClient,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

func TestSDKv1KMS(t *testing.T) {
	st := emrfstest.Start(t)
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	c := v1kms.New(v1Session(t, st))
	ec := map[string]*string{"a": v1aws.String("b")}
	gdk, err := c.GenerateDataKey(&v1kms.GenerateDataKeyInput{KeyId: &keyID, KeySpec: v1aws.String("AES_256"), EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := c.Decrypt(&v1kms.DecryptInput{CiphertextBlob: gdk.CiphertextBlob, EncryptionContext: ec})
	if err != nil || !bytes.Equal(dec.Plaintext, gdk.Plaintext) {
		t.Fatalf("v1 Decrypt: %v", err)
	}
	_, err = c.Decrypt(&v1kms.DecryptInput{CiphertextBlob: gdk.CiphertextBlob})
	if _, ok := err.(*v1kms.InvalidCiphertextException); !ok {
		t.Fatalf("v1 Decrypt without context: %T %v", err, err)
	}
}

// The AWS S3 Encryption Client (v1 s3crypto, as EMRFS interop uses) runs
// unchanged against the stack.
func TestSDKv1S3Crypto(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	sess := v1Session(t, st)
	kmsc := v1kms.New(sess)
	if _, err := v1s3.New(sess).CreateBucket(&v1s3.CreateBucketInput{Bucket: v1aws.String("bucket")}); err != nil {
		t.Fatal(err)
	}
	enc, err := s3crypto.NewEncryptionClientV2(sess, s3crypto.AESGCMContentCipherBuilderV2(s3crypto.NewKMSContextKeyGenerator(kmsc, keyID, s3crypto.MaterialDescription{})))
	if err != nil {
		t.Fatal(err)
	}
	data := plaintext(100_000)
	if _, err := enc.PutObject(&v1s3.PutObjectInput{Bucket: v1aws.String("bucket"), Key: v1aws.String("cse"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	cr := s3crypto.NewCryptoRegistry()
	if err := s3crypto.RegisterAESGCMContentCipher(cr); err != nil {
		t.Fatal(err)
	}
	if err := s3crypto.RegisterKMSContextWrapWithAnyCMK(cr, kmsc); err != nil {
		t.Fatal(err)
	}
	dec, err := s3crypto.NewDecryptionClientV2(sess, cr)
	if err != nil {
		t.Fatal(err)
	}
	out, err := dec.GetObject(&v1s3.GetObjectInput{Bucket: v1aws.String("bucket"), Key: v1aws.String("cse")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("decrypted %d bytes: %v", len(got), err)
	}
	// The stored object is the envelope: ciphertext plus the wrapped key.
	raw, err := s3.NewFromConfig(st.Config, st.S3Options).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("cse")})
	if err != nil {
		t.Fatal(err)
	}
	rawBytes, _ := io.ReadAll(raw.Body)
	raw.Body.Close()
	if len(rawBytes) != len(data)+16 || raw.Metadata["x-amz-wrap-alg"] != "kms+context" || raw.Metadata["x-amz-cek-alg"] != "AES/GCM/NoPadding" {
		t.Fatalf("stored object: %d bytes, metadata %v", len(rawBytes), raw.Metadata)
	}
	audit := st.KMS.Audit()
	if len(audit) != 2 || audit[0].Operation != "GenerateDataKey" || audit[1].Operation != "Decrypt" ||
		audit[1].EncryptionContext["aws:x-amz-cek-alg"] != "AES/GCM/NoPadding" {
		t.Fatalf("KMS audit %+v", audit)
	}
}

// Client-side encryption on MinIO with the stack's KMS: the s3crypto V2
// client writes to MinIO and reads back, its data keys from the emulator.
func TestMinIOS3CryptoWithStackKMS(t *testing.T) {
	b, ok := miniotest.MinIO()
	if !ok {
		t.Skip("set " + miniotest.EnvEndpoint + " (source .ci/services) to run against MinIO")
	}
	st := emrfstest.Start(t)
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	kmsc := v1kms.New(v1Session(t, st))
	mc, err := b.Config.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	minio, err := v1session.NewSession(&v1aws.Config{
		Region: v1aws.String(emrfstest.Region), Endpoint: b.Config.BaseEndpoint, S3ForcePathStyle: v1aws.Bool(true),
		Credentials: v1creds.NewStaticCredentials(mc.AccessKeyID, mc.SecretAccessKey, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	bucket := v1aws.String("emrs3-cse-" + strings.ToLower(keyID[:8]))
	if _, err := v1s3.New(minio).CreateBucket(&v1s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	enc, err := s3crypto.NewEncryptionClientV2(minio, s3crypto.AESGCMContentCipherBuilderV2(s3crypto.NewKMSContextKeyGenerator(kmsc, keyID, s3crypto.MaterialDescription{})))
	if err != nil {
		t.Fatal(err)
	}
	data := plaintext(50_000)
	if _, err := enc.PutObject(&v1s3.PutObjectInput{Bucket: bucket, Key: v1aws.String("cse"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	cr := s3crypto.NewCryptoRegistry()
	if err := s3crypto.RegisterAESGCMContentCipher(cr); err != nil {
		t.Fatal(err)
	}
	if err := s3crypto.RegisterKMSContextWrapWithAnyCMK(cr, kmsc); err != nil {
		t.Fatal(err)
	}
	dec, err := s3crypto.NewDecryptionClientV2(minio, cr)
	if err != nil {
		t.Fatal(err)
	}
	out, err := dec.GetObject(&v1s3.GetObjectInput{Bucket: bucket, Key: v1aws.String("cse")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("decrypted %d bytes: %v", len(got), err)
	}
	if n := len(st.KMS.Audit()); n != 2 {
		t.Fatalf("%d KMS calls, want GenerateDataKey + Decrypt", n)
	}
}

// TestS3SDKv1: the aws-sdk-go v1 S3 client (SigV4 of its own) against the
// stack. (Moved from emrfstest.)
func TestS3SDKv1(t *testing.T) {
	st := emrfstest.Start(t)
	if _, err := s3.NewFromConfig(st.Config, st.S3Options).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("bucket")}); err != nil {
		t.Fatal(err)
	}
	creds := st.AddUser("v1user")
	sess, err := v1session.NewSession(&v1aws.Config{
		Region: v1aws.String(st.Region), Endpoint: v1aws.String(st.URL), S3ForcePathStyle: v1aws.Bool(true),
		Credentials: v1creds.NewStaticCredentials(creds.AccessKeyID, creds.SecretAccessKey, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := v1s3.New(sess)
	data := plaintext(70_000)
	if _, err := c.PutObject(&v1s3.PutObjectInput{Bucket: v1aws.String("bucket"), Key: v1aws.String("v1/obj"), Body: bytes.NewReader(data), Metadata: map[string]*string{"X-Amz-Matdesc": v1aws.String("{}")}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(&v1s3.GetObjectInput{Bucket: v1aws.String("bucket"), Key: v1aws.String("v1/obj")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, data) || v1aws.StringValue(out.Metadata["X-Amz-Matdesc"]) != "{}" {
		t.Fatalf("v1 GetObject: %d bytes, metadata %v", len(got), out.Metadata)
	}
	bad := v1s3.New(sess, &v1aws.Config{Credentials: v1creds.NewStaticCredentials(creds.AccessKeyID, "wrong", "")})
	_, err = bad.GetObject(&v1s3.GetObjectInput{Bucket: v1aws.String("bucket"), Key: v1aws.String("v1/obj")})
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("v1 with wrong secret: %v", err)
	}
}
