package envelope

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"slices"
	"strconv"
	"strings"
)

// Envelope is a parsed, well-formed envelope of any version.
type Envelope struct {
	Version      int    // 1, 2 or 3
	EncryptedKey []byte // x-amz-key / x-amz-key-v2 / x-amz-3
	IV           []byte // x-amz-iv; nil for V3 (its IV is fixed)
	CEKAlg       string // AlgGCM, AlgCBC or AlgCommitting
	WrapAlg      string // a Wrap* constant; V3 codes translated
	// MatDesc is x-amz-matdesc (V1/V2) or x-amz-m (V3); never nil.
	MatDesc map[string]string
	// Context is x-amz-t (V3 only); never nil.
	Context map[string]string
	// TagBits is the GCM tag length in bits (x-amz-tag-len, 128 when
	// absent), 0 for CBC.
	TagBits int
	// PlaintextSize is x-amz-unencrypted-content-length, -1 when absent.
	PlaintextSize int64
	Commitment    []byte // x-amz-d (V3)
	MessageID     []byte // x-amz-i (V3)
	// FromInstruction is true when the envelope came from an instruction file.
	FromInstruction bool
}

const (
	srcMeta  = "metadata"
	srcInstr = "instruction file"
)

// Normalize returns a copy of meta with lower-cased keys, any "x-amz-meta-"
// prefix removed and RFC 2047 encoded-word values decoded.
//
// Two keys of meta that normalize to the same envelope key (for example
// "x-amz-meta-x-amz-iv" and "x-amz-iv", or two spellings in different case)
// with different values make the envelope ambiguous: the result would depend
// on map order, so that is a *MalformedError. S3 responses never hold such
// pairs (S3 lower-cases user-metadata names and the SDKs strip the prefix of
// all of them); equal values, and collisions on keys the envelope does not
// use, are accepted.
func Normalize(meta map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(meta))
	var dec mime.WordDecoder
	for k, v := range meta {
		k = strings.ToLower(strings.TrimSpace(k))
		k = strings.TrimPrefix(k, "x-amz-meta-")
		if strings.Contains(v, "=?") {
			d, err := dec.DecodeHeader(v)
			if err != nil {
				return nil, malformed(srcMeta, k, "value is not valid RFC 2047 text", err)
			}
			v = undoS3DoubleEncoding(d)
		}
		if prev, dup := out[k]; dup && prev != v && envelopeKeys[k] {
			return nil, malformed(srcMeta, k, "given twice with different values (with and without the x-amz-meta- prefix, or in different case)", nil)
		}
		out[k] = v
	}
	return out, nil
}

// Detect returns the format version whose complete envelope is in meta
// (normalized), or 0 when meta holds none and the instruction file must be
// consulted. An error is returned when keys of several versions are mixed,
// including a V1/V2 key (x-amz-iv, x-amz-matdesc) next to V3 keys.
func Detect(meta map[string]string) (int, error) {
	seen, seenKey := 0, ""
	for _, k := range sortedKeys(meta) {
		if v, ok := exclusive[k]; ok {
			if seen != 0 && seen != v {
				return 0, malformed(srcMeta, k, fmt.Sprintf("keys of format V%d (%s) and V%d (%s) are mixed", seen, seenKey, v, k), nil)
			}
			seen, seenKey = v, k
		}
	}
	if seen == 3 {
		for _, k := range []string{IV, MatDesc} {
			if has(meta, k) {
				return 0, malformed(srcMeta, k, fmt.Sprintf("a V1/V2 key next to V3 keys (%s): a V3 envelope has no %s", seenKey, k), nil)
			}
		}
	}
	_, hasIV := meta[IV]
	switch {
	case has(meta, KeyV1) && hasIV:
		return 1, nil
	case has(meta, KeyV2) && hasIV:
		return 2, nil
	case has(meta, V3Key) && has(meta, V3Commitment) && has(meta, V3MessageID):
		return 3, nil
	}
	return 0, nil
}

// EnvelopeKeys returns the envelope keys present in meta (normalized),
// sorted. An object whose metadata holds none is not client-side encrypted
// unless it has an instruction file; one that holds some but no complete
// envelope must have an instruction file, and is damaged without one.
func EnvelopeKeys(meta map[string]string) []string {
	var ks []string
	for _, k := range sortedKeys(meta) {
		if envelopeKeys[k] {
			ks = append(ks, k)
		}
	}
	return ks
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// missingKey names the key whose absence keeps the partial envelope in meta
// (normalized) from being complete, or "" when that is not clear.
func missingKey(meta map[string]string) string {
	switch {
	case has(meta, KeyV1) || has(meta, KeyV2):
		return IV
	case has(meta, V3Key) || has(meta, V3ContentAlg) || has(meta, V3Commitment) || has(meta, V3MessageID) || has(meta, V3WrapAlg):
		for _, k := range []string{V3Key, V3Commitment, V3MessageID} {
			if !has(meta, k) {
				return k
			}
		}
	case has(meta, IV):
		if has(meta, WrapAlg) || has(meta, CEKAlg) || has(meta, TagLen) {
			return KeyV2
		}
		return KeyV1
	}
	return ""
}

func has(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// IsV3Partial reports whether meta holds the V3 keys that stay on the object
// when the rest of the envelope is in an instruction file.
func IsV3Partial(meta map[string]string) bool {
	return has(meta, V3ContentAlg) && has(meta, V3Commitment) && has(meta, V3MessageID) && !has(meta, V3Key)
}

// ParseInstruction decodes an instruction-file body: a flat JSON object whose
// values are strings, or numbers for the numeric keys.
func ParseInstruction(b []byte) (map[string]string, error) {
	if len(b) > instructionMaxKB<<10 {
		// Callers may hand over only a prefix of a larger body, so the
		// length is a lower bound, not the file's size.
		return nil, malformed(srcInstr, "", fmt.Sprintf("instruction file is too large: more than %d KiB, the limit", instructionMaxKB), nil)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, malformed(srcInstr, "", "body is not a JSON object", err)
	}
	if raw == nil {
		return nil, malformed(srcInstr, "", "body is JSON null, not an object", nil)
	}
	if dec.More() {
		return nil, malformed(srcInstr, "", "trailing data after the JSON object", nil)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		lk := strings.ToLower(k)
		prev, dup := out[lk]
		switch v := v.(type) {
		case string:
			out[lk] = v
		case json.Number:
			out[lk] = v.String()
		case map[string]any:
			// Some writers store the materials description as a nested object.
			if lk != MatDesc && lk != V3MatDesc && lk != V3Context {
				return nil, malformed(srcInstr, k, "value is a JSON object, want a string", nil)
			}
			s, err := json.Marshal(v)
			if err != nil {
				return nil, malformed(srcInstr, k, "value cannot be re-encoded", err)
			}
			out[lk] = string(s)
		default:
			return nil, malformed(srcInstr, k, fmt.Sprintf("value is JSON %T, want a string", v), nil)
		}
		if dup && prev != out[lk] && envelopeKeys[lk] {
			return nil, malformed(srcInstr, k, "given twice in different case with different values", nil)
		}
	}
	return out, nil
}

// onObject lists the envelope keys that may stay on the object when the
// rest of the envelope is in its instruction file.
var onObject = map[string]bool{UnencryptedLength: true, V3ContentAlg: true, V3Commitment: true, V3MessageID: true}

// Parse reads the envelope from object metadata meta and, when meta holds no
// complete envelope, from the instruction-file fields instr (as returned by
// ParseInstruction; nil when there is none). meta may carry the
// "x-amz-meta-" prefix and RFC 2047 encoded values.
//
// Only metadata with no envelope key at all and no instruction file gives
// an error wrapping ErrNoEnvelope (the object is not client-side
// encrypted). A partial envelope (some envelope keys, but not a complete
// one) without an instruction file, keys of several format versions, and
// envelope keys in meta that contradict instr are a *MalformedError that
// does not wrap ErrNoEnvelope: the object was damaged or altered.
func Parse(meta, instr map[string]string) (*Envelope, error) {
	m, err := Normalize(meta)
	if err != nil {
		return nil, err
	}
	v, err := Detect(m)
	if err != nil {
		return nil, err
	}
	var in map[string]string
	if instr != nil {
		if in, err = Normalize(instr); err != nil {
			err.(*MalformedError).Source = srcInstr
			return nil, err
		}
		if err := agree(m, in); err != nil {
			return nil, err
		}
	}
	if v != 0 {
		return parseFields(m, srcMeta, v)
	}
	present := EnvelopeKeys(m)
	if in == nil {
		switch {
		case len(present) == 0:
			return nil, malformed(srcMeta, "", "no envelope in the object metadata and no instruction file given", ErrNoEnvelope)
		case IsV3Partial(m):
			return nil, malformed(srcMeta, V3Key, "missing: this V3 object keeps its wrapped key in its instruction file (<key>.instruction); fetch it and pass it in", nil)
		}
		return nil, malformed(srcMeta, missingKey(m), fmt.Sprintf("partial envelope: the object metadata holds %s but no complete envelope, and there is no instruction file (the envelope was damaged or its instruction file removed)", strings.Join(present, ", ")), nil)
	}
	for _, k := range present {
		if !onObject[k] && !has(in, k) {
			return nil, malformed(srcMeta, k, "on the object but not in its instruction file: the envelope is split inconsistently", nil)
		}
	}
	fields := maps.Clone(in)
	// Keys that live on the object complete the file (agree has checked
	// that they do not contradict it).
	for _, k := range present {
		fields[k] = m[k]
	}
	fv, err := Detect(fields)
	if err != nil {
		err.(*MalformedError).Source = srcInstr
		return nil, err
	}
	if fv == 0 {
		return nil, malformed(srcInstr, "", "no complete V1, V2 or V3 envelope (need x-amz-key or x-amz-key-v2 with x-amz-iv, or x-amz-3 with x-amz-d and x-amz-i)", nil)
	}
	if fv == 3 && !IsV3Partial(m) {
		return nil, malformed(srcMeta, V3Commitment, "a V3 instruction file needs x-amz-c, x-amz-d and x-amz-i on the object itself", nil)
	}
	e, err := parseFields(fields, srcInstr, fv)
	if err != nil {
		return nil, err
	}
	e.FromInstruction = true
	return e, nil
}

// agree reports an error when an envelope key is in both the object's
// metadata m and its instruction file in (both normalized) with different
// values: the file belongs to another object, or one of them was altered.
// An empty unencrypted length in the file (aws-sdk-go s3crypto writes ""
// for an unknown length) is no value, and lengths compare as numbers.
func agree(m, in map[string]string) error {
	for _, k := range EnvelopeKeys(m) {
		fv, ok := in[k]
		if !ok || fv == m[k] {
			continue
		}
		if k == UnencryptedLength {
			fv = strings.TrimSpace(fv)
			if fv == "" {
				continue
			}
			a, aerr := strconv.ParseInt(fv, 10, 64)
			b, berr := strconv.ParseInt(strings.TrimSpace(m[k]), 10, 64)
			if aerr == nil && berr == nil && a == b {
				continue
			}
		}
		return malformed(srcInstr, k, "differs from the object's metadata; the instruction file belongs to another object, or one of them was altered", nil)
	}
	return nil
}

func parseFields(m map[string]string, src string, version int) (*Envelope, error) {
	e := &Envelope{Version: version, PlaintextSize: -1}
	var err error
	// Writers such as aws-sdk-go s3crypto store absent numbers as "" in
	// instruction files.
	if s, ok := m[UnencryptedLength]; ok && strings.TrimSpace(s) != "" {
		n, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if perr != nil || n < 0 {
			return nil, malformed(src, UnencryptedLength, fmt.Sprintf("%q is not a non-negative decimal", s), nil)
		}
		e.PlaintextSize = n
	}
	switch version {
	case 1:
		if e.EncryptedKey, err = b64(m, src, KeyV1); err != nil {
			return nil, err
		}
		e.CEKAlg, e.WrapAlg = AlgCBC, WrapNone
		if e.MatDesc, err = matdesc(m, src, MatDesc); err != nil {
			return nil, err
		}
	case 2:
		if e.EncryptedKey, err = b64(m, src, KeyV2); err != nil {
			return nil, err
		}
		e.CEKAlg = AlgCBC
		if s, ok := m[CEKAlg]; ok {
			e.CEKAlg = s
		}
		if e.CEKAlg != AlgCBC && e.CEKAlg != AlgGCM {
			return nil, malformed(src, CEKAlg, fmt.Sprintf("%q is not %s or %s", e.CEKAlg, AlgGCM, AlgCBC), nil)
		}
		e.WrapAlg = m[WrapAlg]
		switch e.WrapAlg {
		case WrapKMS, WrapKMSContext, WrapAESGCM, WrapRSAOAEPSHA1, WrapAESWrap, WrapRSAOAEPSHA256, WrapNone:
		default:
			return nil, malformed(src, WrapAlg, fmt.Sprintf("unknown wrap algorithm %q", e.WrapAlg), nil)
		}
		if e.MatDesc, err = matdesc(m, src, MatDesc); err != nil {
			return nil, err
		}
		if s, ok := m[TagLen]; ok && strings.TrimSpace(s) != "" {
			if e.CEKAlg != AlgGCM {
				return nil, malformed(src, TagLen, "present for CBC content", nil)
			}
			n, perr := strconv.Atoi(strings.TrimSpace(s))
			if perr != nil || n != TagBits {
				return nil, malformed(src, TagLen, fmt.Sprintf("%q, want %d", s, TagBits), nil)
			}
			e.TagBits = n
		} else if e.CEKAlg == AlgGCM {
			e.TagBits = TagBits // absent: the only length any writer uses
		}
	case 3:
		if c := m[V3ContentAlg]; c != AlgCommitting {
			return nil, malformed(src, V3ContentAlg, fmt.Sprintf("%q, want %s (ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY)", c, AlgCommitting), nil)
		}
		e.CEKAlg = AlgCommitting
		e.TagBits = TagBits
		if e.EncryptedKey, err = b64(m, src, V3Key); err != nil {
			return nil, err
		}
		w, ok := v3WrapCodes[m[V3WrapAlg]]
		if !ok {
			return nil, malformed(src, V3WrapAlg, fmt.Sprintf("%q is not 02, 12 or 22", m[V3WrapAlg]), nil)
		}
		e.WrapAlg = w
		// The serializer writes x-amz-t for kms+context only and x-amz-m for
		// the raw keyrings only; a value for the other kind of wrap would be
		// read but never written back, and is not what any writer stores.
		// An empty one is no value: the official S3EC Go v4 client writes
		// both keys on every V3 object, the unused one empty.
		if w == WrapKMSContext && strings.TrimSpace(m[V3MatDesc]) != "" {
			return nil, malformed(src, V3MatDesc, "present with wrap algorithm 12 (kms+context), which stores its context in x-amz-t", nil)
		}
		if w != WrapKMSContext && strings.TrimSpace(m[V3Context]) != "" {
			return nil, malformed(src, V3Context, fmt.Sprintf("present with wrap algorithm %s (%s); only 12 (kms+context) stores a KMS encryption context", m[V3WrapAlg], w), nil)
		}
		if e.Commitment, err = b64(m, src, V3Commitment); err != nil {
			return nil, err
		}
		if len(e.Commitment) != CommitmentSize {
			return nil, malformed(src, V3Commitment, fmt.Sprintf("%d bytes, want %d", len(e.Commitment), CommitmentSize), nil)
		}
		if e.MessageID, err = b64(m, src, V3MessageID); err != nil {
			return nil, err
		}
		if len(e.MessageID) != MessageIDSize {
			return nil, malformed(src, V3MessageID, fmt.Sprintf("%d bytes, want %d", len(e.MessageID), MessageIDSize), nil)
		}
		if e.MatDesc, err = matdesc(m, src, V3MatDesc); err != nil {
			return nil, err
		}
		if e.Context, err = matdesc(m, src, V3Context); err != nil {
			return nil, err
		}
		if len(e.EncryptedKey) == 0 {
			return nil, malformed(src, V3Key, "empty", nil)
		}
		return e, nil
	}
	if e.Context == nil {
		e.Context = map[string]string{}
	}
	if len(e.EncryptedKey) == 0 {
		return nil, malformed(src, keyName(version), "empty", nil)
	}
	if e.IV, err = b64(m, src, IV); err != nil {
		return nil, err
	}
	want := CBCIVSize
	if e.CEKAlg == AlgGCM {
		want = GCMIVSize
	}
	if len(e.IV) != want {
		return nil, malformed(src, IV, fmt.Sprintf("%d bytes, want %d for %s", len(e.IV), want, e.CEKAlg), nil)
	}
	return e, nil
}

func keyName(version int) string {
	switch version {
	case 1:
		return KeyV1
	case 2:
		return KeyV2
	}
	return V3Key
}

func b64(m map[string]string, src, key string) ([]byte, error) {
	s, ok := m[key]
	if !ok {
		return nil, malformed(src, key, "missing", nil)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, malformed(src, key, "not valid base64", err)
	}
	return b, nil
}

func matdesc(m map[string]string, src, key string) (map[string]string, error) {
	md, err := ParseMatDesc(m[key])
	if err != nil {
		return nil, malformed(src, key, "not a JSON object of strings", err)
	}
	return md, nil
}

// ParseMatDesc decodes a materials description (or stored encryption
// context): a JSON object whose values are strings. The empty string is the
// empty description.
func ParseMatDesc(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return map[string]string{}, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	var md map[string]string
	if err := dec.Decode(&md); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the JSON object")
	}
	if md == nil {
		md = map[string]string{}
	}
	return md, nil
}

// MarshalMatDesc encodes a materials description as compact JSON with sorted
// keys, no HTML escaping and non-ASCII characters escaped (see asciiJSON).
func MarshalMatDesc(md map[string]string) string {
	if md == nil {
		md = map[string]string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(md) // map[string]string cannot fail
	return asciiJSON(strings.TrimSuffix(buf.String(), "\n"))
}
