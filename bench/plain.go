package main

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// plain is unencrypted aws-sdk-go-v2 on one connection: one PutObject (a
// seekable body, sent once) and one streaming GetObject.
type plain struct {
	client *s3.Client
	bucket string
}

func s3Client(e env, hc *http.Client) *s3.Client {
	return s3.New(s3.Options{
		Region:       e.Region,
		BaseEndpoint: aws.String(e.S3Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(e.S3Access, e.S3Secret, ""),
		HTTPClient:   hc,
	})
}

func newPlain(e env, hc *http.Client) (impl, error) {
	return &plain{client: s3Client(e, hc), bucket: e.Bucket}, nil
}

func (p *plain) put(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	_, err := p.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &p.bucket, Key: &key, Body: body, ContentLength: aws.Int64(size),
	})
	return err
}

func (p *plain) get(ctx context.Context, key string, w io.Writer) (int64, error) {
	out, err := p.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &p.bucket, Key: &key})
	if err != nil {
		return 0, err
	}
	defer out.Body.Close()
	return io.Copy(w, out.Body)
}

func (p *plain) rangeTail(ctx context.Context, key string, size, n int64, w io.Writer) (int64, error) {
	rng := fmt.Sprintf("bytes=%d-%d", size-n, size-1)
	out, err := p.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &p.bucket, Key: &key, Range: &rng})
	if err != nil {
		return 0, err
	}
	defer out.Body.Close()
	return io.Copy(w, out.Body)
}
