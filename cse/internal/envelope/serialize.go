package envelope

import (
	"encoding/base64"
	"fmt"
	"mime"
	"strconv"
	"unicode/utf8"
)

// Fields returns the envelope as a flat map of metadata keys (no prefix) to
// values, exactly as it is stored. Values are not RFC 2047 encoded.
func (e *Envelope) Fields() (map[string]string, error) {
	m := map[string]string{}
	b := base64.StdEncoding.EncodeToString
	switch e.Version {
	case 1:
		m[KeyV1] = b(e.EncryptedKey)
		m[IV] = b(e.IV)
		m[MatDesc] = MarshalMatDesc(e.MatDesc)
	case 2:
		m[KeyV2] = b(e.EncryptedKey)
		m[IV] = b(e.IV)
		m[MatDesc] = MarshalMatDesc(e.MatDesc)
		m[CEKAlg] = e.CEKAlg
		if e.WrapAlg != WrapNone {
			m[WrapAlg] = e.WrapAlg
		}
		if e.CEKAlg == AlgGCM {
			m[TagLen] = strconv.Itoa(TagBits)
		}
	case 3:
		code, ok := v3WrapCode(e.WrapAlg)
		if !ok {
			return nil, fmt.Errorf("envelope: wrap algorithm %q has no V3 code", e.WrapAlg)
		}
		m[V3ContentAlg] = AlgCommitting
		m[V3Key] = b(e.EncryptedKey)
		m[V3WrapAlg] = code
		m[V3Commitment] = b(e.Commitment)
		m[V3MessageID] = b(e.MessageID)
		if e.WrapAlg == WrapKMSContext {
			m[V3Context] = MarshalMatDesc(e.Context)
		} else {
			m[V3MatDesc] = MarshalMatDesc(e.MatDesc)
		}
	default:
		return nil, fmt.Errorf("envelope: unknown format version %d", e.Version)
	}
	if e.PlaintextSize >= 0 {
		m[UnencryptedLength] = strconv.FormatInt(e.PlaintextSize, 10)
	}
	return m, nil
}

// Metadata returns the envelope as object user metadata (keys without the
// "x-amz-meta-" prefix). Values that are not printable ASCII are RFC 2047
// encoded, as S3 requires for header values.
func (e *Envelope) Metadata() (map[string]string, error) {
	m, err := e.Fields()
	if err != nil {
		return nil, err
	}
	for k, v := range m {
		m[k] = EncodeHeaderValue(v)
	}
	return m, nil
}

// Split returns the envelope in instruction-file mode: the metadata that
// stays on the object and the JSON body of the "<key>.instruction" object.
// The unencrypted length stays on the object (and is repeated in the file,
// as aws-sdk-go s3crypto does); for V3 x-amz-c, x-amz-d and x-amz-i stay on
// the object only.
func (e *Envelope) Split() (objectMeta map[string]string, instruction []byte, err error) {
	f, err := e.Fields()
	if err != nil {
		return nil, nil, err
	}
	objectMeta = map[string]string{}
	if v, ok := f[UnencryptedLength]; ok {
		objectMeta[UnencryptedLength] = v
	}
	if e.Version == 3 {
		for _, k := range []string{V3ContentAlg, V3Commitment, V3MessageID} {
			objectMeta[k] = f[k]
			delete(f, k)
		}
		delete(f, UnencryptedLength)
	}
	return objectMeta, []byte(MarshalMatDesc(f)), nil
}

// EncodeHeaderValue RFC 2047 encodes v when it holds bytes outside printable
// ASCII, and returns it unchanged otherwise.
func EncodeHeaderValue(v string) string {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e {
			if !utf8.ValidString(v) {
				return v
			}
			return mime.BEncoding.Encode("UTF-8", v)
		}
	}
	return v
}
