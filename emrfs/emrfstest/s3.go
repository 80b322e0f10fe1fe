package emrfstest

import (
	"net/http"

	"github.com/emrs3/emrs3/emrfs/emrfstest/internal/sigv4"
)

// S3 is the Amazon S3 emulator of a Stack.
type S3 struct{ st *Stack }

func newS3(st *Stack) *S3 { return &S3{st: st} }

func (s *S3) serve(w http.ResponseWriter, _ *http.Request, _ caller, _ *sigv4.Result) {
	writeS3Error(w, http.StatusNotImplemented, "NotImplemented", "S3 is not emulated yet", "")
}

func (s *S3) logRequest(*http.Request, string, *sigv4.Error) {}
