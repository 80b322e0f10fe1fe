package cse

import (
	"context"
	"errors"
	"strings"
	"testing"

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
				var ke *KeyCheckError
				if !errors.As(err, &ke) || !strings.Contains(err.Error(), tt.want) || ke.KeyID != testKMSKey {
					t.Fatalf("err = %v, want KeyCheckError with %q", err, tt.want)
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
