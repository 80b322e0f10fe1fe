package cse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/emrs3/emrs3/cse/internal/envelope"
	"github.com/emrs3/emrs3/cse/internal/keywrap"
)

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	plaintext := []byte(strings.Repeat("emrs3 round trip ", 1000))
	obj := ObjectInfo{Bucket: "b", Key: "dir/part-0000", PlaintextSize: int64(len(plaintext))}
	for _, pc := range testProviders(t) {
		for _, commit := range []CommitmentPolicy{ForbidEncryptAllowDecrypt, RequireEncryptAllowDecrypt} {
			if pc.legacyKM && commit != ForbidEncryptAllowDecrypt {
				continue
			}
			for _, instr := range []bool{false, true} {
				name := pc.name + "/" + commit.String()
				if instr {
					name += "/instruction"
				}
				t.Run(name, func(t *testing.T) {
					enc := NewEncryptor(pc.p, func(o *Options) {
						o.Policy.Commitment = commit
						o.InstructionFile = instr
						o.LegacyKMSWrap = pc.legacyKM
					})
					env, c, err := enc.Encrypt(ctx, obj)
					if err != nil {
						t.Fatal(err)
					}
					ct := envSeal(t, c, plaintext)
					key := append([]byte(nil), c.Key...)
					c.Wipe()
					if !bytes.Equal(c.Key, make([]byte, len(c.Key))) {
						t.Fatal("Wipe left key bytes")
					}
					if instr != (env.Instruction != nil) || needsInstructionFile(env.Metadata) != instr {
						t.Fatalf("instruction mode %v: metadata %v, instruction %s", instr, env.Metadata, env.Instruction)
					}
					wantVersion := 2
					if commit != ForbidEncryptAllowDecrypt {
						wantVersion = 3
						if instr && !hasV3ObjectKeys(env.Metadata) {
							t.Fatalf("V3 object metadata lacks c/d/i: %v", env.Metadata)
						}
					}
					dec := NewDecryptor(pc.p, func(o *Options) {
						o.Policy = pc.policy
						o.Policy.Commitment = commit
					})
					got, err := dec.decrypt(ctx, env.Metadata, env.Instruction, obj)
					if err != nil {
						t.Fatal(err)
					}
					defer got.Wipe()
					if got.Version != wantVersion || got.PlaintextSize != int64(len(plaintext)) || !bytes.Equal(got.Key, key) {
						t.Fatalf("content = %+v", got)
					}
					pt, err := envOpen(got, ct)
					if err != nil || !bytes.Equal(pt, plaintext) {
						t.Fatalf("decrypt: %v (%d bytes)", err, len(pt))
					}
				})
			}
		}
	}
}

func TestEncryptV2KMSContextEnvelope(t *testing.T) {
	f := newFakeKMS(testKMSKey)
	enc := NewEncryptor(NewKMSProvider(f, testKMSKey, func(o *KMSOptions) {
		o.EncryptionContext = map[string]string{"app": "etl"}
	}), func(o *Options) { o.EncryptionContext = map[string]string{"team": "data"} })
	env, c, err := enc.Encrypt(context.Background(), ObjectInfo{Bucket: "b", Key: "k", EncryptionContext: map[string]string{"run": "7"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Wipe()
	m := env.Metadata
	want := map[string]string{
		"x-amz-wrap-alg": "kms+context", "x-amz-cek-alg": "AES/GCM/NoPadding", "x-amz-tag-len": "128",
		"x-amz-matdesc": `{"app":"etl","aws:x-amz-cek-alg":"AES/GCM/NoPadding","run":"7","team":"data"}`,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	if _, ok := m["x-amz-unencrypted-content-length"]; ok {
		t.Error("unknown size written as x-amz-unencrypted-content-length")
	}
	var ctxSent map[string]string
	_ = json.Unmarshal([]byte(want["x-amz-matdesc"]), &ctxSent)
	if got := f.lastContext("GenerateDataKey"); !mapsEqual(got, ctxSent) {
		t.Errorf("KMS context %v, want the stored matdesc %v", got, ctxSent)
	}
	if c.Algorithm != AlgGCM || len(c.IV) != 12 || c.AAD != nil || len(c.Key) != 32 {
		t.Errorf("content %+v", c)
	}
}

func TestEncryptLegacyKMSEnvelope(t *testing.T) {
	f := newFakeKMS(testKMSKey)
	enc := NewEncryptor(NewKMSProvider(f, testKMSKey), func(o *Options) { o.LegacyKMSWrap = true })
	env, c, err := enc.Encrypt(context.Background(), ObjectInfo{Bucket: "b", Key: "k", PlaintextSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	c.Wipe()
	m := env.Metadata
	if m["x-amz-wrap-alg"] != "kms" || m["x-amz-cek-alg"] != "AES/GCM/NoPadding" ||
		m["x-amz-matdesc"] != `{"kms_cmk_id":"`+testKMSKey+`"}` || m["x-amz-unencrypted-content-length"] != "10" {
		t.Fatalf("legacy envelope %v", m)
	}
	if got := f.lastContext("GenerateDataKey"); !mapsEqual(got, map[string]string{"kms_cmk_id": testKMSKey}) {
		t.Fatalf("legacy context %v", got)
	}
	// Legacy kms with V3 is refused.
	enc = NewEncryptor(NewKMSProvider(f, testKMSKey), func(o *Options) {
		o.LegacyKMSWrap = true
		o.Policy.Commitment = RequireEncryptAllowDecrypt
	})
	if _, _, err := enc.Encrypt(context.Background(), ObjectInfo{}); err == nil {
		t.Fatal("LegacyKMSWrap + V3 accepted")
	}
}

func TestEncryptV3Envelope(t *testing.T) {
	enc := NewEncryptor(NewKMSProvider(newFakeKMS(testKMSKey), testKMSKey), func(o *Options) {
		o.Policy.Commitment = RequireEncryptRequireDecrypt
	})
	env, c, err := enc.Encrypt(context.Background(), ObjectInfo{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Wipe()
	m := env.Metadata
	if m["x-amz-c"] != "115" || m["x-amz-w"] != "12" || m["x-amz-t"] != `{"aws:x-amz-cek-alg":"115"}` || m["x-amz-m"] != "" {
		t.Fatalf("V3 envelope %v", m)
	}
	e, err := envelope.Parse(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Algorithm != AlgCommitting || !bytes.Equal(c.IV, bytes.Repeat([]byte{1}, 12)) || !bytes.Equal(c.AAD, []byte{0, 0x73}) {
		t.Fatalf("content %+v", c)
	}
	if len(e.MessageID) != 28 || len(e.Commitment) != 28 {
		t.Fatalf("envelope %+v", e)
	}
}

func TestEncryptRefusesContextWithReservedKey(t *testing.T) {
	enc := NewEncryptor(NewKMSProvider(newFakeKMS(testKMSKey), testKMSKey))
	_, _, err := enc.Encrypt(context.Background(), ObjectInfo{EncryptionContext: map[string]string{"aws:x-amz-cek-alg": "AES/CBC/PKCS5Padding"}})
	var ce *ContextError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ContextError", err)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// The raw wraps bind the JCE cipher name, AES/GCM/NoPadding, for the
// committing suite too (the AWS Java client's AlgorithmSuite.cipherName()).
func TestV3RawWrapBindsCipherName(t *testing.T) {
	ctx := context.Background()
	aesK, _ := NewAESKeyring(testKEK, nil)
	rsaK, _ := NewRSAKeyring(testRSA(t), nil)
	for _, p := range []MaterialsProvider{aesK, rsaK} {
		env, c, err := NewEncryptor(p, func(o *Options) { o.Policy.Commitment = RequireEncryptAllowDecrypt }).Encrypt(ctx, ObjectInfo{})
		if err != nil {
			t.Fatal(err)
		}
		c.Wipe()
		e, err := envelope.Parse(env.Metadata, nil)
		if err != nil {
			t.Fatal(err)
		}
		var cek []byte
		if p == MaterialsProvider(aesK) {
			cek, err = keywrap.AESGCMUnwrap(testKEK, e.EncryptedKey, []byte("AES/GCM/NoPadding"))
		} else {
			cek, err = keywrap.RSAOAEPSHA1Unwrap(testRSA(t), e.EncryptedKey, "AES/GCM/NoPadding")
		}
		if err != nil || len(cek) != 32 {
			t.Fatalf("%T: unwrap with AES/GCM/NoPadding binding: %v", p, err)
		}
	}
}

// hasV3ObjectKeys reports whether meta holds the V3 keys that stay on the
// object in instruction-file mode (x-amz-c, x-amz-d, x-amz-i) and no
// wrapped key.
func hasV3ObjectKeys(meta map[string]string) bool {
	_, c := meta["x-amz-c"]
	_, d := meta["x-amz-d"]
	_, i := meta["x-amz-i"]
	_, k := meta["x-amz-3"]
	return c && d && i && !k
}
