package emrfstest_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestS3SSEC(t *testing.T) {
	ctx := context.Background()
	st, c := newS3(t)
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	sum := md5.Sum(bytes.Repeat([]byte{1}, 32))
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), Body: strings.NewReader("secret"),
		SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	get := func(k string) error {
		in := &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k")}
		if k != "" {
			in.SSECustomerAlgorithm, in.SSECustomerKey = aws.String("AES256"), aws.String(k)
		}
		out, err := c.GetObject(ctx, in)
		if err == nil {
			out.Body.Close()
			if aws.ToString(out.SSECustomerKeyMD5) != base64.StdEncoding.EncodeToString(sum[:]) {
				t.Errorf("SSECustomerKeyMD5 = %q", aws.ToString(out.SSECustomerKeyMD5))
			}
		}
		return err
	}
	if err := get(key); err != nil {
		t.Fatalf("GET with the key: %v", err)
	}
	if err := get(""); apiCode(err) != "InvalidRequest" {
		t.Fatalf("GET without the key: %v", err)
	}
	if err := get(other); apiCode(err) != "AccessDenied" {
		t.Fatalf("GET with another key: %v", err)
	}
	_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bucket"), Key: aws.String("copy"), CopySource: aws.String("bucket/k")})
	if apiCode(err) != "InvalidRequest" {
		t.Fatalf("copy without the source key: %v", err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bucket"), Key: aws.String("copy"), CopySource: aws.String("bucket/k"),
		CopySourceSSECustomerAlgorithm: aws.String("AES256"), CopySourceSSECustomerKey: aws.String(key)}); err != nil {
		t.Fatalf("copy with the source key: %v", err)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String("copy")})
	if err != nil || h.SSECustomerAlgorithm != nil {
		t.Fatalf("copy without destination SSE-C: %v, algorithm %v", err, aws.ToString(h.SSECustomerAlgorithm))
	}
	for _, r := range st.S3.Requests() {
		for k := range r.Header {
			if strings.HasSuffix(strings.ToLower(k), "customer-key") {
				t.Fatalf("request log keeps %s", k)
			}
		}
	}
}
