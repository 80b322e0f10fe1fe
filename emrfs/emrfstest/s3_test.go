//lint:file-ignore SA1019 the brief requires testing the SDK clients emrs3 users run: feature/s3/manager (aws-sdk-go v1 moved to emrfs/internal/interop)

package emrfstest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

func newS3(t *testing.T) (*emrfstest.Stack, *s3.Client) {
	t.Helper()
	st := emrfstest.Start(t)
	c := s3.NewFromConfig(st.Config, st.S3Options)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("bucket")}); err != nil {
		t.Fatal(err)
	}
	return st, c
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestS3ObjectOperations(t *testing.T) {
	ctx := context.Background()
	st, c := newS3(t)
	data := randomBytes(t, 100_000)
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("bucket"), Key: aws.String("dir/a b+c.bin"), Body: bytes.NewReader(data),
		Metadata:             map[string]string{"x-amz-key-v2": "abc==", "x-amz-matdesc": "{}"},
		ServerSideEncryption: s3types.ServerSideEncryptionAes256,
	})
	if err != nil {
		t.Fatal(err)
	}
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("dir/a b+c.bin")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(get.Body)
	get.Body.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("GetObject returned different bytes")
	}
	if get.Metadata["x-amz-key-v2"] != "abc==" || get.Metadata["x-amz-matdesc"] != "{}" || get.ServerSideEncryption != s3types.ServerSideEncryptionAes256 {
		t.Fatalf("metadata %v, SSE %q", get.Metadata, get.ServerSideEncryption)
	}

	rng, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("dir/a b+c.bin"), Range: aws.String("bytes=10-19")})
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(rng.Body)
	rng.Body.Close()
	if !bytes.Equal(part, data[10:20]) || aws.ToString(rng.ContentRange) != "bytes 10-19/100000" {
		t.Fatalf("range: %d bytes, Content-Range %q", len(part), aws.ToString(rng.ContentRange))
	}

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String("dir/a b+c.bin")})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(data)) || head.Metadata["x-amz-matdesc"] != "{}" {
		t.Fatalf("HeadObject: %v", err)
	}

	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bucket"), Key: aws.String("copy"), CopySource: aws.String("bucket/dir/a%20b%2Bc.bin")}); err != nil {
		t.Fatal(err)
	}
	cp, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("copy")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(cp.Body)
	cp.Body.Close()
	if !bytes.Equal(got, data) || cp.Metadata["x-amz-key-v2"] != "abc==" {
		t.Fatal("copy differs")
	}

	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket"), Prefix: aws.String("dir/")})
	if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "dir/a b+c.bin" {
		t.Fatalf("ListObjectsV2: %v %+v", err, list)
	}
	del, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket"), Delimiter: aws.String("/")})
	if err != nil || len(del.CommonPrefixes) != 1 || len(del.Contents) != 1 {
		t.Fatalf("ListObjectsV2 with delimiter: %v %+v", err, del)
	}

	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bucket"), Key: aws.String("copy")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String("copy")})
	var nf *s3types.NotFound
	if !errors.As(err, &nf) {
		t.Fatalf("HeadObject after delete: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("copy")})
	var nsk *s3types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Fatalf("GetObject after delete: %v", err)
	}
	if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bucket"), Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("dir/a b+c.bin")}}}}); err != nil {
		t.Fatal(err)
	}

	reqs := st.S3.Requests()
	if len(reqs) < 10 {
		t.Fatalf("%d requests logged", len(reqs))
	}
	put := reqs[1]
	if put.Method != "PUT" || put.Bucket != "bucket" || put.Key != "dir/a b+c.bin" || put.Principal != emrfstest.AdminARN ||
		put.Header.Get("X-Amz-Meta-X-Amz-Matdesc") != "{}" || put.Header.Get("Authorization") != "" || put.Status != 200 {
		t.Fatalf("logged PUT %+v", put)
	}
}

func TestS3Multipart(t *testing.T) {
	ctx := context.Background()
	_, c := newS3(t)
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bucket"), Key: aws.String("mp"), Metadata: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := randomBytes(t, 5<<20), randomBytes(t, 1000)
	var parts []s3types.CompletedPart
	for i, p := range [][]byte{p1, p2} {
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bucket"), Key: aws.String("mp"), UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, s3types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bucket"), Key: aws.String("mp"), UploadId: cr.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(get.Body)
	get.Body.Close()
	if !bytes.Equal(got, append(p1, p2...)) || get.Metadata["k"] != "v" {
		t.Fatalf("multipart object: %d bytes, metadata %v", len(got), get.Metadata)
	}
}

func TestS3ManagerUpload20MiB(t *testing.T) {
	ctx := context.Background()
	st, c := newS3(t)
	data := randomBytes(t, 20<<20)
	up := manager.NewUploader(c)
	if _, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("big"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	parts := 0
	for _, r := range st.S3.Requests() {
		if r.Method == "PUT" && r.Query.Has("partNumber") {
			parts++
		}
	}
	if parts != 4 {
		t.Fatalf("%d parts uploaded, want 4 of 5 MiB", parts)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	h := sha256.New()
	if n, err := io.Copy(h, out.Body); err != nil || n != int64(len(data)) {
		t.Fatalf("downloaded %d bytes: %v", n, err)
	}
	if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("downloaded bytes differ")
	}
}

func TestS3Grants(t *testing.T) {
	ctx := context.Background()
	st, admin := newS3(t)
	for _, k := range []string{"alice/x", "shared/y", "other/z"} {
		if _, err := admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	alice := st.AddUser("alice")
	st.S3.Grant(emrfstest.UserARN("alice"), "bucket", "alice/", true)
	st.S3.Grant(emrfstest.UserARN("alice"), "bucket", "shared/", false)
	c := s3.NewFromConfig(st.ConfigFor(alice), st.S3Options)
	unrestricted := s3.NewFromConfig(st.ConfigFor(st.AddUser("bob")), st.S3Options)

	get := func(c *s3.Client, k string) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(k)})
		if err == nil {
			out.Body.Close()
		}
		return err
	}
	put := func(c *s3.Client, k string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(k), Body: strings.NewReader("new")})
		return err
	}
	list := func(c *s3.Client, p string) error {
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket"), Prefix: aws.String(p)})
		return err
	}
	tests := []struct {
		name   string
		call   func() error
		denied bool
	}{
		{"read own prefix", func() error { return get(c, "alice/x") }, false},
		{"write own prefix", func() error { return put(c, "alice/new") }, false},
		{"read shared", func() error { return get(c, "shared/y") }, false},
		{"write shared read-only", func() error { return put(c, "shared/new") }, true},
		{"read other", func() error { return get(c, "other/z") }, true},
		{"list own prefix", func() error { return list(c, "alice/") }, false},
		{"list whole bucket", func() error { return list(c, "") }, true},
		{"copy from other", func() error {
			_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bucket"), Key: aws.String("alice/copy"), CopySource: aws.String("bucket/other/z")})
			return err
		}, true},
		{"delete own", func() error {
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bucket"), Key: aws.String("alice/new")})
			return err
		}, false},
		{"user without grants", func() error { return get(unrestricted, "other/z") }, false},
		{"multi-delete touching other", func() error {
			// As in S3, DeleteObjects is authorized per key: the request
			// succeeds, the denied key is reported in the result.
			out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bucket"), Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("alice/x")}, {Key: aws.String("other/z")}}}})
			if err != nil {
				return err
			}
			if len(out.Errors) != 1 || aws.ToString(out.Errors[0].Key) != "other/z" || len(out.Deleted) != 1 || aws.ToString(out.Deleted[0].Key) != "alice/x" {
				return fmt.Errorf("DeleteObjects result: deleted %d, errors %d, want alice/x deleted and other/z refused", len(out.Deleted), len(out.Errors))
			}
			if err := get(unrestricted, "other/z"); err != nil {
				return fmt.Errorf("other/z was deleted: %v", err)
			}
			return &smithy.GenericAPIError{Code: aws.ToString(out.Errors[0].Code)}
		}, true},
		{"create bucket", func() error {
			_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alices")})
			return err
		}, true},
		{"head object outside", func() error {
			_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String("other/z")})
			return err
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var api smithy.APIError
			// HEAD responses have no body: the SDK reports "Forbidden".
			denied := errors.As(err, &api) && (api.ErrorCode() == "AccessDenied" || api.ErrorCode() == "Forbidden")
			if denied != tc.denied || (!tc.denied && err != nil) {
				t.Fatalf("err = %v, want denied=%v", err, tc.denied)
			}
		})
	}
}

func TestS3BreakNextGet(t *testing.T) {
	ctx := context.Background()
	st, c := newS3(t)
	data := randomBytes(t, 1<<20)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	st.S3.BreakNextGet(1000)
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err == nil || len(got) != 1000 || !bytes.Equal(got, data[:1000]) {
		t.Fatalf("broken GET read %d bytes, err %v; want 1000 bytes and an error", len(got), err)
	}
	// The fault is used up: the resumed read works.
	rest, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), Range: aws.String("bytes=1000-")})
	if err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(rest.Body)
	rest.Body.Close()
	if err != nil || !bytes.Equal(append(got, tail...), data) {
		t.Fatalf("resumed read: %d bytes, %v", len(tail), err)
	}
}

func TestS3AuthFailures(t *testing.T) {
	ctx := context.Background()
	st, _ := newS3(t)
	u := st.AddUser("dave")
	tests := []struct {
		name  string
		creds aws.Credentials
		code  string
	}{
		{"wrong secret", aws.Credentials{AccessKeyID: u.AccessKeyID, SecretAccessKey: "nope"}, "SignatureDoesNotMatch"},
		{"unknown key", aws.Credentials{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: "x"}, "InvalidAccessKeyId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := s3.NewFromConfig(st.ConfigFor(tc.creds), st.S3Options)
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
		})
	}
	resp, err := http.Get(st.URL + "/bucket/k")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous GET: %s", resp.Status)
	}
	var logged []string
	for _, r := range st.S3.Requests() {
		if r.Principal == "" {
			logged = append(logged, fmt.Sprint(r.Method, " ", r.Key, " ", r.Status))
		}
	}
	if strings.Join(logged, ",") != "PUT k 403,PUT k 403,GET k 403" {
		t.Fatalf("unauthenticated requests logged as %q", logged)
	}
}

// Over HTTPS the v2 client streams aws-chunked bodies with trailing
// checksums; the stack decodes them and checks the checksum.
func TestS3TLSChunkedTrailer(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t, func(o *emrfstest.Options) { o.TLS = true })
	c := s3.NewFromConfig(st.Config, st.S3Options)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bucket")}); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 300_000)
	for _, alg := range []s3types.ChecksumAlgorithm{"", s3types.ChecksumAlgorithmCrc32c, s3types.ChecksumAlgorithmSha256} {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), Body: bytes.NewReader(data), ChecksumAlgorithm: alg})
		if err != nil {
			t.Fatalf("%q: %v", alg, err)
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, data) || out.ContentEncoding != nil {
			t.Fatalf("%q: %d bytes back, Content-Encoding %v", alg, len(got), aws.ToString(out.ContentEncoding))
		}
	}
	var forms []string
	for _, r := range st.S3.Requests() {
		if r.Method == "PUT" && r.Key == "k" {
			forms = append(forms, r.Header.Get("X-Amz-Content-Sha256"))
		}
	}
	if len(forms) != 3 || forms[1] != "STREAMING-UNSIGNED-PAYLOAD-TRAILER" || forms[2] != forms[1] {
		t.Fatalf("payload forms %v, want aws-chunked with explicit checksums", forms)
	}
	// A checksum that does not match the body is refused.
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("bad"), Body: bytes.NewReader(data), ChecksumCRC32: aws.String("AAAAAA==")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "BadDigest" {
		t.Fatalf("wrong checksum: %v", err)
	}
}

func TestS3CopyMetadataRules(t *testing.T) {
	ctx := context.Background()
	_, c := newS3(t)
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("bucket"), Key: aws.String("src"), Body: strings.NewReader("x"),
		Metadata: map[string]string{"old": "1", "keep": "2"}, ServerSideEncryption: s3types.ServerSideEncryptionAes256,
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		in       s3.CopyObjectInput
		wantMeta map[string]string
		wantSSE  s3types.ServerSideEncryption
	}{
		{"copy directive", s3.CopyObjectInput{}, map[string]string{"old": "1", "keep": "2"}, ""},
		{"replace directive", s3.CopyObjectInput{MetadataDirective: s3types.MetadataDirectiveReplace, Metadata: map[string]string{"new": "3"}}, map[string]string{"new": "3"}, ""},
		{"new sse", s3.CopyObjectInput{ServerSideEncryption: s3types.ServerSideEncryptionAes256}, map[string]string{"old": "1", "keep": "2"}, s3types.ServerSideEncryptionAes256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Bucket, in.Key, in.CopySource = aws.String("bucket"), aws.String("dst"), aws.String("bucket/src")
			if _, err := c.CopyObject(ctx, &in); err != nil {
				t.Fatal(err)
			}
			h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String("dst")})
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Metadata) != len(tc.wantMeta) || h.ServerSideEncryption != tc.wantSSE {
				t.Fatalf("metadata %v SSE %q, want %v %q", h.Metadata, h.ServerSideEncryption, tc.wantMeta, tc.wantSSE)
			}
			for k, v := range tc.wantMeta {
				if h.Metadata[k] != v {
					t.Fatalf("metadata %v, want %v", h.Metadata, tc.wantMeta)
				}
			}
		})
	}
}

func TestS3OverwriteReplacesMetadata(t *testing.T) {
	ctx := context.Background()
	_, c := newS3(t)
	put := func(meta map[string]string) {
		t.Helper()
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), Body: strings.NewReader("x"), Metadata: meta}); err != nil {
			t.Fatal(err)
		}
	}
	put(map[string]string{"x-amz-key-v2": "wrapped", "x-amz-iv": "iv"})
	put(map[string]string{"plain": "1"})
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Metadata) != 1 || h.Metadata["plain"] != "1" {
		t.Fatalf("metadata after overwrite %v, want only plain=1", h.Metadata)
	}
}
