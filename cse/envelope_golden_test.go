package cse

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"mime"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/emrs3/emrs3/cse/internal/keywrap"
)

var updateEnvelopes = flag.Bool("update-envelopes", false, "rewrite testdata/envelopes")

// goldenEnvelope is one stored object: its metadata as S3 returns it, its
// instruction file, its ciphertext, and what it must decrypt to.
type goldenEnvelope struct {
	Description string            `json:"description"`
	Provider    string            `json:"provider"` // aes, rsa, kms
	Policy      Policy            `json:"policy"`
	Metadata    map[string]string `json:"metadata"`
	Instruction string            `json:"instruction,omitempty"`
	Ciphertext  string            `json:"ciphertext"`
	Plaintext   string            `json:"plaintext"`
}

const goldenDir = "testdata/envelopes"

func goldenRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	path := filepath.Join(goldenDir, "rsa-2048.pem")
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) && *updateEnvelopes {
		k := testRSA(t)
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		b = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	} else if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

func goldenProvider(t testing.TB, name string) MaterialsProvider {
	switch name {
	case "aes":
		k, _ := NewAESKeyring(testKEK, map[string]string{"keyring": "golden-aes"})
		return k
	case "rsa":
		k, _ := NewRSAKeyring(goldenRSA(t), map[string]string{"keyring": "golden-rsa"})
		return k
	case "kms":
		return NewKMSProvider(newFakeKMS(testKMSKey), testKMSKey)
	}
	t.Fatalf("unknown provider %q", name)
	return nil
}

func TestGoldenEnvelopes(t *testing.T) {
	if *updateEnvelopes {
		writeGoldenEnvelopes(t)
	}
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil || len(files) < 20 {
		t.Fatalf("golden envelopes: %d files, %v", len(files), err)
	}
	ctx := context.Background()
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var g goldenEnvelope
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatal(err)
			}
			ct, _ := base64.StdEncoding.DecodeString(g.Ciphertext)
			var instr []byte
			if g.Instruction != "" {
				instr = []byte(g.Instruction)
			}
			d := NewDecryptor(goldenProvider(t, g.Provider), func(o *Options) { o.Policy = g.Policy })
			c, err := d.decrypt(ctx, g.Metadata, instr, ObjectInfo{Bucket: "golden", Key: filepath.Base(f)})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Wipe()
			pt, err := envOpen(c, ct)
			if err != nil || string(pt) != g.Plaintext {
				t.Fatalf("decrypt = %q, %v; want %q", pt, err, g.Plaintext)
			}
			// The stored length is reported as is, an absent one as -1;
			// either way the length derived from the ciphertext (as a
			// reader without the key does for GCM, and with one ranged
			// GET for CBC) is the plaintext's.
			if want := goldenStoredLength(t, g); c.PlaintextSize != want {
				t.Fatalf("PlaintextSize %d, want %d (stored length; -1 when absent)", c.PlaintextSize, want)
			}
			var derived int64
			if c.Algorithm == AlgCBC {
				derived, err = cbcPlaintextSize(int64(len(ct)), ct[max(0, len(ct)-32):], c.Key, c.IV)
			} else {
				derived, err = gcmPlaintextSize(int64(len(ct)))
			}
			if err != nil || derived != int64(len(pt)) {
				t.Fatalf("size derived from %d ciphertext bytes = %d, %v; plaintext is %d bytes", len(ct), derived, err, len(pt))
			}
			// Any legacy object is refused by the default policy.
			if g.Policy != (Policy{}) {
				if _, err := NewDecryptor(goldenProvider(t, g.Provider)).decrypt(ctx, g.Metadata, instr, ObjectInfo{}); err == nil {
					t.Fatal("legacy object read with the default policy")
				}
			}
		})
	}
}

// goldenStoredLength is the x-amz-unencrypted-content-length of g as a
// reader must see it (the object's value wins over the instruction file's;
// an empty value, as s3crypto writes, is absent), or -1.
func goldenStoredLength(t *testing.T, g goldenEnvelope) int64 {
	t.Helper()
	const key = "x-amz-unencrypted-content-length"
	val, ok := "", false
	for k, v := range g.Metadata {
		if strings.EqualFold(k, "x-amz-meta-"+key) {
			val, ok = v, true
		}
	}
	if !ok && g.Instruction != "" {
		var m map[string]any
		if err := json.Unmarshal([]byte(g.Instruction), &m); err != nil {
			t.Fatal(err)
		}
		switch v := m[key].(type) {
		case string:
			val, ok = v, true
		case float64:
			val, ok = strconv.FormatFloat(v, 'f', -1, 64), true
		}
	}
	if !ok || val == "" {
		return -1
	}
	n, err := strconv.ParseInt(val, 10, 64)
	if err != nil {
		t.Fatalf("golden length %q: %v", val, err)
	}
	return n
}

// writeGoldenEnvelopes writes the golden files that do not exist yet (go
// test -run TestGolden -update-envelopes). Existing files are never
// rewritten, so that the goldens stay fixed under the code they test: delete
// one to regenerate it. Legacy formats are built from the key-wrap
// primitives, since this package never writes them.
func writeGoldenEnvelopes(t *testing.T) {
	ctx := context.Background()
	pt := "Golden object: the quick brown fox jumps over the lazy dog. 0123456789"
	prefix := func(m map[string]string) map[string]string {
		out := map[string]string{"Content-Type": "application/octet-stream"}
		for k, v := range m {
			out["X-Amz-Meta-"+strings.ToUpper(k[:1])+k[1:]] = v
		}
		return out
	}
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(goldenDir, name+".json"))
		return err == nil
	}
	write := func(name string, g goldenEnvelope) {
		if exists(name) {
			return
		}
		g.Plaintext = pt
		b, err := json.MarshalIndent(g, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(goldenDir, name+".json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	modernSized := func(name, desc, prov string, size int64, fn func(*Options), edit func(env *Envelope)) {
		if exists(name) {
			return
		}
		env, c, err := NewEncryptor(goldenProvider(t, prov), fn).Encrypt(ctx, ObjectInfo{PlaintextSize: size})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Wipe()
		if edit != nil {
			edit(env)
		}
		write(name, goldenEnvelope{Description: desc, Provider: prov, Metadata: prefix(env.Metadata),
			Instruction: string(env.Instruction), Ciphertext: base64.StdEncoding.EncodeToString(envSeal(t, c, []byte(pt)))})
	}
	modern := func(name, desc, prov string, fn func(*Options)) {
		modernSized(name, desc, prov, int64(len(pt)), fn, nil)
	}
	_ = os.MkdirAll(goldenDir, 0o755)
	v3 := func(o *Options) { o.Policy.Commitment = RequireEncryptAllowDecrypt }
	modern("v2-gcm-kms-context", "V2, GCM, kms+context (S3EC v2/v3, EMRFS encryptionV2, S3A CSE-KMS)", "kms", nil)
	modern("v2-gcm-kms-context-instruction", "V2, GCM, kms+context, instruction file", "kms", func(o *Options) { o.InstructionFile = true })
	modern("v2-gcm-aes-gcm", "V2, GCM, AES/GCM raw keyring", "aes", nil)
	modern("v2-gcm-rsa-oaep-sha1", "V2, GCM, RSA-OAEP-SHA1 raw keyring", "rsa", nil)
	modern("v3-kms-context", "V3 committing suite 115, kms+context", "kms", v3)
	modern("v3-aes-gcm", "V3, AES/GCM (02)", "aes", v3)
	modern("v3-rsa-oaep-sha1", "V3, RSA-OAEP-SHA1 (22)", "rsa", v3)
	modern("v3-aes-gcm-instruction", "V3, AES/GCM, instruction file (c, d, i on the object)", "aes", func(o *Options) { v3(o); o.InstructionFile = true })
	modern("v3-kms-context-instruction", "V3, kms+context (12), instruction file: x-amz-3, x-amz-w and the context x-amz-t in the file", "kms",
		func(o *Options) { v3(o); o.InstructionFile = true })
	modernSized("v2-gcm-kms-context-no-length", "V2, GCM, kms+context, no x-amz-unencrypted-content-length (multipart writers)", "kms", 0, nil, nil)
	modernSized("v2-gcm-kms-context-instruction-numbers",
		"V2, GCM, kms+context, instruction file with JSON numbers for x-amz-tag-len and x-amz-unencrypted-content-length (the length only in the file)",
		"kms", 0, func(o *Options) { o.InstructionFile = true }, func(env *Envelope) {
			var m map[string]any
			if err := json.Unmarshal(env.Instruction, &m); err != nil {
				t.Fatal(err)
			}
			m["x-amz-tag-len"] = 128
			m["x-amz-unencrypted-content-length"] = len(pt)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			env.Instruction = b
		})

	legacy := func(name, desc, prov string, pol Policy, cek []byte, meta map[string]string, gcm bool) {
		if exists(name) {
			return
		}
		var ct []byte
		if gcm {
			iv := envRand(12)
			meta["x-amz-iv"] = envB64(iv)
			c := &Content{Algorithm: AlgGCM, Key: cek, IV: iv}
			ct = envSeal(t, c, []byte(pt))
		} else {
			iv := envRand(16)
			meta["x-amz-iv"] = envB64(iv)
			ct = cbcSeal(t, cek, iv, []byte(pt))
		}
		write(name, goldenEnvelope{Description: desc, Provider: prov, Policy: pol, Metadata: prefix(meta), Ciphertext: base64.StdEncoding.EncodeToString(ct)})
	}
	legacyPol := EMRFSCompatible()
	cek := envRand(32)
	k, _ := keywrap.AESECBEncrypt(testKEK, cek)
	legacy("v1-aes-ecb-cbc", "V1, raw AES/ECB key encryption, CBC", "aes", legacyPol, cek,
		map[string]string{"x-amz-key": envB64(k), "x-amz-matdesc": "{}", "x-amz-unencrypted-content-length": strconv.Itoa(len(pt))}, false)
	cek = envRand(32)
	k, _ = keywrap.RSAPKCS1Encrypt(nil, &goldenRSA(t).PublicKey, cek)
	legacy("v1-rsa-pkcs1-cbc", "V1, raw RSA/PKCS1 key encryption, CBC, no length", "rsa", legacyPol, cek,
		map[string]string{"x-amz-key": envB64(k), "x-amz-matdesc": `{"keypair":"1"}`}, false)
	cek = envRand(32)
	k, _ = keywrap.AESKeyWrap(testKEK, cek)
	legacy("v2-cbc-aeswrap", "V2, CBC, legacy AESWrap", "aes", legacyPol, cek,
		map[string]string{"x-amz-key-v2": envB64(k), "x-amz-wrap-alg": "AESWrap", "x-amz-cek-alg": "AES/CBC/PKCS5Padding", "x-amz-matdesc": "{}"}, false)
	cek = envRand(32)
	k, _ = keywrap.RSAOAEPSHA256Wrap(nil, &goldenRSA(t).PublicKey, cek)
	legacy("v2-cbc-rsa-oaep-sha256", "V2, CBC, legacy RSA/ECB/OAEPWithSHA-256AndMGF1Padding", "rsa", legacyPol, cek,
		map[string]string{"x-amz-key-v2": envB64(k), "x-amz-wrap-alg": "RSA/ECB/OAEPWithSHA-256AndMGF1Padding", "x-amz-cek-alg": "AES/CBC/PKCS5Padding", "x-amz-matdesc": "{}"}, false)

	if !exists("v2-cbc-kms-instruction") {
		// s3crypto's V1 client with S3SaveStrategy (and Java v1 in
		// InstructionFile mode): the whole envelope in the file, only the
		// length on the object.
		out, err := newFakeKMS(testKMSKey).GenerateDataKey(ctx, kmsGDK(testKMSKey, map[string]string{"kms_cmk_id": testKMSKey}))
		if err != nil {
			t.Fatal(err)
		}
		iv := envRand(16)
		instr, err := json.Marshal(map[string]string{"x-amz-key-v2": envB64(out.CiphertextBlob), "x-amz-iv": envB64(iv),
			"x-amz-matdesc": mdJSON(map[string]string{"kms_cmk_id": testKMSKey}), "x-amz-wrap-alg": "kms",
			"x-amz-cek-alg": "AES/CBC/PKCS5Padding", "x-amz-tag-len": ""})
		if err != nil {
			t.Fatal(err)
		}
		write("v2-cbc-kms-instruction", goldenEnvelope{Description: "V2, CBC, legacy kms, instruction file (s3crypto V1 client with S3SaveStrategy; EMRFS instruction-file mode)",
			Provider: "kms", Policy: EMRFSCompatible(), Metadata: prefix(map[string]string{"x-amz-unencrypted-content-length": strconv.Itoa(len(pt))}),
			Instruction: string(instr), Ciphertext: base64.StdEncoding.EncodeToString(cbcSeal(t, out.Plaintext, iv, []byte(pt)))})
	}
	fk := newFakeKMS(testKMSKey)
	kmsLegacy := func(name, desc string, gcm bool, matdesc map[string]string, extra map[string]string) {
		out, err := fk.GenerateDataKey(ctx, kmsGDK(testKMSKey, matdesc))
		if err != nil {
			t.Fatal(err)
		}
		alg := "AES/CBC/PKCS5Padding"
		meta := map[string]string{"x-amz-key-v2": envB64(out.CiphertextBlob), "x-amz-wrap-alg": "kms",
			"x-amz-matdesc": mdJSON(matdesc), "x-amz-cek-alg": alg}
		if gcm {
			meta["x-amz-cek-alg"] = "AES/GCM/NoPadding"
			meta["x-amz-tag-len"] = "128"
		}
		for k, v := range extra {
			meta[k] = v
		}
		legacy(name, desc, "kms", Policy{LegacyUnauthenticated: !gcm, LegacyWrapping: true}, out.Plaintext, meta, gcm)
	}
	kmsLegacy("v2-cbc-kms-emrfs-default", "EMRFS default CSE-KMS: V2, CBC, kms, no length (multipart)", false,
		map[string]string{"kms_cmk_id": testKMSKey}, nil)
	kmsLegacy("v2-gcm-kms", "Java v1 AuthenticatedEncryption: V2, GCM, kms", true,
		map[string]string{"kms_cmk_id": testKMSKey}, map[string]string{"x-amz-unencrypted-content-length": strconv.Itoa(len(pt))})
	kmsLegacy("v2-cbc-kms-rfc2047", "V2, CBC, kms, non-ASCII matdesc RFC 2047 encoded by S3", false,
		map[string]string{"kms_cmk_id": testKMSKey, "owner": "Zoë"},
		map[string]string{"x-amz-matdesc": mime.BEncoding.Encode("UTF-8", mdJSON(map[string]string{"kms_cmk_id": testKMSKey, "owner": "Zoë"}))})
}

func mdJSON(m map[string]string) string {
	b, _ := json.Marshal(m)
	return string(b)
}
