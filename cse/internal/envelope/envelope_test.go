package envelope

import (
	"bytes"
	"encoding/base64"
	"errors"
	"maps"
	"mime"
	"reflect"
	"strings"
	"testing"
)

var (
	b64s  = base64.StdEncoding.EncodeToString
	key32 = bytes.Repeat([]byte{0xAB}, 32)
	iv12  = bytes.Repeat([]byte{0x0C}, 12)
	iv16  = bytes.Repeat([]byte{0x10}, 16)
	id28  = bytes.Repeat([]byte{0x1D}, 28)
)

func v2GCMMeta() map[string]string {
	return map[string]string{
		"x-amz-key-v2":                     b64s(key32),
		"x-amz-iv":                         b64s(iv12),
		"x-amz-matdesc":                    `{"aws:x-amz-cek-alg":"AES/GCM/NoPadding","team":"a"}`,
		"x-amz-wrap-alg":                   "kms+context",
		"x-amz-cek-alg":                    "AES/GCM/NoPadding",
		"x-amz-tag-len":                    "128",
		"x-amz-unencrypted-content-length": "1234",
	}
}

func v3Meta() map[string]string {
	return map[string]string{
		"x-amz-c": "115",
		"x-amz-3": b64s(key32),
		"x-amz-w": "12",
		"x-amz-d": b64s(id28),
		"x-amz-i": b64s(id28),
		"x-amz-t": `{"aws:x-amz-cek-alg":"115"}`,
	}
}

func with(m map[string]string, kv ...string) map[string]string {
	m = maps.Clone(m)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "<delete>" {
			delete(m, kv[i])
		} else {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		meta map[string]string
		want Envelope
	}{
		{"V2 GCM kms+context", v2GCMMeta(), Envelope{Version: 2, EncryptedKey: key32, IV: iv12, CEKAlg: AlgGCM, WrapAlg: WrapKMSContext,
			MatDesc: map[string]string{"aws:x-amz-cek-alg": AlgGCM, "team": "a"}, Context: map[string]string{}, TagBits: 128, PlaintextSize: 1234}},
		{"EMRFS default V2 CBC kms, no length", map[string]string{
			"X-Amz-Meta-X-Amz-Key-V2": b64s(key32), "X-Amz-Meta-X-Amz-Iv": b64s(iv16),
			"X-Amz-Meta-X-Amz-Matdesc": `{"kms_cmk_id":"alias/emr"}`, "X-Amz-Meta-X-Amz-Wrap-Alg": "kms",
			"X-Amz-Meta-X-Amz-Cek-Alg": "AES/CBC/PKCS5Padding"},
			Envelope{Version: 2, EncryptedKey: key32, IV: iv16, CEKAlg: AlgCBC, WrapAlg: WrapKMS,
				MatDesc: map[string]string{"kms_cmk_id": "alias/emr"}, Context: map[string]string{}, PlaintextSize: -1}},
		{"V2 without cek-alg means CBC", with(v2GCMMeta(), "x-amz-cek-alg", "<delete>", "x-amz-tag-len", "<delete>", "x-amz-iv", b64s(iv16)),
			Envelope{Version: 2, EncryptedKey: key32, IV: iv16, CEKAlg: AlgCBC, WrapAlg: WrapKMSContext,
				MatDesc: map[string]string{"aws:x-amz-cek-alg": AlgGCM, "team": "a"}, Context: map[string]string{}, PlaintextSize: 1234}},
		{"V1", map[string]string{"x-amz-key": b64s(key32), "x-amz-iv": b64s(iv16), "x-amz-matdesc": "{}", "x-amz-unencrypted-content-length": "0"},
			Envelope{Version: 1, EncryptedKey: key32, IV: iv16, CEKAlg: AlgCBC, WrapAlg: WrapNone, MatDesc: map[string]string{}, Context: map[string]string{}, PlaintextSize: 0}},
		{"V1 without matdesc", map[string]string{"x-amz-key": b64s(key32), "x-amz-iv": b64s(iv16)},
			Envelope{Version: 1, EncryptedKey: key32, IV: iv16, CEKAlg: AlgCBC, MatDesc: map[string]string{}, Context: map[string]string{}, PlaintextSize: -1}},
		{"RFC 2047 matdesc", with(v2GCMMeta(), "x-amz-matdesc", mime.BEncoding.Encode("UTF-8", `{"aws:x-amz-cek-alg":"AES/GCM/NoPadding","team":"é"}`)),
			Envelope{Version: 2, EncryptedKey: key32, IV: iv12, CEKAlg: AlgGCM, WrapAlg: WrapKMSContext,
				MatDesc: map[string]string{"aws:x-amz-cek-alg": AlgGCM, "team": "é"}, Context: map[string]string{}, TagBits: 128, PlaintextSize: 1234}},
		{"V3 kms+context", v3Meta(), Envelope{Version: 3, EncryptedKey: key32, CEKAlg: AlgCommitting, WrapAlg: WrapKMSContext,
			MatDesc: map[string]string{}, Context: map[string]string{"aws:x-amz-cek-alg": "115"}, TagBits: 128, PlaintextSize: -1,
			Commitment: id28, MessageID: id28}},
		{"V3 AES/GCM", with(v3Meta(), "x-amz-w", "02", "x-amz-t", "<delete>", "x-amz-m", `{"k":"v"}`),
			Envelope{Version: 3, EncryptedKey: key32, CEKAlg: AlgCommitting, WrapAlg: WrapAESGCM,
				MatDesc: map[string]string{"k": "v"}, Context: map[string]string{}, TagBits: 128, PlaintextSize: -1,
				Commitment: id28, MessageID: id28}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.meta, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", *got, tt.want)
			}
			// Serializing and parsing again gives the same envelope.
			md, err := got.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			again, err := Parse(md, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip\n got %+v\nwant %+v", again, got)
			}
			// And so does the instruction-file form.
			obj, body, err := got.Split()
			if err != nil {
				t.Fatal(err)
			}
			if HasEnvelopeForTest(obj) {
				t.Fatalf("object metadata in instruction mode holds a full envelope: %v", obj)
			}
			instr, err := ParseInstruction(body)
			if err != nil {
				t.Fatal(err)
			}
			fromFile, err := Parse(obj, instr)
			if err != nil {
				t.Fatal(err)
			}
			if !fromFile.FromInstruction {
				t.Fatal("FromInstruction not set")
			}
			fromFile.FromInstruction = false
			if !reflect.DeepEqual(fromFile, got) {
				t.Fatalf("instruction round trip\n got %+v\nwant %+v", fromFile, got)
			}
		})
	}
}

func HasEnvelopeForTest(m map[string]string) bool {
	v, _ := Detect(m)
	return v != 0
}

func TestParseInstructionNumbers(t *testing.T) {
	body := `{"x-amz-key-v2":"` + b64s(key32) + `","x-amz-iv":"` + b64s(iv12) + `",
	  "x-amz-matdesc":{"kms_cmk_id":"k"},"x-amz-wrap-alg":"kms","x-amz-cek-alg":"AES/GCM/NoPadding",
	  "x-amz-tag-len":128,"x-amz-unencrypted-content-length":77}`
	instr, err := ParseInstruction([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Parse(map[string]string{"x-amz-unencrypted-content-length": "77"}, instr)
	if err != nil {
		t.Fatal(err)
	}
	if e.TagBits != 128 || e.PlaintextSize != 77 || e.MatDesc["kms_cmk_id"] != "k" {
		t.Fatalf("got %+v", e)
	}
	// Issue 11: a length on the object that contradicts the file's is an
	// error (it used to win over the file's).
	_, err = Parse(map[string]string{"x-amz-unencrypted-content-length": "78"}, instr)
	var me *MalformedError
	if !errors.As(err, &me) || me.Key != UnencryptedLength || errors.Is(err, ErrNoEnvelope) {
		t.Fatalf("contradicting lengths: err = %v, want a MalformedError for %s", err, UnencryptedLength)
	}
}

// aws-sdk-go s3crypto writes "" for absent numbers in instruction files.
func TestParseInstructionEmptyNumbers(t *testing.T) {
	body := `{"x-amz-iv":"` + b64s(iv16) + `","x-amz-key-v2":"` + b64s(key32) + `","x-amz-matdesc":"{\"kms_cmk_id\":\"k\"}",` +
		`"x-amz-wrap-alg":"kms","x-amz-cek-alg":"AES/CBC/PKCS5Padding","x-amz-tag-len":"","x-amz-unencrypted-content-length":""}`
	instr, err := ParseInstruction([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Parse(map[string]string{}, instr)
	if err != nil {
		t.Fatal(err)
	}
	if e.TagBits != 0 || e.PlaintextSize != -1 || e.CEKAlg != AlgCBC {
		t.Fatalf("got %+v", e)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		meta    map[string]string
		instr   map[string]string
		wantKey string
	}{
		{"no envelope, no file", map[string]string{"foo": "bar"}, nil, ""},
		{"bad base64 key", with(v2GCMMeta(), "x-amz-key-v2", "!!!"), nil, KeyV2},
		{"empty key", with(v2GCMMeta(), "x-amz-key-v2", ""), nil, KeyV2},
		{"short IV", with(v2GCMMeta(), "x-amz-iv", b64s(iv16)), nil, IV},
		{"tag length 96", with(v2GCMMeta(), "x-amz-tag-len", "96"), nil, TagLen},
		{"tag length on CBC", with(v2GCMMeta(), "x-amz-cek-alg", AlgCBC, "x-amz-iv", b64s(iv16)), nil, TagLen},
		{"unknown cek alg", with(v2GCMMeta(), "x-amz-cek-alg", "AES/CTR/NoPadding"), nil, CEKAlg},
		{"unknown wrap", with(v2GCMMeta(), "x-amz-wrap-alg", "ROT13"), nil, WrapAlg},
		{"matdesc not JSON", with(v2GCMMeta(), "x-amz-matdesc", "{"), nil, MatDesc},
		{"matdesc with number", with(v2GCMMeta(), "x-amz-matdesc", `{"a":1}`), nil, MatDesc},
		{"negative length", with(v2GCMMeta(), "x-amz-unencrypted-content-length", "-1"), nil, UnencryptedLength},
		{"mixed V1 and V2", with(v2GCMMeta(), "x-amz-key", b64s(key32)), nil, ""},
		{"mixed V2 and V3", with(v2GCMMeta(), "x-amz-d", b64s(id28)), nil, ""},
		{"V3 wrong suite", with(v3Meta(), "x-amz-c", "114"), nil, V3ContentAlg},
		{"V3 wrong wrap code", with(v3Meta(), "x-amz-w", "kms+context"), nil, V3WrapAlg},
		{"V3 short commitment", with(v3Meta(), "x-amz-d", b64s(id28[:27])), nil, V3Commitment},
		{"V3 short message id", with(v3Meta(), "x-amz-i", b64s(id28[:20])), nil, V3MessageID},
		{"bad RFC 2047", with(v2GCMMeta(), "x-amz-matdesc", "=?UTF-8?X?abc?="), nil, MatDesc},
		{"V3 object without its instruction file", with(v3Meta(), "x-amz-3", "<delete>", "x-amz-w", "<delete>", "x-amz-t", "<delete>"), nil, V3Key},
		{"file without envelope", map[string]string{}, map[string]string{"x-amz-iv": b64s(iv12)}, ""},
		{"V3 file without object keys", map[string]string{}, with(v3Meta()), V3Commitment},
		{"V3 file from another object", with(v3Meta(), "x-amz-3", "<delete>", "x-amz-w", "<delete>", "x-amz-t", "<delete>"),
			with(v3Meta(), "x-amz-d", b64s(bytes.Repeat([]byte{9}, 28))), V3Commitment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.meta, tt.instr)
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("Parse = %+v, %v; want *MalformedError", e, err)
			}
			if tt.wantKey != "" && me.Key != tt.wantKey {
				t.Fatalf("error names key %q, want %q (%v)", me.Key, tt.wantKey, err)
			}
			if tt.wantKey != "" && !strings.Contains(err.Error(), tt.wantKey) {
				t.Fatalf("message %q does not name %q", err, tt.wantKey)
			}
		})
	}
}

func TestParseInstructionErrors(t *testing.T) {
	for _, body := range []string{``, `null`, `[]`, `{"a":true}`, `{"a":["x"]}`, `{"a":"b"} {}`, `{"x-amz-iv":{"a":"b"}}`,
		`{"a":"` + strings.Repeat("x", 70<<10) + `"}`} {
		if m, err := ParseInstruction([]byte(body)); err == nil {
			t.Errorf("ParseInstruction(%.40q) = %v, want error", body, m)
		}
	}
}

func TestMetadataEncodesNonASCII(t *testing.T) {
	e, err := Parse(with(v2GCMMeta(), "x-amz-matdesc", `{"aws:x-amz-cek-alg":"AES/GCM/NoPadding","owner":"Zoë"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	md, err := e.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	v := md[MatDesc]
	// Stored as ASCII JSON (\u escapes), which needs no RFC 2047 layer.
	if d, err := ParseMatDesc(v); err != nil || d["owner"] != "Zoë" {
		t.Fatalf("non-ASCII matdesc stored as %q: %v, %v", v, d, err)
	}
	for i := 0; i < len(v); i++ {
		if v[i] > 0x7e {
			t.Fatalf("header value holds non-ASCII byte: %q", v)
		}
	}
}

func TestMarshalMatDesc(t *testing.T) {
	got := MarshalMatDesc(map[string]string{"b": "<&>", "a": "1"})
	if want := `{"a":"1","b":"<&>"}`; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
	if got := MarshalMatDesc(nil); got != "{}" {
		t.Fatalf("nil = %s", got)
	}
}

// TestNormalizeDuplicates: an envelope key given twice with different
// values (with and without the x-amz-meta- prefix, or in another case) is
// ambiguous and refused, in metadata and in instruction files; equal values
// and duplicates of keys the envelope does not read are accepted.
func TestNormalizeDuplicates(t *testing.T) {
	otherIV := b64s(bytes.Repeat([]byte{9}, 12))
	for _, tc := range []struct {
		name string
		meta map[string]string
		bad  string // the key reported, "" = accepted
	}{
		{"prefixed and bare, different", with(v2GCMMeta(), "x-amz-meta-x-amz-iv", otherIV), "x-amz-iv"},
		{"case variants, different", with(v2GCMMeta(), "X-Amz-Meta-X-Amz-Wrap-Alg", "kms"), "x-amz-wrap-alg"},
		{"prefixed and bare, equal", with(v2GCMMeta(), "x-amz-meta-x-amz-iv", b64s(iv12)), ""},
		{"RFC 2047 form of the same value", with(v2GCMMeta(), "X-Amz-Meta-X-Amz-Matdesc", "=?UTF-8?B?"+b64s([]byte(v2GCMMeta()["x-amz-matdesc"]))+"?="), ""},
		{"not an envelope key", with(v2GCMMeta(), "owner", "a", "x-amz-meta-owner", "b"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 20; i++ { // map order must not matter
				_, err := Parse(tc.meta, nil)
				var me *MalformedError
				switch {
				case tc.bad == "" && err != nil:
					t.Fatalf("Parse: %v", err)
				case tc.bad != "" && (!errors.As(err, &me) || me.Key != tc.bad || !strings.Contains(err.Error(), "twice")):
					t.Fatalf("Parse err = %v, want MalformedError on %s", err, tc.bad)
				}
			}
		})
	}
	instr := `{"x-amz-key-v2":"` + b64s(key32) + `","x-amz-iv":"` + b64s(iv12) + `","X-Amz-Iv":"` + otherIV + `","x-amz-cek-alg":"AES/GCM/NoPadding","x-amz-wrap-alg":"kms+context","x-amz-matdesc":"{}"}`
	if _, err := ParseInstruction([]byte(instr)); !errors.As(err, new(*MalformedError)) || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("instruction file with x-amz-iv twice: err = %v", err)
	}
}

// TestParseDamaged: a partial or mixed envelope is a *MalformedError that
// does not wrap ErrNoEnvelope; only metadata with no envelope key at all is
// ErrNoEnvelope (issue 11 item 6).
func TestParseDamaged(t *testing.T) {
	v1 := map[string]string{"x-amz-key": b64s(key32), "x-amz-iv": b64s(iv16), "x-amz-matdesc": "{}"}
	aes3 := with(v3Meta(), "x-amz-w", "02", "x-amz-t", "<delete>", "x-amz-m", `{"k":"v"}`)
	tests := []struct {
		name string
		meta map[string]string
		key  string
	}{
		{"V2 key removed", with(v2GCMMeta(), KeyV2, "<delete>"), KeyV2},
		{"V2 IV removed", with(v2GCMMeta(), IV, "<delete>"), IV},
		{"V2 with a stray V1 key", with(v2GCMMeta(), KeyV1, b64s(key32)), KeyV1},
		{"V1 IV removed", with(v1, IV, "<delete>"), IV},
		{"V1 with V2 wrap-alg", with(v1, WrapAlg, "kms"), WrapAlg},
		{"V3 commitment removed", with(v3Meta(), V3Commitment, "<delete>"), V3Commitment},
		{"V3 message id removed", with(v3Meta(), V3MessageID, "<delete>"), V3MessageID},
		{"V3 with x-amz-iv", with(v3Meta(), IV, b64s(iv12)), IV},
		{"V3 with x-amz-matdesc", with(v3Meta(), MatDesc, "{}"), MatDesc},
		{"V3 kms+context with x-amz-m", with(v3Meta(), V3MatDesc, "{}"), V3MatDesc},
		{"V3 AES/GCM with x-amz-t", with(aes3, V3Context, "{}"), V3Context},
		{"V3 RSA with x-amz-t", with(aes3, V3WrapAlg, "22", V3Context, `{"a":"b"}`), V3Context},
		{"length only", map[string]string{UnencryptedLength: "5"}, ""},
		{"V3 object keys only", map[string]string{V3ContentAlg: "115", V3Commitment: b64s(id28), V3MessageID: b64s(id28)}, V3Key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.meta, nil)
			var me *MalformedError
			if !errors.As(err, &me) || errors.Is(err, ErrNoEnvelope) {
				t.Fatalf("err = %v, want a MalformedError that is not ErrNoEnvelope", err)
			}
			if me.Key != tt.key {
				t.Fatalf("Key = %q, want %q (%v)", me.Key, tt.key, err)
			}
		})
	}
	for _, meta := range []map[string]string{nil, {}, {"content-type": "x", InstructionMarker: ""}} {
		if _, err := Parse(meta, nil); !errors.Is(err, ErrNoEnvelope) {
			t.Fatalf("no envelope key in %v: %v, want ErrNoEnvelope", meta, err)
		}
		if len(EnvelopeKeys(meta)) != 0 {
			t.Fatalf("EnvelopeKeys(%v) not empty", meta)
		}
	}
}
