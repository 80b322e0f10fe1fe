package authz

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestAssumeRoleErrorAdvice(t *testing.T) {
	for code, want := range map[string]string{
		"Throttling":              "STS throttled the request rate, which says nothing about permissions",
		"AccessDenied":            "trust policy",
		"RegionDisabledException": "not activated",
		"ExpiredToken":            "expired or invalid",
		"":                        "could not be reached",
	} {
		var inner error = errors.New("dial tcp: connection refused")
		if code != "" {
			inner = &smithy.GenericAPIError{Code: code, Message: "m"}
		}
		e := &AssumeRoleError{Role: "arn:aws:iam::111122223333:role/r", Err: inner}
		if !strings.Contains(e.Error(), want) {
			t.Errorf("%q: %v, want advice %q", code, e, want)
		}
		if e.Throttled() != (code == "Throttling") {
			t.Errorf("%q: Throttled() = %t", code, e.Throttled())
		}
		if code == "Throttling" && strings.Contains(e.Error(), "trust policy") {
			t.Errorf("throttling blamed on the trust policy: %v", e)
		}
	}
}
