package cse

import (
	"context"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	ctx := context.Background()
	r := NewRegistry()
	f := newFakeKMS(testKMSKey)
	for _, name := range []string{EMRFSKMSProvider, "kms"} {
		p, err := r.New(ctx, name, ProviderConfig{Properties: map[string]string{"fs.s3.cse.kms.keyId": testKMSKey}, KMS: f})
		if err != nil {
			t.Fatal(err)
		}
		kp, ok := p.(*KMSProvider)
		if !ok || kp.KeyID() != testKMSKey || !kp.opts.AnyKey {
			t.Fatalf("%s built %T %+v", name, p, p)
		}
	}
	if _, err := r.New(ctx, EMRFSKMSProvider, ProviderConfig{KMS: f}); err == nil || !strings.Contains(err.Error(), "fs.s3.cse.kms.keyId cannot be empty") {
		t.Fatalf("missing key: %v", err)
	}
	if _, err := r.New(ctx, EMRFSKMSProvider, ProviderConfig{Properties: map[string]string{"fs.s3.cse.kms.keyId": "k"}}); err == nil {
		t.Fatal("missing KMS client accepted")
	}
	if _, err := r.New(ctx, "", ProviderConfig{}); err == nil || !strings.Contains(err.Error(), "fs.s3.cse.encryptionMaterialsProvider") {
		t.Fatalf("empty name: %v", err)
	}
	if _, err := r.New(ctx, "com.example.Missing", ProviderConfig{}); err == nil || !strings.Contains(err.Error(), "com.example.Missing") {
		t.Fatalf("unknown name: %v", err)
	}
	// A custom provider registered by its EMRFS class name.
	r.Register("com.example.MyProvider", func(_ context.Context, cfg ProviderConfig) (MaterialsProvider, error) {
		return NewAESKeyring(testKEK, map[string]string{"p": cfg.Properties["x"]})
	})
	p, err := r.New(ctx, "com.example.MyProvider", ProviderConfig{Properties: map[string]string{"x": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	env, c, err := NewEncryptor(p).Encrypt(ctx, ObjectInfo{})
	if err != nil {
		t.Fatal(err)
	}
	c.Wipe()
	if env.Metadata["x-amz-matdesc"] != `{"p":"1"}` || env.Metadata["x-amz-wrap-alg"] != "AES/GCM" {
		t.Fatalf("custom provider envelope %v", env.Metadata)
	}
	if got := strings.Join(r.Names(), ","); got != "com.amazon.ws.emr.hadoop.fs.cse.KMSEncryptionMaterialsProvider,com.example.MyProvider,kms" {
		t.Fatalf("Names = %s", got)
	}
}

func TestProviderFuncGetsDescription(t *testing.T) {
	ctx := context.Background()
	var seen []map[string]string
	p := ProviderFunc(func(_ context.Context, d map[string]string) (*KeyMaterial, error) {
		seen = append(seen, d)
		// Choose the key by the description, as EMRFS custom providers do.
		if d["Path"] == "" {
			return nil, context.Canceled
		}
		return &KeyMaterial{Symmetric: testKEK, Description: map[string]string{"Path": d["Path"], "KeyVersion": "3"}}, nil
	})
	env, c, err := NewEncryptor(p).Encrypt(ctx, ObjectInfo{EncryptionContext: map[string]string{"Path": "s3://b/k"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Wipe()
	c, err = NewDecryptor(p).Decrypt(ctx, env.Metadata, nil, ObjectInfo{})
	if err != nil {
		t.Fatal(err)
	}
	c.Wipe()
	if len(seen) != 2 || seen[0]["Path"] != "s3://b/k" || seen[1]["KeyVersion"] != "3" {
		t.Fatalf("descriptions seen: %v", seen)
	}
	// A provider error is returned as is.
	if _, _, err := NewEncryptor(p).Encrypt(ctx, ObjectInfo{}); err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
}
