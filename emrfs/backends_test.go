package emrfs_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
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

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/internal/miniotest"
)

// TestBackends is the conformance suite: the same operations, for every
// encryption setting, against every backend — the in-process stack always,
// and MinIO when EMRS3_MINIO_* is set (as .ci/services does in CI). The
// settings: none, SSE-S3, SSE-KMS, CSE-KMS from EMRFS properties (envelope
// in metadata and in instruction files) and from S3A properties, and SSE-C
// on the in-process stack only (MinIO refuses SSE-C over plain HTTP); plus
// a read of a CBC object of the V1 encryption client.
func TestBackends(t *testing.T) {
	for _, b := range miniotest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { conformance(t, b) })
	}
}

type setting struct {
	name  string
	props map[string]string
	sse   s3types.ServerSideEncryption // what HEAD must report ("" = none)
	cse   bool
	ssec  []byte // SSE-C key: reads of the stored object need it
}

func conformance(t *testing.T, b miniotest.Backend) {
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
		{name: "cse-kms-s3a", props: map[string]string{"fs.s3a.encryption.algorithm": "CSE-KMS", "fs.s3a.encryption.key": cseKey}, cse: true},
	}
	if b.Name == "emrfstest" {
		// MinIO refuses SSE-C over plain HTTP; the in-process S3 checks
		// SSE-C keys on every request as S3 does.
		key := randomData(99, 32)
		settings = append(settings, setting{name: "sse-c", ssec: key, props: map[string]string{
			"fs.s3a.encryption.algorithm": "SSE-C", "fs.s3a.encryption.key": base64.StdEncoding.EncodeToString(key),
		}})
	}
	t.Run("cse-cbc-read", func(t *testing.T) { conformanceCBC(t, b, api, bucket, cseKey) })
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

// conformanceCBC reads a CBC object of the aws-sdk-go v1 s3crypto V1
// client with KMS (EMRFS's default format: legacy kms wrap, AES-CBC) as an
// EMR cluster reads it, with cse.EMRFSCompatible(): whole, a slice (a
// ranged CBC read), Stat and List sizes.
func conformanceCBC(t *testing.T, b miniotest.Backend, api *s3.Client, bucket, cseKey string) {
	ctx := context.Background()
	data := randomData(42, 100_003)
	v1PutTo(t, b.Config, b.Stack.Config, cseKey, bucket, "cbc/obj", data, true)
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", cseKey)
	c, err := emrfs.New(api, cfg, func(o *emrfs.Options) {
		o.KMS = kms.NewFromConfig(b.Stack.Config)
		o.TempDir = t.TempDir()
		p := cse.EMRFSCompatible()
		o.CSEPolicy = &p
	})
	if err != nil {
		t.Fatal(err)
	}
	uri := "s3://" + bucket + "/cbc/obj"
	if got, err := readAll(ctx, c, uri); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("whole read of a CBC object: %d bytes, %v", len(got), err)
	}
	f, err := c.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 5000)
	if _, err := f.ReadAt(p, 77_777); err != nil || !bytes.Equal(p, data[77_777:82_777]) {
		t.Fatalf("ReadAt of a CBC object: %v", err)
	}
	f.Close()
	if fi, err := c.Stat(ctx, uri); err != nil || fi.Size() != int64(len(data)) {
		t.Fatalf("Stat of a CBC object: %v, %v", fi, err)
	}
	listed := 0
	for fi, err := range c.List(ctx, "s3://"+bucket+"/cbc/", func(o *emrfs.ListOptions) { o.PlaintextSizes = true }) {
		if err != nil || fi.Size() != int64(len(data)) {
			t.Fatalf("List of a CBC object: %v, %v", fi, err)
		}
		listed++
	}
	if listed != 1 {
		t.Fatalf("List of cbc/: %d objects, want 1", listed)
	}
}

// checkStored looks at what the server holds: the SSE it reports, or for
// CSE a body that is not the plaintext and a V2 envelope.
func checkStored(t *testing.T, api *s3.Client, bucket, key string, plain []byte, s setting) {
	t.Helper()
	ctx := context.Background()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if s.ssec != nil {
		sum := md5.Sum(s.ssec)
		in.SSECustomerAlgorithm = aws.String("AES256")
		in.SSECustomerKey = aws.String(base64.StdEncoding.EncodeToString(s.ssec))
		in.SSECustomerKeyMD5 = aws.String(base64.StdEncoding.EncodeToString(sum[:]))
	}
	out, err := api.GetObject(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if s.ssec != nil && aws.ToString(out.SSECustomerAlgorithm) != "AES256" {
		t.Fatalf("%s: server reports SSE-C algorithm %q, want AES256", key, aws.ToString(out.SSECustomerAlgorithm))
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
