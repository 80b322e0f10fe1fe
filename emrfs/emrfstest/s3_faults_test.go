package emrfstest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

func put(t *testing.T, c *s3.Client, key string, data []byte, optFns ...func(*s3.PutObjectInput)) error {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key), Body: bytes.NewReader(data)}
	for _, fn := range optFns {
		fn(in)
	}
	_, err := c.PutObject(context.Background(), in)
	return err
}

func get(t *testing.T, c *s3.Client, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestS3LoseResponses: the request is carried out, the client hears
// nothing, and the log says so.
func TestS3LoseResponses(t *testing.T) {
	st, _ := newS3(t)
	cfg := st.Config.Copy()
	cfg.RetryMaxAttempts = 1
	c := s3.NewFromConfig(cfg, st.S3Options)
	st.S3.LoseResponses(1, func(r emrfstest.S3Request) bool { return r.Op() == "PutObject" })
	if err := put(t, c, "k", []byte("committed")); err == nil {
		t.Fatal("PutObject succeeded although its response was lost")
	}
	if got := get(t, c, "k"); string(got) != "committed" {
		t.Fatalf("object = %q, want it written", got)
	}
	if err := put(t, c, "k2", []byte("x")); err != nil {
		t.Fatalf("the fault was not used up: %v", err)
	}
	var lost int
	for _, r := range st.S3.Requests() {
		if r.Lost {
			lost++
			if r.Op() != "PutObject" || r.Status != http.StatusOK {
				t.Errorf("lost request %s status %d", r.Op(), r.Status)
			}
		}
	}
	if lost != 1 {
		t.Errorf("%d requests logged as lost, want 1", lost)
	}
}

// TestS3OnRequest: the hook sees each request arrive and then carried out,
// before the client hears the response.
func TestS3OnRequest(t *testing.T) {
	st, c := newS3(t)
	var mu sync.Mutex
	var events []string
	st.S3.OnRequest(func(r emrfstest.S3Request, handled bool) {
		mu.Lock()
		defer mu.Unlock()
		if handled {
			events = append(events, r.Op()+" done")
		} else {
			events = append(events, r.Op())
		}
	})
	if err := put(t, c, "k", []byte("x")); err != nil {
		t.Fatal(err)
	}
	st.S3.OnRequest(nil)
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || events[0] != "PutObject" || events[1] != "PutObject done" {
		t.Errorf("events = %q", events)
	}
}

// TestS3ConditionalWrites: If-None-Match and If-Match on PutObject,
// CompleteMultipartUpload and CopyObject, as S3 evaluates them.
func TestS3ConditionalWrites(t *testing.T) {
	st, c := newS3(t)
	_ = st
	ctx := context.Background()
	if err := put(t, c, "a", []byte("first"), func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }); err != nil {
		t.Fatal(err)
	}
	if err := put(t, c, "a", []byte("second"), func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }); errorCode(err) != "PreconditionFailed" {
		t.Fatalf("PutObject If-None-Match on an existing key: %v", err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String("a")})
	if err != nil {
		t.Fatal(err)
	}
	if err := put(t, c, "a", []byte("third"), func(in *s3.PutObjectInput) { in.IfMatch = aws.String(`"00"`) }); errorCode(err) != "PreconditionFailed" {
		t.Fatalf("PutObject If-Match on another ETag: %v", err)
	}
	if err := put(t, c, "a", []byte("third"), func(in *s3.PutObjectInput) { in.IfMatch = head.ETag }); err != nil {
		t.Fatalf("PutObject If-Match on its ETag: %v", err)
	}

	complete := func(key string, optFn func(*s3.CompleteMultipartUploadInput)) error {
		cu, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bucket"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bucket"), Key: aws.String(key), UploadId: cu.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("part"))})
		if err != nil {
			t.Fatal(err)
		}
		in := &s3.CompleteMultipartUploadInput{Bucket: aws.String("bucket"), Key: aws.String(key), UploadId: cu.UploadId,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}}
		optFn(in)
		_, err = c.CompleteMultipartUpload(ctx, in)
		return err
	}
	if err := complete("a", func(in *s3.CompleteMultipartUploadInput) { in.IfNoneMatch = aws.String("*") }); errorCode(err) != "PreconditionFailed" {
		t.Fatalf("CompleteMultipartUpload If-None-Match on an existing key: %v", err)
	}
	if err := complete("b", func(in *s3.CompleteMultipartUploadInput) { in.IfNoneMatch = aws.String("*") }); err != nil {
		t.Fatalf("CompleteMultipartUpload If-None-Match on a new key: %v", err)
	}
	if err := complete("b", func(in *s3.CompleteMultipartUploadInput) { in.IfMatch = aws.String(`"00"`) }); errorCode(err) != "PreconditionFailed" {
		t.Fatalf("CompleteMultipartUpload If-Match on another ETag: %v", err)
	}
	if got := get(t, c, "a"); string(got) != "third" {
		t.Errorf("a = %q", got)
	}

	cp := func(dst string, optFn func(*s3.CopyObjectInput)) error {
		in := &s3.CopyObjectInput{Bucket: aws.String("bucket"), Key: aws.String(dst), CopySource: aws.String("bucket/a")}
		optFn(in)
		_, err := c.CopyObject(ctx, in)
		return err
	}
	if err := cp("b", func(in *s3.CopyObjectInput) { in.IfNoneMatch = aws.String("*") }); errorCode(err) != "PreconditionFailed" {
		t.Fatalf("CopyObject If-None-Match on an existing key: %v", err)
	}
	if err := cp("c", func(in *s3.CopyObjectInput) { in.IfNoneMatch = aws.String("*") }); err != nil {
		t.Fatalf("CopyObject If-None-Match on a new key: %v", err)
	}
	if got := get(t, c, "b"); string(got) != "part" {
		t.Errorf("b = %q", got)
	}
}

// TestS3UploadPartCopy: the emulator serves UploadPartCopy (gofakes3 does
// not), with its range and source ETag condition.
func TestS3UploadPartCopy(t *testing.T) {
	_, c := newS3(t)
	ctx := context.Background()
	data := randomBytes(t, 10000)
	if err := put(t, c, "src", data); err != nil {
		t.Fatal(err)
	}
	cu, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bucket"), Key: aws.String("dst")})
	if err != nil {
		t.Fatal(err)
	}
	part := func(n int32, rng, ifMatch string) (*s3.UploadPartCopyOutput, error) {
		in := &s3.UploadPartCopyInput{Bucket: aws.String("bucket"), Key: aws.String("dst"), UploadId: cu.UploadId, PartNumber: aws.Int32(n),
			CopySource: aws.String("bucket/src"), CopySourceRange: aws.String(rng)}
		if ifMatch != "" {
			in.CopySourceIfMatch = aws.String(ifMatch)
		}
		return c.UploadPartCopy(ctx, in)
	}
	if _, err := part(1, "bytes=0-99", `"00"`); errorCode(err) != "PreconditionFailed" {
		t.Fatalf("UploadPartCopy with a stale source ETag: %v", err)
	}
	var parts []s3types.CompletedPart
	for i, rng := range []string{"bytes=0-4999", "bytes=5000-9999"} {
		out, err := part(int32(i+1), rng, "")
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bucket"), Key: aws.String("dst"), UploadId: cu.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, c, "dst"); !bytes.Equal(got, data) {
		t.Error("the copy differs from the source")
	}
}

// TestS3MetadataLimit: as S3, 2 KiB of user metadata (keys without
// x-amz-meta-, and values), whatever other headers are stored.
func TestS3MetadataLimit(t *testing.T) {
	_, c := newS3(t)
	ok := map[string]string{"pad": string(bytes.Repeat([]byte("x"), 2048-3))}
	if err := put(t, c, "ok", []byte("x"), func(in *s3.PutObjectInput) {
		in.Metadata, in.ContentType, in.ServerSideEncryption = ok, aws.String("text/plain"), s3types.ServerSideEncryptionAes256
	}); err != nil {
		t.Fatalf("2 KiB of user metadata: %v", err)
	}
	tooMuch := map[string]string{"pad": string(bytes.Repeat([]byte("x"), 2048-2))}
	if err := put(t, c, "big", []byte("x"), func(in *s3.PutObjectInput) { in.Metadata = tooMuch }); errorCode(err) != "MetadataTooLarge" {
		t.Fatalf("2 KiB + 1 of user metadata: %v, want MetadataTooLarge", err)
	}
}

// TestS3ChecksumOnGet: a whole-object GET that asks for checksums gets the
// one the object was uploaded with, and the SDK validates the body with
// it.
func TestS3ChecksumOnGet(t *testing.T) {
	_, c := newS3(t)
	ctx := context.Background()
	if err := put(t, c, "k", []byte("checked"), func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = s3types.ChecksumAlgorithmCrc32 }); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), ChecksumMode: s3types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(out.Body); err != nil {
		t.Fatal(err)
	}
	_ = out.Body.Close()
	if aws.ToString(out.ChecksumCRC32) == "" {
		t.Error("GetObject with ChecksumMode ENABLED returned no x-amz-checksum-crc32")
	}
	if m, ok := s3.GetChecksumValidationMetadata(out.ResultMetadata); !ok || len(m.AlgorithmsUsed) == 0 {
		t.Error("the SDK did not validate the body's checksum")
	}
	// Replaced by a copy: no stale checksum.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), CopySource: aws.String("bucket/k"), MetadataDirective: s3types.MetadataDirectiveReplace}); err != nil {
		t.Fatal(err)
	}
	out, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), ChecksumMode: s3types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	_ = out.Body.Close()
	if aws.ToString(out.ChecksumCRC32) != "" {
		t.Error("a checksum was kept for an object replaced by a copy")
	}
}
