package emrfsblob

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// openTestBucket returns the blob bucket of a fresh stack, CSE on, and an
// S3 client that sees the stored bytes.
func openTestBucket(t *testing.T, instructionFile bool) (*blob.Bucket, *s3.Client, *emrfstest.Stack) {
	t.Helper()
	st, c, err := newStackClient(context.Background(), instructionFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := OpenBucket(c, testBucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, s3.NewFromConfig(st.Config, st.S3Options), st
}

func rawGet(t *testing.T, api *s3.Client, key string) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := api.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return out, body
}

// TestAttributesRead: what TestAttributes checks apart from the headers
// emrfs cannot write yet — and that the object is stored encrypted while
// the bucket reports its plaintext.
func TestAttributesRead(t *testing.T) {
	ctx := context.Background()
	b, api, _ := openTestBucket(t, false)
	content := []byte("Hello World!")
	if err := b.WriteAll(ctx, "someDir/blob", content, &blob.WriterOptions{ContentType: "text/plain", Metadata: map[string]string{"owner": "etl", "x-amz-key-v2": "user value"}}); err != nil {
		t.Fatal(err)
	}
	out, stored := rawGet(t, api, "someDir/blob")
	if bytes.Contains(stored, content) || len(stored) != len(content)+16 {
		t.Errorf("stored object (%d bytes) is not the GCM ciphertext of %d bytes", len(stored), len(content))
	}
	if out.Metadata["x-amz-key-v2"] == "" || out.Metadata["x-amz-key-v2"] == "user value" {
		t.Errorf("stored object's envelope key x-amz-key-v2 = %q", out.Metadata["x-amz-key-v2"])
	}
	a, err := b.Attributes(ctx, "someDir/blob")
	if err != nil {
		t.Fatal(err)
	}
	if a.Size != int64(len(content)) || a.ContentType != "text/plain" || a.ModTime.IsZero() || !strings.HasPrefix(a.ETag, `"`) || !strings.HasSuffix(a.ETag, `"`) || a.MD5 != nil {
		t.Errorf("Attributes = size %d, type %q, mod %v, etag %q, md5 %x", a.Size, a.ContentType, a.ModTime, a.ETag, a.MD5)
	}
	if want := map[string]string{"owner": "etl", "x-amz-key-v2": "user value"}; !equalMaps(a.Metadata, want) {
		t.Errorf("Metadata = %v, want %v (user keys only, the envelope's hidden)", a.Metadata, want)
	}
	for _, bad := range []string{"not-found", "someDir", "someDir/"} {
		if _, err := b.Attributes(ctx, bad); gcerrors.Code(err) != gcerrors.NotFound || !strings.Contains(err.Error(), strings.TrimSuffix(bad, "/")) {
			t.Errorf("Attributes(%q) = %v, want NotFound naming the key", bad, err)
		}
	}
	r, err := b.NewRangeReader(ctx, "someDir/blob", 6, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(got) != "World" || r.Size() != int64(len(content)) || r.ContentType() != "text/plain" {
		t.Errorf("range read = %q, %v, size %d, type %q", got, err, r.Size(), r.ContentType())
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestCopyKeepsAttributes: what TestCopy/Works checks apart from the
// headers emrfs cannot write yet.
func TestCopyKeepsAttributes(t *testing.T) {
	ctx := context.Background()
	for _, instr := range []bool{false, true} {
		b, _, _ := openTestBucket(t, instr)
		if err := b.WriteAll(ctx, "src", []byte("copied bytes"), &blob.WriterOptions{ContentType: "text/csv", Metadata: map[string]string{"foo": "bar"}}); err != nil {
			t.Fatal(err)
		}
		if err := b.Copy(ctx, "dst", "src", nil); err != nil {
			t.Fatal(err)
		}
		got, err := b.ReadAll(ctx, "dst")
		if err != nil || string(got) != "copied bytes" {
			t.Fatalf("instruction file %v: copy reads %q, %v", instr, got, err)
		}
		sa, _ := b.Attributes(ctx, "src")
		da, err := b.Attributes(ctx, "dst")
		if err != nil {
			t.Fatal(err)
		}
		if da.ContentType != sa.ContentType || !equalMaps(da.Metadata, sa.Metadata) || da.Size != sa.Size {
			t.Errorf("instruction file %v: copy attributes %q %v %d, source %q %v %d", instr, da.ContentType, da.Metadata, da.Size, sa.ContentType, sa.Metadata, sa.Size)
		}
	}
}

// TestSignedURLUnimplemented: the driver has no signed URLs (a CSE object's
// URL would give ciphertext) and says so.
func TestSignedURLUnimplemented(t *testing.T) {
	ctx := context.Background()
	b, _, _ := openTestBucket(t, false)
	if _, err := b.SignedURL(ctx, "k", nil); gcerrors.Code(err) != gcerrors.Unimplemented {
		t.Errorf("SignedURL = %v, want Unimplemented", err)
	}
}

// TestKeysEmrfsGivesAMeaning: blob keys ending in "/", ".instruction" or
// "_$folder$" are escaped, so they are listed and never touch another
// object's instruction file.
func TestKeysEmrfsGivesAMeaning(t *testing.T) {
	ctx := context.Background()
	b, api, _ := openTestBucket(t, true)
	keys := []string{"obj", "obj.instruction", "dir/", "dir_$folder$", "x/../y"}
	for _, k := range keys {
		if err := b.WriteAll(ctx, k, []byte("value of "+k), nil); err != nil {
			t.Fatalf("WriteAll(%q): %v", k, err)
		}
	}
	for _, k := range keys {
		got, err := b.ReadAll(ctx, k)
		if err != nil || string(got) != "value of "+k {
			t.Errorf("ReadAll(%q) = %q, %v", k, got, err)
		}
	}
	var listed []string
	it := b.List(nil)
	for {
		o, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, o.Key)
	}
	slices.Sort(listed)
	want := slices.Clone(keys)
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Errorf("List = %q, want %q", listed, want)
	}
	// The real instruction file of obj is still obj's envelope.
	if _, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("obj.instruction")}); err != nil {
		t.Errorf("obj's instruction file: %v", err)
	}
	if err := b.Delete(ctx, "obj.instruction"); err != nil {
		t.Fatal(err)
	}
	if got, err := b.ReadAll(ctx, "obj"); err != nil || string(got) != "value of obj" {
		t.Errorf("obj after deleting the blob obj.instruction = %q, %v", got, err)
	}
	if err := b.Delete(ctx, "obj.instruction"); gcerrors.Code(err) != gcerrors.NotFound {
		t.Errorf("second Delete = %v, want NotFound", err)
	}
}

// TestEscaping: keys and metadata keys round-trip and match s3blob's
// escaping.
func TestEscaping(t *testing.T) {
	for key, raw := range map[string]string{
		"plain/key":       "plain/key",
		"a\x01b":          "a__0x1__b",
		"../x/../":        "..__0x2f__x/..__0x2f__",
		"dir/":            "dir__0x2f__",
		"o.instruction":   "o.instructio__0x6e__",
		"d_$folder$":      "d_$folder__0x24__",
		"☺.instruction/x": "☺.instruction/x",
	} {
		if got := escapeKey(key); got != raw {
			t.Errorf("escapeKey(%q) = %q, want %q", key, got, raw)
		}
		if got := hexUnescape(raw); got != key {
			t.Errorf("hexUnescape(%q) = %q, want %q", raw, got, key)
		}
	}
	for _, k := range []string{"owner", "x-amz-key-v2", "a:b=c@d", "spaces and ☺"} {
		if got := unescapeMetadataKey(escapeMetadataKey(k)); got != k {
			t.Errorf("metadata key %q round-trips to %q", k, got)
		}
		if strings.HasPrefix(escapeMetadataKey(k), "x-amz-") {
			t.Errorf("metadata key %q escapes to %q, in the envelope's namespace", k, escapeMetadataKey(k))
		}
	}
}

// TestURLOpener: emrfs:// URLs load the configuration named by config=
// and talk to the endpoint of the AWS parameters.
func TestURLOpener(t *testing.T) {
	ctx := context.Background()
	st, c, err := newStackClient(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keyID := st.KMS.CreateKey("SYMMETRIC_DEFAULT")
	dir := t.TempDir()
	xml := `<configuration>
<property><name>fs.s3.cse.enabled</name><value>true</value></property>
<property><name>fs.s3.cse.encryptionMaterialsProvider</name><value>com.amazon.ws.emr.hadoop.fs.cse.KMSEncryptionMaterialsProvider</value></property>
<property><name>fs.s3.cse.kms.keyId</name><value>` + keyID + `</value></property>
<property><name>fs.s3.cse.encryptionV2.enabled</name><value>true</value></property>
</configuration>`
	site := filepath.Join(dir, "emrfs-site.xml")
	if err := os.WriteFile(site, []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := st.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	u := "emrfs://" + testBucket + "?config=" + site + "&region=us-east-1&use_path_style=true&endpoint=" + st.URL + "&prefix=tables/"
	b, err := blob.OpenBucket(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.WriteAll(ctx, "t1", []byte("through the URL"), nil); err != nil {
		t.Fatal(err)
	}
	// The key is under the prefix, encrypted under the configured key.
	_, stored := rawGet(t, s3.NewFromConfig(st.Config, st.S3Options), "tables/t1")
	if bytes.Contains(stored, []byte("through the URL")) {
		t.Error("object written through the URL is stored in plaintext")
	}
	var kmsKeys []string
	for _, call := range st.KMS.Audit() {
		if call.Operation == "GenerateDataKey" {
			kmsKeys = append(kmsKeys, call.KeyID)
		}
	}
	if !slices.Equal(kmsKeys, []string{keyID}) {
		t.Errorf("data keys generated under %v, want the configured key %s", kmsKeys, keyID)
	}

	for _, bad := range []string{
		"emrfs://" + testBucket + "?config=" + filepath.Join(dir, "missing.xml"),
		"emrfs://" + testBucket + "?use_path_style=maybe",
		"emrfs://" + testBucket + "?no_such_param=1",
	} {
		if _, err := blob.OpenBucket(ctx, bad); err == nil {
			t.Errorf("OpenBucket(%q) succeeded", bad)
		}
	}
	mux := new(blob.URLMux)
	mux.RegisterBucket(Scheme, &URLOpener{Client: c})
	mb, err := mux.OpenBucket(ctx, "emrfs://"+testBucket)
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	if _, err := mux.OpenBucket(ctx, "emrfs://"+testBucket+"?region=us-east-1"); err == nil {
		t.Error("URLOpener with Client accepted query parameters")
	}
}
