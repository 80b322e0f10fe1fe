package emrfstest

import "net/http"

// STS is the AWS STS emulator of a Stack.
type STS struct{ st *Stack }

func newSTS(st *Stack) *STS { return &STS{st: st} }

func (s *STS) serve(w http.ResponseWriter, _ *http.Request, _ caller) {
	writeSTSError(w, http.StatusNotImplemented, "NotImplemented", "STS is not emulated yet")
}
