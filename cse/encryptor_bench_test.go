package cse

import (
	"context"
	"testing"
)

// Envelope cost per object, without the body: data key, wrap, derivation,
// serialization and parsing.
func BenchmarkEnvelope(b *testing.B) {
	ctx := context.Background()
	aesK, _ := NewAESKeyring(testKEK, map[string]string{"k": "v"})
	kmsP := NewKMSProvider(newFakeKMS(testKMSKey), testKMSKey)
	for _, bc := range []struct {
		name string
		p    MaterialsProvider
		v3   bool
	}{
		{"AES-GCM-wrap/V2", aesK, false},
		{"AES-GCM-wrap/V3", aesK, true},
		{"fake-KMS/V2", kmsP, false},
		{"fake-KMS/V3", kmsP, true},
	} {
		opt := func(o *Options) {
			if bc.v3 {
				o.Policy.Commitment = RequireEncryptAllowDecrypt
			}
		}
		enc := NewEncryptor(bc.p, opt)
		dec := NewDecryptor(bc.p)
		b.Run(bc.name+"/Encrypt", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, c, err := enc.Encrypt(ctx, ObjectInfo{PlaintextSize: 1 << 20})
				if err != nil {
					b.Fatal(err)
				}
				c.Wipe()
			}
		})
		env, c, err := enc.Encrypt(ctx, ObjectInfo{PlaintextSize: 1 << 20})
		if err != nil {
			b.Fatal(err)
		}
		c.Wipe()
		b.Run(bc.name+"/Decrypt", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c, err := dec.Decrypt(ctx, env.Metadata, nil, ObjectInfo{})
				if err != nil {
					b.Fatal(err)
				}
				c.Wipe()
			}
		})
	}
}
