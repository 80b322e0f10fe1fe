package cse

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// KMSErrorKind classifies a failed KMS call by what the caller can do
// about it.
type KMSErrorKind int

// The kinds of KMS failure.
const (
	// KMSErrorOther is a failure not classified below (see the error code).
	KMSErrorOther KMSErrorKind = iota
	// KMSThrottled is a request rate over the KMS quota
	// (ThrottlingException): retry later, spread the load, or ask for a
	// higher quota. It says nothing about permissions.
	KMSThrottled
	// KMSAccessDenied is a missing permission in the key policy or the
	// caller's IAM policy (AccessDeniedException).
	KMSAccessDenied
	// KMSNotFound is a key or alias that does not exist in the region and
	// account called (NotFoundException).
	KMSNotFound
	// KMSDisabled is a disabled key (DisabledException).
	KMSDisabled
	// KMSInvalidState is a key in a state that cannot be used, such as
	// pending deletion or import (KMSInvalidStateException,
	// KeyUnavailableException).
	KMSInvalidState
	// KMSUnavailable is a failure of KMS itself or of the way to it
	// (KMSInternalException, DependencyTimeoutException, a network error):
	// retry.
	KMSUnavailable
	// KMSBadCredentials is a caller whose credentials KMS does not accept:
	// expired, unknown or wrongly signed (ExpiredTokenException,
	// UnrecognizedClientException, InvalidSignatureException).
	KMSBadCredentials
	// KMSCanceled is a call abandoned because its context was cancelled or
	// its deadline passed.
	KMSCanceled
	// KMSUnsuitableKey is a key that the once-per-key DescribeKey check
	// found unable to protect data keys: not Enabled, not
	// SYMMETRIC_DEFAULT, or not for ENCRYPT_DECRYPT. Err says which.
	KMSUnsuitableKey
)

// String names the kind.
func (k KMSErrorKind) String() string {
	switch k {
	case KMSThrottled:
		return "throttled"
	case KMSAccessDenied:
		return "access denied"
	case KMSNotFound:
		return "not found"
	case KMSDisabled:
		return "key disabled"
	case KMSInvalidState:
		return "key in an unusable state"
	case KMSUnavailable:
		return "KMS unavailable"
	case KMSBadCredentials:
		return "credentials refused"
	case KMSCanceled:
		return "cancelled"
	case KMSUnsuitableKey:
		return "key cannot protect data keys"
	}
	return "failed"
}

// KMSError reports a failed KMS call of the KMS provider, classified by
// its error code, or a key that cannot protect data keys
// (KMSUnsuitableKey), with advice that fits the cause. Use errors.As to read
// Kind; Unwrap gives the SDK's error.
type KMSError struct {
	Operation string       // DescribeKey, GenerateDataKey or Decrypt
	KeyID     string       // the key as configured; "" for Decrypt with AnyKey
	Kind      KMSErrorKind // what went wrong
	Code      string       // the KMS error code, "" when there was no response
	Err       error        // the SDK's error, or what is wrong with the key
}

// Error says what failed, why, and what to do.
func (e *KMSError) Error() string {
	key := ""
	if e.KeyID != "" {
		key = " " + e.KeyID
	}
	return fmt.Sprintf("cse: KMS %s%s: %s; %s: %v", e.Operation, key, e.Kind, e.advice(), e.Err)
}

func (e *KMSError) advice() string {
	switch e.Kind {
	case KMSThrottled:
		return "KMS refused the request rate (this is not a permission problem); retry later, lower the request rate, or raise the account's KMS request quota"
	case KMSAccessDenied:
		if e.Operation == "DescribeKey" {
			return "this once-per-key check that the key is an enabled symmetric encryption key needs the kms:DescribeKey permission on the key " +
				"(EMRFS does not call it, so EMRFS roles often lack it): grant it, or set KMSOptions.SkipKeyCheck (emrfs: CSE.KMSSkipKeyCheck) to skip the check"
		}
		return "grant kms:" + e.Operation + " on the key to the caller, in the key policy or the caller's IAM policy (and check any encryption-context conditions)"
	case KMSNotFound:
		return "check the key id, ARN or alias, and that the KMS client calls the key's region and account"
	case KMSDisabled:
		return "enable the key, or configure an enabled one"
	case KMSInvalidState:
		return "the key cannot be used in its current state (pending deletion or import, or unavailable): cancel the deletion or use another key"
	case KMSUnavailable:
		return "KMS or the network to it failed; retry"
	case KMSBadCredentials:
		return "the caller's credentials are expired, unknown to AWS or wrongly signed: refresh them, and check the clock and the region"
	case KMSCanceled:
		return "the caller's context ended before KMS answered"
	case KMSUnsuitableKey:
		return "only an Enabled SYMMETRIC_DEFAULT key with KeyUsage ENCRYPT_DECRYPT can; configure one"
	}
	return "see the KMS error code"
}

// Unwrap returns the SDK's error.
func (e *KMSError) Unwrap() error { return e.Err }

// newKMSError classifies err, returned by a KMS call.
func newKMSError(op, keyID string, err error) error {
	e := &KMSError{Operation: op, KeyID: keyID, Err: err}
	var api smithy.APIError
	switch {
	case errors.As(err, &api):
		e.Code = api.ErrorCode()
		e.Kind = kmsKind(e.Code)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		e.Kind = KMSCanceled
	default:
		e.Kind = KMSUnavailable
	}
	return e
}

func kmsKind(code string) KMSErrorKind {
	switch code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded":
		return KMSThrottled
	case "AccessDeniedException", "AccessDenied":
		return KMSAccessDenied
	case "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "ExpiredToken",
		"IncompleteSignature", "MissingAuthenticationToken", "InvalidClientTokenId", "SignatureDoesNotMatch":
		return KMSBadCredentials
	case "NotFoundException":
		return KMSNotFound
	case "DisabledException":
		return KMSDisabled
	case "KMSInvalidStateException", "KeyUnavailableException":
		return KMSInvalidState
	case "KMSInternalException", "DependencyTimeoutException", "InternalFailure", "ServiceUnavailable":
		return KMSUnavailable
	}
	return KMSErrorOther
}
