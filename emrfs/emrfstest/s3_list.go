package emrfstest

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/johannesboyne/gofakes3"
)

// serveListURLEncoded answers ListObjectsV2 with encoding-type=url, which
// gofakes3 ignores: its XML would carry keys with control characters or
// invalid UTF-8 as U+FFFD. Keys, prefixes, the delimiter and start-after
// are URL-encoded as S3 does (form encoding: a space is "+"). It returns
// false for every other request, and answers an encoding-type other than
// url with InvalidArgument, as S3 does.
func (s *S3) serveListURLEncoded(w http.ResponseWriter, r *http.Request) bool {
	bucket, key := splitPath(r.URL.Path)
	q := r.URL.Query()
	if r.Method != http.MethodGet || bucket == "" || key != "" || !q.Has("encoding-type") || q.Get("list-type") != "2" {
		return false
	}
	if q.Get("encoding-type") != "url" {
		writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "Invalid Encoding Method specified in Request", r.URL.Path)
		return true
	}
	prefix := gofakes3.Prefix{Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter")}
	_, prefix.HasPrefix = q["prefix"]
	_, prefix.HasDelimiter = q["delimiter"]
	page := gofakes3.ListBucketPage{MaxKeys: gofakes3.DefaultMaxBucketKeys}
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "max-keys is not a non-negative integer", r.URL.Path)
			return true
		}
		page.MaxKeys = min(n, gofakes3.MaxBucketKeys)
	}
	if tok, ok := q["continuation-token"]; ok {
		m, err := base64.URLEncoding.DecodeString(tok[0])
		if err != nil {
			writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect", r.URL.Path)
			return true
		}
		page.Marker, page.HasMarker = string(m), true
	} else if sa, ok := q["start-after"]; ok {
		page.Marker, page.HasMarker = sa[0], true
	}
	objects, err := s.backend.ListBucket(bucket, &prefix, page)
	if errors.Is(err, gofakes3.ErrInternalPageNotImplemented) {
		objects, err = s.backend.ListBucket(bucket, &prefix, gofakes3.ListBucketPage{})
	}
	if err != nil {
		var ge gofakes3.Error
		if errors.As(err, &ge) && ge.ErrorCode() == gofakes3.ErrNoSuchBucket {
			writeS3Error(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", r.URL.Path)
		} else {
			writeS3Error(w, http.StatusInternalServerError, "InternalError", err.Error(), r.URL.Path)
		}
		return true
	}
	type content struct {
		Key          string
		LastModified string
		ETag         string
		Size         int64
		StorageClass string `xml:",omitempty"`
	}
	type commonPrefix struct{ Prefix string }
	type result struct {
		XMLName               xml.Name `xml:"ListBucketResult"`
		Xmlns                 string   `xml:"xmlns,attr"`
		Name                  string
		Prefix                string
		Delimiter             string `xml:",omitempty"`
		MaxKeys               int64
		EncodingType          string
		IsTruncated           bool
		KeyCount              int64
		ContinuationToken     string         `xml:",omitempty"`
		NextContinuationToken string         `xml:",omitempty"`
		StartAfter            string         `xml:",omitempty"`
		Contents              []content      `xml:"Contents"`
		CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
	}
	enc := url.QueryEscape
	out := result{Xmlns: "http://s3.amazonaws.com/doc/2006-03-01/", Name: bucket, Prefix: enc(prefix.Prefix), Delimiter: enc(prefix.Delimiter),
		MaxKeys: page.MaxKeys, EncodingType: "url", IsTruncated: objects.IsTruncated,
		KeyCount:          int64(len(objects.Contents) + len(objects.CommonPrefixes)),
		ContinuationToken: q.Get("continuation-token"), StartAfter: enc(q.Get("start-after"))}
	if objects.IsTruncated && objects.NextMarker != "" {
		out.NextContinuationToken = base64.URLEncoding.EncodeToString([]byte(objects.NextMarker))
	}
	for _, c := range objects.Contents {
		out.Contents = append(out.Contents, content{Key: enc(c.Key), LastModified: c.LastModified.UTC().Format("2006-01-02T15:04:05.000Z"),
			ETag: c.ETag, Size: c.Size, StorageClass: string(c.StorageClass)})
	}
	for _, p := range objects.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{enc(p.Prefix)})
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", requestID())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(out)
	return true
}
