package emrfs

import (
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// List asks for URL-encoded keys (EncodingType=url): in XML, S3 cannot
// carry keys with control characters or invalid UTF-8, which would come
// back as U+FFFD and then not be found by Stat or Open. decodeListing
// undoes the encoding when, and only when, the response says it was
// applied, so servers that ignore the parameter keep working.

// decodeListing decodes, in place, the URL-encoded keys and prefixes of a
// ListObjectsV2 page.
func decodeListing(out *s3.ListObjectsV2Output) error {
	if out.EncodingType != types.EncodingTypeUrl {
		return nil
	}
	dec := func(p *string) error {
		if p == nil {
			return nil
		}
		v, err := url.QueryUnescape(*p)
		if err != nil {
			return fmt.Errorf("emrfs: the listing's URL-encoded key %q does not decode: %w", *p, err)
		}
		*p = v
		return nil
	}
	for i := range out.Contents {
		if err := dec(out.Contents[i].Key); err != nil {
			return err
		}
	}
	for i := range out.CommonPrefixes {
		if err := dec(out.CommonPrefixes[i].Prefix); err != nil {
			return err
		}
	}
	for _, p := range []*string{out.Prefix, out.Delimiter, out.StartAfter} {
		if err := dec(p); err != nil {
			return err
		}
	}
	return nil
}

// urlEncodedListing sets EncodingType=url on a listing request.
func urlEncodedListing(in *s3.ListObjectsV2Input) { in.EncodingType = types.EncodingTypeUrl }
