//lint:file-ignore SA1019 the side-by-side comparison is with aws-sdk-go v1 s3crypto (deprecated, still the official Go S3 encryption client of record)

package main

import (
	"context"
	"io"
	"net/http"

	awsv1 "github.com/aws/aws-sdk-go/aws"
	credsv1 "github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	kmsv1 "github.com/aws/aws-sdk-go/service/kms"
	s3v1 "github.com/aws/aws-sdk-go/service/s3"
	"github.com/aws/aws-sdk-go/service/s3/s3crypto"
)

// s3cryptoImpl is aws-sdk-go v1's s3crypto: the V2 client (GCM,
// kms+context) for new objects, and its V1 client with CBC content for the
// legacy EMRFS-format objects.
type s3cryptoImpl struct {
	put1   func(ctx context.Context, in *s3v1.PutObjectInput) error
	dec    *s3crypto.DecryptionClientV2
	bucket string
}

func newS3Crypto(e env, hc *http.Client, cbc bool) (impl, error) {
	s3sess, err := session.NewSession(&awsv1.Config{
		Region: awsv1.String(e.Region), Endpoint: awsv1.String(e.S3Endpoint), S3ForcePathStyle: awsv1.Bool(true),
		Credentials: credsv1.NewStaticCredentials(e.S3Access, e.S3Secret, ""), HTTPClient: hc,
	})
	if err != nil {
		return nil, err
	}
	kmsClient := kmsv1.New(session.Must(session.NewSession(&awsv1.Config{
		Region: awsv1.String(e.Region), Endpoint: awsv1.String(e.KMSEndpoint),
		Credentials: credsv1.NewStaticCredentials(e.KMSAccess, e.KMSSecret, ""), HTTPClient: hc,
	})))
	s := &s3cryptoImpl{bucket: e.Bucket}
	if cbc {

		c := s3crypto.NewEncryptionClient(s3sess, s3crypto.AESCBCContentCipherBuilder(s3crypto.NewKMSKeyGenerator(kmsClient, e.KMSKey), s3crypto.AESCBCPadder))
		s.put1 = func(ctx context.Context, in *s3v1.PutObjectInput) error {
			_, err := c.PutObjectWithContext(ctx, in)
			return err
		}
	} else {
		c, err := s3crypto.NewEncryptionClientV2(s3sess, s3crypto.AESGCMContentCipherBuilderV2(s3crypto.NewKMSContextKeyGenerator(kmsClient, e.KMSKey, s3crypto.MaterialDescription{})))
		if err != nil {
			return nil, err
		}
		s.put1 = func(ctx context.Context, in *s3v1.PutObjectInput) error {
			_, err := c.PutObjectWithContext(ctx, in)
			return err
		}
	}
	cr := s3crypto.NewCryptoRegistry()
	if err := s3crypto.RegisterKMSContextWrapWithAnyCMK(cr, kmsClient); err != nil {
		return nil, err
	}
	if err := s3crypto.RegisterKMSWrapWithAnyCMK(cr, kmsClient); err != nil {
		return nil, err
	}
	if err := s3crypto.RegisterAESGCMContentCipher(cr); err != nil {
		return nil, err
	}
	if err := s3crypto.RegisterAESCBCContentCipher(cr, s3crypto.AESCBCPadder); err != nil {
		return nil, err
	}
	s.dec, err = s3crypto.NewDecryptionClientV2(s3sess, cr)
	return s, err
}

func (s *s3cryptoImpl) put(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	return s.put1(ctx, &s3v1.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: body})
}

func (s *s3cryptoImpl) get(ctx context.Context, key string, w io.Writer) (int64, error) {
	out, err := s.dec.GetObjectWithContext(ctx, &s3v1.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return 0, err
	}
	defer out.Body.Close()
	return io.Copy(w, out.Body)
}

func (s *s3cryptoImpl) rangeTail(context.Context, string, int64, int64, io.Writer) (int64, error) {
	// s3crypto decrypts whole objects only; its decryption client refuses
	// a Range.
	return 0, errUnsupported
}
