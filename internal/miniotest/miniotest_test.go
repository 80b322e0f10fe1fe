package miniotest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/emrs3/emrs3/internal/miniotest"
)

// putGetSSE writes and reads back an object with SSE-S3 and SSE-KMS.
func putGetSSE(t *testing.T, b miniotest.Backend) {
	ctx := context.Background()
	c := s3.NewFromConfig(b.Config, b.S3Options)
	bucket := fmt.Sprintf("emrs3-%s-%d", b.Name, time.Now().UnixNano())
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 200_000)
	tests := []struct {
		name string
		in   s3.PutObjectInput
		want s3types.ServerSideEncryption
	}{
		{"sse-s3", s3.PutObjectInput{ServerSideEncryption: s3types.ServerSideEncryptionAes256}, s3types.ServerSideEncryptionAes256},
		{"sse-kms", s3.PutObjectInput{ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(b.SSEKMSKeyID)}, s3types.ServerSideEncryptionAwsKms},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Bucket, in.Key, in.Body = &bucket, aws.String(tc.name), bytes.NewReader(data)
			in.Metadata = map[string]string{"x-amz-matdesc": "{}"}
			if _, err := c.PutObject(ctx, &in); err != nil {
				t.Fatal(err)
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: in.Key})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes, %v", len(got), err)
			}
			if out.ServerSideEncryption != tc.want || out.Metadata["x-amz-matdesc"] != "{}" {
				t.Fatalf("SSE %q, metadata %v", out.ServerSideEncryption, out.Metadata)
			}
			if tc.want == s3types.ServerSideEncryptionAwsKms && !strings.HasSuffix(aws.ToString(out.SSEKMSKeyId), b.SSEKMSKeyID) {
				t.Fatalf("SSE-KMS key %q, want %q", aws.ToString(out.SSEKMSKeyId), b.SSEKMSKeyID)
			}
		})
	}
}

func TestBackends(t *testing.T) {
	bs := miniotest.Backends(t)
	_, minio := miniotest.MinIO()
	if bs[0].Name != "emrfstest" || (len(bs) == 2) != minio || (minio && bs[1].Name != "minio") {
		t.Fatalf("backends %v with MinIO configured = %v", bs, minio)
	}
	for _, b := range bs {
		if b.Stack != bs[0].Stack || b.Stack == nil {
			t.Fatalf("backend %s has stack %p, want the shared %p", b.Name, b.Stack, bs[0].Stack)
		}
	}
	putGetSSE(t, bs[0]) // MinIO runs in TestMinIOPutGetSSE
}

func TestMinIOPutGetSSE(t *testing.T) {
	b, ok := miniotest.MinIO()
	if !ok {
		t.Skip("set " + miniotest.EnvEndpoint + " (source .ci/services) to run against MinIO")
	}
	putGetSSE(t, b)
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
