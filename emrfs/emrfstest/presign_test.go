package emrfstest_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestS3PresignedURLs(t *testing.T) {
	ctx := context.Background()
	st, c := newS3(t)
	pc := s3.NewPresignClient(c)
	put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("p/k")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(put.Method, put.URL, strings.NewReader("via presigned PUT"))
	for k, v := range put.SignedHeader {
		req.Header[k] = v
	}
	resp, err := st.HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned PUT: %s", resp.Status)
	}
	get, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("p/k")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err = st.HTTPClient.Get(get.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "via presigned PUT" {
		t.Fatalf("presigned GET: %s %q", resp.Status, body)
	}
	resp, err = st.HTTPClient.Get(strings.Replace(get.URL, "/p/k?", "/p/x?", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("presigned GET of another key: %s", resp.Status)
	}
	if r := st.S3.Requests(); r[len(r)-2].Principal != "arn:aws:iam::111122223333:user/admin" {
		t.Fatalf("presigned GET principal %q", r[len(r)-2].Principal)
	}
}
