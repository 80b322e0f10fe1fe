package cse

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func TestKMSKeyCheck(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		mutate func(*types.KeyMetadata)
		want   string
	}{
		{"enabled symmetric", func(*types.KeyMetadata) {}, ""},
		{"disabled", func(m *types.KeyMetadata) { m.KeyState = types.KeyStateDisabled }, "KeyState is Disabled, want Enabled"},
		{"pending deletion", func(m *types.KeyMetadata) { m.KeyState = types.KeyStatePendingDeletion }, "KeyState is PendingDeletion"},
		{"RSA key", func(m *types.KeyMetadata) { m.KeySpec = types.KeySpecRsa2048 }, "KeySpec is RSA_2048, want SYMMETRIC_DEFAULT"},
		{"HMAC key", func(m *types.KeyMetadata) {
			m.KeySpec = types.KeySpecHmac256
			m.KeyUsage = types.KeyUsageTypeGenerateVerifyMac
		}, "KeySpec is HMAC_256"},
		{"sign/verify usage", func(m *types.KeyMetadata) { m.KeyUsage = types.KeyUsageTypeSignVerify }, "KeyUsage is SIGN_VERIFY, want ENCRYPT_DECRYPT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKMS(testKMSKey)
			md := f.keys[testKMSKey]
			tt.mutate(&md)
			f.keys[testKMSKey] = md
			enc := NewEncryptor(NewKMSProvider(f, testKMSKey))
			for i := 0; i < 3; i++ {
				_, c, err := enc.Encrypt(ctx, ObjectInfo{})
				if tt.want == "" {
					if err != nil {
						t.Fatal(err)
					}
					c.Wipe()
					continue
				}
				var ke *KMSError
				if !errors.As(err, &ke) || ke.Kind != KMSUnsuitableKey || !strings.Contains(err.Error(), tt.want) || ke.KeyID != testKMSKey {
					t.Fatalf("err = %v, want a KMSUnsuitableKey *KMSError with %q", err, tt.want)
				}
			}
			if tt.want == "" && f.describes[testKMSKey] != 1 {
				t.Fatalf("DescribeKey called %d times for 3 encryptions, want 1 (cached)", f.describes[testKMSKey])
			}
			if tt.want != "" && len(f.calls) != 0 {
				t.Fatalf("GenerateDataKey called with a key that failed the check: %v", f.calls)
			}
		})
	}
	// SkipKeyCheck makes no DescribeKey call.
	f := newFakeKMS(testKMSKey)
	_, c, err := NewEncryptor(NewKMSProvider(f, testKMSKey, func(o *KMSOptions) { o.SkipKeyCheck = true })).Encrypt(ctx, ObjectInfo{})
	if err != nil || f.describes[testKMSKey] != 0 {
		t.Fatalf("SkipKeyCheck: %v, %d describes", err, f.describes[testKMSKey])
	}
	c.Wipe()
}

func TestKMSAnyKey(t *testing.T) {
	ctx := context.Background()
	const other = "alias/other"
	f := newFakeKMS(testKMSKey, other)
	env, c, err := NewEncryptor(NewKMSProvider(f, other)).Encrypt(ctx, ObjectInfo{})
	if err != nil {
		t.Fatal(err)
	}
	c.Wipe()
	// Pinned to another key: the wrong-key error.
	_, err = NewDecryptor(NewKMSProvider(f, testKMSKey)).Decrypt(ctx, env.Metadata, nil, ObjectInfo{})
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("err = %v, want ErrWrongKey", err)
	}
	var ke *KeyError
	if !errors.As(err, &ke) || ke.KeyID != testKMSKey {
		t.Fatalf("err = %v, want KeyError naming the key", err)
	}
	var ik *types.IncorrectKeyException
	if !errors.As(err, &ik) {
		t.Fatalf("KMS error not kept in the chain: %v", err)
	}
	// AnyKey: decrypts with the key the ciphertext names.
	c, err = NewDecryptor(NewKMSProvider(f, testKMSKey, func(o *KMSOptions) { o.AnyKey = true })).Decrypt(ctx, env.Metadata, nil, ObjectInfo{})
	if err != nil {
		t.Fatal(err)
	}
	c.Wipe()
}

func TestKMSServiceErrorIsNotWrongKey(t *testing.T) {
	ctx := context.Background()
	f := newFakeKMS(testKMSKey)
	p := NewKMSProvider(f, testKMSKey)
	env, c, err := NewEncryptor(p).Encrypt(ctx, ObjectInfo{})
	if err != nil {
		t.Fatal(err)
	}
	c.Wipe()
	_, err = NewDecryptor(NewKMSProvider(failingKMS{f}, testKMSKey)).Decrypt(ctx, env.Metadata, nil, ObjectInfo{})
	var ke *KeyError
	if !errors.As(err, &ke) || errors.Is(err, ErrWrongKey) || !errors.Is(err, errKMSDown) {
		t.Fatalf("err = %v, want KeyError wrapping the service error, not ErrWrongKey", err)
	}
}

// recordingKMS keeps the plaintext buffers KMS returned, to check that the
// provider and the Encryptor/Decryptor wipe them.
type recordingKMS struct {
	*fakeKMS
	mu         sync.Mutex
	plaintexts [][]byte
}

func (r *recordingKMS) keep(b []byte) {
	r.mu.Lock()
	r.plaintexts = append(r.plaintexts, b)
	r.mu.Unlock()
}

func (r *recordingKMS) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, o ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	out, err := r.fakeKMS.GenerateDataKey(ctx, in, o...)
	if err == nil {
		r.keep(out.Plaintext)
	}
	return out, err
}

func (r *recordingKMS) Decrypt(ctx context.Context, in *kms.DecryptInput, o ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	out, err := r.fakeKMS.Decrypt(ctx, in, o...)
	if err == nil {
		r.keep(out.Plaintext)
	}
	return out, err
}

// recordingProvider keeps the Materials a provider returned.
type recordingProvider struct {
	MaterialsProvider
	mu   sync.Mutex
	keys [][]byte
}

func (r *recordingProvider) keep(m *Materials) {
	if m != nil {
		r.mu.Lock()
		r.keys = append(r.keys, m.Key)
		r.mu.Unlock()
	}
}

func (r *recordingProvider) EncryptionMaterials(ctx context.Context, req EncryptionRequest) (*Materials, error) {
	m, err := r.MaterialsProvider.EncryptionMaterials(ctx, req)
	r.keep(m)
	return m, err
}

func (r *recordingProvider) DecryptMaterials(ctx context.Context, req DecryptionRequest) (*Materials, error) {
	m, err := r.MaterialsProvider.DecryptMaterials(ctx, req)
	r.keep(m)
	return m, err
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// TestDataKeysWiped: the plaintext data key a provider returns (for KMS,
// the very buffer the KMS client returned) is zeroed once Encrypt and
// Decrypt return, in V2 and V3, while the Content keeps its own copy until
// the caller wipes it.
func TestDataKeysWiped(t *testing.T) {
	ctx := context.Background()
	rk := &recordingKMS{fakeKMS: newFakeKMS(testKMSKey)}
	kmsRec := &recordingProvider{MaterialsProvider: NewKMSProvider(rk, testKMSKey)}
	var providers []*recordingProvider
	providers = append(providers, kmsRec)
	for _, pc := range testProviders(t)[2:] { // keyrings and ProviderFunc
		providers = append(providers, &recordingProvider{MaterialsProvider: pc.p})
	}
	for _, rp := range providers {
		for _, v3 := range []bool{false, true} {
			enc := NewEncryptor(rp, func(o *Options) {
				if v3 {
					o.Policy.Commitment = RequireEncryptAllowDecrypt
				}
			})
			env, c, err := enc.Encrypt(ctx, ObjectInfo{})
			if err != nil {
				t.Fatal(err)
			}
			if allZero(c.Key) {
				t.Fatal("Encrypt returned a zero content key: the Content must not share the provider's buffer")
			}
			c.Wipe()
			dc, err := NewDecryptor(rp).decrypt(ctx, env.Metadata, env.Instruction, ObjectInfo{})
			if err != nil {
				t.Fatal(err)
			}
			if allZero(dc.Key) {
				t.Fatal("Decrypt returned a zero content key")
			}
			dc.Wipe()
			if !allZero(dc.Key) {
				t.Fatal("Content.Wipe left key bytes")
			}
		}
		if len(rp.keys) != 4 {
			t.Fatalf("%T: %d materials recorded, want 4", rp.MaterialsProvider, len(rp.keys))
		}
		for i, k := range rp.keys {
			if len(k) != 32 || !allZero(k) {
				t.Fatalf("%T: Materials.Key %d (%d bytes) not wiped after Encrypt/Decrypt", rp.MaterialsProvider, i, len(k))
			}
		}
	}
	if len(rk.plaintexts) != 4 {
		t.Fatalf("%d KMS plaintexts recorded, want 4", len(rk.plaintexts))
	}
	for i, p := range rk.plaintexts {
		if len(p) != 32 || !allZero(p) {
			t.Fatalf("KMS plaintext %d not wiped", i)
		}
	}
}

// TestKMSExpectedContext: the caller's expected context is compared with a
// kms+context object's stored context without the reserved keys and
// kms_cmk_id (which the Java v1 V2 client, and so EMRFS, stores there), and
// is not compared for the legacy kms wrap, as in the AWS clients.
func TestKMSExpectedContext(t *testing.T) {
	ctx := context.Background()
	p := NewKMSProvider(newFakeKMS(testKMSKey), testKMSKey)
	expect := func(ec map[string]string, pol Policy) *Decryptor {
		return NewDecryptor(p, func(o *Options) { o.EncryptionContext, o.Policy = ec, pol })
	}
	// kms+context with kms_cmk_id in the stored context.
	env, c, err := NewEncryptor(p).Encrypt(ctx, ObjectInfo{EncryptionContext: map[string]string{"kms_cmk_id": testKMSKey, "team": "data"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Wipe()
	if c, err = expect(map[string]string{"team": "data"}, Policy{}).Decrypt(ctx, env.Metadata, nil, ObjectInfo{}); err != nil {
		t.Fatalf("kms_cmk_id in the stored context: %v", err)
	}
	c.Wipe()
	var ce *ContextMismatchError
	_, err = expect(map[string]string{"team": "ops"}, Policy{}).Decrypt(ctx, env.Metadata, nil, ObjectInfo{})
	if !errors.As(err, &ce) || len(ce.Keys) != 1 || ce.Keys[0] != "team" {
		t.Fatalf("err = %v, want *ContextMismatchError on [team]", err)
	}
	_, err = expect(map[string]string{"team": "data", "kms_cmk_id": "alias/other"}, Policy{}).Decrypt(ctx, env.Metadata, nil, ObjectInfo{})
	if !errors.As(err, &ce) || len(ce.Keys) != 1 || ce.Keys[0] != "kms_cmk_id" {
		t.Fatalf("err = %v, want *ContextMismatchError on [kms_cmk_id] when the caller names another key", err)
	}
	// Legacy kms: the expected context is not compared (documented).
	env, c, err = NewEncryptor(p, func(o *Options) { o.LegacyKMSWrap = true }).Encrypt(ctx, ObjectInfo{EncryptionContext: map[string]string{"team": "data"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Wipe()
	c, err = expect(map[string]string{"team": "ops"}, Policy{LegacyWrapping: true}).Decrypt(ctx, env.Metadata, nil, ObjectInfo{})
	if err != nil {
		t.Fatalf("legacy kms object with a different expected context: %v (documented as not compared)", err)
	}
	c.Wipe()
}
