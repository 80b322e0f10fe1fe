package authz

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// ErrAccessDenied is returned (wrapped) when no role mapping matches a
// request and Options.DenyUnmapped is set.
var ErrAccessDenied = errors.New("authz: access denied")

// AssumeRoleError reports that the role a request maps to could not be
// assumed. The request fails: it is never signed with other credentials.
type AssumeRoleError struct {
	Role string // ARN of the role that could not be assumed
	Err  error  // the STS error
}

// Error says why the role could not be assumed, with advice that fits the
// STS error code.
func (e *AssumeRoleError) Error() string {
	return fmt.Sprintf("authz: cannot assume role %s (%s; the request is refused, no fallback credentials are used): %v", e.Role, e.advice(), e.Err)
}

// Code returns the STS error code ("" when STS did not answer).
func (e *AssumeRoleError) Code() string {
	var api smithy.APIError
	if errors.As(e.Err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// Throttled reports whether STS refused the request rate: retrying later
// may succeed, and the role's trust policy is not at fault.
func (e *AssumeRoleError) Throttled() bool {
	switch e.Code() {
	case "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded":
		return true
	}
	return false
}

func (e *AssumeRoleError) advice() string {
	switch code := e.Code(); {
	case e.Throttled():
		return "STS throttled the request rate, which says nothing about permissions: retry later, raise Options.MaxSessions if sessions are being recreated, or lower the request rate"
	case code == "AccessDenied" || code == "AccessDeniedException":
		return "the role's trust policy does not let the cluster's principal assume it, or the principal lacks sts:AssumeRole (or the ExternalId does not match): fix the trust policy or the permission"
	case code == "RegionDisabledException":
		return "STS is not activated in the endpoint's region: activate it in IAM account settings or use another STS endpoint (fs.s3.sts.endpoint)"
	case code == "ExpiredToken" || code == "ExpiredTokenException" || code == "InvalidClientTokenId" || code == "SignatureDoesNotMatch":
		return "the default credentials that call STS are expired or invalid: refresh them"
	case code == "MalformedPolicyDocument" || code == "PackedPolicyTooLarge" || code == "ValidationError":
		return "STS rejected the request's parameters (session duration, name or ExternalId): check Options.Duration and ExternalID against the role"
	case code != "":
		return "STS answered " + code
	case errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, context.DeadlineExceeded):
		return "the request's context ended before STS answered"
	case errors.Is(e.Err, errNoKeys) || errors.Is(e.Err, errExpired):
		return "STS answered without usable credentials"
	}
	return "STS could not be reached: check the STS endpoint (fs.s3.sts.endpoint) and the network"
}

// Unwrap returns the STS error.
func (e *AssumeRoleError) Unwrap() error { return e.Err }

var (
	errNoKeys  = errors.New("STS returned no credentials")
	errExpired = errors.New("STS returned credentials that have already expired")
)
