package emrfstest

import (
	"net/http"
	"strings"
)

// storedHeaders are object headers S3 stores and returns that gofakes3
// drops (it keeps only Content-Type, Content-Disposition, Content-Encoding
// and x-amz-* headers). keepHeaders stores them under a private x-amz-
// name, which gofakes3 keeps, and turns them back on the way out.
var storedHeaders = []string{"Cache-Control", "Content-Language", "Expires"}

const storedHeaderPrefix = "X-Amz-Emrfstest-Stored-"

// keepHeaders wraps the gofakes3 handler so that objects keep their
// Cache-Control, Content-Language and Expires, as S3 objects do.
func keepHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k := range r.Header {
			if strings.HasPrefix(http.CanonicalHeaderKey(k), storedHeaderPrefix) {
				r.Header.Del(k) // only the stack sets these
			}
		}
		if r.Method == http.MethodPut || r.Method == http.MethodPost {
			for _, name := range storedHeaders {
				if v := r.Header.Get(name); v != "" {
					r.Header.Set(storedHeaderPrefix+name, v)
				}
			}
		}
		rw := &restoreHeaders{ResponseWriter: w}
		h.ServeHTTP(rw, r)
		rw.restore() // a handler that wrote nothing (HEAD)
	})
}

// restoreHeaders turns stored headers back into their own names before
// the response header is sent.
type restoreHeaders struct {
	http.ResponseWriter
	done bool
}

func (w *restoreHeaders) restore() {
	if w.done {
		return
	}
	w.done = true
	h := w.ResponseWriter.Header()
	for _, name := range storedHeaders {
		if v := h.Get(storedHeaderPrefix + name); v != "" {
			h.Set(name, v)
		}
		h.Del(storedHeaderPrefix + name)
	}
}

func (w *restoreHeaders) WriteHeader(code int) {
	w.restore()
	w.ResponseWriter.WriteHeader(code)
}

func (w *restoreHeaders) Write(p []byte) (int, error) {
	w.restore()
	return w.ResponseWriter.Write(p)
}

func (w *restoreHeaders) Unwrap() http.ResponseWriter { return w.ResponseWriter }
