package emrfs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// TestBackends is the conformance suite: the same operations, for every
// encryption setting, against every backend — the in-process stack always,
// and MinIO when EMRS3_MINIO_* is set (as .ci/services does in CI).
func TestBackends(t *testing.T) {
	for _, b := range emrfstest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { conformance(t, b) })
	}
}

type setting struct {
	name  string
	props map[string]string
	sse   s3types.ServerSideEncryption // what HEAD must report ("" = none)
	cse   bool
}

func conformance(t *testing.T, b emrfstest.Backend) {
	ctx := context.Background()
	api := s3.NewFromConfig(b.Config, b.S3Options)
	bucket := fmt.Sprintf("conformance-%d", time.Now().UnixNano())
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	cseKey := b.Stack.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
	cseProps := func(extra ...string) map[string]string {
		m := map[string]string{
			"fs.s3.cse.enabled":                      "true",
			"fs.s3.cse.encryptionMaterialsProvider":  emrfs.KMSMaterialsProvider,
			"fs.s3.cse.kms.keyId":                    cseKey,
			"fs.s3.cse.encryptionV2.enabled":         "true",
			"fs.s3.cse.materialsDescription.enabled": "false",
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	settings := []setting{
		{name: "none"},
		{name: "sse-s3", props: map[string]string{"fs.s3.enableServerSideEncryption": "true"}, sse: s3types.ServerSideEncryptionAes256},
		{name: "sse-kms", props: map[string]string{"fs.s3.enableServerSideEncryption": "true", "fs.s3.serverSideEncryption.kms.keyId": b.SSEKMSKeyID}, sse: s3types.ServerSideEncryptionAwsKms},
		{name: "cse-kms", props: cseProps(), cse: true},
		{name: "cse-kms-instruction-file", props: cseProps("fs.s3.cse.cryptoStorageMode", "InstructionFile",
			"fs.s3.cse.cryptoStorageMode.deleteInstructionFiles.enabled", "true"), cse: true},
	}
	for _, s := range settings {
		t.Run(s.name, func(t *testing.T) {
			cfg := emrfs.NewConfig()
			for k, v := range s.props {
				cfg.Set(k, v)
			}
			c, err := emrfs.New(api, cfg, func(o *emrfs.Options) {
				o.PartSize = emrfs.MinPartSize
				o.KMS = kms.NewFromConfig(b.Stack.Config)
				o.TempDir = t.TempDir()
			})
			if err != nil {
				t.Fatal(err)
			}
			prefix := s.name + "/"
			root := "s3://" + bucket + "/" + prefix
			objects := map[string][]byte{}
			for i, n := range []int{0, 1, 4099, emrfs.MinPartSize + 17} {
				data := randomData(uint64(i), n)
				name := fmt.Sprintf("dir/obj-%d", n)
				objects[name] = data
				if err := writeAll(ctx, c, root+name, data); err != nil {
					t.Fatalf("write %d bytes: %v", n, err)
				}
				got, err := readAll(ctx, c, root+name)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("read back %d bytes: %v", n, err)
				}
				fi, err := c.Stat(ctx, root+name)
				if err != nil || fi.Size() != int64(n) {
					t.Fatalf("Stat %d bytes: size %v, %v", n, fi, err)
				}
				checkStored(t, api, bucket, prefix+name, data, s)
			}

			// Partial reads (authenticated for CSE: the object is verified
			// before the slice is returned).
			big := objects[fmt.Sprintf("dir/obj-%d", emrfs.MinPartSize+17)]
			f, err := c.Open(ctx, root+fmt.Sprintf("dir/obj-%d", emrfs.MinPartSize+17))
			if err != nil {
				t.Fatal(err)
			}
			p := make([]byte, 1000)
			if _, err := f.ReadAt(p, int64(len(big)-1000)); err != nil || !bytes.Equal(p, big[len(big)-1000:]) {
				t.Fatalf("ReadAt of the tail: %v", err)
			}
			f.Close()

			// Listing shows plaintext sizes and hides instruction files.
			seen := map[string]int64{}
			for fi, err := range c.List(ctx, root+"dir/", func(o *emrfs.ListOptions) { o.PlaintextSizes = true }) {
				if err != nil {
					t.Fatal(err)
				}
				seen[strings.TrimPrefix(fi.URI(), root)] = fi.Size()
			}
			if len(seen) != len(objects) {
				t.Fatalf("List: %v, want %d objects", seen, len(objects))
			}
			for name, data := range objects {
				if seen[name] != int64(len(data)) {
					t.Fatalf("List: %s has size %d, want %d", name, seen[name], len(data))
				}
			}

			// Copy keeps data and encryption; Rename moves; Remove removes
			// the instruction file too (deleteInstructionFiles.enabled).
			src, dst, moved := root+"dir/obj-4099", root+"copy/obj", root+"moved/obj"
			if err := c.Copy(ctx, src, dst); err != nil {
				t.Fatal(err)
			}
			checkStored(t, api, bucket, prefix+"copy/obj", objects["dir/obj-4099"], s)
			if err := c.Rename(ctx, dst, moved); err != nil {
				t.Fatal(err)
			}
			if got, err := readAll(ctx, c, moved); err != nil || !bytes.Equal(got, objects["dir/obj-4099"]) {
				t.Fatalf("renamed object: %v", err)
			}
			if _, err := c.Stat(ctx, dst); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Stat after Rename: %v, want fs.ErrNotExist", err)
			}
			if err := c.Remove(ctx, moved); err != nil {
				t.Fatal(err)
			}
			assertAbsent(t, api, bucket, prefix+"moved/obj")

			// The io/fs view, on small files (fstest reads each many times;
			// an authenticated partial read of a CSE object reads it whole).
			for _, name := range []string{"a", "b/c"} {
				if err := writeAll(ctx, c, root+"fs/"+name, []byte("contents of "+name)); err != nil {
					t.Fatal(err)
				}
			}
			if err := fstest.TestFS(c.FS(ctx, bucket, prefix+"fs"), "a", "b/c"); err != nil {
				t.Fatal(err)
			}

			// A cancelled upload leaves no object and no multipart upload.
			cctx, cancel := context.WithCancel(ctx)
			w, err := c.Create(cctx, root+"cancelled")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(randomData(9, emrfs.MinPartSize+1)); err != nil {
				t.Fatal(err)
			}
			cancel()
			if _, err := w.Write(make([]byte, emrfs.MinPartSize)); err == nil {
				if err := w.Close(); err == nil {
					t.Fatal("a cancelled upload succeeded")
				}
			} else {
				w.Close()
			}
			assertAbsent(t, api, bucket, prefix+"cancelled")
			ups, err := api.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
			if err != nil {
				t.Fatal(err)
			}
			if len(ups.Uploads) != 0 {
				t.Fatalf("%d multipart uploads left after a cancelled upload", len(ups.Uploads))
			}
		})
	}
}

// checkStored looks at what the server holds: the SSE it reports, or for
// CSE a body that is not the plaintext and a V2 envelope.
func checkStored(t *testing.T, api *s3.Client, bucket, key string, plain []byte, s setting) {
	t.Helper()
	ctx := context.Background()
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if out.ServerSideEncryption != s.sse {
		t.Fatalf("%s: server reports SSE %q, want %q", key, out.ServerSideEncryption, s.sse)
	}
	if !s.cse {
		if !bytes.Equal(body, plain) {
			t.Fatalf("%s: stored body differs", key)
		}
		return
	}
	if len(body) != len(plain)+16 || (len(plain) > 16 && bytes.Contains(body, plain[:16])) {
		t.Fatalf("%s: stored body is not the GCM ciphertext (%d bytes for %d)", key, len(body), len(plain))
	}
	meta := out.Metadata
	if _, ok := meta["x-amz-key-v2"]; !ok {
		// Instruction-file mode: the envelope is in <key>.instruction.
		ins, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key + ".instruction")})
		if err != nil {
			t.Fatalf("%s: no envelope in metadata and no instruction file: %v", key, err)
		}
		data, _ := io.ReadAll(ins.Body)
		ins.Body.Close()
		if !bytes.Contains(data, []byte(`"x-amz-wrap-alg":"kms+context"`)) {
			t.Fatalf("%s.instruction: %s", key, data)
		}
		return
	}
	if meta["x-amz-wrap-alg"] != "kms+context" || meta["x-amz-cek-alg"] != "AES/GCM/NoPadding" {
		t.Fatalf("%s: envelope %v", key, meta)
	}
}

func assertAbsent(t *testing.T, api *s3.Client, bucket, key string) {
	t.Helper()
	for _, k := range []string{key, key + ".instruction"} {
		_, err := api.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		var nf *s3types.NotFound
		if !errors.As(err, &nf) {
			t.Fatalf("%s: HEAD = %v, want NotFound", k, err)
		}
	}
}

func randomData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 77))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func writeAll(ctx context.Context, c *emrfs.Client, uri string, data []byte) error {
	w, err := c.Create(ctx, uri)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

func readAll(ctx context.Context, c *emrfs.Client, uri string) ([]byte, error) {
	return read(c, ctx, uri)
}
