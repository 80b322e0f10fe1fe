package authz

import (
	"errors"
	"fmt"
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

func (e *AssumeRoleError) Error() string {
	return fmt.Sprintf("authz: cannot assume role %s (check its trust policy and the STS endpoint; the request is refused, no fallback credentials are used): %v", e.Role, e.Err)
}

// Unwrap returns the STS error.
func (e *AssumeRoleError) Unwrap() error { return e.Err }

var (
	errNoKeys  = errors.New("STS returned no credentials")
	errExpired = errors.New("STS returned credentials that have already expired")
)
