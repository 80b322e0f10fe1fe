package s3ec_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
	"github.com/emrs3/emrs3/emrfs/s3ec"
)

// badChecksum replaces the CRC32 of the responses to whole-object GETs of
// key with another value on their way to the SDK, as a corruption between
// S3 and the client would make them disagree.
type badChecksum struct {
	base *http.Client
	key  string
}

func (b badChecksum) Do(req *http.Request) (*http.Response, error) {
	resp, err := b.base.Do(req)
	if err == nil && req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/"+b.key) && resp.Header.Get("X-Amz-Checksum-Crc32") != "" {
		resp.Header.Set("X-Amz-Checksum-Crc32", "AAAAAA==")
	}
	return resp, err
}

// defaultChecksums is the stack's S3 client with the checksum settings
// config.LoadDefaultConfig gives (when supported, both ways); the stack's
// own aws.Config leaves them unset, which the SDK takes as when required.
func defaultChecksums(e *env, httpClient aws.HTTPClient) *s3.Client {
	cfg := e.st.Config.Copy()
	cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
	if httpClient != nil {
		cfg.HTTPClient = httpClient
	}
	return s3.NewFromConfig(cfg, e.st.S3Options)
}

// TestChecksums: with the SDK's default checksum settings, PutObject sends
// a CRC32 of the ciphertext (a header over HTTP, an aws-chunked trailer
// over HTTPS) that the stack verifies, and GetObject — a whole-object GET —
// asks for the stored checksum, which the SDK validates against the
// ciphertext it receives: a checksum that does not match fails the read.
func TestChecksums(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			e := newEnv(t, func(o *emrfstest.Options) { o.TLS = tls })
			c, err := s3ec.New(defaultChecksums(e, nil), cse.NewKMSProvider(e.kms, e.key))
			if err != nil {
				t.Fatal(err)
			}
			pt := data(70_001)
			for _, key := range []string{"crc", "tampered"} {
				if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(pt)}); err != nil {
					t.Fatal(err)
				}
			}
			got, out, err := get(context.Background(), c, "crc")
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("GetObject: %d bytes, %v", len(got), err)
			}
			if m, ok := s3.GetChecksumValidationMetadata(out.ResultMetadata); !ok || len(m.AlgorithmsUsed) == 0 {
				t.Error("the SDK did not validate the ciphertext's checksum on GetObject")
			}
			var puts, gets int
			for _, r := range e.st.S3.Requests() {
				switch r.Op() {
				case "PutObject":
					puts++
					if r.Header.Get("X-Amz-Checksum-Crc32") == "" && r.Header.Get("X-Amz-Trailer") != "x-amz-checksum-crc32" || r.Status != http.StatusOK {
						t.Errorf("PutObject %s: status %d, x-amz-checksum-crc32 %q, x-amz-trailer %q", r.Key, r.Status, r.Header.Get("X-Amz-Checksum-Crc32"), r.Header.Get("X-Amz-Trailer"))
					}
				case "GetObject":
					gets++
					if r.Header.Get("X-Amz-Checksum-Mode") != "ENABLED" {
						t.Errorf("GetObject %s without x-amz-checksum-mode: ENABLED", r.Key)
					}
				}
			}
			if puts != 2 || gets != 1 {
				t.Errorf("%d PutObject and %d GetObject requests, want 2 and 1", puts, gets)
			}

			bad, err := s3ec.New(defaultChecksums(e, badChecksum{base: e.st.HTTPClient, key: "tampered"}), cse.NewKMSProvider(e.kms, e.key))
			if err != nil {
				t.Fatal(err)
			}
			got, _, err = get(context.Background(), bad, "tampered")
			if err == nil || !strings.Contains(err.Error(), "checksum did not match") {
				t.Fatalf("GetObject with a checksum that does not match: %d bytes, %v; want the SDK's checksum error", len(got), err)
			}
			if len(got) != 0 {
				t.Errorf("%d bytes of plaintext released", len(got))
			}
		})
	}
}
