package emrfstest

import "github.com/johannesboyne/gofakes3"

// ListBucket is s3mem's listing with S3's IsTruncated: s3mem reports a
// full page as truncated whenever any key of the bucket follows it, even
// one outside the prefix, so a client would send one more (empty) list
// request than S3 needs. A truncated page is checked by looking for one
// more matching entry after it.
func (b s3Backend) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	out, err := b.Backend.ListBucket(name, prefix, page)
	if err != nil || !out.IsTruncated || out.NextMarker == "" {
		return out, err
	}
	probe := page
	probe.Marker, probe.HasMarker, probe.MaxKeys = out.NextMarker, true, 1
	next, err := b.Backend.ListBucket(name, prefix, probe)
	if err == nil && len(next.Contents) == 0 && len(next.CommonPrefixes) == 0 {
		out.IsTruncated = false
		out.NextMarker = ""
	}
	return out, nil
}
