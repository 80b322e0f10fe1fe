package emrfstest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestS3StoredHeaders: objects keep Cache-Control, Content-Language and
// Expires, through PutObject, CreateMultipartUpload and CopyObject, as in
// S3; a client cannot set the stack's private names for them.
func TestS3StoredHeaders(t *testing.T) {
	ctx := context.Background()
	_, c := newS3(t)
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("bucket"), Key: aws.String("h"), Body: strings.NewReader("x"),
		CacheControl: aws.String("no-cache"), ContentLanguage: aws.String("en"), Expires: aws.Time(expires),
	}); err != nil {
		t.Fatal(err)
	}
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bucket"), Key: aws.String("mp"), CacheControl: aws.String("max-age=60"), ContentLanguage: aws.String("de")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bucket"), Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bucket"), Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bucket"), Key: aws.String("copy"), CopySource: aws.String("bucket/h")}); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string][2]string{"h": {"no-cache", "en"}, "mp": {"max-age=60", "de"}, "copy": {"no-cache", "en"}} {
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if got := [2]string{aws.ToString(head.CacheControl), aws.ToString(head.ContentLanguage)}; got != want {
			t.Errorf("HeadObject(%s): Cache-Control, Content-Language = %q, want %q", key, got, want)
		}
		if len(head.Metadata) != 0 {
			t.Errorf("HeadObject(%s): metadata %v, want none", key, head.Metadata)
		}
		if key != "mp" {
			got, err := http.ParseTime(aws.ToString(head.ExpiresString))
			if err != nil || !got.Equal(expires) {
				t.Errorf("HeadObject(%s): Expires = %q, want %v", key, aws.ToString(head.ExpiresString), expires)
			}
		}
	}
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("h")})
	if err != nil {
		t.Fatal(err)
	}
	get.Body.Close()
	if aws.ToString(get.CacheControl) != "no-cache" || aws.ToString(get.ContentLanguage) != "en" {
		t.Errorf("GetObject: Cache-Control %q, Content-Language %q", aws.ToString(get.CacheControl), aws.ToString(get.ContentLanguage))
	}
}
