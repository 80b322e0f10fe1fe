// Package miniotest gives this repository's conformance tests their S3
// backends: the in-process emrfstest stack always and, when .ci/services
// has started one, a real MinIO server. It is for the repository's own
// tests (emrfs, the interop module, the emrs3 tool); users' tests take the
// S3/KMS/STS emulators from emrfs/emrfstest.
package miniotest

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// Environment variables that point tests at a MinIO server (set by
// .ci/services).
const (
	EnvEndpoint  = "EMRS3_MINIO_ENDPOINT"
	EnvAccessKey = "EMRS3_MINIO_ACCESS_KEY"
	EnvSecretKey = "EMRS3_MINIO_SECRET_KEY"
	EnvKMSKey    = "EMRS3_MINIO_KMS_KEY"
)

// Backend is an S3 implementation a conformance test can run against.
type Backend struct {
	// Name is "emrfstest" for the in-process stack, "minio" for MinIO.
	Name string
	// Config holds credentials, region and BaseEndpoint for the backend.
	Config aws.Config
	// S3Options configures an S3 client for the backend (path style).
	S3Options func(*s3.Options)
	// SSEKMSKeyID is a KMS key id usable for SSE-KMS on this backend.
	SSEKMSKeyID string
	// Stack is the in-process stack started by Backends. For "emrfstest"
	// it is the backend itself; for "minio" it provides the KMS (for
	// client-side encryption: kms.NewFromConfig(b.Stack.Config)) and STS
	// that MinIO lacks. Nil for a Backend from MinIO.
	Stack *emrfstest.Stack
}

// Backends returns the in-process stack (started for tb, with a fresh
// symmetric KMS key as SSEKMSKeyID) and, when the EMRS3_MINIO_* variables
// are set, the MinIO server they describe. The in-process S3 checks SSE
// requests against its KMS but stores plaintext; MinIO really encrypts.
// Both backends share the same Stack for KMS and STS.
func Backends(tb testing.TB) []Backend {
	tb.Helper()
	st := emrfstest.Start(tb)
	out := []Backend{{
		Name:        "emrfstest",
		Config:      st.Config,
		S3Options:   st.S3Options,
		SSEKMSKeyID: st.KMS.CreateKey(types.KeySpecSymmetricDefault),
		Stack:       st,
	}}
	if b, ok := MinIO(); ok {
		b.Stack = st
		out = append(out, b)
	}
	return out
}

// MinIO returns the MinIO backend described by the EMRS3_MINIO_*
// environment variables, or false if EMRS3_MINIO_ENDPOINT is unset.
func MinIO() (Backend, bool) {
	endpoint := os.Getenv(EnvEndpoint)
	if endpoint == "" {
		return Backend{}, false
	}
	cfg := aws.Config{
		Region:       emrfstest.Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(os.Getenv(EnvAccessKey), os.Getenv(EnvSecretKey), ""),
	}
	return Backend{
		Name:   "minio",
		Config: cfg,
		S3Options: func(o *s3.Options) {
			o.UsePathStyle = true
			o.BaseEndpoint = aws.String(endpoint)
		},
		SSEKMSKeyID: os.Getenv(EnvKMSKey),
	}, true
}
