package emrfs_test

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/emrs3/emrs3/emrfs"
)

// TestOpenVersionID opens an older version of an object in a versioned
// bucket: the File reads that version and every GET carries its id.
func TestOpenVersionID(t *testing.T) {
	st, _ := cseStack(t)
	ctx := context.Background()
	api := s3.NewFromConfig(st.Config, st.S3Options)
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("versioned")}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("versioned"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	v1 := randomData(41, 700_000)
	out, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("versioned"), Key: aws.String("o"), Body: bytes.NewReader(v1)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.VersionId)
	if id == "" {
		t.Skip("the S3 emulator returned no version id")
	}
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("versioned"), Key: aws.String("o"), Body: bytes.NewReader([]byte("v2"))}); err != nil {
		t.Fatal(err)
	}
	c, err := emrfs.New(api, emrfs.NewConfig(), func(o *emrfs.Options) { o.ReadPartSize = 256 << 10 })
	if err != nil {
		t.Fatal(err)
	}
	n := len(st.S3.Requests())
	f, err := c.Open(ctx, "s3://versioned/o", func(o *emrfs.OpenOptions) { o.VersionID = id })
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, v1) {
		t.Fatalf("version %s: %d bytes, %v", id, len(got), err)
	}
	b := make([]byte, 10)
	if _, err := f.ReadAt(b, 300_000); err != nil || !bytes.Equal(b, v1[300_000:300_010]) {
		t.Fatalf("ReadAt of version %s: %v", id, err)
	}
	for _, r := range st.S3.Requests()[n:] {
		if r.Method == "GET" && r.Query.Get("versionId") != id {
			t.Errorf("GET %s without the version id (%v)", r.Header.Get("Range"), r.Query)
		}
	}
}

// TestOpenProgress reads a CSE object with OpenOptions.Progress: the
// reports never decrease, never run ahead of the bytes the Reads return,
// and end at the size.
func TestOpenProgress(t *testing.T) {
	_, c := cseStack(t, func(o *emrfs.Options) { o.ReadPartSize = 256 << 10 })
	ctx := context.Background()
	data := randomData(42, 1_000_003)
	if err := put(t, c, ctx, "s3://data/p", data); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reports [][2]int64
	released := int64(0)
	f, err := c.Open(ctx, "s3://data/p", func(o *emrfs.OpenOptions) {
		o.Progress = func(done, total int64) {
			mu.Lock()
			defer mu.Unlock()
			// Called from within Read, before it returns its bytes.
			if done > released+100_000 {
				t.Errorf("progress %d ahead of the %d bytes released and the Read in progress", done, released)
			}
			reports = append(reports, [2]int64{done, total})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 100_000)
	var got []byte
	for {
		n, err := f.Read(buf)
		mu.Lock()
		released += int64(n)
		mu.Unlock()
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatal("read back differs")
	}
	if len(reports) == 0 || reports[len(reports)-1] != [2]int64{int64(len(data)), int64(len(data))} {
		t.Fatalf("last progress %v, want the size", reports[len(reports)-1:])
	}
	for i := 1; i < len(reports); i++ {
		if reports[i][0] < reports[i-1][0] {
			t.Fatalf("progress decreased: %v", reports)
		}
	}
}
