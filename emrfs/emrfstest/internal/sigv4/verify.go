package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Payload hash values with a special meaning in X-Amz-Content-Sha256.
const (
	UnsignedPayload              = "UNSIGNED-PAYLOAD"
	StreamingSigned              = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingSignedTrailer       = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedTrailer     = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	timeFormat                   = "20060102T150405Z"
	emptySHA256                  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	defaultMaxSkew               = 15 * time.Minute
	streamingPayloadPrefix       = "STREAMING-"
	headerContentSHA256          = "X-Amz-Content-Sha256"
	headerDecodedContentLength   = "X-Amz-Decoded-Content-Length"
	headerSecurityToken          = "X-Amz-Security-Token"
	headerDate                   = "X-Amz-Date"
	headerTarget                 = "X-Amz-Target"
	maxBody                      = 1 << 30
	chunkedContentEncodingMarker = "aws-chunked"
)

// Credential is a registered secret.
type Credential struct {
	AccessKeyID     string    // the key id the lookup matched
	SecretAccessKey string    // the signing secret; never returned in errors
	SessionToken    string    // required in X-Amz-Security-Token when set
	Expires         time.Time // zero = never
}

// Verifier checks signed requests against registered credentials.
type Verifier struct {
	// Region every request must be scoped to.
	Region string
	// Lookup returns the credential registered for an access key id.
	Lookup func(accessKeyID string) (Credential, bool)
	// Now is the server clock; nil = time.Now.
	Now func() time.Time
	// MaxSkew is the accepted distance between X-Amz-Date and Now; 0 = 15m.
	MaxSkew time.Duration
}

// Result describes a verified request.
type Result struct {
	Auth        *Authorization // the parsed Authorization (or presigned query)
	Credential  Credential     // the credential that signed the request
	Time        time.Time      // X-Amz-Date
	PayloadHash string         // the X-Amz-Content-Sha256 value or the computed hash
	// Trailers holds the aws-chunked trailing headers (checksums), if any.
	Trailers http.Header
}

// Verify checks the signature of r. On success the body of r has been
// replaced by the verified, decoded payload (aws-chunked framing removed,
// Content-Length set to the decoded length), so handlers can read it as a
// plain body.
func (v *Verifier) Verify(r *http.Request) (*Result, error) {
	var a *Authorization
	var ds, token string
	var expires time.Duration // presigned URLs only
	presigned := false
	if h := r.Header.Get("Authorization"); h != "" {
		var err error
		if a, err = ParseAuthorization(h); err != nil {
			return nil, err
		}
		ds, token = r.Header.Get(headerDate), r.Header.Get(headerSecurityToken)
		if ds == "" {
			return nil, errorf(KindMalformed, "X-Amz-Date header is missing")
		}
	} else if q := r.URL.Query(); q.Has("X-Amz-Algorithm") {
		var err error
		if a, expires, err = ParsePresigned(q); err != nil {
			return nil, err
		}
		ds, token, presigned = q.Get("X-Amz-Date"), q.Get("X-Amz-Security-Token"), true
	} else {
		return nil, errorf(KindMissing, "request is not signed; sign it with SigV4")
	}
	if a.Region != v.Region {
		return nil, errorf(KindMalformed, "credential scope region %q is wrong; expecting %q", a.Region, v.Region)
	}
	t, err := time.Parse(timeFormat, ds)
	if err != nil {
		return nil, errorf(KindMalformed, "X-Amz-Date %q is not YYYYMMDDTHHMMSSZ", ds)
	}
	if ds[:8] != a.Date {
		return nil, errorf(KindMalformed, "credential scope date %s does not match X-Amz-Date %s", a.Date, ds)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	skew := v.MaxSkew
	if skew == 0 {
		skew = defaultMaxSkew
	}
	n := now()
	if presigned {
		if n.Before(t.Add(-skew)) || n.After(t.Add(expires)) {
			return nil, errorf(KindExpired, "presigned URL signed at %s for %s is not valid at %s", t.Format(time.RFC3339), expires, n.UTC().Format(time.RFC3339))
		}
	} else if d := n.Sub(t); d > skew || d < -skew {
		return nil, errorf(KindSkew, "request time %s differs from server time %s by more than %s", t.Format(time.RFC3339), n.UTC().Format(time.RFC3339), skew)
	}
	if !contains(a.SignedHeaders, "host") {
		return nil, errorf(KindMalformed, "the host header must be signed")
	}
	// AWS JSON services (KMS) route on X-Amz-Target; an unsigned one would
	// let anyone who sees a request replay it as another operation.
	if a.Service != "s3" && r.Header.Get(headerTarget) != "" && !contains(a.SignedHeaders, "x-amz-target") {
		return nil, errorf(KindMalformed, "the x-amz-target header must be signed (SignedHeaders is %s)", strings.Join(a.SignedHeaders, ";"))
	}
	cred, ok := v.Lookup(a.AccessKeyID)
	if !ok {
		return nil, errorf(KindUnknownKey, "access key id %q is not registered", a.AccessKeyID)
	}
	if cred.SessionToken != "" {
		if subtle.ConstantTimeCompare([]byte(token), []byte(cred.SessionToken)) != 1 {
			return nil, errorf(KindBadToken, "temporary access key %q needs its session token in X-Amz-Security-Token", a.AccessKeyID)
		}
	}
	if !cred.Expires.IsZero() && !n.Before(cred.Expires) {
		return nil, errorf(KindExpired, "temporary credentials %q expired at %s; refresh them", a.AccessKeyID, cred.Expires.UTC().Format(time.RFC3339))
	}

	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	payloadHash := r.Header.Get(headerContentSHA256)
	if presigned && payloadHash == "" && a.Service == "s3" {
		payloadHash = UnsignedPayload
	}
	switch {
	case payloadHash == "":
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	case (payloadHash == UnsignedPayload || strings.HasPrefix(payloadHash, streamingPayloadPrefix)) && a.Service != "s3":
		// Only S3 accepts an unsigned or streamed body; every other
		// service signs the SHA-256 of the whole body.
		return nil, errorf(KindMalformed, "X-Amz-Content-Sha256 %q is accepted only by s3; service %s needs the SHA-256 of the body signed", payloadHash, a.Service)
	case payloadHash == UnsignedPayload, strings.HasPrefix(payloadHash, streamingPayloadPrefix):
	case isHex(payloadHash, 64):
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != payloadHash {
			return nil, errorf(KindPayloadHash, "the body does not hash to the X-Amz-Content-Sha256 value")
		}
	default:
		return nil, errorf(KindMalformed, "X-Amz-Content-Sha256 %q is neither a hex SHA-256 nor a known payload form", payloadHash)
	}

	key := SigningKey(cred.SecretAccessKey, a.Date, a.Region, a.Service)
	creq := CanonicalRequest(r, a.Service, a.SignedHeaders, payloadHash)
	if presigned {
		creq = canonicalRequest(r, a.Service, a.SignedHeaders, payloadHash, true)
	}
	sts := StringToSign(ds, a.Scope(), creq)
	want := hex.EncodeToString(hmacSHA256(key, []byte(sts)))
	if subtle.ConstantTimeCompare([]byte(want), []byte(a.Signature)) != 1 {
		return nil, errorf(KindSignature, "the signature computed from the request does not match the one provided; check the secret key and signing method")
	}

	res := &Result{Auth: a, Credential: cred, Time: t, PayloadHash: payloadHash}
	if strings.HasPrefix(payloadHash, streamingPayloadPrefix) {
		var mode ChunkMode
		switch payloadHash {
		case StreamingSigned:
			mode = ChunkMode{Signed: true}
		case StreamingSignedTrailer:
			mode = ChunkMode{Signed: true, Trailer: true}
		case StreamingUnsignedTrailer:
			mode = ChunkMode{Trailer: true}
		default:
			return nil, errorf(KindUnsupported, "payload form %q is not supported (SigV4a is not emulated)", payloadHash)
		}
		mode.Key, mode.Date, mode.Scope, mode.Seed = key, ds, a.Scope(), a.Signature
		decoded, trailers, err := DecodeChunked(body, mode)
		if err != nil {
			return nil, err
		}
		if dl := r.Header.Get(headerDecodedContentLength); dl != "" && dl != strconv.Itoa(len(decoded)) {
			return nil, errorf(KindMalformed, "X-Amz-Decoded-Content-Length %s does not match the %d decoded bytes", dl, len(decoded))
		}
		body, res.Trailers = decoded, trailers
		removeChunkedEncoding(r.Header)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	if r.ContentLength > 0 || r.Header.Get("Content-Length") != "" {
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	return res, nil
}

func removeChunkedEncoding(h http.Header) {
	var keep []string
	for _, ce := range h.Values("Content-Encoding") {
		for p := range strings.SplitSeq(ce, ",") {
			if p = strings.TrimSpace(p); p != "" && p != chunkedContentEncodingMarker {
				keep = append(keep, p)
			}
		}
	}
	h.Del("Content-Encoding")
	if len(keep) > 0 {
		h.Set("Content-Encoding", strings.Join(keep, ","))
	}
	h.Del(headerDecodedContentLength)
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	_ = r.Body.Close()
	if err != nil {
		return nil, errorf(KindMalformed, "reading body: %v", err)
	}
	if len(b) > maxBody {
		return nil, errorf(KindMalformed, "body larger than %d bytes", maxBody)
	}
	return b, nil
}

// SigningKey derives the SigV4 signing key.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

// StringToSign builds the SigV4 string to sign for a canonical request.
func StringToSign(amzDate, scope, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// CanonicalRequest builds the SigV4 canonical request of a received request.
// S3 paths are used as sent; other services' paths are escaped once more,
// as their clients sign them.
func CanonicalRequest(r *http.Request, service string, signedHeaders []string, payloadHash string) string {
	return canonicalRequest(r, service, signedHeaders, payloadHash, false)
}

func canonicalRequest(r *http.Request, service string, signedHeaders []string, payloadHash string, presigned bool) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalPath(r, service))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r, presigned))
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

func canonicalPath(r *http.Request, service string) string {
	p := r.RequestURI
	if p == "" || !strings.HasPrefix(p, "/") {
		p = r.URL.EscapedPath()
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		p = "/"
	}
	if service == "s3" {
		return p
	}
	return escapePath(p)
}

// escapePath escapes every byte but the unreserved ones and '/'.
func escapePath(p string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || c == '-' || c == '_' || c == '.' || c == '~' ||
			('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func canonicalQuery(r *http.Request, presigned bool) string {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		// An unparsable query cannot have been signed by an SDK; an
		// impossible canonical query makes the signature check fail.
		return "\x00invalid"
	}
	if presigned {
		q.Del("X-Amz-Signature")
	}
	for k, vs := range q {
		sort.Strings(vs)
		q[k] = vs
	}
	return strings.ReplaceAll(q.Encode(), "+", "%20")
}

func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values("Content-Length")
		if len(vals) == 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		vals = r.TransferEncoding
	default:
		vals = r.Header.Values(name)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
