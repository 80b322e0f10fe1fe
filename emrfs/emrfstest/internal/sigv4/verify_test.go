package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	exampleAKID   = "AKIAIOSFODNN7EXAMPLE"
	exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

var exampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func exampleVerifier() *Verifier {
	return &Verifier{
		Region: "us-east-1",
		Now:    func() time.Time { return exampleTime },
		Lookup: func(id string) (Credential, bool) {
			switch id {
			case exampleAKID:
				return Credential{AccessKeyID: id, SecretAccessKey: exampleSecret}, true
			case "ASIATEMP":
				return Credential{AccessKeyID: id, SecretAccessKey: exampleSecret, SessionToken: "tok", Expires: exampleTime.Add(time.Hour)}, true
			case "ASIAOLD":
				return Credential{AccessKeyID: id, SecretAccessKey: exampleSecret, SessionToken: "tok", Expires: exampleTime.Add(-time.Second)}, true
			}
			return Credential{}, false
		},
	}
}

// The GET-object example of the Amazon S3 SigV4 documentation.
func TestVerifyAWSDocumentationGetObject(t *testing.T) {
	r := httptest.NewRequest("GET", "/test.txt", nil)
	r.Host = "examplebucket.s3.amazonaws.com"
	r.Header.Set("Range", "bytes=0-9")
	r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
	res, err := exampleVerifier().Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Auth.AccessKeyID != exampleAKID || res.Auth.Service != "s3" {
		t.Fatalf("result %+v", res.Auth)
	}
	r.Header.Set("Range", "bytes=0-10")
	if _, err := exampleVerifier().Verify(r); !errors.Is(err, &Error{Kind: KindSignature}) {
		t.Fatalf("tampered range: err = %v, want signature mismatch", err)
	}
}

// The aws-chunked upload example of the Amazon S3 SigV4 documentation.
func TestVerifyAWSDocumentationChunkedUpload(t *testing.T) {
	payload := bytes.Repeat([]byte{'a'}, 66560)
	var body bytes.Buffer
	body.WriteString("10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n")
	body.Write(payload[:65536])
	body.WriteString("\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n")
	body.Write(payload[65536:])
	body.WriteString("\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n")
	raw := body.Bytes()
	if len(raw) != 66824 {
		t.Fatalf("framed length %d, want 66824", len(raw))
	}
	newReq := func(b []byte) *http.Request {
		r := httptest.NewRequest("PUT", "/examplebucket/chunkObject.txt", bytes.NewReader(b))
		r.Host = "s3.amazonaws.com"
		r.Header.Set("X-Amz-Date", "20130524T000000Z")
		r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
		r.Header.Set("X-Amz-Content-Sha256", StreamingSigned)
		r.Header.Set("Content-Encoding", "aws-chunked")
		r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
		r.Header.Set("Content-Length", "66824")
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
		return r
	}
	r := newReq(raw)
	if _, err := exampleVerifier().Verify(r); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r.Body)
	if !bytes.Equal(got, payload) || r.ContentLength != 66560 || r.Header.Get("Content-Encoding") != "" {
		t.Fatalf("decoded %d bytes, ContentLength %d, Content-Encoding %q", len(got), r.ContentLength, r.Header.Get("Content-Encoding"))
	}
	tampered := bytes.Clone(raw)
	tampered[66000] = 'b'
	if _, err := exampleVerifier().Verify(newReq(tampered)); !errors.Is(err, &Error{Kind: KindSignature}) {
		t.Fatalf("tampered chunk: err = %v, want signature mismatch", err)
	}
}

// signed builds a request signed by the aws-sdk-go-v2 signer.
func signed(t *testing.T, method, target, service string, body []byte, hdr map[string]string, creds aws.Credentials, payloadHash string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	r.Host = "127.0.0.1:9000"
	r.URL.Host = r.Host
	r.URL.Scheme = "http"
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	if service == "s3" {
		r.Header.Set("X-Amz-Content-Sha256", payloadHash)
	}
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	if err := s.SignHTTP(context.Background(), creds, r, payloadHash, service, "us-east-1", exampleTime); err != nil {
		t.Fatal(err)
	}
	r.RequestURI = r.URL.RequestURI()
	return r
}

func TestVerifyTable(t *testing.T) {
	static := aws.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: exampleSecret}
	temp := aws.Credentials{AccessKeyID: "ASIATEMP", SecretAccessKey: exampleSecret, SessionToken: "tok"}
	body := []byte(`{"KeyId":"alias/x"}`)
	tests := []struct {
		name    string
		build   func() *http.Request
		tamper  func(r *http.Request)
		want    Kind // 0 = success
		payload string
	}{
		{name: "kms json", build: func() *http.Request {
			return signed(t, "POST", "/", "kms", body, map[string]string{"X-Amz-Target": "TrentService.Encrypt", "Content-Type": "application/x-amz-json-1.1"}, static, "")
		}},
		{name: "s3 key with spaces and query", build: func() *http.Request {
			return signed(t, "GET", "/bucket/a%20b/c+d~e?list-type=2&prefix=a%2Fb&delimiter=%2F", "s3", nil, nil, static, UnsignedPayload)
		}},
		{name: "s3 put with body hash", build: func() *http.Request {
			return signed(t, "PUT", "/bucket/k", "s3", []byte("hello"), map[string]string{"X-Amz-Meta-A": "  x   y "}, static, "")
		}},
		{name: "session token", build: func() *http.Request {
			return signed(t, "GET", "/bucket/k", "s3", nil, nil, temp, UnsignedPayload)
		}},
		{name: "tampered signature", want: KindSignature, build: func() *http.Request {
			return signed(t, "POST", "/", "kms", body, nil, static, "")
		}, tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			last := a[len(a)-1]
			if last == '0' {
				last = '1'
			} else {
				last = '0'
			}
			r.Header.Set("Authorization", a[:len(a)-1]+string(last))
		}},
		{name: "tampered body", want: KindSignature, build: func() *http.Request {
			return signed(t, "POST", "/", "kms", body, nil, static, "")
		}, tamper: func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(`{"KeyId":"alias/y"}`)) }},
		{name: "s3 body differs from content sha", want: KindPayloadHash, build: func() *http.Request {
			return signed(t, "PUT", "/b/k", "s3", []byte("hello"), nil, static, "")
		}, tamper: func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader("HELLO")) }},
		{name: "tampered query", want: KindSignature, build: func() *http.Request {
			return signed(t, "GET", "/b?prefix=a", "s3", nil, nil, static, UnsignedPayload)
		}, tamper: func(r *http.Request) { r.URL.RawQuery = "prefix=b" }},
		{name: "wrong secret", want: KindSignature, build: func() *http.Request {
			return signed(t, "GET", "/b/k", "s3", nil, nil, aws.Credentials{AccessKeyID: exampleAKID, SecretAccessKey: "nope"}, UnsignedPayload)
		}},
		{name: "unknown key", want: KindUnknownKey, build: func() *http.Request {
			return signed(t, "GET", "/b/k", "s3", nil, nil, aws.Credentials{AccessKeyID: "AKIDUNKNOWN", SecretAccessKey: "x"}, UnsignedPayload)
		}},
		{name: "missing token", want: KindBadToken, build: func() *http.Request {
			return signed(t, "GET", "/b/k", "s3", nil, nil, aws.Credentials{AccessKeyID: "ASIATEMP", SecretAccessKey: exampleSecret}, UnsignedPayload)
		}},
		{name: "expired", want: KindExpired, build: func() *http.Request {
			return signed(t, "GET", "/b/k", "s3", nil, nil, aws.Credentials{AccessKeyID: "ASIAOLD", SecretAccessKey: exampleSecret, SessionToken: "tok"}, UnsignedPayload)
		}},
		{name: "unsigned", want: KindMissing, build: func() *http.Request { return httptest.NewRequest("GET", "/b/k", nil) }},
		{name: "kms unsigned payload", want: KindMalformed, build: func() *http.Request {
			return signed(t, "POST", "/", "kms", body, map[string]string{"X-Amz-Target": "TrentService.Encrypt", "X-Amz-Content-Sha256": UnsignedPayload}, static, UnsignedPayload)
		}},
		{name: "kms streaming payload", want: KindMalformed, build: func() *http.Request {
			return signed(t, "POST", "/", "kms", body, map[string]string{"X-Amz-Target": "TrentService.Encrypt", "X-Amz-Content-Sha256": StreamingSigned}, static, StreamingSigned)
		}},
		{name: "kms body hash in X-Amz-Content-Sha256", build: func() *http.Request {
			sum := sha256.Sum256(body)
			h := hex.EncodeToString(sum[:])
			return signed(t, "POST", "/", "kms", body, map[string]string{"X-Amz-Target": "TrentService.Encrypt", "X-Amz-Content-Sha256": h}, static, h)
		}},
		{name: "kms x-amz-target not signed", want: KindMalformed, build: func() *http.Request {
			return signed(t, "POST", "/", "kms", body, nil, static, "")
		}, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Target", "TrentService.Decrypt") }},
		{name: "skewed", want: KindSkew, build: func() *http.Request {
			return signed(t, "GET", "/b/k", "s3", nil, nil, static, UnsignedPayload)
		}, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20130524T200000Z") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.build()
			if tc.tamper != nil {
				tc.tamper(r)
			}
			_, err := exampleVerifier().Verify(r)
			if tc.want == 0 {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != tc.want {
				t.Fatalf("Verify err = %v, want kind %v", err, tc.want)
			}
		})
	}
}

func TestChunkedRoundTrip(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 1000)
	key := SigningKey(exampleSecret, "20130524", "us-east-1", "s3")
	trailers := [][2]string{{"x-amz-checksum-crc32", "AAAAAA=="}}
	for _, m := range []ChunkMode{
		{Signed: true},
		{Signed: true, Trailer: true},
		{Trailer: true},
	} {
		m.Key, m.Date, m.Scope, m.Seed = key, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", strings.Repeat("ab", 32)
		for _, size := range []int{1, 999, 10000, 65536} {
			enc := EncodeChunked(payload, size, m, trailers)
			got, tr, err := DecodeChunked(enc, m)
			if err != nil {
				t.Fatalf("%+v size %d: %v", m, size, err)
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("%+v size %d: payload differs", m, size)
			}
			if m.Trailer && tr.Get("X-Amz-Checksum-Crc32") != "AAAAAA==" {
				t.Fatalf("trailers %v", tr)
			}
			if m.Signed {
				bad := bytes.Clone(enc)
				bad[len(bad)/2] ^= 1
				if _, _, err := DecodeChunked(bad, m); err == nil {
					t.Fatalf("%+v size %d: flipped byte accepted", m, size)
				}
			}
		}
	}
	empty := ChunkMode{Trailer: true}
	got, _, err := DecodeChunked([]byte("0\r\n\r\n"), empty)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty body: %q %v", got, err)
	}
}

func TestParseAuthorizationErrors(t *testing.T) {
	for _, h := range []string{
		"",
		"AWS4-HMAC-SHA256",
		"AWS AKID:sig",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=" + strings.Repeat("a", 64),
		"AWS4-HMAC-SHA256 Credential=a/20130524/us-east-1/s3/aws4_request, SignedHeaders=Host, Signature=" + strings.Repeat("a", 64),
		"AWS4-HMAC-SHA256 Credential=a/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=xyz",
		"AWS4-HMAC-SHA256 Credential=a/20130524/us-east-1/s3/aws4_request, SignedHeaders=host",
	} {
		if _, err := ParseAuthorization(h); err == nil {
			t.Errorf("ParseAuthorization(%q) succeeded", h)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			return
		}
		if a.AccessKeyID == "" || len(a.Signature) != 64 || len(a.SignedHeaders) == 0 {
			t.Fatalf("accepted incomplete header: %+v", a)
		}
	})
}

func FuzzDecodeChunked(f *testing.F) {
	key := SigningKey(exampleSecret, "20130524", "us-east-1", "s3")
	signed := ChunkMode{Signed: true, Trailer: true, Key: key, Date: "20130524T000000Z", Scope: "20130524/us-east-1/s3/aws4_request", Seed: strings.Repeat("ab", 32)}
	f.Add(EncodeChunked([]byte("hello world"), 4, ChunkMode{Trailer: true}, [][2]string{{"x-amz-checksum-crc32", "abc"}}), false, true)
	f.Add(EncodeChunked([]byte("hello world"), 4, signed, [][2]string{{"x-amz-checksum-crc32", "abc"}}), true, true)
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), false, false)
	f.Fuzz(func(t *testing.T, body []byte, sign, trailer bool) {
		mode := ChunkMode{Trailer: trailer}
		if sign {
			mode = signed
			mode.Trailer = trailer
		}
		out, _, err := DecodeChunked(body, mode)
		if err == nil && len(out) > len(body) {
			t.Fatalf("decoded %d bytes from %d", len(out), len(body))
		}
		if err == nil && sign {
			// A verified signed body re-encodes to the same chunk contents.
			if _, _, err := DecodeChunked(EncodeChunked(out, max(len(out), 1), mode, nil), mode); err != nil {
				t.Fatalf("re-encoded body rejected: %v", err)
			}
		}
	})
}

// The presigned GET example of the Amazon S3 SigV4 documentation.
func TestVerifyAWSDocumentationPresigned(t *testing.T) {
	const target = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
	const sig = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
	req := func(sig string) *http.Request {
		r := httptest.NewRequest("GET", target+sig, nil)
		r.Host = "examplebucket.s3.amazonaws.com"
		return r
	}
	v := exampleVerifier()
	if _, err := v.Verify(req(sig)); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(sig, "a", "b", 1)
	if _, err := v.Verify(req(bad)); !errors.Is(err, &Error{Kind: KindSignature}) {
		t.Fatalf("tampered: %v", err)
	}
	v.Now = func() time.Time { return exampleTime.Add(24*time.Hour + time.Second) }
	if _, err := v.Verify(req(sig)); !errors.Is(err, &Error{Kind: KindExpired}) {
		t.Fatalf("after X-Amz-Expires: %v", err)
	}
}

func FuzzParsePresigned(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256", "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request", "host", "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404", "86400", "20130524T000000Z")
	f.Fuzz(func(t *testing.T, alg, cred, signed, sig, expires, date string) {
		q := url.Values{"X-Amz-Algorithm": {alg}, "X-Amz-Credential": {cred}, "X-Amz-SignedHeaders": {signed}, "X-Amz-Signature": {sig}, "X-Amz-Expires": {expires}, "X-Amz-Date": {date}}
		a, d, err := ParsePresigned(q)
		if err != nil {
			return
		}
		if d <= 0 || d > maxPresignExpiry || a.AccessKeyID == "" || len(a.Signature) != 64 {
			t.Fatalf("accepted %+v, %s", a, d)
		}
	})
}

// FuzzVerify feeds arbitrary requests to the verifier: it must reject
// them without panicking, and accept nothing it was not signed for.
func FuzzVerify(f *testing.F) {
	f.Add("GET", "/bucket/key?list-type=2", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-date,Signature="+strings.Repeat("0", 64), "20130524T000000Z", StreamingSigned, []byte("0;chunk-signature="+strings.Repeat("0", 64)+"\r\n\r\n"))
	f.Add("PUT", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature="+strings.Repeat("a", 64), "", "", StreamingUnsignedTrailer, []byte("1\r\nx\r\n0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, method, target, auth, date, payload string, body []byte) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := &http.Request{Method: method, URL: u, RequestURI: target, Host: "127.0.0.1", Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		r.Header.Set("Authorization", auth)
		r.Header.Set("X-Amz-Date", date)
		r.Header.Set("X-Amz-Content-Sha256", payload)
		if _, err := exampleVerifier().Verify(r); err == nil {
			t.Fatalf("accepted a request with a made-up signature: %s %s %q", method, target, auth)
		}
	})
}
