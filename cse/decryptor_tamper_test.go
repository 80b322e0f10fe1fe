package cse

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
)

type sealed struct {
	env *Envelope
	ct  []byte
}

func sealWith(t *testing.T, p MaterialsProvider, fn func(*Options), obj ObjectInfo, pt []byte) sealed {
	t.Helper()
	env, c, err := NewEncryptor(p, fn).Encrypt(context.Background(), obj)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Wipe()
	return sealed{env, envSeal(t, c, pt)}
}

func flipB64(t *testing.T, s string, i int) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	b[i%len(b)] ^= 0x80
	return base64.StdEncoding.EncodeToString(b)
}

// TestTamperMatrix alters one part of an envelope at a time and checks that
// each alteration yields a typed error and never any plaintext.
func TestTamperMatrix(t *testing.T) {
	ctx := context.Background()
	pt := []byte(strings.Repeat("secret payload ", 200))
	kmsP := NewKMSProvider(newFakeKMS(testKMSKey), testKMSKey)
	aesK, _ := NewAESKeyring(testKEK, nil)
	rsaK, _ := NewRSAKeyring(testRSA(t), nil)
	obj := ObjectInfo{Bucket: "b", Key: "k"}
	other := ObjectInfo{Bucket: "b", Key: "other"}
	v2 := func(o *Options) {}
	v3 := func(o *Options) { o.Policy.Commitment = RequireEncryptAllowDecrypt }
	v2i := func(o *Options) { o.InstructionFile = true }
	v3i := func(o *Options) { v3(o); o.InstructionFile = true }

	var (
		// The integrity failures are all *AuthenticationError; the
		// variable says which AuthenticationError.Check is expected.
		typeMalformed  *AuthenticationError
		typePolicy     *PolicyError
		typeDowngrade  *AuthenticationError
		typeKey        *KeyError
		typeCommitment *AuthenticationError
		typeAuth       *AuthenticationError
	)
	wantCheck := map[any]string{&typeMalformed: "envelope", &typeDowngrade: "downgrade", &typeCommitment: "commitment", &typeAuth: "content"}
	type tamper struct {
		name   string
		p      MaterialsProvider
		opts   func(*Options)
		policy Policy
		mutate func(s *sealed, victim, donor sealed)
		wantAs any   // pointer to error type expected
		wantIs error // optional errors.Is target
	}
	set := func(k, v string) func(s *sealed, _, _ sealed) {
		return func(s *sealed, _, _ sealed) { s.env.Metadata[k] = v }
	}
	flip := func(k string, i int) func(s *sealed, _, _ sealed) {
		return func(s *sealed, _, _ sealed) { s.env.Metadata[k] = flipB64(t, s.env.Metadata[k], i) }
	}
	legacy := Policy{LegacyUnauthenticated: true, LegacyWrapping: true}
	// toCBC relabels a GCM object as CBC with a well-formed 16-byte IV.
	toCBC := func(s *sealed, _, _ sealed) {
		s.env.Metadata["x-amz-cek-alg"] = "AES/CBC/PKCS5Padding"
		delete(s.env.Metadata, "x-amz-tag-len")
		s.env.Metadata["x-amz-iv"] = base64.StdEncoding.EncodeToString(make([]byte, 16))
	}
	tests := []tamper{
		{name: "V2 IV flipped", p: kmsP, opts: v2, mutate: flip("x-amz-iv", 3), wantAs: &typeAuth, wantIs: ErrNotAuthentic},
		{name: "V2 wrapped key flipped (KMS)", p: kmsP, opts: v2, mutate: flip("x-amz-key-v2", 40), wantAs: &typeKey, wantIs: ErrWrongKey},
		{name: "V2 wrapped key flipped (AES/GCM)", p: aesK, opts: v2, mutate: flip("x-amz-key-v2", 20), wantAs: &typeKey, wantIs: ErrWrongKey},
		{name: "V2 matdesc altered (KMS context)", p: kmsP, opts: v2,
			mutate: set("x-amz-matdesc", `{"aws:x-amz-cek-alg":"AES/GCM/NoPadding","x":"y"}`), wantAs: &typeKey, wantIs: ErrWrongKey},
		{name: "V2 matdesc not JSON", p: kmsP, opts: v2, mutate: set("x-amz-matdesc", `{"a":`), wantAs: &typeMalformed},
		{name: "V2 cek-alg GCM->CBC, IV kept", p: kmsP, opts: v2, policy: legacy, mutate: set("x-amz-cek-alg", "AES/CBC/PKCS5Padding"), wantAs: &typeMalformed},
		{name: "V2 cek-alg GCM->CBC with 16-byte IV, default policy", p: kmsP, opts: v2, mutate: func(s *sealed, _, _ sealed) {
			s.env.Metadata["x-amz-cek-alg"] = "AES/CBC/PKCS5Padding"
			delete(s.env.Metadata, "x-amz-tag-len")
			s.env.Metadata["x-amz-iv"] = base64.StdEncoding.EncodeToString(make([]byte, 16))
		}, wantAs: &typePolicy},
		{name: "V2 cek-alg GCM->CBC with 16-byte IV, legacy policy (kms+context)", p: kmsP, opts: v2, policy: legacy, mutate: func(s *sealed, _, _ sealed) {
			s.env.Metadata["x-amz-cek-alg"] = "AES/CBC/PKCS5Padding"
			delete(s.env.Metadata, "x-amz-tag-len")
			s.env.Metadata["x-amz-iv"] = base64.StdEncoding.EncodeToString(make([]byte, 16))
		}, wantAs: &typeDowngrade},
		{name: "V2 cek-alg GCM->CBC with 16-byte IV, legacy policy (AES/GCM wrap)", p: aesK, opts: v2, policy: legacy, mutate: func(s *sealed, _, _ sealed) {
			s.env.Metadata["x-amz-cek-alg"] = "AES/CBC/PKCS5Padding"
			delete(s.env.Metadata, "x-amz-tag-len")
			s.env.Metadata["x-amz-iv"] = base64.StdEncoding.EncodeToString(make([]byte, 16))
		}, wantAs: &typeKey, wantIs: ErrWrongKey},
		{name: "V2 cek-alg GCM->CBC with 16-byte IV, EMRFS policy (RSA-OAEP-SHA1 wrap)", p: rsaK, opts: v2, policy: EMRFSCompatible(), mutate: toCBC,
			wantAs: &typeKey, wantIs: ErrWrongKey},
		{name: "V2 wrap kms+context->kms, default policy", p: kmsP, opts: v2, mutate: set("x-amz-wrap-alg", "kms"), wantAs: &typePolicy},
		// The relabelled wrap must not switch the aws:x-amz-cek-alg check
		// off: the stored context still says GCM, and KMS authenticates it.
		{name: "V2 wrap kms+context->kms with cek-alg GCM->CBC and 16-byte IV, EMRFS policy", p: kmsP, opts: v2, policy: EMRFSCompatible(),
			mutate: func(s *sealed, v, d sealed) { toCBC(s, v, d); s.env.Metadata["x-amz-wrap-alg"] = "kms" }, wantAs: &typeDowngrade},
		{name: "V2 wrap kms+context->kms, algorithms kept, EMRFS policy", p: kmsP, opts: v2, policy: EMRFSCompatible(),
			mutate: set("x-amz-wrap-alg", "kms"), wantAs: &typeDowngrade},
		{name: "V2 instruction file wrap kms+context->kms with cek-alg GCM->CBC, EMRFS policy", p: kmsP, opts: v2i, policy: EMRFSCompatible(),
			mutate: func(s *sealed, _, _ sealed) {
				var m map[string]string
				if err := json.Unmarshal(s.env.Instruction, &m); err != nil {
					t.Fatal(err)
				}
				m["x-amz-wrap-alg"], m["x-amz-cek-alg"] = "kms", "AES/CBC/PKCS5Padding"
				delete(m, "x-amz-tag-len")
				m["x-amz-iv"] = base64.StdEncoding.EncodeToString(make([]byte, 16))
				s.env.Instruction, _ = json.Marshal(m)
			}, wantAs: &typeDowngrade},
		{name: "V2 raw wrap matdesc claims another cek-alg", p: aesK, opts: v2, policy: EMRFSCompatible(),
			mutate: set("x-amz-matdesc", `{"aws:x-amz-cek-alg":"AES/CBC/PKCS5Padding"}`), wantAs: &typeDowngrade},
		{name: "V2 raw wrap cek-alg GCM->CBC, matdesc made to agree (AES/GCM wrap)", p: aesK, opts: v2, policy: EMRFSCompatible(),
			mutate: func(s *sealed, v, d sealed) {
				toCBC(s, v, d)
				s.env.Metadata["x-amz-matdesc"] = `{"aws:x-amz-cek-alg":"AES/CBC/PKCS5Padding"}`
			}, wantAs: &typeKey, wantIs: ErrWrongKey},
		{name: "V2 wrap AES/GCM->AESWrap, legacy policy", p: aesK, opts: v2, policy: legacy, mutate: set("x-amz-wrap-alg", "AESWrap"), wantAs: &typeKey, wantIs: ErrWrongKey},
		{name: "V2 wrap kms+context->AES/GCM", p: kmsP, opts: v2, mutate: set("x-amz-wrap-alg", "AES/GCM"), wantAs: &typeKey},
		{name: "V2 wrap unknown", p: kmsP, opts: v2, mutate: set("x-amz-wrap-alg", "kms+ctx"), wantAs: &typeMalformed},
		{name: "V2 tag length 96", p: kmsP, opts: v2, mutate: set("x-amz-tag-len", "96"), wantAs: &typeMalformed},
		{name: "V2 instruction file of another object", p: kmsP, opts: v2i,
			mutate: func(s *sealed, _, donor sealed) { s.env.Instruction = donor.env.Instruction }, wantAs: &typeAuth, wantIs: ErrNotAuthentic},
		{name: "V2 instruction file wrapped key flipped", p: aesK, opts: v2i,
			mutate: func(s *sealed, _, _ sealed) {
				s.env.Instruction = bytes.Replace(s.env.Instruction, []byte(`"x-amz-key-v2":"`), []byte(`"x-amz-key-v2":"AAAA`), 1)
			}, wantAs: &typeKey, wantIs: ErrWrongKey},
		{name: "V2 ciphertext truncated", p: kmsP, opts: v2,
			mutate: func(s *sealed, _, _ sealed) { s.ct = s.ct[:len(s.ct)-1] }, wantAs: &typeAuth, wantIs: ErrNotAuthentic},
		{name: "V3 commitment flipped", p: kmsP, opts: v3, mutate: flip("x-amz-d", 5), wantAs: &typeCommitment},
		{name: "V3 message id flipped", p: aesK, opts: v3, mutate: flip("x-amz-i", 5), wantAs: &typeCommitment},
		{name: "V3 wrapped key flipped", p: kmsP, opts: v3, mutate: flip("x-amz-3", 30), wantAs: &typeKey, wantIs: ErrWrongKey},
		{name: "V3 wrapped key of another object", p: aesK, opts: v3,
			mutate: func(s *sealed, _, donor sealed) { s.env.Metadata["x-amz-3"] = donor.env.Metadata["x-amz-3"] }, wantAs: &typeCommitment},
		{name: "V3 instruction file of another object", p: kmsP, opts: v3i,
			mutate: func(s *sealed, _, donor sealed) { s.env.Instruction = donor.env.Instruction }, wantAs: &typeCommitment},
		{name: "V3 context cek-alg changed", p: kmsP, opts: v3, mutate: set("x-amz-t", `{"aws:x-amz-cek-alg":"AES/GCM/NoPadding"}`), wantAs: &typeDowngrade},
		{name: "V3 raw wrap matdesc claims another cek-alg", p: aesK, opts: v3,
			mutate: set("x-amz-m", `{"aws:x-amz-cek-alg":"AES/GCM/NoPadding"}`), wantAs: &typeDowngrade},
		{name: "V3 suite changed", p: kmsP, opts: v3, mutate: set("x-amz-c", "AES/GCM/NoPadding"), wantAs: &typeMalformed},
		{name: "V3 wrap code changed", p: aesK, opts: v3, mutate: set("x-amz-w", "22"), wantAs: &typeKey},
		{name: "V3 ciphertext bit flipped", p: kmsP, opts: v3,
			mutate: func(s *sealed, _, _ sealed) { s.ct[7] ^= 1 }, wantAs: &typeAuth, wantIs: ErrNotAuthentic},
		{name: "V3 read with V2 keys mixed in", p: kmsP, opts: v3, mutate: set("x-amz-key-v2", "AAAA"), wantAs: &typeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			victim := sealWith(t, tt.p, tt.opts, obj, pt)
			donor := sealWith(t, tt.p, tt.opts, other, pt)
			s := sealed{&Envelope{Metadata: maps.Clone(victim.env.Metadata), Instruction: bytes.Clone(victim.env.Instruction)}, bytes.Clone(victim.ct)}
			tt.mutate(&s, victim, donor)
			dec := NewDecryptor(tt.p, func(o *Options) { o.Policy = tt.policy })
			c, err := dec.decrypt(context.Background(), s.env.Metadata, s.env.Instruction, obj)
			var out []byte
			if err == nil {
				out, err = envOpen(c, s.ct)
				c.Wipe()
			}
			if err == nil {
				t.Fatal("tampered object decrypted")
			}
			if len(out) != 0 {
				t.Fatalf("%d bytes of plaintext released", len(out))
			}
			if !errors.As(err, tt.wantAs) {
				t.Fatalf("err = %T %v, want %T", err, err, tt.wantAs)
			}
			if check, ok := wantCheck[tt.wantAs]; ok {
				if got := (*tt.wantAs.(**AuthenticationError)).Check; got != check {
					t.Fatalf("err = %v: AuthenticationError.Check = %q, want %q", err, got, check)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want errors.Is %v", err, tt.wantIs)
			}
			// One integrity outcome (issue 12): every "modified or not what
			// it claims" matches ErrNotAuthentic; policy refusals and wrong
			// keys do not.
			_, integrity := wantCheck[tt.wantAs]
			if errors.Is(err, ErrNotAuthentic) != integrity {
				t.Fatalf("err = %T %v: errors.Is(ErrNotAuthentic) = %v, want %v", err, err, !integrity, integrity)
			}
			// Untampered, the same object reads back.
			c, err = dec.decrypt(ctx, victim.env.Metadata, victim.env.Instruction, obj)
			if err != nil {
				t.Fatal(err)
			}
			got, err := envOpen(c, victim.ct)
			c.Wipe()
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("untampered: %v", err)
			}
		})
	}
}

// TestTamperRelabelKeepsContextCheck: relabelling a kms+context object to
// the legacy kms wrap (which Policy.LegacyWrapping allows) must not let it
// past the caller's expected encryption context, and the error says what
// happened.
func TestTamperRelabelKeepsContextCheck(t *testing.T) {
	ctx := context.Background()
	p := NewKMSProvider(newFakeKMS(testKMSKey), testKMSKey)
	env, c, err := NewEncryptor(p).Encrypt(ctx, ObjectInfo{EncryptionContext: map[string]string{"tenant": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Wipe()
	meta := maps.Clone(env.Metadata)
	meta["x-amz-wrap-alg"] = "kms"
	dec := NewDecryptor(p, func(o *Options) {
		o.Policy = EMRFSCompatible()
		o.EncryptionContext = map[string]string{"tenant": "a"}
	})
	c, err = dec.Decrypt(ctx, meta, nil, ObjectInfo{})
	if err == nil {
		c.Wipe()
		t.Fatal("relabelled object of another tenant decrypted")
	}
	var de *AuthenticationError
	if !errors.As(err, &de) || de.Check != "downgrade" || !strings.Contains(err.Error(), `wrap algorithm kms`) || !strings.Contains(err.Error(), `"AES/GCM/NoPadding"`) || !strings.Contains(err.Error(), "relabelled") {
		t.Fatalf("err = %v, want a downgrade *AuthenticationError for a relabelled kms+context envelope", err)
	}
	// Unchanged, the object is refused for its context, not decrypted.
	if _, err := dec.Decrypt(ctx, env.Metadata, nil, ObjectInfo{}); !errors.As(err, new(*ContextMismatchError)) {
		t.Fatalf("err = %v, want *ContextMismatchError", err)
	}
}
