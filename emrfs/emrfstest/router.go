package emrfstest

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	"github.com/emrs3/emrs3/emrfs/emrfstest/internal/sigv4"
)

// caller is the authenticated principal of a request.
type caller struct {
	akid    string
	arn     string // user ARN, or role ARN for assumed-role credentials
	session string // assumed-role session ARN, "" for users
}

func (c caller) isAdmin() bool { return c.arn == AdminARN }

// serveHTTP authenticates a request and routes it by the service in its
// credential scope.
func (s *Stack) serveHTTP(w http.ResponseWriter, r *http.Request) {
	svc := guessService(r)
	res, err := s.verifier.Verify(r)
	if err != nil {
		var e *sigv4.Error
		if !errors.As(err, &e) {
			e = &sigv4.Error{Kind: sigv4.KindMalformed, Msg: err.Error()}
		}
		status := writeAuthError(w, svc, e)
		if svc == "s3" {
			s.S3.setStatus(s.S3.logRequest(r, ""), status)
		}
		return
	}
	id := s.identity(res.Auth.AccessKeyID)
	c := caller{akid: res.Auth.AccessKeyID, arn: id.arn, session: id.session}
	switch res.Auth.Service {
	case "kms":
		s.KMS.serve(w, r, c)
	case "s3":
		s.S3.serve(w, r, c, res)
	case "sts":
		s.STS.serve(w, r, c)
	default:
		writeS3Error(w, http.StatusBadRequest, "InvalidRequest", "service "+res.Auth.Service+" is not emulated; use s3, kms or sts", "")
	}
}

// guessService picks the error dialect for requests whose signature could
// not be verified.
func guessService(r *http.Request) string {
	if a, err := sigv4.ParseAuthorization(r.Header.Get("Authorization")); err == nil {
		return a.Service
	}
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "TrentService.") {
		return "kms"
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") && r.Method == http.MethodPost && r.URL.Path == "/" {
		return "sts"
	}
	return "s3"
}

type authErr struct {
	status int
	code   string
}

var authErrors = map[string]map[sigv4.Kind]authErr{
	"s3": {
		sigv4.KindMissing:     {403, "AccessDenied"},
		sigv4.KindMalformed:   {400, "AuthorizationHeaderMalformed"},
		sigv4.KindUnknownKey:  {403, "InvalidAccessKeyId"},
		sigv4.KindBadToken:    {400, "InvalidToken"},
		sigv4.KindExpired:     {400, "ExpiredToken"},
		sigv4.KindSignature:   {403, "SignatureDoesNotMatch"},
		sigv4.KindSkew:        {403, "RequestTimeTooSkewed"},
		sigv4.KindPayloadHash: {400, "XAmzContentSHA256Mismatch"},
		sigv4.KindUnsupported: {501, "NotImplemented"},
	},
	"kms": {
		sigv4.KindMissing:     {400, "MissingAuthenticationTokenException"},
		sigv4.KindMalformed:   {400, "IncompleteSignatureException"},
		sigv4.KindUnknownKey:  {400, "UnrecognizedClientException"},
		sigv4.KindBadToken:    {400, "UnrecognizedClientException"},
		sigv4.KindExpired:     {400, "ExpiredTokenException"},
		sigv4.KindSignature:   {400, "InvalidSignatureException"},
		sigv4.KindSkew:        {400, "InvalidSignatureException"},
		sigv4.KindPayloadHash: {400, "InvalidSignatureException"},
		sigv4.KindUnsupported: {400, "IncompleteSignatureException"},
	},
	"sts": {
		sigv4.KindMissing:     {403, "MissingAuthenticationToken"},
		sigv4.KindMalformed:   {400, "IncompleteSignature"},
		sigv4.KindUnknownKey:  {403, "InvalidClientTokenId"},
		sigv4.KindBadToken:    {403, "InvalidClientTokenId"},
		sigv4.KindExpired:     {400, "ExpiredToken"},
		sigv4.KindSignature:   {403, "SignatureDoesNotMatch"},
		sigv4.KindSkew:        {403, "SignatureDoesNotMatch"},
		sigv4.KindPayloadHash: {403, "SignatureDoesNotMatch"},
		sigv4.KindUnsupported: {400, "IncompleteSignature"},
	},
}

// writeAuthError writes e in svc's dialect and returns the HTTP status.
func writeAuthError(w http.ResponseWriter, svc string, e *sigv4.Error) int {
	table, ok := authErrors[svc]
	if !ok {
		table, svc = authErrors["s3"], "s3"
	}
	ae, ok := table[e.Kind]
	if !ok {
		ae = table[sigv4.KindMalformed]
	}
	switch svc {
	case "kms":
		writeKMSError(w, ae.status, ae.code, e.Error())
	case "sts":
		writeSTSError(w, ae.status, ae.code, e.Error())
	default:
		writeS3Error(w, ae.status, ae.code, e.Error(), "")
	}
	return ae.status
}

// writeKMSError writes the AWS JSON 1.1 error shape.
func writeKMSError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", requestID())
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// writeS3Error writes the S3 REST-XML error shape.
func writeS3Error(w http.ResponseWriter, status int, code, msg, resource string) {
	type s3Error struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		Resource  string `xml:",omitempty"`
		RequestID string `xml:"RequestId"`
	}
	id := requestID()
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", id)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(s3Error{Code: code, Message: msg, Resource: resource, RequestID: id})
}

// writeSTSError writes the AWS Query protocol error shape.
func writeSTSError(w http.ResponseWriter, status int, code, msg string) {
	type stsError struct {
		XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
		Error   struct {
			Type    string
			Code    string
			Message string
		}
		RequestID string `xml:"RequestId"`
	}
	var e stsError
	e.Error.Type = "Sender"
	if status >= 500 {
		e.Error.Type = "Receiver"
	}
	e.Error.Code, e.Error.Message, e.RequestID = code, msg, requestID()
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", e.RequestID)
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(e)
}
