package emrfsblob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/blob/drivertest"

	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

const testBucket = "emrfsblob-test"

// cseProps are the settings of the conformance runs: CSE-KMS (V2, GCM)
// for every bucket, with the envelope in the metadata or in instruction
// files.
func cseProps(keyID string, instructionFile bool) map[string]string {
	p := map[string]string{
		"fs.s3.cse.enabled":                     "true",
		"fs.s3.cse.encryptionMaterialsProvider": emrfs.KMSMaterialsProvider,
		"fs.s3.cse.kms.keyId":                   keyID,
		"fs.s3.cse.encryptionV2.enabled":        "true",
	}
	if instructionFile {
		p["fs.s3.cse.cryptoStorageMode"] = "InstructionFile"
		p["fs.s3.cse.cryptoStorageMode.deleteInstructionFiles.enabled"] = "true"
	}
	return p
}

type harness struct {
	st *emrfstest.Stack
	c  *emrfs.Client
}

// newStackClient starts a stack with testBucket and returns an emrfs
// client for it with props.
func newStackClient(ctx context.Context, instructionFile bool) (*emrfstest.Stack, *emrfs.Client, error) {
	st, err := emrfstest.New(ctx)
	if err != nil {
		return nil, nil, err
	}
	api := s3.NewFromConfig(st.Config, st.S3Options)
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		st.Close()
		return nil, nil, err
	}
	cfg := emrfs.NewConfig()
	for k, v := range cseProps(st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault), instructionFile) {
		cfg.Set(k, v)
	}
	c, err := emrfs.New(api, cfg, func(o *emrfs.Options) { o.KMS = kms.NewFromConfig(st.Config) })
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, c, nil
}

func harnessMaker(instructionFile bool) drivertest.HarnessMaker {
	return func(ctx context.Context, t *testing.T) (drivertest.Harness, error) {
		st, c, err := newStackClient(ctx, instructionFile)
		if err != nil {
			return nil, err
		}
		return &harness{st: st, c: c}, nil
	}
}

func (h *harness) MakeDriver(context.Context) (driver.Bucket, error) {
	return openBucket(h.c, testBucket)
}

func (h *harness) MakeDriverForNonexistentBucket(context.Context) (driver.Bucket, error) {
	return openBucket(h.c, "no-such-bucket")
}

func (h *harness) HTTPClient() *http.Client { return nil } // no SignedURL

func (h *harness) Close() { h.st.Close() }

// TestConformance runs gocloud's driver conformance suite against the
// emrfstest stack with client-side encryption on, with the envelope in the
// object metadata and in instruction files.
// No test is skipped here: the suite itself skips TestSignedURL when the
// driver answers gcerrors.Unimplemented, as it does (a CSE object's URL
// would hand out ciphertext).
func TestConformance(t *testing.T) {
	for _, mode := range []struct {
		name  string
		instr bool
	}{{"ObjectMetadata", false}, {"InstructionFile", true}} {
		t.Run(mode.name, func(t *testing.T) {
			drivertest.RunConformanceTests(t, harnessMaker(mode.instr), []drivertest.AsTest{asTest{}})
		})
	}
}

// asTest checks the types As exposes.
type asTest struct{}

func (asTest) Name() string { return "emrfs types" }

func (asTest) BucketCheck(b *blob.Bucket) error {
	var c *emrfs.Client
	if !b.As(&c) || c == nil {
		return errors.New("Bucket.As(**emrfs.Client) failed")
	}
	return nil
}

func (asTest) ErrorCheck(b *blob.Bucket, err error) error {
	var ae smithy.APIError
	if !b.ErrorAs(err, &ae) {
		return fmt.Errorf("ErrorAs(smithy.APIError) failed for %v", err)
	}
	return nil
}

func (asTest) BeforeRead(as func(any) bool) error {
	var f *emrfs.File
	if !as(&f) || f == nil {
		return errors.New("BeforeRead As(**emrfs.File) failed")
	}
	return nil
}

func (asTest) BeforeWrite(as func(any) bool) error {
	var o *emrfs.CreateOptions
	if !as(&o) || o == nil {
		return errors.New("BeforeWrite As(**emrfs.CreateOptions) failed")
	}
	o.Metadata = map[string]string{"set-by-beforewrite": "yes"}
	return nil
}

func (asTest) BeforeCopy(as func(any) bool) error {
	var o *emrfs.CopyOptions
	if !as(&o) || o == nil {
		return errors.New("BeforeCopy As(**emrfs.CopyOptions) failed")
	}
	return nil
}

func (asTest) BeforeList(as func(any) bool) error {
	var o *emrfs.ListOptions
	if as(&o) {
		return errors.New("BeforeList As(**emrfs.ListOptions) succeeded; the driver exposes nothing there")
	}
	return nil
}

func (asTest) BeforeSign(func(any) bool) error { return nil }

func (asTest) AttributesCheck(attrs *blob.Attributes) error {
	var fi *emrfs.FileInfo
	if !attrs.As(&fi) || fi == nil {
		return errors.New("Attributes.As(**emrfs.FileInfo) failed")
	}
	if attrs.Metadata["set-by-beforewrite"] != "yes" {
		return fmt.Errorf("metadata set in BeforeWrite not stored: %v", attrs.Metadata)
	}
	return nil
}

func (asTest) ReaderCheck(r *blob.Reader) error {
	var f *emrfs.File
	if !r.As(&f) || f == nil {
		return errors.New("Reader.As(**emrfs.File) failed")
	}
	return nil
}

func (asTest) ListObjectCheck(o *blob.ListObject) error {
	if o.IsDir {
		return nil
	}
	var fi *emrfs.FileInfo
	if !o.As(&fi) || fi == nil {
		return errors.New("ListObject.As(**emrfs.FileInfo) failed")
	}
	return nil
}
