package interop

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	v3client "github.com/aws/amazon-s3-encryption-client-go/v3/client"
	v3commitment "github.com/aws/amazon-s3-encryption-client-go/v3/commitment"
	v3materials "github.com/aws/amazon-s3-encryption-client-go/v3/materials"
	v4client "github.com/aws/amazon-s3-encryption-client-go/v4/client"
	v4commitment "github.com/aws/amazon-s3-encryption-client-go/v4/commitment"
	v4materials "github.com/aws/amazon-s3-encryption-client-go/v4/materials"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
	"github.com/emrs3/emrs3/emrfs/s3ec"
)

// stackEnv is the emrfstest stack with one bucket and one KMS key.
type stackEnv struct {
	st     *emrfstest.Stack
	s3     *s3.Client
	kms    *kms.Client
	keyID  string
	bucket string
}

// newStack starts the stack and points the environment of
// config.LoadDefaultConfig at it: the official clients fetch instruction
// files with a client of their own built that way.
func newStack(t *testing.T, bucket string) *stackEnv {
	t.Helper()
	st := emrfstest.Start(t)
	creds, err := st.Config.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3":         st.URL,
		"AWS_ENDPOINT_URL":            st.URL,
		"AWS_ACCESS_KEY_ID":           creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       creds.SecretAccessKey,
		"AWS_SESSION_TOKEN":           creds.SessionToken,
		"AWS_REGION":                  st.Region,
		"AWS_CONFIG_FILE":             none,
		"AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_PROFILE":                 "",
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	cfg := st.Config.Copy()
	cfg.HTTPClient = closingClient(t)
	e := &stackEnv{st: st, s3: s3.NewFromConfig(cfg, st.S3Options), kms: kms.NewFromConfig(cfg),
		keyID: st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault), bucket: bucket}
	if _, err := e.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket on the stack: %v", err)
	}
	return e
}

// closingClient returns an HTTP client whose connections are all closed
// when the test ends, before the stack stops: an official client that fails
// a GetObject leaves the response body open, and the stack would wait for it.
func closingClient(t *testing.T) *http.Client {
	var mu sync.Mutex
	var conns []net.Conn
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
		return c, err
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return &http.Client{Transport: tr}
}

// official is what the official clients (and s3ec.Client) have in common.
type official interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// v3 returns an official v3 client with the stack's key.
func (e *stackEnv) v3(t *testing.T, policy v3commitment.CommitmentPolicy, legacyWrap bool) official {
	t.Helper()
	cmm, err := v3materials.NewCryptographicMaterialsManager(v3materials.NewKmsKeyring(e.kms, e.keyID, func(o *v3materials.KeyringOptions) {
		o.EnableLegacyWrappingAlgorithms = legacyWrap
	}))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v3client.New(e.s3, cmm, func(o *v3client.EncryptionClientOptions) { o.CommitmentPolicy = policy })
	if err != nil {
		t.Fatalf("official v3 client with %v: %v", policy, err)
	}
	return c
}

// v4 returns an official v4 client with the stack's key.
func (e *stackEnv) v4(t *testing.T, policy v4commitment.CommitmentPolicy, legacyWrap bool) official {
	t.Helper()
	cmm, err := v4materials.NewCryptographicMaterialsManager(v4materials.NewKmsKeyring(e.kms, e.keyID, func(o *v4materials.KeyringOptions) {
		o.EnableLegacyWrappingAlgorithms = legacyWrap
	}))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v4client.New(e.s3, cmm, func(o *v4client.EncryptionClientOptions) { o.CommitmentPolicy = policy })
	if err != nil {
		t.Fatalf("official v4 client with %v: %v", policy, err)
	}
	return c
}

// s3ec returns an s3ec client with the stack's key.
func (e *stackEnv) s3ec(t *testing.T, optFns ...func(*s3ec.Options)) *s3ec.Client {
	t.Helper()
	c, err := s3ec.New(e.s3, cse.NewKMSProvider(e.kms, e.keyID), optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// emrfsClient returns an emrfs client writing CSE-KMS (kms+context unless
// legacy) with the encryption context ec, policy p, 5 MiB parts and any
// further properties kv.
func (e *stackEnv) emrfs(t *testing.T, p cse.Policy, ec map[string]string, legacy bool, kv ...string) *emrfs.Client {
	t.Helper()
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", e.keyID)
	cfg.Set("fs.s3.cse.encryptionV2.enabled", map[bool]string{false: "true", true: "false"}[legacy])
	for i := 0; i+1 < len(kv); i += 2 {
		cfg.Set(kv[i], kv[i+1])
	}
	c, err := emrfs.New(e.s3, cfg, func(o *emrfs.Options) {
		o.KMS = e.kms
		o.TempDir = t.TempDir()
		o.CSEPolicy = &p
		o.PartSize = emrfs.MinPartSize
		o.Bucket = func(b *emrfs.Bucket) {
			if b.CSE != nil && len(ec) > 0 {
				b.CSE.EncryptionContext = ec
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *stackEnv) uri(key string) string { return "s3://" + e.bucket + "/" + key }

// emrfsPut writes key through c (a multipart upload when data is larger
// than a part).
func (e *stackEnv) emrfsPut(t *testing.T, c *emrfs.Client, key string, data []byte) {
	t.Helper()
	w, err := c.Create(context.Background(), e.uri(key))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatalf("emrfs Write %s: %v", key, err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("emrfs Close %s: %v", key, err)
	}
}

// emrfsGet reads key through c and checks its size.
func (e *stackEnv) emrfsGet(c *emrfs.Client, key string) ([]byte, error) {
	f, err := c.Open(context.Background(), e.uri(key))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := io.ReadAll(f)
	if err == nil && f.Size() != int64(len(p)) {
		return p, errSize{f.Size(), len(p)}
	}
	return p, err
}

type errSize struct {
	size int64
	read int
}

func (e errSize) Error() string { return "Size() and the bytes read disagree" }

// put writes key with an official-shaped client and the context ec.
func (e *stackEnv) put(ctx context.Context, c official, key string, data []byte) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
	return err
}

// get reads key with an official-shaped client.
func (e *stackEnv) get(ctx context.Context, c official, key string) ([]byte, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// withEC returns ctx carrying ec the way the official clients take it.
func withEC(ctx context.Context, ec map[string]string) context.Context {
	//lint:ignore SA1029 the official clients' context key is the untyped string constant client.EncryptionContext.
	return context.WithValue(ctx, v4client.EncryptionContext, ec)
}

// plaintext returns n bytes that differ from one offset to the next.
func plaintext(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*31 + i>>8 + i>>16)
	}
	return p
}
