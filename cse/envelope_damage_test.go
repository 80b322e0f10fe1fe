package cse

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/emrs3/emrs3/cse/internal/envelope"
)

// TestDamagedEnvelope (issue 11 item 6): a partial or damaged envelope is an
// error matching ErrNotAuthentic, with a *MalformedError naming the key;
// only metadata with no envelope key at all (and no instruction file) is
// ErrNoEnvelope, the one outcome that lets a caller read the object as
// plaintext. No key provider is called for any of these.
func TestDamagedEnvelope(t *testing.T) {
	ctx := context.Background()
	aesK, _ := NewAESKeyring(testKEK, nil)
	kmsP := NewKMSProvider(newFakeKMS(testKMSKey), testKMSKey)
	obj := ObjectInfo{Bucket: "b", Key: "k", PlaintextSize: 5}
	seal := func(p MaterialsProvider, v3, instr bool) *Envelope {
		env, c, err := NewEncryptor(p, func(o *Options) {
			if v3 {
				o.Policy.Commitment = RequireEncryptAllowDecrypt
			}
			o.InstructionFile = instr
		}).Encrypt(ctx, obj)
		if err != nil {
			t.Fatal(err)
		}
		c.Wipe()
		return env
	}
	v2 := seal(kmsP, false, false)
	v2i := seal(kmsP, false, true)
	v3 := seal(kmsP, true, false)
	v3aes := seal(aesK, true, false)
	v3i := seal(kmsP, true, true)
	b64 := base64.StdEncoding.EncodeToString
	v1 := &Envelope{Metadata: map[string]string{
		"x-amz-key": b64(make([]byte, 48)), "x-amz-iv": b64(make([]byte, 16)), "x-amz-matdesc": "{}"}}

	// edit returns a copy of env's metadata with kv applied ("" deletes).
	edit := func(env *Envelope, kv ...string) map[string]string {
		m := maps.Clone(env.Metadata)
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	// editInstr returns env's instruction file with kv applied.
	editInstr := func(env *Envelope, kv ...string) []byte {
		var m map[string]any
		if err := json.Unmarshal(env.Instruction, &m); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		b, _ := json.Marshal(m)
		return b
	}
	otherIV := b64(bytes.Repeat([]byte{7}, 12))

	tests := []struct {
		name  string
		p     MaterialsProvider
		meta  map[string]string
		instr []byte
		key   string // the MalformedError's Key; "-" for any
	}{
		{"V2 x-amz-key-v2 removed", kmsP, edit(v2, "x-amz-key-v2", ""), nil, "x-amz-key-v2"},
		{"V2 x-amz-iv removed", kmsP, edit(v2, "x-amz-iv", ""), nil, "x-amz-iv"},
		{"V2 with a stray V1 x-amz-key", kmsP, edit(v2, "x-amz-key", v2.Metadata["x-amz-key-v2"]), nil, "-"},
		{"V2 x-amz-iv removed, stray V1 x-amz-key", kmsP, edit(v2, "x-amz-iv", "", "x-amz-key", "AAAA"), nil, "-"},
		{"V2 only x-amz-matdesc left", kmsP, edit(v2, "x-amz-key-v2", "", "x-amz-iv", "", "x-amz-wrap-alg", "", "x-amz-cek-alg", "", "x-amz-tag-len", "", "x-amz-unencrypted-content-length", ""), nil, ""},
		{"V1 x-amz-iv removed", aesK, edit(v1, "x-amz-iv", ""), nil, "x-amz-iv"},
		{"V1 x-amz-key removed", aesK, edit(v1, "x-amz-key", ""), nil, "x-amz-key"},
		{"V3 x-amz-d removed", kmsP, edit(v3, "x-amz-d", ""), nil, "x-amz-d"},
		{"V3 x-amz-i removed", kmsP, edit(v3, "x-amz-i", ""), nil, "x-amz-i"},
		{"V3 x-amz-3 removed", kmsP, edit(v3, "x-amz-3", ""), nil, "x-amz-3"},
		{"V3 with x-amz-iv", kmsP, edit(v3, "x-amz-iv", b64(make([]byte, 12))), nil, "x-amz-iv"},
		{"V3 with x-amz-matdesc", kmsP, edit(v3, "x-amz-matdesc", "{}"), nil, "x-amz-matdesc"},
		{"V3 with a stray V1 x-amz-key", kmsP, edit(v3, "x-amz-key", "AAAA"), nil, "-"},
		{"V3 kms+context with x-amz-m", kmsP, edit(v3, "x-amz-m", "{}"), nil, "x-amz-m"},
		{"V3 AES/GCM wrap with x-amz-t", aesK, edit(v3aes, "x-amz-t", `{"aws:x-amz-cek-alg":"115"}`), nil, "x-amz-t"},
		{"V2 instruction file missing", kmsP, v2i.Metadata, nil, ""},
		{"V3 instruction file missing", kmsP, v3i.Metadata, nil, "x-amz-3"},
		{"V2 instruction mode, object x-amz-iv contradicts the file", kmsP, edit(v2i, "x-amz-iv", otherIV), v2i.Instruction, "x-amz-iv"},
		{"V2 instruction mode, object length contradicts the file", kmsP, edit(v2i, "x-amz-unencrypted-content-length", "6"), v2i.Instruction, "x-amz-unencrypted-content-length"},
		{"V2 instruction mode, object key not in the file", kmsP, edit(v2i, "x-amz-wrap-alg", "kms"), v2i.Instruction, "x-amz-wrap-alg"},
		{"V2 instruction mode, file holds V3 keys too", kmsP, v2i.Metadata, editInstr(v2i, "x-amz-3", "AAAA"), "-"},
		{"V3 instruction mode, object x-amz-d contradicts the file", kmsP, v3i.Metadata, editInstr(v3i, "x-amz-d", b64(make([]byte, 28))), "x-amz-d"},
		{"V3 instruction mode, file with x-amz-iv", kmsP, v3i.Metadata, editInstr(v3i, "x-amz-iv", otherIV), "x-amz-iv"},
		{"V2 complete metadata contradicting the file given", kmsP, v2.Metadata, []byte(`{"x-amz-iv":"` + otherIV + `"}`), "x-amz-iv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &countingProvider{MaterialsProvider: tt.p}
			c, err := NewDecryptor(p).decrypt(ctx, tt.meta, tt.instr, obj)
			if err == nil {
				c.Wipe()
				t.Fatal("damaged envelope accepted")
			}
			var me *AuthenticationError
			if !errors.Is(err, ErrNotAuthentic) || errors.Is(err, ErrNoEnvelope) || !errors.As(err, &me) || me.Check != "envelope" {
				t.Fatalf("err = %T %v; want an envelope *AuthenticationError matching ErrNotAuthentic and not ErrNoEnvelope", err, err)
			}
			if tt.key != "-" && me.Key != tt.key {
				t.Fatalf("AuthenticationError.Key = %q, want %q (%v)", me.Key, tt.key, err)
			}
			if p.calls != 0 {
				t.Fatalf("%d key-provider calls for a damaged envelope", p.calls)
			}
			if !needsInstructionFile(tt.meta) && tt.instr == nil && strings.Contains(tt.name, "removed") {
				t.Fatalf("needsInstructionFile = false for partial metadata %v", tt.meta)
			}
		})
	}

	// The untouched objects read, and only metadata with no envelope key
	// at all is "not encrypted".
	for _, env := range []*Envelope{v2, v2i, v3, v3aes, v3i} {
		p := MaterialsProvider(kmsP)
		if env == v3aes {
			p = aesK
		}
		c, err := NewDecryptor(p).decrypt(ctx, env.Metadata, env.Instruction, obj)
		if err != nil {
			t.Fatalf("untouched envelope %v: %v", env.Metadata, err)
		}
		c.Wipe()
	}
	for _, meta := range []map[string]string{nil, {}, {"content-type": "text/plain", "x-amz-meta-owner": "a", "x-amz-crypto-instr-file": ""}} {
		_, err := NewDecryptor(kmsP).Decrypt(ctx, meta, nil, obj)
		if !errors.Is(err, ErrNoEnvelope) || errors.Is(err, ErrNotAuthentic) {
			t.Fatalf("no envelope key in %v: err = %v, want ErrNoEnvelope only", meta, err)
		}
	}
}

// countingProvider counts DecryptMaterials calls.
type countingProvider struct {
	MaterialsProvider
	calls int
}

func (p *countingProvider) DecryptMaterials(ctx context.Context, r DecryptionRequest) (*Materials, error) {
	p.calls++
	return p.MaterialsProvider.DecryptMaterials(ctx, r)
}

// TestOneIntegrityOutcome (issue 12 item 3): every error meaning "modified
// or not what it claims" matches ErrNotAuthentic, also when wrapped; policy
// refusals, wrong keys, context mismatches and "no envelope" do not.
func TestOneIntegrityOutcome(t *testing.T) {
	tests := []struct {
		err       error
		authentic bool // matches ErrNotAuthentic
	}{
		{&AuthenticationError{Algorithm: algGCM, Reason: "tag mismatch"}, true},
		{errCBC, true},
		{&AuthenticationError{Check: authEnvelope, Key: "x-amz-iv", Reason: "missing"}, true},
		{&AuthenticationError{Check: authEnvelope, Key: "x-amz-matdesc", Reason: "not JSON", Err: errors.New("syntax")}, true},
		{errCommitment, true},
		{downgradeError("AES/GCM/NoPadding", "AES/CBC/PKCS5Padding", ""), true},
		{publicError(&envelope.MalformedError{Reason: "no envelope", Err: envelope.ErrNoEnvelope}), false},
		{&PolicyError{Option: "Policy.LegacyUnauthenticated", What: "CBC content"}, false},
		{wrongKey("kms", "k", errors.New("InvalidCiphertextException")), false},
		{&KeyError{WrapAlgorithm: "kms", Err: errors.New("throttled")}, false},
		{&ContextMismatchError{Keys: []string{"a"}}, false},
		{&ContextError{Input: "a", Offset: 0, Reason: "x"}, false},
	}
	for _, tt := range tests {
		for _, err := range []error{tt.err, fmt.Errorf("emrfs: open s3://b/k: %w", tt.err)} {
			if got := errors.Is(err, ErrNotAuthentic); got != tt.authentic {
				t.Errorf("errors.Is(%T %v, ErrNotAuthentic) = %v, want %v", tt.err, err, got, tt.authentic)
			}
		}
	}
	var me *AuthenticationError
	if err := fmt.Errorf("wrapped: %w", &AuthenticationError{Check: authEnvelope, Key: "x-amz-d"}); !errors.As(err, &me) || me.Key != "x-amz-d" {
		t.Fatalf("errors.As lost the detail: %v", err)
	}
}
