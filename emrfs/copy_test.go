package emrfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestCopySource(t *testing.T) {
	tests := map[string]string{
		"a/b":         "bk/a/b",
		"a b/c+d":     "bk/a%20b/c%2Bd",
		"x/ü?#%":      "bk/x/%C3%BC%3F%23%25",
		"dir//double": "bk/dir//double",
	}
	for key, want := range tests {
		if got := copySource("bk", key); got != want {
			t.Errorf("copySource(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestCopyAndRename(t *testing.T) {
	api := newTestS3(t)
	c := newTestClient(t, api)
	ctx := context.Background()
	src := "s3://" + testBucket + "/cp/src file+1"
	w, err := c.Create(ctx, src, func(o *CreateOptions) { o.Metadata = map[string]string{"x-amz-key-v2": "envelope"} })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("payload")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	putRaw(t, api, "cp/src file+1.instruction", "instr")
	putRaw(t, api, "cp/stale.instruction", "old")
	putRaw(t, api, "cp/plain", "plain")

	dst := "s3a://" + testBucket + "/cp/dst"
	if err := c.Copy(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	if got := string(readObject(t, c, dst)); got != "payload" {
		t.Errorf("copy = %q", got)
	}
	fi, err := c.Stat(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Metadata()["x-amz-key-v2"] != "envelope" {
		t.Errorf("metadata not kept: %v", fi.Metadata())
	}
	// Without client-side encryption "<key>.instruction" objects are user
	// objects: not copied along, and not removed at the destination.
	if _, err := c.Stat(ctx, dst+InstructionSuffix); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s.instruction after Copy in a bucket without CSE: %v, want it not copied", dst, err)
	}
	if err := c.Copy(ctx, "s3://"+testBucket+"/cp/plain", "s3://"+testBucket+"/cp/stale"); err != nil {
		t.Fatal(err)
	}
	if got := string(readObject(t, c, "s3://"+testBucket+"/cp/stale.instruction")); got != "old" {
		t.Errorf("cp/stale.instruction after Copy to cp/stale = %q, want the user object untouched", got)
	}

	if err := c.Rename(ctx, dst, "s3://"+testBucket+"/cp/renamed"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stat(ctx, dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s after Rename: %v", dst, err)
	}
	if got := string(readObject(t, c, "s3://"+testBucket+"/cp/src file+1.instruction")); got != "instr" {
		t.Errorf("user object cp/src file+1.instruction = %q after Copy/Rename of cp/src file+1", got)
	}
	if got := string(readObject(t, c, "s3://"+testBucket+"/cp/renamed")); got != "payload" {
		t.Errorf("renamed = %q", got)
	}
	if err := c.Copy(ctx, "s3://"+testBucket+"/cp/missing", dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Copy of missing source: %v", err)
	}
}

// partCopyS3 emulates UploadPartCopy, which gofakes3 lacks, with a ranged
// GetObject and an UploadPart against the same server.
type partCopyS3 struct {
	S3API
	copies  int
	failNum int32
}

func (p *partCopyS3) UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput, o ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error) {
	p.copies++
	if *in.PartNumber == p.failNum {
		return nil, errors.New("injected UploadPartCopy failure")
	}
	bucket, key, _ := strings.Cut(*in.CopySource, "/")
	get, err := p.S3API.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String(strings.ReplaceAll(strings.ReplaceAll(key, "%20", " "), "%2B", "+")), Range: in.CopySourceRange, IfMatch: in.CopySourceIfMatch}, o...)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(get.Body)
	get.Body.Close()
	if err != nil {
		return nil, err
	}
	up, err := p.S3API.UploadPart(ctx, &s3.UploadPartInput{Bucket: in.Bucket, Key: in.Key, UploadId: in.UploadId, PartNumber: in.PartNumber, Body: bytes.NewReader(body)}, o...)
	if err != nil {
		return nil, err
	}
	return &s3.UploadPartCopyOutput{CopyPartResult: &types.CopyPartResult{ETag: up.ETag}}, nil
}

func TestMultipartCopy(t *testing.T) {
	api := newTestS3(t)
	for _, failNum := range []int32{0, 2} {
		pc := &partCopyS3{S3API: api, failNum: failNum}
		c := newTestClient(t, pc, func(o *Options) { o.Concurrency = 1 })
		c.copyThreshold = MinPartSize
		data := randomBytes(2*MinPartSize+100, 21)
		src := "s3://" + testBucket + "/mpc/src"
		writeObject(t, c, src, data)
		dstKey := "mpc/dst" + strconv.Itoa(int(failNum))
		err := c.Copy(context.Background(), src, "s3://"+testBucket+"/"+dstKey)
		if failNum != 0 {
			if err == nil {
				t.Fatal("Copy succeeded with a failing part")
			}
			assertNoUpload(t, api, dstKey)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if pc.copies != 3 {
			t.Errorf("UploadPartCopy calls = %d, want 3", pc.copies)
		}
		if !bytes.Equal(readObject(t, c, "s3://"+testBucket+"/"+dstKey), data) {
			t.Error("multipart copy differs")
		}
	}
}

func TestCopyPartSize(t *testing.T) {
	c := &Client{opts: Options{PartSize: DefaultPartSize}}
	for _, size := range []int64{6 << 30, 100 << 30, 5 << 40} {
		ps := c.copyPartSize(size)
		if n := (size + ps - 1) / ps; n > maxParts || ps > maxPartSize || ps < MinPartSize {
			t.Errorf("size %d: part size %d gives %d parts", size, ps, n)
		}
	}
}
