package interop

//lint:file-ignore SA1019 interop with the deprecated aws-sdk-go v1 s3crypto (V1 and V2 clients) is the purpose of this file.

// Interoperability of cse with aws-sdk-go v1 s3crypto, an independent
// implementation of the S3 Encryption Client, through the emrfstest S3 and
// KMS emulators over HTTP: objects it writes are read here, and objects
// written here are read by its decryption client. (Moved from cse, so that
// the library's go.mod does not require aws-sdk-go v1.)

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	awsv1 "github.com/aws/aws-sdk-go/aws"
	credsv1 "github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	kmsv1 "github.com/aws/aws-sdk-go/service/kms"
	s3v1 "github.com/aws/aws-sdk-go/service/s3"
	"github.com/aws/aws-sdk-go/service/s3/s3crypto"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

type s3cryptoEnv struct {
	st     *emrfstest.Stack
	s3     *s3.Client
	kms    *kms.Client
	sess   *session.Session
	keyID  string
	bucket string
}

func newS3CryptoEnv(t *testing.T) *s3cryptoEnv {
	t.Helper()
	ctx := context.Background()
	st := emrfstest.Start(t)
	creds, err := st.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := session.NewSession(&awsv1.Config{
		Endpoint:         awsv1.String(st.URL),
		Region:           awsv1.String(st.Region),
		Credentials:      credsv1.NewStaticCredentials(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		S3ForcePathStyle: awsv1.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &s3cryptoEnv{st: st, s3: s3.NewFromConfig(st.Config, st.S3Options), kms: kms.NewFromConfig(st.Config), sess: sess,
		keyID: st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault), bucket: "interop"}
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(e.bucket)}); err != nil {
		t.Fatalf("CreateBucket on the S3 emulator: %v", err)
	}
	return e
}

// put writes an object the way an emrs3 writer does: envelope from the
// cse.Encryptor, body through the streaming core, instruction file if any.
func (e *s3cryptoEnv) put(t *testing.T, enc *cse.Encryptor, key string, pt []byte, ec map[string]string) {
	t.Helper()
	ctx := context.Background()
	env, c, err := enc.Encrypt(ctx, cse.ObjectInfo{Bucket: e.bucket, Key: key, PlaintextSize: int64(len(pt)), EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.NewEncryptReader(bytes.NewReader(pt))
	if err != nil {
		t.Fatal(err)
	}
	ct, err := io.ReadAll(r)
	r.Close()
	c.Wipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key),
		Body: bytes.NewReader(ct), Metadata: env.Metadata}); err != nil {
		t.Fatal(err)
	}
	if env.Instruction != nil {
		if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(env.InstructionKey),
			Body: bytes.NewReader(env.Instruction), Metadata: env.InstructionMetadata}); err != nil {
			t.Fatal(err)
		}
	}
}

// get reads an object the way an emrs3 reader does.
func (e *s3cryptoEnv) get(t *testing.T, dec *cse.Decryptor, key string, ec map[string]string) ([]byte, *cse.Content, error) {
	t.Helper()
	ctx := context.Background()
	out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	fetch := func(ctx context.Context, ikey string) ([]byte, error) {
		io2, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(ikey)})
		if err != nil {
			t.Fatalf("instruction file: %v", err)
		}
		defer io2.Body.Close()
		return io.ReadAll(io2.Body)
	}
	c, err := dec.Decrypt(ctx, out.Metadata, fetch, cse.ObjectInfo{Bucket: e.bucket, Key: key, EncryptionContext: ec})
	if err != nil {
		return nil, nil, err
	}
	defer c.Wipe()
	r, err := c.NewDecryptReader(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pt, err := io.ReadAll(r)
	cc := *c
	cc.Key = nil
	return pt, &cc, err
}

// TestInteropS3CryptoWritesWeRead: objects written by s3crypto's clients.
func TestInteropS3CryptoWritesWeRead(t *testing.T) {
	e := newS3CryptoEnv(t)
	kmsClient := kmsv1.New(e.sess)
	s3Client := s3v1.New(e.sess)
	v2Builder := s3crypto.AESGCMContentCipherBuilderV2(s3crypto.NewKMSContextKeyGenerator(kmsClient, e.keyID, s3crypto.MaterialDescription{"project": awsv1.String("alpha")}))
	instrOpt := func(o *s3crypto.EncryptionClientOptions) {
		o.SaveStrategy = s3crypto.S3SaveStrategy{Client: s3Client, InstructionFileSuffix: emrfs.InstructionSuffix}
	}
	v2, err := s3crypto.NewEncryptionClientV2(e.sess, v2Builder)
	if err != nil {
		t.Fatal(err)
	}
	v2Instr, err := s3crypto.NewEncryptionClientV2(e.sess, v2Builder, instrOpt)
	if err != nil {
		t.Fatal(err)
	}
	// The V1 client writes what EMRFS-era clusters wrote (CBC or GCM content, kms wrap).
	v1CBC := s3crypto.NewEncryptionClient(e.sess, s3crypto.AESCBCContentCipherBuilder(s3crypto.NewKMSKeyGenerator(kmsClient, e.keyID), s3crypto.AESCBCPadder))
	v1GCM := s3crypto.NewEncryptionClient(e.sess, s3crypto.AESGCMContentCipherBuilder(s3crypto.NewKMSKeyGenerator(kmsClient, e.keyID)))
	v1CBCInstr := s3crypto.NewEncryptionClient(e.sess, s3crypto.AESCBCContentCipherBuilder(s3crypto.NewKMSKeyGenerator(kmsClient, e.keyID), s3crypto.AESCBCPadder),
		func(c *s3crypto.EncryptionClient) {
			c.SaveStrategy = s3crypto.S3SaveStrategy{Client: s3Client, InstructionFileSuffix: emrfs.InstructionSuffix}
		})

	type putter func(*s3v1.PutObjectInput) (*s3v1.PutObjectOutput, error)
	cases := []struct {
		name    string
		put     putter
		policy  cse.Policy
		refused string // the option the default policy names
		all     int    // how many options it names in all
		alg     cse.Algorithm
		ec      map[string]string
	}{
		{name: "V2 client GCM kms+context", put: v2.PutObject, alg: cse.AlgGCM, ec: map[string]string{"project": "alpha"}},
		{name: "V2 client instruction file", put: v2Instr.PutObject, alg: cse.AlgGCM},
		{name: "V1 client KMS CBC (EMRFS default format)", put: v1CBC.PutObject, policy: cse.EMRFSCompatible(), refused: "Policy.LegacyUnauthenticated", all: 2, alg: cse.AlgCBC},
		{name: "V1 client KMS CBC instruction file", put: v1CBCInstr.PutObject, policy: cse.EMRFSCompatible(), refused: "Policy.LegacyUnauthenticated", all: 2, alg: cse.AlgCBC},
		{name: "V1 client KMS GCM", put: v1GCM.PutObject, policy: cse.Policy{LegacyWrapping: true}, refused: "Policy.LegacyWrapping", all: 1, alg: cse.AlgGCM},
	}
	for i, tc := range cases {
		for _, size := range []int{0, 1, 4095, 70000} {
			key := "from-s3crypto/" + strconv.Itoa(i) + "/" + strconv.Itoa(size)
			pt := plaintext(size)
			if _, err := tc.put(&s3v1.PutObjectInput{Bucket: awsv1.String(e.bucket), Key: awsv1.String(key), Body: bytes.NewReader(pt)}); err != nil {
				t.Fatalf("%s: s3crypto PutObject: %v", tc.name, err)
			}
			got, c, err := e.get(t, cse.NewDecryptor(cse.NewKMSProvider(e.kms, e.keyID), func(o *cse.Options) { o.Policy = tc.policy }), key, tc.ec)
			if err != nil {
				t.Fatalf("%s, %d bytes: %v", tc.name, size, err)
			}
			if !bytes.Equal(got, pt) || c.Algorithm != tc.alg {
				t.Fatalf("%s, %d bytes: got %d bytes, algorithm %v", tc.name, size, len(got), c.Algorithm)
			}
			if c.PlaintextSize != int64(size) {
				t.Fatalf("%s: x-amz-unencrypted-content-length read as %d, want %d", tc.name, c.PlaintextSize, size)
			}
			if tc.refused != "" {
				_, _, err := e.get(t, cse.NewDecryptor(cse.NewKMSProvider(e.kms, e.keyID)), key, nil)
				var pe *cse.PolicyError
				if !errors.As(err, &pe) || pe.Option != tc.refused {
					t.Fatalf("%s with the default policy: err = %v, want refusal naming %s", tc.name, err, tc.refused)
				}
				// Every option the object needs is named in one error.
				named := []string{pe.Option}
				if pe.Options != nil {
					named = pe.Options
				}
				if len(named) != tc.all || named[0] != tc.refused {
					t.Fatalf("%s: options named %v, want %d starting with %s", tc.name, named, tc.all, tc.refused)
				}
				for _, o := range named {
					if !strings.Contains(err.Error(), o) {
						t.Fatalf("%s: error %q does not name %s", tc.name, err, o)
					}
				}
				if tc.all == 2 {
					// With one of the two set, the other is named alone.
					_, _, err := e.get(t, cse.NewDecryptor(cse.NewKMSProvider(e.kms, e.keyID), func(o *cse.Options) { o.Policy.LegacyUnauthenticated = true }), key, nil)
					if !errors.As(err, &pe) || pe.Option != "Policy.LegacyWrapping" || pe.Options != nil {
						t.Fatalf("%s with LegacyUnauthenticated only: err = %v, want refusal naming Policy.LegacyWrapping alone", tc.name, err)
					}
				}
			}
		}
	}
	// A context other than s3crypto's is refused before KMS is called.
	_, _, err = e.get(t, cse.NewDecryptor(cse.NewKMSProvider(e.kms, e.keyID)), "from-s3crypto/0/1", map[string]string{"project": "beta"})
	var ce *cse.ContextMismatchError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ContextMismatchError", err)
	}
}

// TestInteropWeWriteS3CryptoReads: objects written here, read by s3crypto's
// V2 and V1 decryption clients.
func TestInteropWeWriteS3CryptoReads(t *testing.T) {
	e := newS3CryptoEnv(t)
	kmsClient := kmsv1.New(e.sess)
	cr := s3crypto.NewCryptoRegistry()
	if err := s3crypto.RegisterKMSContextWrapWithCMK(cr, kmsClient, e.keyID); err != nil {
		t.Fatal(err)
	}
	if err := s3crypto.RegisterKMSWrapWithCMK(cr, kmsClient, e.keyID); err != nil {
		t.Fatal(err)
	}
	if err := s3crypto.RegisterAESGCMContentCipher(cr); err != nil {
		t.Fatal(err)
	}
	dec, err := s3crypto.NewDecryptionClientV2(e.sess, cr)
	if err != nil {
		t.Fatal(err)
	}
	// The V1 decryption client reads kms and kms+context envelopes too.
	decV1 := s3crypto.NewDecryptionClient(e.sess)
	p := cse.NewKMSProvider(e.kms, e.keyID)
	cases := []struct {
		name string
		enc  *cse.Encryptor
		ec   map[string]string
	}{
		{"V2 GCM kms+context, metadata", cse.NewEncryptor(p), map[string]string{"team": "data"}},
		{"V2 GCM kms+context, instruction file", cse.NewEncryptor(p, func(o *cse.Options) { o.InstructionFile = true }), nil},
		{"V2 GCM legacy kms (EMR 5.30.1 / 6.1.0 readers)", cse.NewEncryptor(p, func(o *cse.Options) { o.LegacyKMSWrap = true }), nil},
	}
	for i, tc := range cases {
		for _, size := range []int{0, 17, 300000} {
			key := "from-emrs3/" + strconv.Itoa(i) + "/" + strconv.Itoa(size)
			pt := plaintext(size)
			e.put(t, tc.enc, key, pt, tc.ec)
			out, err := dec.GetObject(&s3v1.GetObjectInput{Bucket: awsv1.String(e.bucket), Key: awsv1.String(key)})
			if err != nil {
				t.Fatalf("%s, %d bytes: s3crypto GetObject: %v", tc.name, size, err)
			}
			got, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("%s, %d bytes: s3crypto read %d bytes, %v", tc.name, size, len(got), err)
			}
			out, err = decV1.GetObject(&s3v1.GetObjectInput{Bucket: awsv1.String(e.bucket), Key: awsv1.String(key)})
			if err != nil {
				t.Fatalf("%s, %d bytes: s3crypto V1 client GetObject: %v", tc.name, size, err)
			}
			got, err = io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("%s, %d bytes: s3crypto V1 client read %d bytes, %v", tc.name, size, len(got), err)
			}
			// And back here.
			got, _, err = e.get(t, cse.NewDecryptor(p, func(o *cse.Options) { o.Policy.LegacyWrapping = true }), key, tc.ec)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("%s: own read: %v", tc.name, err)
			}
		}
	}
	// The KMS audit shows the context s3crypto and we agree on.
	var saw bool
	for _, c := range e.st.KMS.Audit() {
		if c.Operation == "GenerateDataKey" && c.EncryptionContext["team"] == "data" {
			saw = c.EncryptionContext["aws:x-amz-cek-alg"] == "AES/GCM/NoPadding"
		}
	}
	if !saw {
		t.Fatal("no GenerateDataKey with the caller's context and aws:x-amz-cek-alg in the KMS audit")
	}
}
