package emrfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// cseEnv is a gofakes3 S3 plus the emrfstest KMS emulator, both over HTTP.
type cseEnv struct {
	api   *s3.Client
	fault *faultS3
	kms   *kms.Client
	keyID string
	stack *emrfstest.Stack
}

func newCSEEnv(t testing.TB) *cseEnv {
	t.Helper()
	st := emrfstest.Start(t)
	api := newTestS3(t)
	if _, err := api.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("plain-bucket")}); err != nil {
		t.Fatal(err)
	}
	return &cseEnv{
		api:   api,
		fault: &faultS3{S3API: api},
		kms:   kms.NewFromConfig(st.Config),
		keyID: st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault),
		stack: st,
	}
}

// client returns a client whose testBucket uses CSE-KMS configured with
// props (key → value; "KEY" is replaced by the KMS key id).
func (e *cseEnv) client(t testing.TB, props map[string]string, optFns ...func(*Options)) *Client {
	t.Helper()
	cfg := NewConfig()
	for k, v := range props {
		if v == "KEY" {
			v = e.keyID
		}
		cfg.Set(k, v)
	}
	optFns = append([]func(*Options){func(o *Options) {
		o.PartSize, o.Concurrency, o.KMS = MinPartSize, 2, e.kms
	}}, optFns...)
	c, err := New(e.fault, cfg, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	s3aCSE = map[string]string{
		"fs.s3a.bucket." + testBucket + ".encryption.algorithm": "CSE-KMS",
		"fs.s3a.bucket." + testBucket + ".encryption.key":       "KEY",
	}
	emrfsCSEInstruction = map[string]string{
		"fs.s3.cse.enabled":                       "true",
		"fs.s3.cse.encryptionMaterialsProvider":   KMSMaterialsProvider,
		"fs.s3.cse.kms.keyId":                     "KEY",
		"fs.s3.cse.encryptionV2.enabled":          "true",
		"fs.s3.cse.cryptoStorageMode":             "InstructionFile",
		"fs.s3.bucket.plain-bucket.cse.enabled":   "false",
		"fs.s3.cse.cryptoMode":                    "AuthenticatedEncryption",
		"fs.s3.bucket.plain-bucket.cse.kms.keyId": "",
	}
)

func rawObject(t *testing.T, api *s3.Client, key string) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := api.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return out, b
}

func TestCSERoundTrip(t *testing.T) {
	e := newCSEEnv(t)
	for _, mode := range []struct {
		name  string
		props map[string]string
	}{{"s3a-metadata", s3aCSE}, {"emrfs-instruction-file", emrfsCSEInstruction}} {
		t.Run(mode.name, func(t *testing.T) {
			c := e.client(t, mode.props)
			instruction := mode.props["fs.s3.cse.cryptoStorageMode"] == "InstructionFile"
			for _, n := range []int{0, 1, 1000, MinPartSize + 100, 2 * MinPartSize} {
				key := "cse/" + mode.name + "/" + string(rune('a'+n%26)) + string(rune('0'+n%7))
				uri := "s3://" + testBucket + "/" + key
				data := randomBytes(n, uint64(n)+5)
				e.fault.mu.Lock()
				e.fault.partLens = nil
				e.fault.mu.Unlock()
				writeObject(t, c, uri, data)

				// Stored: ciphertext with the GCM tag, envelope where configured.
				out, raw := rawObject(t, e.api, key)
				if len(raw) != n+16 || (n > 16 && bytes.Equal(raw[:16], data[:16])) {
					t.Fatalf("size %d: stored %d bytes, want ciphertext of %d", n, len(raw), n+16)
				}
				_, v2 := out.Metadata["x-amz-key-v2"]
				_, v3 := out.Metadata["x-amz-3"]
				if got := v2 || v3; got == instruction {
					t.Errorf("size %d: envelope in metadata = %v, instruction mode %v", n, got, instruction)
				}
				_, ierr := e.api.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key + ".instruction")})
				if (ierr == nil) != instruction {
					t.Errorf("size %d: instruction file exists = %v", n, ierr == nil)
				}
				// Multipart: every part but the last a multiple of 16.
				e.fault.mu.Lock()
				lens := e.fault.partLens
				e.fault.mu.Unlock()
				for num, l := range lens {
					if int(num) < len(lens) && l%16 != 0 {
						t.Errorf("size %d: part %d has %d bytes", n, num, l)
					}
				}
				if n > MinPartSize && len(lens) != 2 {
					t.Errorf("size %d: %d parts", n, len(lens))
				}

				// The cse package decrypts the stored object on its own,
				// fetching the instruction file only when it holds the
				// envelope.
				fetched := false
				fetch := func(_ context.Context, ikey string) ([]byte, error) {
					fetched = true
					_, instr := rawObject(t, e.api, ikey)
					return instr, nil
				}
				dec := cse.NewDecryptor(cse.NewKMSProvider(e.kms, e.keyID))
				content, err := dec.Decrypt(context.Background(), out.Metadata, fetch, cse.ObjectInfo{Bucket: testBucket, Key: key})
				if fetched != instruction {
					t.Errorf("size %d: instruction file fetched = %v, instruction mode %v", n, fetched, instruction)
				}
				if err != nil {
					t.Fatalf("size %d: cse.Decrypt: %v", n, err)
				}
				dr, err := content.NewDecryptReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				plain, err := io.ReadAll(dr)
				content.Wipe()
				if err != nil || !bytes.Equal(plain, data) {
					t.Fatalf("size %d: independent decrypt: %v", n, err)
				}

				// Open, Stat, ReadAt, List return plaintext and its size.
				if got := readObject(t, c, uri); !bytes.Equal(got, data) {
					t.Errorf("size %d: Open read %d bytes, differ", n, len(got))
				}
				fi, err := c.Stat(context.Background(), uri)
				if err != nil || fi.Size() != int64(n) {
					t.Errorf("size %d: Stat = %v, %v", n, fi, err)
				}
				if n > 100 {
					f, err := c.Open(context.Background(), uri)
					if err != nil {
						t.Fatal(err)
					}
					for _, off := range []int64{0, 15, 16, 17, int64(n) - 50} {
						p := make([]byte, 33)
						if _, err := f.ReadAt(p, off); err != nil {
							t.Fatalf("size %d: ReadAt(%d): %v", n, off, err)
						}
						if !bytes.Equal(p, data[off:off+33]) {
							t.Errorf("size %d: ReadAt(%d) differs", n, off)
						}
					}
					f.Close()
				}
				for fi, err := range c.List(context.Background(), uri, func(o *ListOptions) { o.PlaintextSizes = true }) {
					if err != nil || fi.Size() != int64(n) {
						t.Errorf("size %d: List with plaintext sizes = %v, %v", n, fi, err)
					}
				}
			}
		})
	}
}

func TestCSEPlaintextObject(t *testing.T) {
	e := newCSEEnv(t)
	putRaw(t, e.api, "cse/plain", "not encrypted")
	uri := "s3://" + testBucket + "/cse/plain"
	c := e.client(t, s3aCSE)
	if _, err := c.Open(context.Background(), uri); !errors.Is(err, ErrNotEncrypted) {
		t.Errorf("Open of a plaintext object = %v, want ErrNotEncrypted", err)
	}
	props := map[string]string{"fs.s3a.encryption.cse.v1.compatibility.enabled": "true"}
	for k, v := range s3aCSE {
		props[k] = v
	}
	compat := e.client(t, props)
	if got := string(readObject(t, compat, uri)); got != "not encrypted" {
		t.Errorf("compatibility read = %q", got)
	}
}

func TestCSEResumeAndAuthenticatedReads(t *testing.T) {
	e := newCSEEnv(t)
	data := randomBytes(200_000, 9)
	uri := "s3://" + testBucket + "/cse/resume"
	writeObject(t, e.client(t, s3aCSE), uri, data)

	// Ranged (default EMRFS policy): a broken body resumes mid-block.
	e.fault.cutAfter = 33_333
	e.fault.cuts.Store(4)
	if got := readObject(t, e.client(t, s3aCSE), uri); !bytes.Equal(got, data) {
		t.Error("resumed CSE read differs")
	}
	e.fault.cutAfter = 0

	// Authenticated policy: whole-object GETs through the GCM decrypter.
	strict := e.client(t, s3aCSE, func(o *Options) { o.CSEPolicy = &cse.Policy{} })
	gets := e.fault.count("GetObject")
	f, err := strict.Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := make([]byte, 100)
	if _, err := f.ReadAt(p, 150_000); err != nil || !bytes.Equal(p, data[150_000:150_100]) {
		t.Errorf("authenticated ReadAt: %v", err)
	}
	if got := e.fault.count("GetObject") - gets; got != 1 {
		t.Errorf("authenticated ReadAt made %d GETs", got)
	}

	// Tampered ciphertext fails authentication instead of returning data.
	_, raw := rawObject(t, e.api, "cse/resume")
	head, _ := e.api.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("cse/resume")})
	raw[10] ^= 1
	if _, err := e.api.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("cse/tampered"), Body: bytes.NewReader(raw), Metadata: head.Metadata}); err != nil {
		t.Fatal(err)
	}
	tf, err := strict.Open(context.Background(), "s3://"+testBucket+"/cse/tampered")
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	if _, err := io.ReadAll(tf); !errors.Is(err, cse.ErrNotAuthentic) {
		t.Errorf("tampered read = %v, want cse.ErrNotAuthentic", err)
	}
}

func TestCSECopyRemove(t *testing.T) {
	e := newCSEEnv(t)
	c := e.client(t, withProps(emrfsCSEInstruction, "fs.s3.cse.cryptoStorageMode.deleteInstructionFiles.enabled", "true"))
	ctx := context.Background()
	src := "s3://" + testBucket + "/cse/cp/src"
	writeObject(t, c, src, []byte("secret data"))

	// A CSE bucket's instruction files belong to their objects: copying an
	// object whose envelope is in its metadata removes a stale
	// instruction file at the destination.
	meta := e.client(t, withProps(emrfsCSEInstruction, "fs.s3.cse.cryptoStorageMode", "ObjectMetadata"))
	writeObject(t, meta, "s3://"+testBucket+"/cse/cp/meta", []byte("metadata envelope"))
	putRaw(t, e.api, "cse/cp/stale.instruction", "{}")
	if err := meta.Copy(ctx, "s3://"+testBucket+"/cse/cp/meta", "s3://"+testBucket+"/cse/cp/stale"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.api.HeadObject(ctx, headInput("cse/cp/stale.instruction")); err == nil {
		t.Error("stale instruction file kept at the destination of a CSE copy")
	}
	if got := string(readObject(t, meta, "s3://"+testBucket+"/cse/cp/stale")); got != "metadata envelope" {
		t.Errorf("copy = %q", got)
	}
	for _, k := range []string{"cse/cp/meta", "cse/cp/stale"} {
		if err := meta.Remove(ctx, "s3://"+testBucket+"/"+k); err != nil {
			t.Fatal(err)
		}
	}

	// Same settings: server-side copy with its instruction file.
	dst := "s3://" + testBucket + "/cse/cp/dst"
	if err := c.Copy(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	if got := string(readObject(t, c, dst)); got != "secret data" {
		t.Errorf("copy = %q", got)
	}
	// The instruction file is hidden from List.
	var names []string
	for fi, err := range c.List(ctx, "s3://"+testBucket+"/cse/cp/") {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, fi.Name())
	}
	if len(names) != 2 {
		t.Errorf("List = %v, want dst and src only", names)
	}

	// To a bucket without CSE: re-encrypted (here: decrypted) by streaming.
	plain := "s3://plain-bucket/copied"
	if err := c.Copy(ctx, src, plain); err != nil {
		t.Fatal(err)
	}
	out, err := e.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("plain-bucket"), Key: aws.String("copied")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(b) != "secret data" {
		t.Errorf("streamed copy stored %q", b)
	}

	if err := c.Remove(ctx, dst); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"cse/cp/dst", "cse/cp/dst.instruction"} {
		if _, err := e.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(k)}); err == nil {
			t.Errorf("%s left after Remove", k)
		}
	}
	if _, err := c.Stat(ctx, dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat after Remove = %v", err)
	}
}

// TestCSENeedsKMS: New refuses a CSE-KMS bucket without a KMS client (see
// also TestNewChecksClients).
func TestCSENeedsKMS(t *testing.T) {
	e := newCSEEnv(t)
	cfg := NewConfig()
	for k, v := range s3aCSE {
		cfg.Set(k, strings.ReplaceAll(v, "KEY", e.keyID))
	}
	if _, err := New(e.api, cfg); err == nil || !strings.Contains(err.Error(), "Options.KMS") {
		t.Errorf("New with a CSE-KMS bucket and no KMS client = %v, want an error naming Options.KMS", err)
	}
}

func withProps(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestCSEEMRFSOptions(t *testing.T) {
	e := newCSEEnv(t)
	ctx := context.Background()
	metaMode := withProps(emrfsCSEInstruction, "fs.s3.cse.cryptoStorageMode", "ObjectMetadata",
		"fs.s3.multipart.cse.add.unencrypted.length", "true",
		"fs.s3.cse.materialsDescription.enabled", "true")
	c := e.client(t, metaMode)
	data := randomBytes(MinPartSize+33, 4)
	uri := "s3://" + testBucket + "/cse/opts/big"
	writeObject(t, c, uri, data)
	out, _ := rawObject(t, e.api, "cse/opts/big")
	if got := out.Metadata["x-amz-unencrypted-content-length"]; got != "5242913" {
		t.Errorf("multipart object's x-amz-unencrypted-content-length = %q", got)
	}
	if !bytes.Equal(readObject(t, c, uri), data) {
		t.Error("read back differs")
	}
	var sawPath bool
	for _, call := range e.stack.KMS.Audit() {
		if call.Operation == "GenerateDataKey" && call.EncryptionContext["Path"] == "s3://"+testBucket+"/cse/opts/big" {
			sawPath = true
		}
	}
	if !sawPath {
		t.Errorf("no GenerateDataKey with Path in the context: %+v", e.stack.KMS.Audit())
	}

	// KMS throttling is retried by the SDK's KMS client.
	e.stack.KMS.ThrottleNext(2)
	writeObject(t, c, "s3://"+testBucket+"/cse/opts/throttled", []byte("x"))
	if got := string(readObject(t, c, "s3://"+testBucket+"/cse/opts/throttled")); got != "x" {
		t.Errorf("after throttling: %q", got)
	}
	throttled := 0
	for _, call := range e.stack.KMS.Audit() {
		if call.Err == "ThrottlingException" {
			throttled++
		}
	}
	if throttled != 2 {
		t.Errorf("%d throttled KMS calls, want 2 (retried)", throttled)
	}

	// fs.s3.cse.cryptoMode decides whether partial reads are ranged: with
	// the last block of the object modified, a ranged ReadAt of the head
	// returns it (unverified), an authenticated one fails. Strict mode
	// authenticates even under a policy that allows ranged reads.
	tamperRaw(t, e.api, "cse/opts/big", func(b []byte) { b[len(b)-20] ^= 1 })
	compat := cse.EMRFSCompatible()
	for _, tc := range []struct {
		mode   string
		policy *cse.Policy
		ranged bool
	}{
		{"StrictAuthenticatedEncryption", &compat, false},
		{"StrictAuthenticatedEncryption", nil, false},
		{"EncryptionOnly", &compat, true},
		{"EncryptionOnly", nil, false},
		{"AuthenticatedEncryption", nil, true},
	} {
		mc := e.client(t, withProps(metaMode, "fs.s3.cse.cryptoMode", tc.mode), func(o *Options) { o.CSEPolicy = tc.policy })
		f, err := mc.Open(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, 64)
		_, err = f.ReadAt(p, 1000)
		f.Close()
		if tc.ranged && (err != nil || !bytes.Equal(p, data[1000:1064])) {
			t.Errorf("%s (policy %v): ranged ReadAt = %v", tc.mode, tc.policy, err)
		}
		if !tc.ranged && !errors.Is(err, cse.ErrNotAuthentic) {
			t.Errorf("%s (policy %v): ReadAt of a modified object = %v, want cse.ErrNotAuthentic (not ranged)", tc.mode, tc.policy, err)
		}
	}
}

// tamperRaw rewrites testBucket/key with edit applied to its stored body,
// keeping its metadata.
func tamperRaw(t *testing.T, api *s3.Client, key string, edit func([]byte)) {
	t.Helper()
	out, raw := rawObject(t, api, key)
	edit(raw)
	if _, err := api.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key),
		Body: bytes.NewReader(raw), Metadata: out.Metadata}); err != nil {
		t.Fatal(err)
	}
}

func TestCSEFS(t *testing.T) {
	e := newCSEEnv(t)
	c := e.client(t, s3aCSE)
	for _, k := range []string{"a.txt", "d/b.txt", "d/e/c.txt"} {
		writeObject(t, c, "s3://"+testBucket+"/fs/"+k, []byte("plaintext of "+k))
	}
	fsys := c.FS(context.Background(), testBucket, "fs")
	if err := fstest.TestFS(fsys, "a.txt", "d/b.txt", "d/e/c.txt"); err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, "d/e/c.txt")
	if err != nil || string(b) != "plaintext of d/e/c.txt" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
}

// TestCSEPerRequestKMSCredentials: the KMS calls of an object's encryption
// and decryption are signed with the credentials chosen for that object.
func TestCSEPerRequestKMSCredentials(t *testing.T) {
	e := newCSEEnv(t)
	role := e.stack.AddUser("etl-role")
	roleARN := emrfstest.UserARN("etl-role")
	e.keyID = e.stack.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault, roleARN)
	var ops []string
	c := e.client(t, s3aCSE, func(o *Options) {
		o.Credentials = func(ctx context.Context, op, bucket, key string) (aws.CredentialsProvider, error) {
			if strings.HasPrefix(op, "kms:") {
				ops = append(ops, op+" "+bucket+"/"+key)
				return credentials.StaticCredentialsProvider{Value: role}, nil
			}
			return nil, nil // S3: the client's own
		}
	})
	uri := "s3://" + testBucket + "/cse/role"
	writeObject(t, c, uri, []byte("role data"))
	if got := string(readObject(t, c, uri)); got != "role data" {
		t.Errorf("read %q", got)
	}
	want := map[string]bool{"kms:GenerateDataKey " + testBucket + "/cse/role": false, "kms:Decrypt " + testBucket + "/cse/role": false}
	for _, op := range ops {
		if _, ok := want[op]; ok {
			want[op] = true
		}
	}
	for op, seen := range want {
		if !seen {
			t.Errorf("Credentials not asked for %s (asked: %q)", op, ops)
		}
	}
	for _, call := range e.stack.KMS.Audit() {
		if call.KeyID == e.keyID && call.Principal != roleARN {
			t.Errorf("KMS %s by %s, want %s", call.Operation, call.Principal, roleARN)
		}
	}
}

// TestCSECopyMaterialsDescription: with fs.s3.cse.materialsDescription.enabled
// a copy is re-encrypted and the provider sees Path and DstPath.
func TestCSECopyMaterialsDescription(t *testing.T) {
	e := newCSEEnv(t)
	props := withProps(emrfsCSEInstruction, "fs.s3.cse.materialsDescription.enabled", "true")
	c := e.client(t, props)
	ctx := context.Background()
	src, dst := "s3://"+testBucket+"/md/src", "s3a://"+testBucket+"/md/dst"
	w, err := c.Create(ctx, src, func(o *CreateOptions) { o.Metadata = map[string]string{"team": "etl"} })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "described"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	if got := string(readObject(t, c, dst)); got != "described" {
		t.Errorf("renamed = %q", got)
	}
	fi, err := c.Stat(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Metadata()["team"] != "etl" {
		t.Errorf("user metadata lost: %v", fi.Metadata())
	}
	var sawSrc, sawDst bool
	for _, call := range e.stack.KMS.Audit() {
		if call.Operation != "GenerateDataKey" {
			continue
		}
		ec := call.EncryptionContext
		sawSrc = sawSrc || (ec["Path"] == "s3://"+testBucket+"/md/src" && ec["DstPath"] == "")
		sawDst = sawDst || (ec["Path"] == "s3://"+testBucket+"/md/src" && ec["DstPath"] == "s3://"+testBucket+"/md/dst")
	}
	if !sawSrc || !sawDst {
		t.Errorf("GenerateDataKey contexts: write with Path %v, copy with Path+DstPath %v", sawSrc, sawDst)
	}
	if _, err := c.Stat(ctx, src); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("source after Rename: %v", err)
	}
}

// TestCSECopyBetweenSettings: a copy between CSE buckets whose settings
// change what the destination reads is re-encrypted, not copied
// server-side: an object in the legacy kms wrap (encryptionV2=false) copied
// into a bucket that writes and reads only kms+context (=true) must be
// readable there; equal settings still copy server-side.
func TestCSECopyBetweenSettings(t *testing.T) {
	e := newCSEEnv(t)
	ctx := context.Background()
	if _, err := e.api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("v2-bucket")}); err != nil {
		t.Fatal(err)
	}
	c := e.client(t, map[string]string{
		"fs.s3.cse.enabled":                               "true",
		"fs.s3.cse.encryptionMaterialsProvider":           KMSMaterialsProvider,
		"fs.s3.cse.kms.keyId":                             "KEY",
		"fs.s3.bucket.v2-bucket.cse.encryptionV2.enabled": "true",
	})
	src := "s3://" + testBucket + "/legacy/src"
	writeObject(t, c, src, []byte("legacy wrapped"))
	out, _ := rawObject(t, e.api, "legacy/src")
	if out.Metadata["x-amz-wrap-alg"] != "kms" {
		t.Fatalf("source envelope %v, want the legacy kms wrap", out.Metadata)
	}
	for _, dst := range []string{"s3://v2-bucket/legacy/dst", "s3://" + testBucket + "/legacy/same"} {
		if err := c.Copy(ctx, src, dst); err != nil {
			t.Fatalf("Copy to %s: %v", dst, err)
		}
		if got := string(readObject(t, c, dst)); got != "legacy wrapped" {
			t.Errorf("%s = %q", dst, got)
		}
	}
	head, err := e.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("v2-bucket"), Key: aws.String("legacy/dst")})
	if err != nil {
		t.Fatal(err)
	}
	if head.Metadata["x-amz-wrap-alg"] != "kms+context" {
		t.Errorf("copy into the V2 bucket has envelope %v, want it re-encrypted with kms+context", head.Metadata)
	}
	same, _ := rawObject(t, e.api, "legacy/same")
	if same.Metadata["x-amz-key-v2"] != out.Metadata["x-amz-key-v2"] {
		t.Error("a copy between equal settings was re-encrypted instead of copied server-side")
	}
}

func TestSameCSE(t *testing.T) {
	base := func() *CSE {
		return &CSE{Provider: KMSMaterialsProvider, KMSKeyID: "k", CryptoMode: CryptoModeEncryptionOnly,
			EncryptionContext: map[string]string{"a": "1"}, MaterialsDescription: map[string]string{"m": "1"}}
	}
	if !sameCSE(base(), base()) || !sameCSE(nil, nil) || sameCSE(base(), nil) {
		t.Fatal("sameCSE of equal settings")
	}
	differ := map[string]func(*CSE){
		"V2":                   func(c *CSE) { c.V2 = true },
		"S3A":                  func(c *CSE) { c.S3A = true },
		"KMSRegion":            func(c *CSE) { c.KMSRegion = "eu-west-1" },
		"CryptoMode":           func(c *CSE) { c.CryptoMode = CryptoModeStrictAuthenticatedEncryption },
		"Compatibility":        func(c *CSE) { c.Compatibility = true },
		"InstructionFile":      func(c *CSE) { c.InstructionFile = true },
		"EncryptionContext":    func(c *CSE) { c.EncryptionContext = map[string]string{"a": "2"} },
		"MaterialsDescription": func(c *CSE) { c.MaterialsDescription = nil },
		"KMSKeyID":             func(c *CSE) { c.KMSKeyID = "other" },
	}
	for name, fn := range differ {
		b := base()
		fn(b)
		if sameCSE(base(), b) {
			t.Errorf("sameCSE ignores %s", name)
		}
	}
	b := base()
	b.DeleteInstructionFiles, b.AddUnencryptedLength, b.ProviderURI = true, true, "s3://x/p.jar"
	if !sameCSE(base(), b) {
		t.Error("settings that do not affect reading prevent a server-side copy")
	}
}

// failInstruction fails every write of an instruction file.
func failInstruction(key string) error {
	if strings.HasSuffix(key, InstructionSuffix) {
		return errors.New("injected failure writing " + key)
	}
	return nil
}

// TestCSEInstructionFileFailures: when the instruction file of a new
// object (or of a copy) cannot be written, or the unencrypted length cannot
// be added, Close (Copy) fails and nothing unreadable is left visible.
func TestCSEInstructionFileFailures(t *testing.T) {
	e := newCSEEnv(t)
	ctx := context.Background()
	c := e.client(t, emrfsCSEInstruction)
	e.fault.failPut = failInstruction
	for _, n := range []int{10, MinPartSize + 10} {
		key := fmt.Sprintf("ifail/new-%d", n)
		w, err := c.Create(ctx, "s3://"+testBucket+"/"+key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(randomBytes(n, 2)); err != nil {
			t.Fatal(err)
		}
		err = w.Close()
		if err == nil || !strings.Contains(err.Error(), "instruction") {
			t.Fatalf("size %d: Close = %v, want the instruction-file failure", n, err)
		}
		assertNoUpload(t, e.api, key)
	}
	e.fault.failPut = nil

	// The multipart unencrypted-length copy fails: the object goes too.
	length := e.client(t, withProps(emrfsCSEInstruction, "fs.s3.cse.cryptoStorageMode", "ObjectMetadata",
		"fs.s3.multipart.cse.add.unencrypted.length", "true"))
	e.fault.failCopy = func(key string) error { return errors.New("injected CopyObject failure of " + key) }
	w, err := length.Create(ctx, "s3://"+testBucket+"/ifail/length")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(randomBytes(MinPartSize+10, 3)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "x-amz-unencrypted-content-length") {
		t.Fatalf("Close = %v, want the unencrypted-length failure", err)
	}
	assertNoUpload(t, e.api, "ifail/length")

	// Copy: the object is copied, its instruction file is not; the copy
	// is removed again and the source is intact.
	e.fault.failCopy = failInstruction
	src, dst := "s3://"+testBucket+"/ifail/src", "s3://"+testBucket+"/ifail/dst"
	writeObject(t, c, src, []byte("source"))
	if err := c.Copy(ctx, src, dst); err == nil || !strings.Contains(err.Error(), "instruction") {
		t.Fatalf("Copy = %v, want the instruction-file failure", err)
	}
	if _, err := e.api.HeadObject(ctx, headInput("ifail/dst")); err == nil {
		t.Error("a copy without its instruction file is visible")
	}
	e.fault.failCopy = nil
	if got := string(readObject(t, c, src)); got != "source" {
		t.Errorf("source = %q", got)
	}
	if err := c.Copy(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	if got := string(readObject(t, c, dst)); got != "source" {
		t.Errorf("copy = %q", got)
	}
}

// scopeRecorder is an HTTP client that notes the credential-scope region
// of each signed KMS request before sending it on.
type scopeRecorder struct {
	next aws.HTTPClient
	mu   sync.Mutex
	kms  []string
}

func (r *scopeRecorder) Do(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.Header.Get("X-Amz-Target"), "TrentService.") {
		// Credential=AKID/DATE/REGION/SERVICE/aws4_request
		_, cred, _ := strings.Cut(req.Header.Get("Authorization"), "Credential=")
		if f := strings.Split(cred, "/"); len(f) >= 4 {
			r.mu.Lock()
			r.kms = append(r.kms, f[2])
			r.mu.Unlock()
		}
	}
	return r.next.Do(req)
}

func (r *scopeRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.kms
	r.kms = nil
	return out
}

// TestCSEKMSRegion: fs.s3.cse.kms.region and fs.s3a.encryption.cse.kms.region
// choose the region every KMS call of the bucket is signed for and sent to,
// whatever the KMS client's own region. The emulator accepts only its
// region, us-east-1, in credential scopes.
func TestCSEKMSRegion(t *testing.T) {
	e := newCSEEnv(t)
	ctx := context.Background()
	for _, b := range []string{"emrfs-region", "other-region"} {
		if _, err := e.api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	rec := &scopeRecorder{next: e.stack.HTTPClient}
	kcfg := e.stack.Config.Copy()
	kcfg.Region = "ap-south-1"
	kcfg.HTTPClient = rec
	e.kms = kms.NewFromConfig(kcfg)
	c := e.client(t, map[string]string{
		// S3A property.
		"fs.s3a.bucket." + testBucket + ".encryption.algorithm":      "CSE-KMS",
		"fs.s3a.bucket." + testBucket + ".encryption.key":            "KEY",
		"fs.s3a.bucket." + testBucket + ".encryption.cse.kms.region": "us-east-1",
		// EMRFS property, and a bucket whose region is another.
		"fs.s3.cse.enabled":                           "true",
		"fs.s3.cse.encryptionMaterialsProvider":       KMSMaterialsProvider,
		"fs.s3.cse.kms.keyId":                         "KEY",
		"fs.s3.cse.encryptionV2.enabled":              "true",
		"fs.s3.bucket.emrfs-region.cse.kms.region":    "us-east-1",
		"fs.s3.bucket.other-region.cse.kms.region":    "eu-west-1",
		"fs.s3.bucket." + testBucket + ".cse.enabled": "false",
	})
	for _, b := range []string{testBucket, "emrfs-region"} {
		uri := "s3://" + b + "/region/obj"
		writeObject(t, c, uri, []byte("regional"))
		if got := string(readObject(t, c, uri)); got != "regional" {
			t.Errorf("%s: read %q", b, got)
		}
		regions := rec.take()
		if len(regions) < 2 { // GenerateDataKey and Decrypt at least
			t.Errorf("%s: %d KMS requests recorded", b, len(regions))
		}
		for _, r := range regions {
			if r != "us-east-1" {
				t.Errorf("%s: KMS request signed for %s, want the configured us-east-1", b, r)
			}
		}
	}
	// The other bucket's calls go to eu-west-1, which the emulator refuses.
	w, err := c.Create(ctx, "s3://other-region/obj")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "eu-west-1") {
		t.Errorf("Close in a bucket with KMS region eu-west-1 = %v, want the emulator to refuse that region", err)
	}
	for _, r := range rec.take() {
		if r != "eu-west-1" {
			t.Errorf("other-region: KMS request signed for %s, want eu-west-1", r)
		}
	}
	// Without a region setting the client's own region (here ap-south-1).
	writeObjectErr := func() error {
		w, err := c.Create(ctx, "s3://plain-bucket/obj")
		if err != nil {
			return err
		}
		if _, err := w.Write([]byte("x")); err != nil {
			return err
		}
		return w.Close()
	}
	if err := writeObjectErr(); err == nil {
		t.Error("a bucket without a KMS region used another region than the KMS client's")
	}
	for _, r := range rec.take() {
		if r != "ap-south-1" {
			t.Errorf("plain-bucket: KMS request signed for %s, want the client's ap-south-1", r)
		}
	}
}

// TestCSEJobflowID: with fs.s3.cse.materialsDescription.enabled the
// materials description (here the KMS context) carries JobflowId from
// Options.JobflowID, on writes and re-encrypting copies; without it the key
// is left out.
func TestCSEJobflowID(t *testing.T) {
	e := newCSEEnv(t)
	ctx := context.Background()
	props := withProps(emrfsCSEInstruction, "fs.s3.cse.materialsDescription.enabled", "true")
	for _, id := range []string{"j-2AXXXXXXGAPLF", ""} {
		c := e.client(t, props, func(o *Options) { o.JobflowID = id })
		src := "s3://" + testBucket + "/jobflow/src" + id
		writeObject(t, c, src, []byte("described"))
		if err := c.Copy(ctx, src, src+"-copy"); err != nil {
			t.Fatal(err)
		}
		if got := string(readObject(t, c, src+"-copy")); got != "described" {
			t.Errorf("copy = %q", got)
		}
		var writes int
		for _, call := range e.stack.KMS.Audit() {
			ec := call.EncryptionContext
			if call.Operation != "GenerateDataKey" || ec["Path"] != src {
				continue
			}
			writes++
			got, ok := ec["JobflowId"]
			if id != "" && got != id {
				t.Errorf("GenerateDataKey context %v: JobflowId %q, want %q", ec, got, id)
			}
			if id == "" && ok {
				t.Errorf("GenerateDataKey context %v has a JobflowId without Options.JobflowID", ec)
			}
		}
		if writes != 2 { // the write and the copy
			t.Errorf("JobflowID %q: %d GenerateDataKey calls for %s, want 2", id, writes, src)
		}
	}
}

// TestOptionsBucketCSE: Options.Bucket sets a CSE-KMS encryption context and
// materials-description entries, which no property sets: they reach the
// KMS context of each new object, and a reader expecting another context
// refuses the object.
func TestOptionsBucketCSE(t *testing.T) {
	e := newCSEEnv(t)
	ctx := context.Background()
	withContext := func(ec map[string]string) func(*Options) {
		return func(o *Options) {
			o.Bucket = func(b *Bucket) {
				if b.CSE != nil {
					b.CSE.EncryptionContext = ec
					b.CSE.MaterialsDescription = map[string]string{"team": "etl"}
				}
			}
		}
	}
	c := e.client(t, s3aCSE, withContext(map[string]string{"project": "alpha"}))
	uri := "s3://" + testBucket + "/hook/obj"
	writeObject(t, c, uri, []byte("in context"))
	var seen bool
	for _, call := range e.stack.KMS.Audit() {
		if call.Operation == "GenerateDataKey" && call.EncryptionContext["project"] == "alpha" && call.EncryptionContext["team"] == "etl" {
			seen = true
		}
	}
	if !seen {
		t.Errorf("no GenerateDataKey with the hook's context: %+v", e.stack.KMS.Audit())
	}
	if got := string(readObject(t, c, uri)); got != "in context" {
		t.Errorf("read %q", got)
	}
	other := e.client(t, s3aCSE, withContext(map[string]string{"project": "beta"}))
	var mismatch *cse.ContextMismatchError
	if _, err := other.Open(ctx, uri); !errors.As(err, &mismatch) {
		t.Errorf("Open expecting another context = %v, want a *cse.ContextMismatchError", err)
	}
}
