package emrfstest

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// STS is the AWS STS emulator of a Stack (Query protocol): AssumeRole
// against a trust table, and GetCallerIdentity. Issued credentials
// (ASIA... key, secret, session token) are accepted by S3 and KMS until
// they expire; their principal is the role ARN.
type STS struct {
	st *Stack

	mu          sync.Mutex
	roles       map[string][]string // role ARN -> trusted principal ARNs
	externalIDs map[string]string   // role ARN -> required ExternalId
	duration    time.Duration
	fail        int
	calls       []STSCall
}

// STSCall is one request the STS emulator answered.
type STSCall struct {
	Action          string    // "AssumeRole" or "GetCallerIdentity"
	Principal       string    // caller ARN (the role ARN for assumed-role callers)
	RoleARN         string    // AssumeRole's RoleArn, "" for GetCallerIdentity
	RoleSessionName string    // AssumeRole's RoleSessionName
	ExternalID      string    // AssumeRole's ExternalId, "" when absent
	DurationSeconds int       // as requested, 0 when absent
	AccessKeyID     string    // issued temporary key, "" on failure
	Err             string    // error code, "" on success
	Time            time.Time // when the call was answered, by the stack's clock
}

var roleSessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

func newSTS(st *Stack) *STS {
	return &STS{st: st, roles: map[string][]string{}, externalIDs: map[string]string{}}
}

// CreateRole registers roleARN (arn:aws:iam::111122223333:role/NAME) and
// the principal ARNs (users or roles) its trust policy allows to assume
// it. With no trusted principals, any principal of the stack may assume
// it. The admin may always assume it. It panics on a malformed ARN.
func (s *STS) CreateRole(roleARN string, trusted ...string) {
	if _, ok := roleName(roleARN); !ok {
		panic(fmt.Sprintf("emrfstest: STS.CreateRole(%q): want arn:aws:iam::%s:role/NAME", roleARN, Account))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[roleARN] = append(s.roles[roleARN], trusted...)
}

// RequireExternalID makes the trust policy of roleARN (created with
// CreateRole) require ExternalId id, as an sts:ExternalId condition does:
// AssumeRole without it, or with another, is denied, for every caller
// including the admin. It panics if the role does not exist.
func (s *STS) RequireExternalID(roleARN, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.roles[roleARN]; !ok {
		panic(fmt.Sprintf("emrfstest: STS.RequireExternalID(%q): create the role first", roleARN))
	}
	s.externalIDs[roleARN] = id
}

// RoleARN returns the ARN of role NAME in the stack's account.
func RoleARN(name string) string { return "arn:aws:iam::" + Account + ":role/" + name }

// SetDuration makes AssumeRole issue credentials valid for d, whatever
// DurationSeconds asked (0 restores the default: DurationSeconds, else 1h).
// Use a short d to test credential refresh; give the client's
// aws.CredentialsCache an ExpiryWindow of a second or more so it does not
// sign with credentials that expire in flight.
func (s *STS) SetDuration(d time.Duration) {
	s.mu.Lock()
	s.duration = d
	s.mu.Unlock()
}

// FailNext makes the next n AssumeRole calls fail with an AccessDenied
// error (HTTP 403, not retried by the SDKs) that says it was injected.
func (s *STS) FailNext(n int) {
	s.mu.Lock()
	s.fail = n
	s.mu.Unlock()
}

// Calls returns a copy of every call answered so far, oldest first.
func (s *STS) Calls() []STSCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// roleName returns the last path segment of a role ARN.
func roleName(arn string) (string, bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::"+Account+":role/")
	if !ok || rest == "" || strings.HasSuffix(rest, "/") {
		return "", false
	}
	return rest[strings.LastIndexByte(rest, '/')+1:], true
}

type stsError struct {
	status int
	code   string
	msg    string
}

func (s *STS) serve(w http.ResponseWriter, r *http.Request, c caller) {
	if err := r.ParseForm(); err != nil {
		writeSTSError(w, http.StatusBadRequest, "MalformedInput", "cannot parse the form: "+err.Error())
		return
	}
	call := STSCall{Action: r.Form.Get("Action"), Principal: c.arn}
	var resp any
	var e *stsError
	switch call.Action {
	case "AssumeRole":
		resp, e = s.assumeRole(r, c, &call)
	case "GetCallerIdentity":
		resp = s.callerIdentity(c)
	default:
		e = &stsError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("action %q is not emulated; use AssumeRole or GetCallerIdentity", call.Action)}
	}
	if e != nil {
		call.Err = e.code
	}
	call.Time = s.st.opts.Now()
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	if e != nil {
		writeSTSError(w, e.status, e.code, e.msg)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", requestID())
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(resp)
}

type assumeRoleResponse struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
	Result  struct {
		Credentials struct {
			AccessKeyId     string
			SecretAccessKey string
			SessionToken    string
			Expiration      string
		}
		AssumedRoleUser struct {
			AssumedRoleId string
			Arn           string
		}
		PackedPolicySize int
	} `xml:"AssumeRoleResult"`
	Metadata struct {
		RequestID string `xml:"RequestId"`
	} `xml:"ResponseMetadata"`
}

func (s *STS) assumeRole(r *http.Request, c caller, call *STSCall) (any, *stsError) {
	f := r.Form
	call.RoleARN, call.RoleSessionName, call.ExternalID = f.Get("RoleArn"), f.Get("RoleSessionName"), f.Get("ExternalId")
	invalid := func(format string, args ...any) *stsError {
		return &stsError{http.StatusBadRequest, "ValidationError", fmt.Sprintf(format, args...)}
	}
	if !roleSessionName.MatchString(call.RoleSessionName) {
		return nil, invalid("RoleSessionName %q must be 2-64 characters of [\\w+=,.@-]", call.RoleSessionName)
	}
	if len(call.RoleARN) < 20 || len(call.RoleARN) > 2048 {
		return nil, invalid("RoleArn must be 20-2048 characters")
	}
	if f.Has("ExternalId") && (len(call.ExternalID) < 2 || len(call.ExternalID) > 1224) {
		return nil, invalid("ExternalId must be 2-1224 characters")
	}
	lifetime := time.Hour
	if ds := f.Get("DurationSeconds"); ds != "" {
		n, err := strconv.Atoi(ds)
		if err != nil || n < 900 || n > 43200 {
			return nil, invalid("DurationSeconds %q must be 900-43200", ds)
		}
		call.DurationSeconds = n
		lifetime = time.Duration(n) * time.Second
	}
	s.mu.Lock()
	trusted, exists := s.roles[call.RoleARN]
	wantExternalID, needExternalID := s.externalIDs[call.RoleARN]
	failing := s.fail > 0
	if failing {
		s.fail--
	}
	if s.duration > 0 {
		lifetime = s.duration
	}
	s.mu.Unlock()
	if failing {
		return nil, &stsError{http.StatusForbidden, "AccessDenied", "injected failure (STS.FailNext)"}
	}
	allowed := exists && (len(trusted) == 0 || c.isAdmin() || slices.Contains(trusted, c.arn) || (c.session != "" && slices.Contains(trusted, c.session)))
	if !allowed || (needExternalID && call.ExternalID != wantExternalID) {
		msg := fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", c.arn, call.RoleARN)
		if allowed {
			msg += " (the trust policy requires another ExternalId)"
		}
		return nil, &stsError{http.StatusForbidden, "AccessDenied", msg}
	}
	name, _ := roleName(call.RoleARN)
	sessionARN := "arn:aws:sts::" + Account + ":assumed-role/" + name + "/" + call.RoleSessionName
	expires := s.st.opts.Now().Add(lifetime).UTC().Truncate(time.Second)
	creds := s.st.register(call.RoleARN, sessionARN, "ASIA", expires)
	call.AccessKeyID = creds.AccessKeyID

	var out assumeRoleResponse
	out.Result.Credentials.AccessKeyId = creds.AccessKeyID
	out.Result.Credentials.SecretAccessKey = creds.SecretAccessKey
	out.Result.Credentials.SessionToken = creds.SessionToken
	out.Result.Credentials.Expiration = expires.Format(time.RFC3339)
	out.Result.AssumedRoleUser.AssumedRoleId = "AROA" + randomString(17, upperAlnum) + ":" + call.RoleSessionName
	out.Result.AssumedRoleUser.Arn = sessionARN
	out.Metadata.RequestID = requestID()
	return out, nil
}

type callerIdentityResponse struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
	Result  struct {
		Arn     string
		UserId  string
		Account string
	} `xml:"GetCallerIdentityResult"`
	Metadata struct {
		RequestID string `xml:"RequestId"`
	} `xml:"ResponseMetadata"`
}

func (s *STS) callerIdentity(c caller) any {
	var out callerIdentityResponse
	out.Result.Arn = c.arn
	if c.session != "" {
		out.Result.Arn = c.session
	}
	out.Result.UserId = c.akid
	out.Result.Account = Account
	out.Metadata.RequestID = requestID()
	return out
}
