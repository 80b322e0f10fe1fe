package cse

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/emrs3/emrs3/cse/internal/envelope"
	"github.com/emrs3/emrs3/cse/internal/keywrap"
)

var envB64 = base64.StdEncoding.EncodeToString

// cbcSeal is AES/CBC/PKCS5Padding as the Java clients write it (test only:
// CBC is never written by this package).
func cbcSeal(t testing.TB, key, iv, pt []byte) []byte {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	pad := 16 - len(pt)%16
	buf := append(bytes.Clone(pt), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(buf, buf)
	return buf
}

func envRand(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// legacyObject builds an object in a legacy format with the given encrypted
// key, CBC content and metadata.
func legacyObject(t *testing.T, cek []byte, meta map[string]string, pt []byte) (map[string]string, []byte) {
	iv := envRand(16)
	meta["x-amz-iv"] = envB64(iv)
	return meta, cbcSeal(t, cek, iv, pt)
}

func TestDecryptLegacyFormats(t *testing.T) {
	ctx := context.Background()
	pt := []byte("legacy object body, not a multiple of sixteen")
	priv := testRSA(t)
	symFn := ProviderFunc(func(context.Context, map[string]string) (*KeyMaterial, error) {
		return &KeyMaterial{Symmetric: testKEK}, nil
	})
	rsaFn := ProviderFunc(func(context.Context, map[string]string) (*KeyMaterial, error) {
		return &KeyMaterial{RSA: priv}, nil
	})
	aesK, _ := NewAESKeyring(testKEK, nil)
	rsaK, _ := NewRSAKeyring(priv, nil)
	f := newFakeKMS(testKMSKey)
	kmsP := NewKMSProvider(f, testKMSKey)
	tests := []struct {
		name string
		p    MaterialsProvider
		meta func(cek []byte) map[string]string
	}{
		{"V1 AES/ECB via func", symFn, func(cek []byte) map[string]string {
			k, _ := keywrap.AESECBEncrypt(testKEK, cek)
			return map[string]string{"x-amz-key": envB64(k), "x-amz-matdesc": "{}", "x-amz-unencrypted-content-length": "46"}
		}},
		{"V1 AES/ECB via keyring", aesK, func(cek []byte) map[string]string {
			k, _ := keywrap.AESECBEncrypt(testKEK, cek)
			return map[string]string{"x-amz-key": envB64(k)}
		}},
		{"V1 RSA/PKCS1 via func", rsaFn, func(cek []byte) map[string]string {
			k, _ := keywrap.RSAPKCS1Encrypt(nil, &priv.PublicKey, cek)
			return map[string]string{"x-amz-key": envB64(k), "x-amz-matdesc": `{"who":"me"}`}
		}},
		{"V2 AESWrap CBC", aesK, func(cek []byte) map[string]string {
			k, _ := keywrap.AESKeyWrap(testKEK, cek)
			return map[string]string{"x-amz-key-v2": envB64(k), "x-amz-wrap-alg": "AESWrap", "x-amz-cek-alg": "AES/CBC/PKCS5Padding", "x-amz-matdesc": "{}"}
		}},
		{"V2 RSA OAEP-SHA256 CBC", rsaK, func(cek []byte) map[string]string {
			k, _ := keywrap.RSAOAEPSHA256Wrap(nil, &priv.PublicKey, cek)
			return map[string]string{"x-amz-key-v2": envB64(k), "x-amz-wrap-alg": "RSA/ECB/OAEPWithSHA-256AndMGF1Padding", "x-amz-matdesc": "{}"}
		}},
		{"EMRFS default: V2 kms CBC, no length, prefixed keys", kmsP, func(cek []byte) map[string]string {
			out, err := f.GenerateDataKey(ctx, kmsGDK(testKMSKey, map[string]string{"kms_cmk_id": testKMSKey}))
			if err != nil {
				t.Fatal(err)
			}
			copy(cek, out.Plaintext)
			return map[string]string{"X-Amz-Meta-X-Amz-Key-V2": envB64(out.CiphertextBlob), "X-Amz-Meta-X-Amz-Wrap-Alg": "kms",
				"X-Amz-Meta-X-Amz-Cek-Alg": "AES/CBC/PKCS5Padding", "X-Amz-Meta-X-Amz-Matdesc": `{"kms_cmk_id":"` + testKMSKey + `"}`}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cek := envRand(32)
			meta, ct := legacyObject(t, cek, tt.meta(cek), pt)
			// Default policy refuses, naming the option.
			_, err := NewDecryptor(tt.p).Decrypt(ctx, meta, nil, ObjectInfo{})
			var pe *PolicyError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), "Policy.Legacy") {
				t.Fatalf("default policy: err = %v, want *PolicyError naming a Policy option", err)
			}
			// With only one of the two legacy switches it is still refused.
			for _, p := range []Policy{{LegacyUnauthenticated: true}, {LegacyWrapping: true}} {
				if _, err := NewDecryptor(tt.p, func(o *Options) { o.Policy = p }).Decrypt(ctx, meta, nil, ObjectInfo{}); !errors.As(err, &pe) {
					t.Fatalf("policy %+v: err = %v, want *PolicyError", p, err)
				}
			}
			d := NewDecryptor(tt.p, func(o *Options) { o.Policy = EMRFSCompatible() })
			c, err := d.Decrypt(ctx, meta, nil, ObjectInfo{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Wipe()
			if c.Algorithm != AlgCBC || c.Authenticated() {
				t.Fatalf("content %+v", c)
			}
			got, err := envOpen(c, ct)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("got %q, %v", got, err)
			}
			if d.Policy().CheckRange(c.Algorithm) != nil {
				t.Fatal("EMRFS policy refuses ranges")
			}
		})
	}
}

func TestDecryptPolicyCommitment(t *testing.T) {
	ctx := context.Background()
	p := NewKMSProvider(newFakeKMS(testKMSKey), testKMSKey)
	env, c, err := NewEncryptor(p).Encrypt(ctx, ObjectInfo{})
	if err != nil {
		t.Fatal(err)
	}
	c.Wipe()
	_, err = NewDecryptor(p, func(o *Options) { o.Policy.Commitment = RequireEncryptRequireDecrypt }).Decrypt(ctx, env.Metadata, nil, ObjectInfo{})
	var pe *PolicyError
	if !errors.As(err, &pe) || !strings.Contains(pe.Option, "Policy.Commitment") {
		t.Fatalf("err = %v, want *PolicyError on Policy.Commitment", err)
	}
	if err := (Policy{}).CheckRange(AlgGCM); !errors.As(err, &pe) || pe.Option != "Policy.UnauthenticatedRanges" {
		t.Fatalf("CheckRange = %v", err)
	}
}

// TestPolicyCryptoModes: Policy expresses EMRFS's crypto modes itself —
// which content is read and which partial reads may be ranged.
func TestPolicyCryptoModes(t *testing.T) {
	tests := []struct {
		name        string
		p           Policy
		readsCBC    bool
		rangeGCM    bool
		rangeCBC    bool
		cbcOptions  []string // the options a refused CBC range names
		gcmOptions1 string   // the option a refused GCM range names
	}{
		{"StrictAuthenticatedEncryption", Policy{}, false, false, false, []string{"Policy.UnauthenticatedRanges", "Policy.LegacyUnauthenticated"}, "Policy.UnauthenticatedRanges"},
		{"AuthenticatedEncryption", Policy{UnauthenticatedRanges: true}, false, true, false, []string{"Policy.LegacyUnauthenticated"}, ""},
		{"AuthenticatedEncryption with legacy content", Policy{UnauthenticatedRanges: true, LegacyUnauthenticated: true}, true, true, true, nil, ""},
		{"EncryptionOnly (EMRFSCompatible)", EMRFSCompatible(), true, true, true, nil, ""},
		{"legacy content read whole only", Policy{LegacyUnauthenticated: true, LegacyWrapping: true}, true, false, false, []string{"Policy.UnauthenticatedRanges"}, "Policy.UnauthenticatedRanges"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.checkEnvelope(&envelope.Envelope{Version: 2, CEKAlg: envelope.AlgCBC, WrapAlg: WrapKMSContext}) == nil; got != tt.readsCBC {
				t.Errorf("reads CBC = %v, want %v", got, tt.readsCBC)
			}
			for _, a := range []Algorithm{AlgGCM, AlgCommitting} {
				err := tt.p.CheckRange(a)
				if (err == nil) != tt.rangeGCM {
					t.Errorf("CheckRange(%v) = %v, want allowed %v", a, err, tt.rangeGCM)
				}
				var pe *PolicyError
				if err != nil && (!errors.As(err, &pe) || pe.Option != tt.gcmOptions1) {
					t.Errorf("CheckRange(%v) = %v, want a *PolicyError naming %s", a, err, tt.gcmOptions1)
				}
			}
			err := tt.p.CheckRange(AlgCBC)
			if (err == nil) != tt.rangeCBC {
				t.Errorf("CheckRange(CBC) = %v, want allowed %v", err, tt.rangeCBC)
			}
			var pe *PolicyError
			if err != nil {
				if !errors.As(err, &pe) || pe.Option != tt.cbcOptions[0] || (len(tt.cbcOptions) > 1 && !slices.Equal(pe.Options, tt.cbcOptions)) {
					t.Errorf("CheckRange(CBC) = %v (%+v), want a *PolicyError naming %v", err, pe, tt.cbcOptions)
				}
				for _, o := range tt.cbcOptions {
					if !strings.Contains(err.Error(), o) {
						t.Errorf("CheckRange(CBC) = %v, does not name %s", err, o)
					}
				}
			}
		})
	}
}

// TestContentRangeFollowsPolicy: Content.Range refuses what the policy of
// the Decryptor that recovered the Content refuses, and a Content from
// anywhere else is held to the zero Policy.
func TestContentRangeFollowsPolicy(t *testing.T) {
	ctx := context.Background()
	p, _ := NewAESKeyring(testKEK, nil)
	env, enc, err := NewEncryptor(p).Encrypt(ctx, ObjectInfo{})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Wipe()
	var pe *PolicyError
	if _, err := enc.Range(0, 10, 100); !errors.As(err, &pe) {
		t.Fatalf("Range of an encryptor's Content = %v, want *PolicyError", err)
	}
	for _, tt := range []struct {
		p  Policy
		ok bool
	}{{Policy{}, false}, {Policy{UnauthenticatedRanges: true}, true}, {EMRFSCompatible(), true}} {
		c, err := NewDecryptor(p, func(o *Options) { o.Policy = tt.p }).Decrypt(ctx, env.Metadata, nil, ObjectInfo{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Range(0, 10, 100)
		c.Wipe()
		if (err == nil) != tt.ok || (tt.ok && r.Length != 16) {
			t.Errorf("policy %+v: Range = %+v, %v; want allowed %v", tt.p, r, err, tt.ok)
		}
	}
}

// TestDecryptFetchesInstruction: Decrypt asks for the instruction file,
// by its key, only when the metadata holds no complete envelope, and
// returns the fetch's error as it is.
func TestDecryptFetchesInstruction(t *testing.T) {
	ctx := context.Background()
	p, _ := NewAESKeyring(testKEK, nil)
	obj := ObjectInfo{Bucket: "b", Key: "dir/k"}
	inMeta, c1, err := NewEncryptor(p).Encrypt(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	c1.Wipe()
	inFile, c2, err := NewEncryptor(p, func(o *Options) { o.InstructionFile = true }).Encrypt(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	c2.Wipe()
	if inFile.InstructionKey != "dir/k.instruction" || len(inFile.InstructionMetadata) != 1 || inMeta.InstructionKey != "" || inMeta.InstructionMetadata != nil {
		t.Fatalf("envelopes: %+v / %+v", inFile, inMeta)
	}
	var asked []string
	fetch := func(body []byte, err error) func(context.Context, string) ([]byte, error) {
		return func(_ context.Context, key string) ([]byte, error) {
			asked = append(asked, key)
			return body, err
		}
	}
	d := NewDecryptor(p)
	c, err := d.Decrypt(ctx, inMeta.Metadata, fetch(nil, errors.New("not called")), obj)
	if err != nil || len(asked) != 0 {
		t.Fatalf("complete metadata: %v, fetched %v", err, asked)
	}
	c.Wipe()
	c, err = d.Decrypt(ctx, inFile.Metadata, fetch(inFile.Instruction, nil), obj)
	if err != nil || !slices.Equal(asked, []string{"dir/k.instruction"}) {
		t.Fatalf("instruction file: %v, fetched %v", err, asked)
	}
	c.Wipe()
	boom := errors.New("boom")
	if _, err := d.Decrypt(ctx, inFile.Metadata, fetch(nil, boom), obj); err != boom {
		t.Fatalf("failed fetch: %v", err)
	}
	if _, err := d.Decrypt(ctx, map[string]string{}, fetch(nil, nil), obj); !errors.Is(err, ErrNoEnvelope) {
		t.Fatalf("no envelope, no file: %v", err)
	}
	// Without a way to fetch the file, only the metadata is read.
	if _, err := d.Decrypt(ctx, inFile.Metadata, nil, obj); !errors.Is(err, ErrNoEnvelope) {
		t.Fatalf("instruction-file object without a fetch: %v, want ErrNoEnvelope", err)
	}
}

func TestDecryptContextCheck(t *testing.T) {
	ctx := context.Background()
	p := NewKMSProvider(newFakeKMS(testKMSKey), testKMSKey)
	env, c, err := NewEncryptor(p).Encrypt(ctx, ObjectInfo{EncryptionContext: map[string]string{"team": "a", "app": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Wipe()
	tests := []struct {
		name     string
		opt, req map[string]string
		diff     []string
	}{
		{"none given", nil, nil, nil},
		{"same", map[string]string{"team": "a"}, map[string]string{"app": "x"}, nil},
		{"value differs", nil, map[string]string{"team": "b", "app": "x"}, []string{"team"}},
		{"missing key", map[string]string{"team": "a"}, nil, []string{"app"}},
		{"extra key", nil, map[string]string{"team": "a", "app": "x", "z": "1"}, []string{"z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecryptor(p, func(o *Options) { o.EncryptionContext = tt.opt })
			c, err := d.Decrypt(ctx, env.Metadata, nil, ObjectInfo{EncryptionContext: tt.req})
			if tt.diff == nil {
				if err != nil {
					t.Fatal(err)
				}
				c.Wipe()
				return
			}
			var ce *ContextMismatchError
			if !errors.As(err, &ce) || strings.Join(ce.Keys, ",") != strings.Join(tt.diff, ",") {
				t.Fatalf("err = %v, want mismatch in %v", err, tt.diff)
			}
		})
	}
}

func TestDecryptNoEnvelope(t *testing.T) {
	d := NewDecryptor(NewKMSProvider(newFakeKMS(testKMSKey), testKMSKey))
	_, err := d.Decrypt(context.Background(), map[string]string{"content-type": "text/plain"}, nil, ObjectInfo{})
	var me *AuthenticationError
	if !errors.Is(err, ErrNoEnvelope) || errors.As(err, &me) {
		t.Fatalf("err = %v, want ErrNoEnvelope", err)
	}
	if !needsInstructionFile(map[string]string{}) {
		t.Fatal("empty metadata")
	}
	if errors.Is(err, ErrNotAuthentic) {
		t.Fatalf("no envelope at all matches ErrNotAuthentic: %v", err)
	}
	// A broken instruction file is a damaged envelope naming the file.
	_, err = d.decrypt(context.Background(), map[string]string{}, []byte("not json"), ObjectInfo{})
	if !errors.As(err, &me) || me.Check != "envelope" || me.Source != "instruction file" {
		t.Fatalf("err = %v", err)
	}
}

func TestDecryptMissingLength(t *testing.T) {
	ctx := context.Background()
	p, _ := NewAESKeyring(testKEK, nil)
	env, c, err := NewEncryptor(p).Encrypt(ctx, ObjectInfo{})
	if err != nil {
		t.Fatal(err)
	}
	ct := envSeal(t, c, []byte("0123456789"))
	c.Wipe()
	got, err := NewDecryptor(p).Decrypt(ctx, env.Metadata, nil, ObjectInfo{})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Wipe()
	if got.PlaintextSize != -1 {
		t.Fatalf("PlaintextSize = %d, want -1", got.PlaintextSize)
	}
	if n, err := gcmPlaintextSize(int64(len(ct))); err != nil || n != 10 {
		t.Fatalf("derived size %d, %v", n, err)
	}
}
