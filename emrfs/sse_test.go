package emrfs

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func testSSEC(t testing.TB) *SSE {
	t.Helper()
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	s, err := NewSSEC(key)
	if err != nil {
		t.Fatal(err)
	}
	clear(key) // the SSE keeps its own copy
	return s
}

// sseFields is what a request carries, flattened for comparison.
type sseFields struct {
	SSE, KMSKeyID, Context    string
	BucketKey                 string
	CAlg, CKey, CMD5          string
	SrcCAlg, SrcCKey, SrcCMD5 string
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func boolStr(p *bool) string {
	if p == nil {
		return ""
	}
	if *p {
		return "true"
	}
	return "false"
}

func TestSSEPutAndCreateMultipart(t *testing.T) {
	on := true
	ctxB64 := base64.StdEncoding.EncodeToString([]byte(`{"a":"1","b":"2"}`))
	tests := []struct {
		name string
		sse  *SSE
		want sseFields
	}{
		{"none", nil, sseFields{}},
		{"SSE-S3", &SSE{Kind: SSES3}, sseFields{SSE: "AES256"}},
		{"SSE-S3 ignores KMS fields", &SSE{Kind: SSES3, KMSKeyID: "alias/x", BucketKey: &on}, sseFields{SSE: "AES256"}},
		{"SSE-KMS default key", &SSE{Kind: SSEKMS}, sseFields{SSE: "aws:kms"}},
		{"SSE-KMS key, context, bucket key", &SSE{Kind: SSEKMS, KMSKeyID: testKeyARN, Context: map[string]string{"b": "2", "a": "1"}, BucketKey: &on},
			sseFields{SSE: "aws:kms", KMSKeyID: testKeyARN, Context: ctxB64, BucketKey: "true"}},
		{"DSSE-KMS", &SSE{Kind: DSSEKMS, KMSKeyID: "alias/d"}, sseFields{SSE: "aws:kms:dsse", KMSKeyID: "alias/d"}},
		{"SSE-C", testSSEC(t), sseFields{CAlg: "AES256", CKey: testSSECKey, CMD5: testSSECMD5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var put s3.PutObjectInput
			tt.sse.apply(&put, nil)
			got := sseFields{SSE: string(put.ServerSideEncryption), KMSKeyID: str(put.SSEKMSKeyId), Context: str(put.SSEKMSEncryptionContext),
				BucketKey: boolStr(put.BucketKeyEnabled), CAlg: str(put.SSECustomerAlgorithm), CKey: str(put.SSECustomerKey), CMD5: str(put.SSECustomerKeyMD5)}
			if got != tt.want {
				t.Errorf("PutObject: got %+v, want %+v", got, tt.want)
			}
			var cmu s3.CreateMultipartUploadInput
			tt.sse.apply(&cmu, nil)
			got = sseFields{SSE: string(cmu.ServerSideEncryption), KMSKeyID: str(cmu.SSEKMSKeyId), Context: str(cmu.SSEKMSEncryptionContext),
				BucketKey: boolStr(cmu.BucketKeyEnabled), CAlg: str(cmu.SSECustomerAlgorithm), CKey: str(cmu.SSECustomerKey), CMD5: str(cmu.SSECustomerKeyMD5)}
			if got != tt.want {
				t.Errorf("CreateMultipartUpload: got %+v, want %+v", got, tt.want)
			}
			var cp s3.CopyObjectInput
			tt.sse.apply(&cp, nil)
			got = sseFields{SSE: string(cp.ServerSideEncryption), KMSKeyID: str(cp.SSEKMSKeyId), Context: str(cp.SSEKMSEncryptionContext),
				BucketKey: boolStr(cp.BucketKeyEnabled), CAlg: str(cp.SSECustomerAlgorithm), CKey: str(cp.SSECustomerKey), CMD5: str(cp.SSECustomerKeyMD5)}
			if got != tt.want {
				t.Errorf("CopyObject: got %+v, want %+v", got, tt.want)
			}
			if cp.CopySourceSSECustomerKey != nil {
				t.Error("CopyObject from a non-SSE-C source set copy-source SSE-C fields")
			}
		})
	}
}

func TestSSEReadsAndParts(t *testing.T) {
	ssec := testSSEC(t)
	for _, s := range []*SSE{nil, {Kind: SSES3}, {Kind: SSEKMS, KMSKeyID: testKeyARN, Context: map[string]string{"a": "b"}}, {Kind: DSSEKMS}, ssec} {
		var get s3.GetObjectInput
		var head s3.HeadObjectInput
		var part s3.UploadPartInput
		var partCopy s3.UploadPartCopyInput
		var complete s3.CompleteMultipartUploadInput
		s.apply(&complete, nil)
		s.apply(&get, nil)
		s.apply(&head, nil)
		s.apply(&part, nil)
		s.apply(&partCopy, nil)
		want := sseFields{}
		if s == ssec {
			want = sseFields{CAlg: "AES256", CKey: testSSECKey, CMD5: testSSECMD5}
		}
		for name, got := range map[string]sseFields{
			"GetObject":      {CAlg: str(get.SSECustomerAlgorithm), CKey: str(get.SSECustomerKey), CMD5: str(get.SSECustomerKeyMD5)},
			"HeadObject":     {CAlg: str(head.SSECustomerAlgorithm), CKey: str(head.SSECustomerKey), CMD5: str(head.SSECustomerKeyMD5)},
			"UploadPart":     {CAlg: str(part.SSECustomerAlgorithm), CKey: str(part.SSECustomerKey), CMD5: str(part.SSECustomerKeyMD5)},
			"UploadPartCopy": {CAlg: str(partCopy.SSECustomerAlgorithm), CKey: str(partCopy.SSECustomerKey), CMD5: str(partCopy.SSECustomerKeyMD5)},
			"CompleteMultipartUpload": {CAlg: str(complete.SSECustomerAlgorithm), CKey: str(complete.SSECustomerKey),
				CMD5: str(complete.SSECustomerKeyMD5)},
		} {
			if got != want {
				t.Errorf("%v %s: got %+v, want %+v", s, name, got, want)
			}
		}
	}
}

func TestSSECopyFromSSECSource(t *testing.T) {
	src := testSSEC(t)
	other, err := NewSSEC(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dst  *SSE
		want sseFields
	}{
		{"to unencrypted", nil, sseFields{SrcCAlg: "AES256", SrcCKey: testSSECKey, SrcCMD5: testSSECMD5}},
		{"to SSE-KMS", &SSE{Kind: SSEKMS, KMSKeyID: "alias/k"},
			sseFields{SSE: "aws:kms", KMSKeyID: "alias/k", SrcCAlg: "AES256", SrcCKey: testSSECKey, SrcCMD5: testSSECMD5}},
		{"to another SSE-C key", other, sseFields{CAlg: "AES256", CKey: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)),
			CMD5: other.CustomerKeyMD5(), SrcCAlg: "AES256", SrcCKey: testSSECKey, SrcCMD5: testSSECMD5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cp s3.CopyObjectInput
			tt.dst.apply(&cp, src)
			got := sseFields{SSE: string(cp.ServerSideEncryption), KMSKeyID: str(cp.SSEKMSKeyId), Context: str(cp.SSEKMSEncryptionContext),
				CAlg: str(cp.SSECustomerAlgorithm), CKey: str(cp.SSECustomerKey), CMD5: str(cp.SSECustomerKeyMD5),
				SrcCAlg: str(cp.CopySourceSSECustomerAlgorithm), SrcCKey: str(cp.CopySourceSSECustomerKey), SrcCMD5: str(cp.CopySourceSSECustomerKeyMD5)}
			if got != tt.want {
				t.Errorf("CopyObject: got %+v, want %+v", got, tt.want)
			}
			var pc s3.UploadPartCopyInput
			tt.dst.apply(&pc, src)
			tt.want.SSE, tt.want.KMSKeyID = "", "" // fixed by CreateMultipartUpload, not sent per part
			got = sseFields{CAlg: str(pc.SSECustomerAlgorithm), CKey: str(pc.SSECustomerKey), CMD5: str(pc.SSECustomerKeyMD5),
				SrcCAlg: str(pc.CopySourceSSECustomerAlgorithm), SrcCKey: str(pc.CopySourceSSECustomerKey), SrcCMD5: str(pc.CopySourceSSECustomerKeyMD5)}
			if got != tt.want {
				t.Errorf("UploadPartCopy: got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestSSEExamples keeps what the examples of the exported request fillers
// (SSE.PutObject, SSE.GetObject, SSE.HeadObject) showed before the
// Client became their only user.
func TestSSEExamples(t *testing.T) {
	sse := &SSE{Kind: SSEKMS, KMSKeyID: "alias/data", Context: map[string]string{"project": "x"}, BucketKey: aws.Bool(true)}
	put := &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}
	sse.apply(put, nil)
	if got, want := fmt.Sprintln(put.ServerSideEncryption, *put.SSEKMSKeyId, *put.SSEKMSEncryptionContext, *put.BucketKeyEnabled), "aws:kms alias/data eyJwcm9qZWN0IjoieCJ9 true\n"; got != want {
		t.Errorf("SSE-KMS PutObject: got %q, want %q", got, want)
	}
	get := &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}
	sse.apply(get, nil)
	if get.SSECustomerKey != nil {
		t.Error("SSE-KMS GetObject carries an SSE-C key")
	}

	ssec, err := NewSSEC(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	head := &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}
	ssec.apply(head, nil)
	if got, want := fmt.Sprintln(*head.SSECustomerAlgorithm, *head.SSECustomerKeyMD5), "AES256 cLyPS3KoaSFGi/joRB3OUQ==\n"; got != want {
		t.Errorf("SSE-C HeadObject: got %q, want %q", got, want)
	}
}

func TestNewSSECKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := NewSSEC(make([]byte, n)); err == nil {
			t.Errorf("NewSSEC accepted a %d-byte key", n)
		}
	}
}

func TestSSEStringNeverShowsKey(t *testing.T) {
	s := testSSEC(t)
	on := false
	tests := []struct {
		sse  *SSE
		want string
	}{
		{nil, "none"},
		{&SSE{Kind: SSES3}, "SSE-S3"},
		{&SSE{Kind: SSEKMS}, "SSE-KMS(key=aws/s3 (account default))"},
		{&SSE{Kind: DSSEKMS, KMSKeyID: "alias/k", Context: map[string]string{"z": "1", "a": "2"}, BucketKey: &on},
			"DSSE-KMS(key=alias/k, context={a=2,z=1}, bucketKey=false)"},
		{s, "SSE-C(key=<redacted>)"},
	}
	for _, tt := range tests {
		if got := tt.sse.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
	// Every fmt verb, on the pointer and on the value.
	for _, out := range []string{
		sprintf("%v", s), sprintf("%+v", s), sprintf("%#v", s), sprintf("%s", s),
		sprintf("%v", *s), sprintf("%+v", *s), sprintf("%#v", *s),
	} {
		if strings.Contains(out, testSSECKey) || strings.Contains(out, testSSECMD5) || strings.Contains(out, "\x00\x01\x02") {
			t.Errorf("formatted SSE shows key material: %q", out)
		}
	}
}

// TestSSECOnTheWire sends requests through a real aws-sdk-go-v2 S3 client to
// an HTTP server and checks the headers S3 would receive.
func TestSSECOnTheWire(t *testing.T) {
	var mu sync.Mutex
	var got []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:      aws.NopRetryer{},
	})
	ctx := context.Background()

	ssec := testSSEC(t)
	put := &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: strings.NewReader("hello")}
	ssec.apply(put, nil)
	if _, err := client.PutObject(ctx, put); err != nil {
		t.Fatal(err)
	}
	head := &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}
	(&SSE{Kind: SSEKMS, KMSKeyID: testKeyARN}).apply(head, nil)
	if _, err := client.HeadObject(ctx, head); err != nil {
		t.Fatal(err)
	}
	kmsPut := &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k2"), Body: strings.NewReader("x")}
	(&SSE{Kind: SSEKMS, KMSKeyID: testKeyARN, Context: map[string]string{"a": "1"}, BucketKey: aws.Bool(true)}).apply(kmsPut, nil)
	if _, err := client.PutObject(ctx, kmsPut); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(got))
	}
	for h, want := range map[string]string{
		"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256",
		"X-Amz-Server-Side-Encryption-Customer-Key":       testSSECKey,
		"X-Amz-Server-Side-Encryption-Customer-Key-Md5":   testSSECMD5,
		"X-Amz-Server-Side-Encryption":                    "",
	} {
		if v := got[0].Get(h); v != want {
			t.Errorf("SSE-C PUT %s = %q, want %q", h, v, want)
		}
	}
	for h := range got[1] {
		if strings.HasPrefix(strings.ToLower(h), "x-amz-server-side-encryption") {
			t.Errorf("HEAD with SSE-KMS sent %s", h)
		}
	}
	for h, want := range map[string]string{
		"X-Amz-Server-Side-Encryption":                    "aws:kms",
		"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id":     testKeyARN,
		"X-Amz-Server-Side-Encryption-Context":            base64.StdEncoding.EncodeToString([]byte(`{"a":"1"}`)),
		"X-Amz-Server-Side-Encryption-Bucket-Key-Enabled": "true",
	} {
		if v := got[2].Get(h); v != want {
			t.Errorf("SSE-KMS PUT %s = %q, want %q", h, v, want)
		}
	}
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
