package emrfs

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		code string
		want error
	}{
		{"NoSuchKey", fs.ErrNotExist},
		{"NotFound", fs.ErrNotExist},
		{"NoSuchBucket", fs.ErrNotExist},
		{"AccessDenied", fs.ErrPermission},
		{"Forbidden", fs.ErrPermission},
		{"InvalidAccessKeyId", fs.ErrPermission},
		{"AccessDeniedException", fs.ErrPermission}, // KMS
		{"SlowDown", nil},
		{"InternalError", nil},
	}
	for _, tc := range tests {
		err := pathError("open", "s3://b/k", &smithy.GenericAPIError{Code: tc.code, Message: "m"})
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v does not match %v", tc.code, err, tc.want)
		}
		if tc.want == nil && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission)) {
			t.Errorf("%s: %v classified", tc.code, err)
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
			t.Errorf("%s: SDK error not reachable with errors.As", tc.code)
		}
	}
	if err := pathError("read", "s3://b/k", context.Canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("context error lost: %v", err)
	}
}

// TestAccessDeniedOverHTTP talks to a server that denies everything the
// way S3 does (403 with an XML error body; HEAD without a body).
func TestAccessDeniedOverHTTP(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>1</RequestId></Error>`)
		}
	}))
	defer ts.Close()
	api := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), UsePathStyle: true,
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		RetryMaxAttempts: 1,
	})
	c := newTestClient(t, api)
	ctx := context.Background()
	uri := "s3://" + testBucket + "/secret"
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, fs.ErrPermission) {
			t.Errorf("%s = %v, want fs.ErrPermission", op, err)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Path != uri {
			t.Errorf("%s error %v is not a *fs.PathError naming %s", op, err, uri)
		}
	}
	_, err := c.Open(ctx, uri)
	check("Open", err)
	_, err = c.Stat(ctx, uri)
	check("Stat", err)
	w, err := c.Create(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("x"))
	check("Create+Close", w.Close())
	for _, err := range c.List(ctx, uri) {
		check("List", err)
	}
	check("Remove", c.Remove(ctx, uri))
}
