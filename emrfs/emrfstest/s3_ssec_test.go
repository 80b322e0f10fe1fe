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
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
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

// TestS3SSECMultipart: the parts of an SSE-C multipart upload need its key,
// and so does CompleteMultipartUpload of an upload created with a checksum
// algorithm, as on S3.
func TestS3SSECMultipart(t *testing.T) {
	ctx := context.Background()
	_, c := newS3(t)
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	withKey := func(alg, k **string) { *alg, *k = aws.String("AES256"), aws.String(key) }
	for _, tc := range []struct {
		name     string
		ssec     bool
		checksum types.ChecksumAlgorithm
	}{{"ssec+crc32", true, types.ChecksumAlgorithmCrc32}, {"ssec", true, ""}, {"plain+crc32", false, types.ChecksumAlgorithmCrc32}} {
		objKey := "mpu-" + tc.name
		create := &s3.CreateMultipartUploadInput{Bucket: aws.String("bucket"), Key: aws.String(objKey), ChecksumAlgorithm: tc.checksum}
		if tc.ssec {
			withKey(&create.SSECustomerAlgorithm, &create.SSECustomerKey)
		}
		up, err := c.CreateMultipartUpload(ctx, create)
		if err != nil {
			t.Fatal(err)
		}
		part := func(ssec bool) (*s3.UploadPartOutput, error) {
			in := &s3.UploadPartInput{Bucket: aws.String("bucket"), Key: aws.String(objKey), UploadId: up.UploadId,
				PartNumber: aws.Int32(1), Body: strings.NewReader("part data"), ChecksumAlgorithm: tc.checksum}
			if ssec {
				withKey(&in.SSECustomerAlgorithm, &in.SSECustomerKey)
			}
			return c.UploadPart(ctx, in)
		}
		if _, err := part(!tc.ssec); apiCode(err) != "InvalidRequest" {
			t.Errorf("%s: UploadPart with SSE-C=%v = %v, want InvalidRequest", tc.name, !tc.ssec, err)
		}
		p, err := part(tc.ssec)
		if err != nil {
			t.Fatalf("%s: UploadPart: %v", tc.name, err)
		}
		complete := func(ssec bool) error {
			in := &s3.CompleteMultipartUploadInput{Bucket: aws.String("bucket"), Key: aws.String(objKey), UploadId: up.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p.ETag, ChecksumCRC32: p.ChecksumCRC32}}}}
			if ssec {
				withKey(&in.SSECustomerAlgorithm, &in.SSECustomerKey)
			}
			_, err := c.CompleteMultipartUpload(ctx, in)
			return err
		}
		if tc.ssec && tc.checksum != "" {
			if err := complete(false); apiCode(err) != "InvalidRequest" {
				t.Errorf("%s: CompleteMultipartUpload without the key = %v, want InvalidRequest", tc.name, err)
			}
		}
		if err := complete(tc.ssec); err != nil {
			t.Fatalf("%s: CompleteMultipartUpload: %v", tc.name, err)
		}
		get := &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(objKey)}
		if tc.ssec {
			withKey(&get.SSECustomerAlgorithm, &get.SSECustomerKey)
		}
		out, err := c.GetObject(ctx, get)
		if err != nil {
			t.Fatalf("%s: GET: %v", tc.name, err)
		}
		out.Body.Close()
	}
}
