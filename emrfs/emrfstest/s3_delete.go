package emrfstest

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
)

// isDeleteObjects reports whether r is a DeleteObjects (multi-object
// delete) request: POST /bucket?delete.
func isDeleteObjects(r *http.Request) bool {
	bucket, key := splitPath(r.URL.Path)
	return r.Method == http.MethodPost && bucket != "" && key == "" && r.URL.Query().Has("delete")
}

// mayDelete reports whether c may delete bucket/key under its grants (see
// S3.Grant).
func (s *S3) mayDelete(c caller, bucket, key string) bool {
	if c.isAdmin() {
		return true
	}
	s.mu.Lock()
	grants, restricted := s.grants[c.arn]
	grants = append([]s3Grant(nil), grants...)
	s.mu.Unlock()
	if !restricted && c.session == "" {
		return true
	}
	for _, g := range grants {
		if g.bucket == bucket && strings.HasPrefix(key, g.prefix) && g.write {
			return true
		}
	}
	return false
}

type deleteRequest struct {
	XMLName xml.Name       `xml:"Delete"`
	Objects []deleteObject `xml:"Object"`
	Quiet   bool           `xml:"Quiet,omitempty"`
}

type deleteObject struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId,omitempty"`
}

type deleteError struct {
	Key     string `xml:"Key"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

type deleteResult struct {
	XMLName xml.Name       `xml:"DeleteResult"`
	Deleted []deleteObject `xml:"Deleted"`
	Errors  []deleteError  `xml:"Error"`
}

// serveDeleteObjects authorizes a DeleteObjects request per key, as S3
// does: keys c may not delete are reported as AccessDenied errors in the
// result and the others are deleted by gofakes3. A request whose keys are
// all allowed goes to gofakes3 unchanged.
func (s *S3) serveDeleteObjects(w http.ResponseWriter, r *http.Request, c caller) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeS3Error(w, http.StatusBadRequest, "IncompleteBody", err.Error(), r.URL.Path)
		return
	}
	var req deleteRequest
	if err := xml.Unmarshal(body, &req); err != nil {
		writeS3Error(w, http.StatusBadRequest, "MalformedXML", err.Error(), r.URL.Path)
		return
	}
	bucket, _ := splitPath(r.URL.Path)
	var allowed []deleteObject
	var denied []deleteError
	for _, o := range req.Objects {
		if s.mayDelete(c, bucket, o.Key) {
			allowed = append(allowed, o)
		} else {
			denied = append(denied, deleteError{Key: o.Key, Code: "AccessDenied", Message: "Access Denied"})
		}
	}
	if len(denied) == 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.handler.ServeHTTP(w, r)
		return
	}
	var res deleteResult
	if len(allowed) > 0 {
		req.Objects = allowed
		nb, err := xml.Marshal(req)
		if err != nil {
			writeS3Error(w, http.StatusInternalServerError, "InternalError", err.Error(), r.URL.Path)
			return
		}
		for k := range r.Header {
			if lk := strings.ToLower(k); lk == "content-md5" || strings.HasPrefix(lk, "x-amz-checksum-") || lk == "x-amz-sdk-checksum-algorithm" {
				r.Header.Del(k)
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(nb))
		r.ContentLength = int64(len(nb))
		r.Header.Set("Content-Length", strconv.Itoa(len(nb)))
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &res); err != nil {
			writeS3Error(w, http.StatusInternalServerError, "InternalError", "emrfstest: gofakes3 DeleteObjects result: "+err.Error(), r.URL.Path)
			return
		}
	}
	if req.Quiet {
		res.Deleted = nil
	}
	res.Errors = append(res.Errors, denied...)
	res.XMLName = xml.Name{Space: "http://s3.amazonaws.com/doc/2006-03-01/", Local: "DeleteResult"}
	out, err := xml.Marshal(res)
	if err != nil {
		writeS3Error(w, http.StatusInternalServerError, "InternalError", err.Error(), r.URL.Path)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amz-request-id", requestID())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}
