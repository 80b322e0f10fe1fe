package emrfs_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// spoolMemory is the DecryptMemoryLimit of these tests: objects of a few
// MiB spool almost all of themselves.
const spoolMemory = 64 << 10

var appContext = map[string]string{"applicationId": "app-1"}

// diskEnv is a CSE stack whose Clients spool under a customer KMS key (the
// disk key, another key than the CSE key) with appContext.
type diskEnv struct {
	st      *emrfstest.Stack
	cseKey  string
	diskKey string
}

func newDiskEnv(t *testing.T) *diskEnv {
	t.Helper()
	st, _, cseKey := cseStackKey(t)
	return &diskEnv{st: st, cseKey: cseKey, diskKey: st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)}
}

// client returns a Client of the CSE bucket "data" with a small memory
// limit and the disk key with appContext, then optFns.
func (e *diskEnv) client(t *testing.T, optFns ...func(*emrfs.Options)) *emrfs.Client {
	t.Helper()
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", e.cseKey)
	cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
	c, err := emrfs.New(s3.NewFromConfig(e.st.Config, e.st.S3Options), cfg, append([]func(*emrfs.Options){func(o *emrfs.Options) {
		o.KMS = kms.NewFromConfig(e.st.Config)
		o.TempDir = t.TempDir()
		o.DecryptMemoryLimit = spoolMemory
		o.DiskEncryption = &emrfs.DiskEncryption{KeyARN: e.st.KMS.KeyARN(e.diskKey), EncryptionContext: appContext}
	}}, optFns...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// diskStack is newDiskEnv and its client.
func diskStack(t *testing.T, optFns ...func(*emrfs.Options)) (*emrfstest.Stack, *emrfs.Client, string) {
	e := newDiskEnv(t)
	return e.st, e.client(t, optFns...), e.diskKey
}

// diskCalls returns the audited calls on key by operation.
func diskCalls(st *emrfstest.Stack, keyID, op string) []emrfstest.KMSCall {
	var out []emrfstest.KMSCall
	for _, call := range st.KMS.Audit() {
		if call.KeyID == keyID && call.Operation == op {
			out = append(out, call)
		}
	}
	return out
}

func gets(st *emrfstest.Stack, from int) int {
	n := 0
	for _, r := range st.S3.Requests()[from:] {
		if r.Method == "GET" && r.Key != "" && !strings.HasSuffix(r.Key, ".instruction") {
			n++
		}
	}
	return n
}

// TestDiskEncryptionCustomerKeySpool: an authenticated read larger than the
// memory limit spools under the customer key: exactly one GenerateDataKey
// (AES_256, with the context) for several Files, one DescribeKey, and the
// plaintext is right. With DiskKeyRotation < 0 every spool gets its own
// data key.
func TestDiskEncryptionCustomerKeySpool(t *testing.T) {
	e := newDiskEnv(t)
	st, c, diskKey := e.st, e.client(t), e.diskKey
	ctx := context.Background()
	data := randomData(1, 3<<20+5)
	if err := put(t, c, ctx, "s3://data/big", data); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, err := read(c, ctx, "s3://data/big")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read: %v", err)
		}
	}
	gdk := diskCalls(st, diskKey, "GenerateDataKey")
	if len(gdk) != 1 {
		t.Fatalf("%d GenerateDataKey calls on the disk key for 3 spooled reads, want 1: %+v", len(gdk), gdk)
	}
	if g := gdk[0]; g.Err != "" || g.KeySpec != "AES_256" || !maps.Equal(g.EncryptionContext, appContext) {
		t.Fatalf("GenerateDataKey audited as %+v, want AES_256 with %v", g, appContext)
	}
	if n := len(diskCalls(st, diskKey, "DescribeKey")); n != 1 {
		t.Fatalf("%d DescribeKey calls, want 1 (the key is checked once)", n)
	}
	// A read that fits in memory never calls KMS for the disk.
	small := randomData(2, 1000)
	if err := put(t, c, ctx, "s3://data/small", small); err != nil {
		t.Fatal(err)
	}
	if got, err := read(c, ctx, "s3://data/small"); err != nil || !bytes.Equal(got, small) {
		t.Fatalf("small read: %v", err)
	}
	if n := len(diskCalls(st, diskKey, "GenerateDataKey")); n != 1 {
		t.Fatalf("%d GenerateDataKey calls after a read in memory", n)
	}

	// Close wipes the data key: the next spool asks KMS again.
	c.Close()
	if _, err := read(c, ctx, "s3://data/big"); err != nil {
		t.Fatal(err)
	}
	if n := len(diskCalls(st, diskKey, "GenerateDataKey")); n != 2 {
		t.Fatalf("%d GenerateDataKey calls after Close and a read, want 2", n)
	}

	// A data key per spool file.
	each := e.client(t, func(o *emrfs.Options) {
		o.DiskEncryption = &emrfs.DiskEncryption{KeyARN: diskKey}
		o.DiskKeyRotation = -1
	})
	for range 2 {
		if _, err := read(each, ctx, "s3://data/big"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(diskCalls(st, diskKey, "GenerateDataKey")); n != 4 {
		t.Fatalf("%d GenerateDataKey calls with rotation -1, want 2 more", n)
	}
}

// TestDiskEncryptionConcurrentSpools: four Files of a new Client spooling
// at once share one data key: one DescribeKey, one GenerateDataKey.
func TestDiskEncryptionConcurrentSpools(t *testing.T) {
	e := newDiskEnv(t)
	ctx := context.Background()
	data := randomData(12, 1<<20+3)
	if err := put(t, e.client(t), ctx, "s3://data/c", data); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			got, err := read(c, ctx, "s3://data/c")
			if err == nil && !bytes.Equal(got, data) {
				err = errors.New("wrong plaintext")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if g, d := len(diskCalls(e.st, e.diskKey, "GenerateDataKey")), len(diskCalls(e.st, e.diskKey, "DescribeKey")); g != 1 || d != 1 {
		t.Fatalf("%d GenerateDataKey and %d DescribeKey calls for 4 concurrent spools, want 1 and 1", g, d)
	}
}

// TestDiskEncryptionFromConfig: the Spark properties in the Client's
// Config give the spool its key and context (a GenerateDataKey with that
// context), and a non-nil empty Options.DiskEncryption unsets them: the
// random key, no KMS call for the disk.
func TestDiskEncryptionFromConfig(t *testing.T) {
	e := newDiskEnv(t)
	ctx := context.Background()
	data := randomData(13, 1<<20)
	if err := put(t, e.client(t), ctx, "s3://data/cfg", data); err != nil {
		t.Fatal(err)
	}
	newClient := func(d *emrfs.DiskEncryption) *emrfs.Client {
		cfg := emrfs.NewConfig()
		cfg.Set("fs.s3.cse.enabled", "true")
		cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
		cfg.Set("fs.s3.cse.kms.keyId", e.cseKey)
		cfg.Set(emrfs.SparkDiskEncryptionKeyArn, e.st.KMS.KeyARN(e.diskKey))
		cfg.Set(emrfs.SparkDiskEncryptionContext, "applicationId:app-1,jobRunId:run-2")
		c, err := emrfs.New(s3.NewFromConfig(e.st.Config, e.st.S3Options), cfg, func(o *emrfs.Options) {
			o.KMS = kms.NewFromConfig(e.st.Config)
			o.TempDir = t.TempDir()
			o.DecryptMemoryLimit = spoolMemory
			o.DiskEncryption = d
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, d := range []*emrfs.DiskEncryption{{}, nil} {
		if got, err := read(newClient(d), ctx, "s3://data/cfg"); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read with Options.DiskEncryption %v: %v", d, err)
		}
		gdk := diskCalls(e.st, e.diskKey, "GenerateDataKey")
		if d != nil && len(gdk) != 0 {
			t.Fatalf("an empty Options.DiskEncryption still called GenerateDataKey: %+v", gdk)
		}
		if want := map[string]string{"applicationId": "app-1", "jobRunId": "run-2"}; d == nil && (len(gdk) != 1 || !maps.Equal(gdk[0].EncryptionContext, want)) {
			t.Fatalf("GenerateDataKey calls %+v, want one with %v", gdk, want)
		}
	}
}

// TestDiskEncryptionPerOpen: OpenOptions.DiskEncryption overrides the
// Client's, and a zero value forces the random key.
func TestDiskEncryptionPerOpen(t *testing.T) {
	st, c, diskKey := diskStack(t)
	ctx := context.Background()
	data := randomData(3, 1<<20)
	if err := put(t, c, ctx, "s3://data/o", data); err != nil {
		t.Fatal(err)
	}
	job := map[string]string{"applicationId": "app-1", "jobRunId": "run-7"}
	readWith := func(d *emrfs.DiskEncryption) {
		t.Helper()
		f, err := c.Open(ctx, "s3://data/o", func(o *emrfs.OpenOptions) { o.DiskEncryption = d })
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got, err := io.ReadAll(f); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read: %v", err)
		}
	}
	readWith(&emrfs.DiskEncryption{KeyARN: diskKey, EncryptionContext: job})
	readWith(&emrfs.DiskEncryption{})
	gdk := diskCalls(st, diskKey, "GenerateDataKey")
	if len(gdk) != 1 || !maps.Equal(gdk[0].EncryptionContext, job) {
		t.Fatalf("GenerateDataKey calls %+v, want one with the per-Open context", gdk)
	}
	if _, err := c.Open(ctx, "s3://data/o", func(o *emrfs.OpenOptions) {
		o.DiskEncryption = &emrfs.DiskEncryption{EncryptionContext: job}
	}); !errors.Is(err, emrfs.ErrInvalidConfig) {
		t.Fatalf("a context without a key: %v, want ErrInvalidConfig", err)
	}
}

// TestDiskEncryptionContextPolicy: a principal whose key policy allows
// GenerateDataKey and Decrypt only with applicationId=app-1 spools with
// that context and fails, once, with no plaintext and no second GET, with
// any other.
func TestDiskEncryptionContextPolicy(t *testing.T) {
	e := newDiskEnv(t)
	st, diskKey := e.st, e.diskKey
	ctx := context.Background()
	creds := st.AddUser("job")
	st.KMS.SetKeyPolicy(diskKey,
		emrfstest.KeyPolicyStatement{Principals: []string{emrfstest.UserARN("job")}, Actions: []string{"kms:DescribeKey"}},
		emrfstest.KeyPolicyStatement{
			Principals:        []string{emrfstest.UserARN("job")},
			Actions:           []string{"kms:GenerateDataKey", "kms:Decrypt"},
			EncryptionContext: appContext,
		})
	c := e.client(t, func(o *emrfs.Options) { o.KMS = kms.NewFromConfig(st.ConfigFor(creds)) })
	data := randomData(4, 1<<20)
	if err := put(t, c, ctx, "s3://data/p", data); err != nil {
		t.Fatal(err)
	}
	if got, err := read(c, ctx, "s3://data/p"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read with the allowed context: %v", err)
	}
	n := len(st.S3.Requests())
	f, err := c.Open(ctx, "s3://data/p", func(o *emrfs.OpenOptions) {
		o.DiskEncryption = &emrfs.DiskEncryption{KeyARN: diskKey, EncryptionContext: map[string]string{"applicationId": "app-2"}}
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	f.Close()
	var se *cse.SpoolError
	var api smithy.APIError
	if len(got) != 0 || !errors.As(err, &se) || se.Op != "key" || !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("read with another context: %d bytes, %v; want no plaintext and the KMS denial", len(got), err)
	}
	if !strings.Contains(err.Error(), "s3://data/p") || !strings.Contains(err.Error(), "applicationId:app-2") {
		t.Fatalf("error does not name the object and the context: %v", err)
	}
	if g := gets(st, n); g != 1 {
		t.Fatalf("%d GETs for a read whose spool key was denied, want 1 (no retry)", g)
	}
	denied := diskCalls(st, diskKey, "GenerateDataKey")
	if last := denied[len(denied)-1]; last.Err != "AccessDeniedException" || last.EncryptionContext["applicationId"] != "app-2" {
		t.Fatalf("denied call audited as %+v", last)
	}
}

// TestDiskEncryptionAsymmetricKeyRefused: an RSA key is refused by the
// once-per-key check with an error that says it is asymmetric; no data key
// is asked for.
func TestDiskEncryptionAsymmetricKeyRefused(t *testing.T) {
	e := newDiskEnv(t)
	st := e.st
	rsaKey := st.KMS.CreateKey(kmstypes.KeySpecRsa2048)
	c := e.client(t, func(o *emrfs.Options) { o.DiskEncryption = &emrfs.DiskEncryption{KeyARN: rsaKey} })
	ctx := context.Background()
	if err := put(t, c, ctx, "s3://data/r", randomData(5, 1<<20)); err != nil {
		t.Fatal(err)
	}
	got, err := read(c, ctx, "s3://data/r")
	var kc *cse.KMSError
	if len(got) != 0 || !errors.As(err, &kc) || kc.Kind != cse.KMSUnsuitableKey || !strings.Contains(err.Error(), "asymmetric") || !strings.Contains(err.Error(), "RSA_2048") {
		t.Fatalf("asymmetric disk key: %d bytes, %v", len(got), err)
	}
	if n := len(diskCalls(st, rsaKey, "GenerateDataKey")); n != 0 {
		t.Fatalf("%d GenerateDataKey calls on an asymmetric key", n)
	}
}

// TestDiskEncryptionDisabledKeyRefused: a disabled key fails the
// once-per-key check (KeyState), before the object's parts are fetched.
func TestDiskEncryptionDisabledKeyRefused(t *testing.T) {
	e := newDiskEnv(t)
	c := e.client(t)
	ctx := context.Background()
	if err := put(t, c, ctx, "s3://data/d", randomData(14, 1<<20)); err != nil {
		t.Fatal(err)
	}
	e.st.KMS.SetEnabled(e.diskKey, false)
	n := len(e.st.S3.Requests())
	got, err := read(c, ctx, "s3://data/d")
	var kc *cse.KMSError
	if len(got) != 0 || !errors.As(err, &kc) || kc.Kind != cse.KMSUnsuitableKey || !strings.Contains(err.Error(), "Disabled") {
		t.Fatalf("disabled disk key: %d bytes, %v", len(got), err)
	}
	if g := gets(e.st, n); g != 1 {
		t.Fatalf("%d GETs, want Open's only", g)
	}
	if n := len(diskCalls(e.st, e.diskKey, "GenerateDataKey")); n != 0 {
		t.Fatalf("%d GenerateDataKey calls on a disabled key", n)
	}
}

// spoolFiles returns the spool files the process holds open in dir, through
// /proc/self/fd (they are unlinked as soon as they are created).
func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	var out []string
	for _, e := range ents {
		p := filepath.Join("/proc/self/fd", e.Name())
		if target, err := os.Readlink(p); err == nil && strings.HasPrefix(target, dir+"/emrs3-spool-") {
			out = append(out, p)
		}
	}
	return out
}

// TestDiskEncryptionSpoolFileNeedsKMS reads a spool file while it is in
// use: it holds no plaintext, its header names the KMS key and context and
// holds the wrapped data key, and its records open only with the key KMS
// returns for that context (HKDF-SHA256 of the data key and the file's
// salt, as documented) — not with another context, nor for a principal
// the key does not allow.
func TestDiskEncryptionSpoolFileNeedsKMS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finds the unlinked spool file through /proc/self/fd")
	}
	dir := t.TempDir()
	st, c, diskKey := diskStack(t, func(o *emrfs.Options) { o.TempDir = dir })
	ctx := context.Background()
	data := bytes.Repeat([]byte("plaintext that must not reach the disk "), 80_000) // ~3 MiB
	if err := put(t, c, ctx, "s3://data/secret", data); err != nil {
		t.Fatal(err)
	}
	f, err := c.Open(ctx, "s3://data/secret")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	first := make([]byte, 10)
	if _, err := io.ReadFull(f, first); err != nil { // verified; the spool is in use
		t.Fatal(err)
	}
	files := spoolFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("%d spool files open in %s, want 1", len(files), dir)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("must not reach")) {
		t.Fatal("plaintext on disk")
	}
	// Header: "EMRS3SPL" | 1 | salt (32) | len(desc) (uint32) | desc.
	if string(raw[:8]) != "EMRS3SPL" || raw[8] != 1 {
		t.Fatalf("header starts %q", raw[:9])
	}
	salt := raw[9:41]
	n := binary.BigEndian.Uint32(raw[41:45])
	desc := raw[45 : 45+n]
	records := raw[45+n:]
	var d struct {
		Format            string            `json:"format"`
		KeyARN            string            `json:"keyArn"`
		EncryptionContext map[string]string `json:"encryptionContext"`
		WrappedKey        []byte            `json:"wrappedKey"`
	}
	if err := json.Unmarshal(desc, &d); err != nil {
		t.Fatal(err)
	}
	if d.Format != emrfs.SpoolFileFormat || d.KeyARN != st.KMS.KeyARN(diskKey) || !maps.Equal(d.EncryptionContext, appContext) || len(d.WrappedKey) == 0 {
		t.Fatalf("header names %+v", d)
	}
	openFirst := func(secret []byte) ([]byte, error) {
		key, err := hkdf.Key(sha256.New, secret, salt, "emrs3 spool v1\x00"+string(desc), 32)
		if err != nil {
			return nil, err
		}
		block, _ := aes.NewCipher(key)
		g, _ := cipher.NewGCM(block)
		return g.Open(nil, make([]byte, 12), records[:cse.DefaultChunkSize+16], nil)
	}
	admin := kms.NewFromConfig(st.Config)
	// Another context: KMS refuses the wrapped key.
	if _, err := admin.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: d.WrappedKey, EncryptionContext: map[string]string{"applicationId": "app-2"}}); err == nil {
		t.Fatal("the data key unwrapped under another context")
	}
	// A principal the key does not allow.
	st.KMS.SetKeyPolicy(diskKey, emrfstest.KeyPolicyStatement{Principals: []string{emrfstest.AdminARN}, Actions: []string{"kms:*"}})
	outsider := kms.NewFromConfig(st.ConfigFor(st.AddUser("outsider")))
	if _, err := outsider.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: d.WrappedKey, EncryptionContext: appContext}); err == nil {
		t.Fatal("a principal without access to the key unwrapped the data key")
	}
	// A guessed key does not open it.
	if _, err := openFirst(make([]byte, 32)); err == nil {
		t.Fatal("a record opened without the KMS key")
	}
	out, err := admin.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: d.WrappedKey, EncryptionContext: appContext, KeyId: aws.String(diskKey)})
	if err != nil {
		t.Fatal(err)
	}
	pt, err := openFirst(out.Plaintext)
	if err != nil || !bytes.Equal(pt, data[:cse.DefaultChunkSize]) {
		t.Fatalf("first record with the KMS data key: %v", err)
	}
	rest, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(append(first, rest...), data) {
		t.Fatalf("read: %v", err)
	}
}

// checkLocal checks a spool failure: one error, naming the object and
// the directory, local (not fs.ErrNotExist, a *cse.SpoolError), no
// plaintext and exactly wantGets GETs.
func checkLocal(t *testing.T, st *emrfstest.Stack, c *emrfs.Client, uri, dir string, wantGets int, opts ...func(*emrfs.OpenOptions)) error {
	t.Helper()
	n := len(st.S3.Requests())
	err := readLocalFailure(t, c, uri, dir, opts...)
	if g := gets(st, n); g != wantGets {
		t.Fatalf("%d GETs, want %d (a local failure is not retried)", g, wantGets)
	}
	return err
}

// readLocalFailure opens and reads uri, and checks that the read fails
// with a spool failure: one error, naming the object and the directory,
// local (not fs.ErrNotExist, a *cse.SpoolError), and no plaintext.
func readLocalFailure(t *testing.T, c *emrfs.Client, uri, dir string, opts ...func(*emrfs.OpenOptions)) error {
	t.Helper()
	f, err := c.Open(context.Background(), uri, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	var se *cse.SpoolError
	var pe *fs.PathError
	switch {
	case len(got) != 0:
		t.Fatalf("%d bytes of plaintext released", len(got))
	case !errors.As(err, &se):
		t.Fatalf("error %v is not a *cse.SpoolError", err)
	case errors.Is(err, fs.ErrNotExist):
		t.Fatalf("error %v matches fs.ErrNotExist: the caller would conclude the object is missing", err)
	case !errors.As(err, &pe) || pe.Path != uri:
		t.Fatalf("error %v is not a *fs.PathError for %s", err, uri)
	case !strings.Contains(err.Error(), dir):
		t.Fatalf("error %v does not name the directory %s", err, dir)
	}
	return err
}

func TestSpoolMissingTempDir(t *testing.T) {
	dir := t.TempDir() + "/missing"
	st, c, _ := diskStack(t, func(o *emrfs.Options) { o.TempDir = dir })
	if err := put(t, c, context.Background(), "s3://data/m", randomData(6, 1<<20)); err != nil {
		t.Fatal(err)
	}
	err := checkLocal(t, st, c, "s3://data/m", dir, 1)
	var se *cse.SpoolError
	errors.As(err, &se)
	if se.Op != "create" || !errors.Is(se.Err, fs.ErrNotExist) {
		t.Fatalf("cause %+v", se)
	}
}

// readOnlyDir returns a directory in which no file can be created: a
// directory of mode 0555, or, for root (whom the mode does not stop),
// /sys/kernel. It skips the test when there is none.
func readOnlyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if f, err := os.CreateTemp(dir, "probe-*"); err == nil {
		// root ignores the mode bits: use a directory the kernel refuses.
		f.Close()
		os.Remove(f.Name())
		dir = "/sys/kernel"
		if f, err := os.CreateTemp(dir, "probe-*"); err == nil || runtime.GOOS != "linux" {
			if f != nil {
				f.Close()
				os.Remove(f.Name())
			}
			t.Skip("no read-only directory available")
		}
	}
	return dir
}

func TestSpoolReadOnlyTempDir(t *testing.T) {
	dir := readOnlyDir(t)
	st, c, _ := diskStack(t, func(o *emrfs.Options) { o.TempDir = dir })
	if err := put(t, c, context.Background(), "s3://data/ro", randomData(7, 1<<20)); err != nil {
		t.Fatal(err)
	}
	checkLocal(t, st, c, "s3://data/ro", dir, 1)
}

// partsOpts reads in parts of 256 KiB, four at a time.
func partsOpts(o *emrfs.OpenOptions) { o.PartSize, o.Concurrency = 256<<10, 4 }

// checkLocalParts is checkLocal for a read in many parts (partsOpts): the
// read fetches at most maxGets GETs and never a byte range twice.
func checkLocalParts(t *testing.T, st *emrfstest.Stack, c *emrfs.Client, uri, dir string, maxGets int) error {
	t.Helper()
	n := len(st.S3.Requests())
	err := readLocalFailure(t, c, uri, dir, partsOpts)
	ranges := map[string]bool{}
	g := 0
	for _, r := range st.S3.Requests()[n:] {
		if r.Method != "GET" || r.Key == "" || strings.HasSuffix(r.Key, ".instruction") {
			continue
		}
		g++
		rg := r.Header.Get("Range")
		if ranges[rg] {
			t.Fatalf("range %q fetched twice: a local failure was retried", rg)
		}
		ranges[rg] = true
	}
	if g > maxGets {
		t.Fatalf("%d GETs, want at most %d", g, maxGets)
	}
	return err
}

// TestSpoolUnusableTempDirParts: a missing or read-only TempDir fails a
// read in many parts once, having sent no GET but Open's (Open starts no
// part GETs for a read bound to fail on its spool); the File's next
// Read fails the same way before any GET (the directory is tried before
// the object is fetched again).
func TestSpoolUnusableTempDirParts(t *testing.T) {
	missing := t.TempDir() + "/missing"
	e := newDiskEnv(t)
	ctx := context.Background()
	c := e.client(t)
	if err := put(t, c, ctx, "s3://data/parts", randomData(11, 3<<20)); err != nil {
		t.Fatal(err)
	}
	check := func(dir string) {
		t.Helper()
		c := e.client(t, func(o *emrfs.Options) { o.TempDir = dir })
		checkLocalParts(t, e.st, c, "s3://data/parts", dir, 1) // Open's only
		f, err := c.Open(ctx, "s3://data/parts", partsOpts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(f); err == nil {
			t.Fatal("read succeeded")
		}
		n := len(e.st.S3.Requests())
		b := make([]byte, 1)
		k, err := f.Read(b)
		var se *cse.SpoolError
		if k != 0 || !errors.As(err, &se) || se.Op != "create" {
			t.Fatalf("%s: second Read: %d bytes, %v", dir, k, err)
		}
		if g := gets(e.st, n); g != 0 {
			t.Fatalf("%s: second Read sent %d GETs, want 0", dir, g)
		}
		f.Close()
	}
	check(missing)
	check(readOnlyDir(t))
}

// TestSpoolCaps: an object that certainly needs more than Options.SpoolLimit
// fails before any GET after Open's; two Files that each fit ClientSpoolLimit but not
// together fail the second once it passes the cap. Both name the object,
// the cap and the alternatives.
func TestSpoolCaps(t *testing.T) {
	dir := t.TempDir()
	e := newDiskEnv(t)
	st := e.st
	c := e.client(t, func(o *emrfs.Options) {
		o.TempDir = dir
		o.SpoolLimit = 2 << 20
		o.ClientSpoolLimit = 3 << 20
	})
	ctx := context.Background()
	if err := put(t, c, ctx, "s3://data/huge", randomData(9, 4<<20)); err != nil {
		t.Fatal(err)
	}
	err := checkLocal(t, st, c, "s3://data/huge", dir, 1) // Open's GET only
	for _, want := range []string{"s3://data/huge", "Options.SpoolLimit", "2097152", "DelayedAuthentication", "ranges"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not say %q", err, want)
		}
	}
	if !errors.Is(err, cse.ErrSpoolLimit) {
		t.Fatalf("%v does not match cse.ErrSpoolLimit", err)
	}

	data := randomData(10, 2<<20-100<<10)
	if err := put(t, c, ctx, "s3://data/a", data); err != nil {
		t.Fatal(err)
	}
	if err := put(t, c, ctx, "s3://data/b", data); err != nil {
		t.Fatal(err)
	}
	a, err := c.Open(ctx, "s3://data/a")
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 1)
	if _, err := a.Read(first); err != nil { // a's spool is in use
		t.Fatal(err)
	}
	err = checkLocal(t, st, c, "s3://data/b", dir, 1)
	if !strings.Contains(err.Error(), "Options.ClientSpoolLimit") || !errors.Is(err, cse.ErrSpoolLimit) {
		t.Fatalf("second spool past the Client's cap: %v", err)
	}
	a.Close()
	// a's spool is given back: b reads now.
	if got, err := read(c, ctx, "s3://data/b"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("b after a closed: %v", err)
	}
	// Delayed authentication needs no spool.
	d := e.client(t, func(o *emrfs.Options) { o.SpoolLimit, o.DelayedAuthentication = 1, true })
	if _, err := read(d, ctx, "s3://data/huge"); err != nil {
		t.Fatalf("delayed authentication with a spool cap: %v", err)
	}
}
