package emrfstest

import (
	"fmt"

	"github.com/emrs3/emrs3/internal/redact"
)

// String describes the stack without the admin credentials of its Config.
func (s *Stack) String() string {
	if s == nil {
		return "emrfstest.Stack(nil)"
	}
	return fmt.Sprintf("emrfstest.Stack{URL: %s, Region: %s, Config: {credentials %s}}", s.URL, s.Region, redact.Redacted)
}

// GoString is String, so that %#v shows no credentials either.
func (s *Stack) GoString() string { return s.String() }

// Format writes String under every verb and flag.
func (s *Stack) Format(f fmt.State, verb rune) {
	d := s.String()
	redact.Format(f, verb, d, d)
}
