package emrfstest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// dropHeader carries, from the S3 middleware to s3Backend.CopyObject, the
// metadata keys of the copy source that the copy must not inherit.
const dropHeader = "X-Amz-Emrfstest-Drop"

// s3Backend is s3mem with S3's metadata rules. s3mem merges the metadata
// of an overwritten object into the new one, and gofakes3 merges the
// source's metadata into a copy; S3 replaces metadata on every write,
// keeps a source's metadata only with the COPY directive, and never
// inherits server-side encryption settings.
type s3Backend struct{ *s3mem.Backend }

// PutObject replaces an existing object instead of merging its metadata.
// Conditional writes (If-Match, If-None-Match) are checked against the
// existing object first.
func (b s3Backend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	if conditions != nil {
		// The request holds its key's lock (S3.serve): check the
		// conditions here, then replace as S3 does.
		info := &gofakes3.ConditionalObjectInfo{}
		if old, err := b.Backend.HeadObject(bucket, key); err == nil && old != nil {
			info.Exists, info.Hash = true, old.Hash
		}
		if err := gofakes3.CheckPutConditions(conditions, info); err != nil {
			return gofakes3.PutObjectResult{}, err
		}
		conditions = nil
	}
	{
		if old, err := b.Backend.HeadObject(bucket, key); err == nil && old != nil {
			for k := range old.Metadata {
				if _, ok := meta[k]; !ok {
					// Only a delete stops s3mem from merging k back in.
					if _, err := b.Backend.DeleteObject(bucket, key); err != nil {
						return gofakes3.PutObjectResult{}, err
					}
					break
				}
			}
		}
	}
	return b.Backend.PutObject(bucket, key, meta, input, size, conditions)
}

func (b s3Backend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	if drop := meta[dropHeader]; drop != "" {
		for k := range strings.SplitSeq(drop, ",") {
			delete(meta, k)
		}
	}
	for k := range meta {
		if k == dropHeader || strings.HasPrefix(k, "X-Amz-Copy-Source") || k == "X-Amz-Metadata-Directive" {
			delete(meta, k)
		}
	}
	return gofakes3.CopyObject(b, srcBucket, srcKey, dstBucket, dstKey, meta)
}

// prepareCopy marks the source metadata a CopyObject request must drop.
func (s *S3) prepareCopy(r *http.Request) {
	r.Header.Del(dropHeader)
	src := r.Header.Get("X-Amz-Copy-Source")
	if src == "" || r.Method != http.MethodPut {
		return
	}
	sb, sk := copySource(src)
	obj, err := s.backend.HeadObject(sb, sk)
	if err != nil || obj == nil {
		return
	}
	replace := strings.EqualFold(r.Header.Get("X-Amz-Metadata-Directive"), "REPLACE")
	var drop []string
	for k := range obj.Metadata {
		if _, inRequest := r.Header[k]; inRequest {
			continue
		}
		sse := strings.HasPrefix(k, "X-Amz-Server-Side-Encryption")
		userMeta := strings.HasPrefix(k, "X-Amz-Meta-") || k == "Content-Type" || k == "Content-Encoding" || k == "Content-Disposition"
		if sse || (replace && userMeta) {
			drop = append(drop, k)
		}
	}
	if len(drop) > 0 {
		r.Header.Set(dropHeader, strings.Join(drop, ","))
	}
}

// partCopyHeader marks a request converted from UploadPartCopy to
// UploadPart for S3.handle.
const partCopyHeader = "X-Emrfstest-Part-Copy"

// preparePartCopy turns an UploadPartCopy (which gofakes3 lacks) into the
// UploadPart of the source's bytes, checking x-amz-copy-source-if-match
// and x-amz-copy-source-range as S3 does.
func (s *S3) preparePartCopy(r *http.Request) *s3Error {
	sb, sk := copySource(r.Header.Get("X-Amz-Copy-Source"))
	var rng *gofakes3.ObjectRangeRequest
	if v := r.Header.Get("X-Amz-Copy-Source-Range"); v != "" {
		var a, b int64
		if _, err := fmt.Sscanf(v, "bytes=%d-%d", &a, &b); err != nil || a < 0 || b < a {
			return &s3Error{http.StatusBadRequest, "InvalidArgument", "x-amz-copy-source-range must be bytes=first-last"}
		}
		rng = &gofakes3.ObjectRangeRequest{Start: a, End: b}
	}
	obj, err := s.backend.GetObject(sb, sk, rng)
	if err != nil || obj == nil {
		return &s3Error{http.StatusNotFound, "NoSuchKey", "the copy source does not exist"}
	}
	defer obj.Contents.Close()
	if m := r.Header.Get("X-Amz-Copy-Source-If-Match"); m != "" && strings.Trim(m, `"`) != strings.Trim(gofakes3.FormatETag(obj.Hash), `"`) {
		return &s3Error{http.StatusPreconditionFailed, "PreconditionFailed", "x-amz-copy-source-if-match does not match the source's ETag"}
	}
	data, err := io.ReadAll(obj.Contents)
	if err != nil {
		return &s3Error{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	for k := range r.Header {
		if strings.HasPrefix(k, "X-Amz-Copy-Source") {
			r.Header.Del(k)
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.ContentLength = int64(len(data))
	r.Header.Set("Content-Length", strconv.Itoa(len(data)))
	r.Header.Set(partCopyHeader, "1")
	return nil
}

// handle passes r to gofakes3, answering a converted UploadPartCopy with
// its CopyPartResult.
func (s *S3) handle(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(partCopyHeader) == "" {
		s.handler.ServeHTTP(w, r)
		return
	}
	r.Header.Del(partCopyHeader)
	held := newHeldResponse()
	s.handler.ServeHTTP(held, r)
	if held.status != 0 && held.status != http.StatusOK {
		held.send(w)
		return
	}
	type copyPartResult struct {
		XMLName      xml.Name `xml:"CopyPartResult"`
		ETag         string
		LastModified string
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(copyPartResult{ETag: held.header.Get("ETag"), LastModified: time.Now().UTC().Format(time.RFC3339)})
}
