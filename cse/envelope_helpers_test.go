package cse

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"sync"
	"testing"
)

var (
	testRSAOnce sync.Once
	testRSAKey  *rsa.PrivateKey
)

func testRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	testRSAOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testRSAKey = k
	})
	return testRSAKey
}

var testKEK = bytes.Repeat([]byte{0x4b}, 32)

const testKMSKey = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

type providerCase struct {
	name     string
	p        MaterialsProvider
	policy   Policy // needed to read what it writes
	legacyKM bool
}

func testProviders(t testing.TB) []providerCase {
	t.Helper()
	aesK, err := NewAESKeyring(testKEK, map[string]string{"kek": "aes-1"})
	if err != nil {
		t.Fatal(err)
	}
	rsaK, err := NewRSAKeyring(testRSA(t), map[string]string{"kek": "rsa-1"})
	if err != nil {
		t.Fatal(err)
	}
	fn := ProviderFunc(func(_ context.Context, d map[string]string) (*KeyMaterial, error) {
		return &KeyMaterial{Symmetric: testKEK, Description: map[string]string{"id": "fn"}}, nil
	})
	fnRSA := ProviderFunc(func(_ context.Context, d map[string]string) (*KeyMaterial, error) {
		return &KeyMaterial{RSA: testRSA(t)}, nil
	})
	return []providerCase{
		{name: "KMS kms+context", p: NewKMSProvider(newFakeKMS(testKMSKey), testKMSKey)},
		{name: "KMS legacy kms", p: NewKMSProvider(newFakeKMS(testKMSKey), testKMSKey), policy: Policy{LegacyWrapping: true}, legacyKM: true},
		{name: "AES keyring", p: aesK},
		{name: "RSA keyring", p: rsaK},
		{name: "func symmetric", p: fn},
		{name: "func RSA", p: fnRSA},
	}
}

// seal encrypts plaintext with c through the streaming core.
func envSeal(t testing.TB, c *Content, plaintext []byte) []byte {
	t.Helper()
	r, err := c.NewEncryptReader(bytes.NewReader(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ct, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

// open decrypts ciphertext with c through the streaming core.
func envOpen(c *Content, ciphertext []byte) ([]byte, error) {
	r, err := c.NewDecryptReader(bytes.NewReader(ciphertext))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}
