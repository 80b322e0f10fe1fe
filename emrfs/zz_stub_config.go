// STUB: removed at merge

package emrfs

import "github.com/aws/aws-sdk-go-v2/service/s3"

// SSE applies server-side encryption settings to requests. A nil *SSE means
// no SSE; its methods are no-ops on nil. (Stub until the config helper lands.)
type SSE struct{}

// PutObject applies SSE to a PutObject request.
func (s *SSE) PutObject(in *s3.PutObjectInput) {}

// CreateMultipartUpload applies SSE to a CreateMultipartUpload request.
func (s *SSE) CreateMultipartUpload(in *s3.CreateMultipartUploadInput) {}

// UploadPart applies SSE to an UploadPart request.
func (s *SSE) UploadPart(in *s3.UploadPartInput) {}

// GetObject applies SSE to a GetObject request.
func (s *SSE) GetObject(in *s3.GetObjectInput) {}

// HeadObject applies SSE to a HeadObject request.
func (s *SSE) HeadObject(in *s3.HeadObjectInput) {}

// CopyObject applies SSE to a CopyObject request.
func (s *SSE) CopyObject(in *s3.CopyObjectInput, src *SSE) {}

// UploadPartCopy applies SSE to an UploadPartCopy request.
func (s *SSE) UploadPartCopy(in *s3.UploadPartCopyInput, src *SSE) {}

// CSE holds client-side encryption settings for a bucket.
type CSE struct {
	KMSKeyID          string
	EncryptionContext map[string]string
	InstructionFile   bool
	Compatibility     bool
}

// Bucket is the resolved encryption configuration of one bucket.
type Bucket struct {
	Name string
	SSE  *SSE
	CSE  *CSE
}

// Config is the EMRFS configuration.
type Config struct{}

// NewConfig returns an empty configuration.
func NewConfig() *Config { return &Config{} }

// Bucket returns the settings of the named bucket.
func (c *Config) Bucket(name string) (*Bucket, error) { return &Bucket{Name: name}, nil }
