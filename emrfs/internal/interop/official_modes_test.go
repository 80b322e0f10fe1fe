package interop

//lint:file-ignore SA1019 the legacy objects are written by aws-sdk-go v1 s3crypto's deprecated V1 client, as EMRFS-era clusters wrote them.

// The official clients' modes beside the write modes of official_test.go:
// the decrypt-only any-key keyring, objects without an encryption
// context, and the legacy (unauthenticated CBC, kms wrap) objects both
// sides read only with the legacy options on.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	awsv1 "github.com/aws/aws-sdk-go/aws"
	credsv1 "github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	kmsv1 "github.com/aws/aws-sdk-go/service/kms"
	s3v1 "github.com/aws/aws-sdk-go/service/s3"
	"github.com/aws/aws-sdk-go/service/s3/s3crypto"

	v3client "github.com/aws/amazon-s3-encryption-client-go/v3/client"
	v3commitment "github.com/aws/amazon-s3-encryption-client-go/v3/commitment"
	v3materials "github.com/aws/amazon-s3-encryption-client-go/v3/materials"
	v4client "github.com/aws/amazon-s3-encryption-client-go/v4/client"
	v4commitment "github.com/aws/amazon-s3-encryption-client-go/v4/commitment"
	v4materials "github.com/aws/amazon-s3-encryption-client-go/v4/materials"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/s3ec"
)

// v3AnyKey and v4AnyKey are the official decrypt-only keyrings that read
// under whatever key an object names.
func (e *stackEnv) v3AnyKey(t *testing.T) official {
	t.Helper()
	cmm, err := v3materials.NewCryptographicMaterialsManager(v3materials.NewKmsDecryptOnlyAnyKeyKeyring(e.kms))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v3client.New(e.s3, cmm)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *stackEnv) v4AnyKey(t *testing.T, policy v4commitment.CommitmentPolicy) official {
	t.Helper()
	cmm, err := v4materials.NewCryptographicMaterialsManager(v4materials.NewKmsDecryptOnlyAnyKeyKeyring(e.kms))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v4client.New(e.s3, cmm, func(o *v4client.EncryptionClientOptions) { o.CommitmentPolicy = policy })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withKey returns a copy of e whose clients use keyID.
func (e *stackEnv) withKey(keyID string) *stackEnv {
	c := *e
	c.keyID = keyID
	return &c
}

// TestAnyKey: objects written under key A by the official clients are read
// by emrfs configured with key B and CSE.KMSAnyKey, and by s3ec with a
// cse.KMSProvider with KMSOptions.AnyKey (no key); objects emrfs and s3ec
// write under key A are read by the official decrypt-only any-key keyrings
// of v3 and v4. Without the option emrfs refuses.
func TestAnyKey(t *testing.T) {
	e := newStack(t, "any-key")
	keyB := e.st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
	ctx := withEC(context.Background(), ec)
	pt := plaintext(70_001)

	anyKey := func(b *emrfs.Bucket) {
		if b.CSE != nil {
			b.CSE.EncryptionContext = ec
			b.CSE.KMSAnyKey = true
		}
	}
	emrfsB := e.withKey(keyB).emrfs(t, cse.Policy{}, ec, false)
	emrfsBAny := e.withKey(keyB).emrfsWith(t, cse.Policy{}, anyKey)
	s3ecAny, err := s3ec.New(e.s3, cse.NewKMSProvider(e.kms, "", func(o *cse.KMSOptions) { o.AnyKey = true }),
		func(o *s3ec.Options) { o.CommitmentPolicy = cse.RequireEncryptAllowDecrypt })
	if err != nil {
		t.Fatal(err)
	}

	// The official clients write under key A.
	for i, w := range []official{
		e.v3(t, v3commitment.FORBID_ENCRYPT_ALLOW_DECRYPT, false),
		e.v4(t, v4commitment.REQUIRE_ENCRYPT_REQUIRE_DECRYPT, false),
	} {
		key := fmt.Sprintf("official/%d", i)
		if err := e.put(ctx, w, key, pt); err != nil {
			t.Fatal(err)
		}
		if _, err := e.emrfsGet(emrfsB, key); err == nil {
			t.Fatalf("%s: read by emrfs with key B and no KMSAnyKey", key)
		}
		if got, err := e.emrfsGet(emrfsBAny, key); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("%s read by emrfs with key B and KMSAnyKey: %d bytes, %v", key, len(got), err)
		}
		if got, err := e.get(ctx, s3ecAny, key); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("%s read by s3ec with an any-key provider: %d bytes, %v", key, len(got), err)
		}
	}

	// emrfs and s3ec write under key A; the official any-key keyrings read.
	e.emrfsPut(t, e.emrfs(t, cse.Policy{}, ec, false), "emrs3/emrfs-v2", pt)
	e.emrfsPut(t, e.emrfs(t, cse.Policy{Commitment: cse.RequireEncryptAllowDecrypt}, ec, false), "emrs3/emrfs-v3", pt)
	if err := e.put(ctx, e.s3ec(t), "emrs3/s3ec-v3", pt); err != nil {
		t.Fatal(err)
	}
	readers := map[string]official{
		"v3 any-key": e.v3AnyKey(t),
		"v4 any-key REQUIRE_ENCRYPT_ALLOW_DECRYPT":   e.v4AnyKey(t, v4commitment.REQUIRE_ENCRYPT_ALLOW_DECRYPT),
		"v4 any-key REQUIRE_ENCRYPT_REQUIRE_DECRYPT": e.v4AnyKey(t, v4commitment.REQUIRE_ENCRYPT_REQUIRE_DECRYPT),
	}
	for _, key := range []string{"emrs3/emrfs-v2", "emrs3/emrfs-v3", "emrs3/s3ec-v3"} {
		for name, r := range readers {
			got, err := e.get(ctx, r, key)
			if key == "emrs3/emrfs-v2" && name == "v4 any-key REQUIRE_ENCRYPT_REQUIRE_DECRYPT" {
				if err == nil {
					t.Fatalf("%s read by %s", key, name)
				}
				continue
			}
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("%s read by %s: %d bytes, %v", key, name, len(got), err)
			}
		}
	}
}

// emrfsWith is emrfs with the CSE settings of each bucket changed by
// bucket instead of by an encryption context.
func (e *stackEnv) emrfsWith(t *testing.T, p cse.Policy, bucket func(*emrfs.Bucket)) *emrfs.Client {
	t.Helper()
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", e.keyID)
	cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
	c, err := emrfs.New(e.s3, cfg, func(o *emrfs.Options) {
		o.KMS = e.kms
		o.TempDir = t.TempDir()
		o.CSEPolicy = &p
		o.Bucket = bucket
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNoEncryptionContext: objects written without an encryption context
// (the context holds only aws:x-amz-cek-alg) by the official clients are
// read by emrfs and s3ec, and theirs by the official clients.
func TestNoEncryptionContext(t *testing.T) {
	e := newStack(t, "no-context")
	ctx := context.Background()
	pt := plaintext(17)
	v3 := e.v3(t, v3commitment.FORBID_ENCRYPT_ALLOW_DECRYPT, false)
	v4 := e.v4(t, v4commitment.REQUIRE_ENCRYPT_ALLOW_DECRYPT, false)
	emrfsV2 := e.emrfs(t, cse.Policy{}, nil, false)
	emrfsV3 := e.emrfs(t, cse.Policy{Commitment: cse.RequireEncryptAllowDecrypt}, nil, false)
	s3ecAllow := e.s3ec(t, func(o *s3ec.Options) { o.CommitmentPolicy = cse.RequireEncryptAllowDecrypt })

	for name, w := range map[string]official{"v3": v3, "v4": v4} {
		if err := e.put(ctx, w, "official/"+name, pt); err != nil {
			t.Fatal(err)
		}
		if got, err := e.emrfsGet(emrfsV2, "official/"+name); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("official %s object read by emrfs: %v", name, err)
		}
		if got, err := e.get(ctx, s3ecAllow, "official/"+name); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("official %s object read by s3ec: %v", name, err)
		}
	}
	e.emrfsPut(t, emrfsV2, "emrs3/emrfs-v2", pt)
	e.emrfsPut(t, emrfsV3, "emrs3/emrfs-v3", pt)
	if err := e.put(ctx, e.s3ec(t), "emrs3/s3ec-v3", pt); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"emrs3/emrfs-v2", "emrs3/emrfs-v3", "emrs3/s3ec-v3"} {
		for name, r := range map[string]official{"v3": v3, "v4": v4} {
			if got, err := e.get(ctx, r, key); err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("%s read by official %s: %v", key, name, err)
			}
		}
	}
}

// TestLegacyObjects: the objects of EMRFS-era clusters — aws-sdk-go v1
// s3crypto's V1 client, KMS without context ("kms" wrap), AES-CBC or
// AES-GCM content, envelope in metadata or an instruction file — are read
// by the official v3 and v4 clients only with EnableLegacyUnauthenticatedModes
// (CBC) and EnableLegacyWrappingAlgorithms, and by s3ec with the options
// of the same names and emrfs with the EMRFS-compatible policy; both sides
// refuse them by default. (Neither side writes these formats: the official
// clients never do, emrs3 writes only the kms-wrapped GCM objects of
// EMRFS without encryptionV2, covered in official_test.go.)
func TestLegacyObjects(t *testing.T) {
	e := newStack(t, "legacy")
	creds, err := e.st.Config.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sess, err := session.NewSession(&awsv1.Config{
		Endpoint:         awsv1.String(e.st.URL),
		Region:           awsv1.String(e.st.Region),
		Credentials:      credsv1.NewStaticCredentials(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		S3ForcePathStyle: awsv1.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	gen := s3crypto.NewKMSKeyGenerator(kmsv1.New(sess), e.keyID)
	instr := func(c *s3crypto.EncryptionClient) { c.SaveStrategy = s3crypto.S3SaveStrategy{Client: s3v1.New(sess)} }
	writers := []struct {
		name string
		c    *s3crypto.EncryptionClient
		cbc  bool
	}{
		{"V1 CBC", s3crypto.NewEncryptionClient(sess, s3crypto.AESCBCContentCipherBuilder(gen, s3crypto.AESCBCPadder)), true},
		{"V1 CBC, instruction file", s3crypto.NewEncryptionClient(sess, s3crypto.AESCBCContentCipherBuilder(gen, s3crypto.AESCBCPadder), instr), true},
		{"V1 GCM", s3crypto.NewEncryptionClient(sess, s3crypto.AESGCMContentCipherBuilder(gen)), false},
	}

	legacyV3 := func(policy v3commitment.CommitmentPolicy) official {
		cmm, err := v3materials.NewCryptographicMaterialsManager(v3materials.NewKmsKeyring(e.kms, e.keyID, func(o *v3materials.KeyringOptions) {
			o.EnableLegacyWrappingAlgorithms = true
		}))
		if err != nil {
			t.Fatal(err)
		}
		c, err := v3client.New(e.s3, cmm, func(o *v3client.EncryptionClientOptions) {
			o.CommitmentPolicy = policy
			o.EnableLegacyUnauthenticatedModes = true
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	legacyV4 := func(policy v4commitment.CommitmentPolicy) official {
		cmm, err := v4materials.NewCryptographicMaterialsManager(v4materials.NewKmsKeyring(e.kms, e.keyID, func(o *v4materials.KeyringOptions) {
			o.EnableLegacyWrappingAlgorithms = true
		}))
		if err != nil {
			t.Fatal(err)
		}
		c, err := v4client.New(e.s3, cmm, func(o *v4client.EncryptionClientOptions) {
			o.CommitmentPolicy = policy
			o.EnableLegacyUnauthenticatedModes = true
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	type reader struct {
		name string
		get  func(key string) ([]byte, error)
	}
	getter := func(c official) func(string) ([]byte, error) {
		return func(key string) ([]byte, error) { return e.get(context.Background(), c, key) }
	}
	emrfsLegacy := e.emrfsWith(t, cse.EMRFSCompatible(), nil)
	legacy := []reader{
		{"official v3 legacy modes", getter(legacyV3(v3commitment.FORBID_ENCRYPT_ALLOW_DECRYPT))},
		{"official v4 legacy modes, FORBID_ENCRYPT_ALLOW_DECRYPT", getter(legacyV4(v4commitment.FORBID_ENCRYPT_ALLOW_DECRYPT))},
		{"official v4 legacy modes, REQUIRE_ENCRYPT_ALLOW_DECRYPT", getter(legacyV4(v4commitment.REQUIRE_ENCRYPT_ALLOW_DECRYPT))},
		{"s3ec legacy modes", getter(e.s3ec(t, func(o *s3ec.Options) {
			o.CommitmentPolicy = cse.RequireEncryptAllowDecrypt
			o.EnableLegacyUnauthenticatedModes = true
			o.EnableLegacyWrappingAlgorithms = true
		}))},
		{"emrfs EMRFS-compatible policy", func(key string) ([]byte, error) { return e.emrfsGet(emrfsLegacy, key) }},
	}
	strict := []reader{
		{"official v3 default", getter(e.v3(t, v3commitment.FORBID_ENCRYPT_ALLOW_DECRYPT, false))},
		{"official v4 default", getter(e.v4(t, v4commitment.REQUIRE_ENCRYPT_REQUIRE_DECRYPT, false))},
		{"s3ec ForbidEncryptAllowDecrypt", getter(e.s3ec(t, func(o *s3ec.Options) { o.CommitmentPolicy = cse.ForbidEncryptAllowDecrypt }))},
		{"emrfs default policy", func(key string) ([]byte, error) { return e.emrfsGet(e.emrfs(t, cse.Policy{}, nil, false), key) }},
	}
	// What emrs3 needs to read a CBC object without the wrap option and a
	// GCM one: each legacy option is needed on its own.
	s3ecCBCOnly := e.s3ec(t, func(o *s3ec.Options) {
		o.CommitmentPolicy = cse.ForbidEncryptAllowDecrypt
		o.EnableLegacyUnauthenticatedModes = true
	})
	for _, size := range []int{0, 1, 16, 70_001} {
		pt := plaintext(size)
		for i, w := range writers {
			key := fmt.Sprintf("legacy/%d/%d", i, size)
			name := fmt.Sprintf("%s, %d bytes", w.name, size)
			if _, err := w.c.PutObject(&s3v1.PutObjectInput{Bucket: awsv1.String(e.bucket), Key: awsv1.String(key), Body: bytes.NewReader(pt)}); err != nil {
				t.Fatalf("%s: s3crypto PutObject: %v", name, err)
			}
			for _, r := range legacy {
				if got, err := r.get(key); err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("%s read by %s: %d bytes, %v", name, r.name, len(got), err)
				}
			}
			for _, r := range strict {
				if _, err := r.get(key); err == nil {
					t.Fatalf("%s read by %s", name, r.name)
				}
			}
			_, err := e.get(context.Background(), s3ecCBCOnly, key)
			var pe *cse.PolicyError
			if !errors.As(err, &pe) || pe.Option != "Policy.LegacyWrapping" {
				t.Fatalf("%s read by s3ec without EnableLegacyWrappingAlgorithms: %v, want a *cse.PolicyError naming Policy.LegacyWrapping", name, err)
			}
		}
	}
}
