package sigv4

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

// Authorization is a parsed SigV4 Authorization header.
type Authorization struct {
	AccessKeyID   string   // Credential's access key id
	Date          string   // scope date, YYYYMMDD
	Region        string   // scope region
	Service       string   // scope service, e.g. "s3", "kms", "sts"
	SignedHeaders []string // lower case, as listed
	Signature     string   // lower-case hex
}

// Scope returns the credential scope "date/region/service/aws4_request".
func (a *Authorization) Scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/aws4_request"
}

// ParseAuthorization parses an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex
func ParseAuthorization(h string) (*Authorization, error) {
	alg, rest, ok := strings.Cut(h, " ")
	if !ok {
		return nil, errorf(KindMalformed, "authorization header has no parameters")
	}
	if alg != Algorithm {
		return nil, errorf(KindUnsupported, "algorithm %q is not supported, sign with %s", alg, Algorithm)
	}
	var a Authorization
	var haveCred, haveSH, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, errorf(KindMalformed, "authorization parameter %q has no value", part)
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" || f[0] == "" || len(f[1]) != 8 || f[2] == "" || f[3] == "" {
				return nil, errorf(KindMalformed, "credential %q is not AKID/YYYYMMDD/region/service/aws4_request", v)
			}
			a.AccessKeyID, a.Date, a.Region, a.Service = f[0], f[1], f[2], f[3]
			haveCred = true
		case "SignedHeaders":
			if v == "" {
				return nil, errorf(KindMalformed, "empty SignedHeaders")
			}
			a.SignedHeaders = strings.Split(v, ";")
			for _, h := range a.SignedHeaders {
				if h == "" || h != strings.ToLower(h) {
					return nil, errorf(KindMalformed, "signed header %q must be non-empty lower case", h)
				}
			}
			haveSH = true
		case "Signature":
			if !isHex(v, 64) {
				return nil, errorf(KindMalformed, "signature must be 64 lower-case hex digits")
			}
			a.Signature = v
			haveSig = true
		default:
			return nil, errorf(KindMalformed, "unknown authorization parameter %q", k)
		}
	}
	if !haveCred || !haveSH || !haveSig {
		return nil, errorf(KindMalformed, "authorization needs Credential, SignedHeaders and Signature")
	}
	return &a, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// maxPresignExpiry is the longest validity SigV4 allows a presigned URL.
const maxPresignExpiry = 7 * 24 * time.Hour

// ParsePresigned parses the SigV4 query parameters of a presigned URL.
func ParsePresigned(q url.Values) (*Authorization, time.Duration, error) {
	if alg := q.Get("X-Amz-Algorithm"); alg != Algorithm {
		return nil, 0, errorf(KindUnsupported, "algorithm %q is not supported, sign with %s", alg, Algorithm)
	}
	h := Algorithm + " Credential=" + q.Get("X-Amz-Credential") + ", SignedHeaders=" + q.Get("X-Amz-SignedHeaders") + ", Signature=" + q.Get("X-Amz-Signature")
	if strings.ContainsAny(q.Get("X-Amz-Credential")+q.Get("X-Amz-SignedHeaders")+q.Get("X-Amz-Signature"), ", ") {
		return nil, 0, errorf(KindMalformed, "presigned parameters must not contain ',' or spaces")
	}
	a, err := ParseAuthorization(h)
	if err != nil {
		return nil, 0, err
	}
	secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || secs < 1 || int64(secs) > int64(maxPresignExpiry/time.Second) {
		return nil, 0, errorf(KindMalformed, "X-Amz-Expires %q must be 1..604800 seconds", q.Get("X-Amz-Expires"))
	}
	if q.Get("X-Amz-Date") == "" {
		return nil, 0, errorf(KindMalformed, "X-Amz-Date query parameter is missing")
	}
	return a, time.Duration(secs) * time.Second, nil
}
