package emrfs

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/emrs3/emrs3/internal/redact"
)

// SSEKind is a kind of Amazon S3 server-side encryption.
type SSEKind string

// The server-side encryption kinds.
const (
	// SSES3 is SSE-S3: S3-managed keys, header value AES256.
	SSES3 SSEKind = "SSE-S3"
	// SSEKMS is SSE-KMS: a KMS key, header value aws:kms.
	SSEKMS SSEKind = "SSE-KMS"
	// DSSEKMS is dual-layer SSE-KMS, header value aws:kms:dsse.
	DSSEKMS SSEKind = "DSSE-KMS"
	// SSEC is SSE-C: a customer-provided AES-256 key sent with every request.
	SSEC SSEKind = "SSE-C"
)

// SSE is the server-side encryption of one bucket; a nil *SSE means none and
// requests carry no SSE fields (a copy from an SSE-C source still carries
// the source's key).
//
// The Client sets the SSE fields of its S3 requests from it: the
// x-amz-server-side-encryption headers go on PutObject,
// CreateMultipartUpload and CopyObject (never on GetObject or HeadObject,
// which S3 rejects); the SSE-C headers go on every call that reads or writes
// the object's data, CompleteMultipartUpload included.
//
// An SSE is safe for concurrent use once built; do not modify its fields
// while requests are being prepared with it.
type SSE struct {
	// Kind selects the encryption.
	Kind SSEKind
	// KMSKeyID is the KMS key (id, ARN or alias) for SSE-KMS and DSSE-KMS;
	// empty means the account's default key aws/s3.
	KMSKeyID string
	// Context is the SSE-KMS / DSSE-KMS encryption context. It is sent as
	// base64-encoded JSON and appears in CloudTrail: it is not secret.
	Context map[string]string
	// BucketKey, when non-nil, sets BucketKeyEnabled on SSE-KMS writes. No
	// property sets it: Go callers may, with Options.Bucket.
	BucketKey *bool

	// customer holds the SSE-C key; behind a pointer so that printing an
	// SSE value with %v shows an address, not key material.
	customer *customerKey
}

type customerKey struct {
	// keyB64 is the base64 of the raw 32-byte key, as S3 wants it; a
	// redact.Text so that no fmt verb, reflection included, prints it.
	keyB64 redact.Text
	md5B64 string // base64 of the MD5 of the raw key
}

// NewSSEC returns SSE-C with the given raw 256-bit AES key. The key is
// copied (into its base64 form); the caller may wipe its slice afterwards.
func NewSSEC(key []byte) (*SSE, error) {
	if len(key) != 32 {
		return nil, newConfigError("", "SSE-C key", "", fmt.Sprintf("is %d bytes, want 32 (AES-256)", len(key)), "use a 256-bit random key")
	}
	sum := md5.Sum(key)
	return &SSE{Kind: SSEC, customer: &customerKey{
		keyB64: redact.NewText(base64.StdEncoding.EncodeToString(key)),
		md5B64: base64.StdEncoding.EncodeToString(sum[:]),
	}}, nil
}

// CustomerKeyMD5 returns the base64 MD5 digest of the SSE-C key (what S3
// stores to check later requests), or "" when s is not SSE-C.
func (s *SSE) CustomerKeyMD5() string {
	if s == nil || s.customer == nil {
		return ""
	}
	return s.customer.md5B64
}

func (s *SSE) isSSEC() bool { return s != nil && s.Kind == SSEC && s.customer != nil }

// header returns the x-amz-server-side-encryption value, or "" for none and
// SSE-C.
func (s *SSE) header() types.ServerSideEncryption {
	if s == nil {
		return ""
	}
	switch s.Kind {
	case SSES3:
		return types.ServerSideEncryptionAes256
	case SSEKMS:
		return types.ServerSideEncryptionAwsKms
	case DSSEKMS:
		return types.ServerSideEncryptionAwsKmsDsse
	}
	return ""
}

func (s *SSE) isKMS() bool { return s != nil && (s.Kind == SSEKMS || s.Kind == DSSEKMS) }

// kmsFields returns the pointers for SSEKMSKeyId and SSEKMSEncryptionContext.
func (s *SSE) kmsFields() (keyID, context *string) {
	if !s.isKMS() {
		return nil, nil
	}
	if s.KMSKeyID != "" {
		keyID = aws.String(s.KMSKeyID)
	}
	if len(s.Context) > 0 {
		context = aws.String(encodeContext(s.Context))
	}
	return keyID, context
}

// encodeContext returns base64(JSON(ctx)); JSON object keys are sorted, so
// the result is deterministic.
func encodeContext(ctx map[string]string) string {
	b, err := json.Marshal(ctx)
	if err != nil { // a map[string]string always marshals
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func (s *SSE) customerFields() (alg, key, md5 *string) {
	if !s.isSSEC() {
		return nil, nil, nil
	}
	return aws.String("AES256"), aws.String(s.customer.keyB64.Value()), aws.String(s.customer.md5B64)
}

func (s *SSE) bucketKey() *bool {
	if !s.isKMS() || s.BucketKey == nil {
		return nil
	}
	return aws.Bool(*s.BucketKey)
}

// fill sets the SSE fields t points at for an object of a bucket with
// encryption s (a nil s sets none), and the copy source's SSE-C key when
// src is SSE-C. Only SSE-C is sent again on the requests after a write
// (its parts, its completion) and on reads; the other kinds are fixed by
// the request that creates the object.
func (s *SSE) fill(t sseTargets, src *SSE) {
	if s != nil {
		if t.kind != nil {
			*t.kind = s.header()
		}
		if t.kmsKeyID != nil {
			*t.kmsKeyID, *t.kmsContext = s.kmsFields()
		}
		if t.bucketKey != nil {
			*t.bucketKey = s.bucketKey()
		}
		if t.customer.alg != nil {
			*t.customer.alg, *t.customer.key, *t.customer.md5 = s.customerFields()
		}
	}
	if src.isSSEC() && t.source.alg != nil {
		*t.source.alg, *t.source.key, *t.source.md5 = src.customerFields()
	}
}

// apply sets the SSE fields of in, an S3 request (see fieldsOf), as send
// does; src is the copy source's encryption.
func (s *SSE) apply(in any, src *SSE) { s.fill(fieldsOf(in).sse, src) }

// String describes s without key material: the SSE-C key is never shown.
func (s *SSE) String() string {
	if s == nil {
		return "none"
	}
	var parts []string
	if s.KMSKeyID != "" && s.isKMS() {
		parts = append(parts, "key="+s.KMSKeyID)
	} else if s.isKMS() {
		parts = append(parts, "key=aws/s3 (account default)")
	}
	if len(s.Context) > 0 && s.isKMS() {
		keys := make([]string, 0, len(s.Context))
		for k := range s.Context {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		kv := make([]string, len(keys))
		for i, k := range keys {
			kv[i] = k + "=" + s.Context[k]
		}
		parts = append(parts, "context={"+strings.Join(kv, ",")+"}")
	}
	if s.BucketKey != nil && s.isKMS() {
		parts = append(parts, fmt.Sprintf("bucketKey=%t", *s.BucketKey))
	}
	if s.Kind == SSEC {
		parts = append(parts, "key="+redacted)
	}
	if len(parts) == 0 {
		return string(s.Kind)
	}
	return string(s.Kind) + "(" + strings.Join(parts, ", ") + ")"
}

// GoString is String, so that %#v does not print key material either.
func (s *SSE) GoString() string { return s.String() }
