package emrfs

import (
	"context"
	"iter"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"golang.org/x/sync/errgroup"

	"github.com/emrs3/emrs3/cse"
)

// InstructionSuffix is the key suffix of a CSE instruction file
// (<key>.instruction); List hides such objects and Remove, Copy and Rename
// treat them as part of their object. It is the envelope format's suffix,
// defined once in package cse.
const InstructionSuffix = cse.InstructionSuffix

// folderMarkerSuffix is the suffix of EMRFS/Hadoop "directory marker"
// objects (dir_$folder$), which List hides.
const folderMarkerSuffix = "_$folder$"

// ListOptions configure List.
type ListOptions struct {
	// Recursive lists every key under the prefix. By default List uses the
	// delimiter "/" and returns keys one level deep plus common prefixes,
	// which are reported as directories.
	Recursive bool
	// PageSize is the MaxKeys of each ListObjectsV2 request (default: the
	// S3 default of 1000).
	PageSize int32
	// PlaintextSizes reports the plaintext size of objects in a bucket with
	// client-side encryption, at the cost of a Stat per object (see
	// Client.Stat). By default sizes are the stored (ciphertext) sizes,
	// less the 16-byte GCM tag when the CSE settings come from S3A, as S3A
	// lists them.
	PlaintextSizes bool
	// StartAfter lists only keys after this one (ListObjectsV2
	// StartAfter), to resume a listing where an earlier one stopped. It
	// is a key, not a URI.
	StartAfter string
}

// List returns the objects and common prefixes whose keys begin with the
// key of uri, used as a raw S3 prefix: list "s3://b/dir/" to see the
// contents of a directory ("s3://b/dir" would also match "dir2/..."). Pages
// are fetched lazily as the iterator advances. Instruction files
// (*.instruction), "_$folder$" markers and directory marker objects (keys
// ending in "/") are hidden; each common prefix is reported once. Iteration stops after the first
// error, which is an *fs.PathError.
func (c *Client) List(ctx context.Context, uri string, optFns ...func(*ListOptions)) iter.Seq2[*FileInfo, error] {
	var o ListOptions
	for _, fn := range optFns {
		fn(&o)
	}
	return func(yield func(*FileInfo, error) bool) {
		loc, b, err := c.target("list", uri)
		if err != nil {
			yield(nil, err)
			return
		}
		plain := o.PlaintextSizes && b.CSE != nil
		in := &s3.ListObjectsV2Input{Prefix: aws.String(loc.Key)}
		urlEncodedListing(in)
		if !o.Recursive {
			in.Delimiter = aws.String("/")
		}
		if o.PageSize > 0 {
			in.MaxKeys = aws.Int32(o.PageSize)
		}
		if o.StartAfter != "" {
			in.StartAfter = aws.String(o.StartAfter)
		}
		seen := map[string]bool{} // common prefixes already reported
		for {
			out, err := send(ctx, c.req(loc, nil), in, c.s3.ListObjectsV2)
			if err == nil {
				err = decodeListing(out)
			}
			if err != nil {
				yield(nil, pathError("list", uri, err))
				return
			}
			infos := pageInfos(loc, out)
			if plain {
				if err := c.plaintextSizes(ctx, infos); err != nil {
					yield(nil, err)
					return
				}
			}
			for _, fi := range infos {
				if fi.dir {
					if seen[fi.uri] {
						continue
					}
					seen[fi.uri] = true
				} else if plain {
					// Sized by plaintextSizes.
				} else if b.CSE != nil && b.CSE.S3A && fi.size >= 16 {
					fi.size -= 16 // S3A lists GCM objects as ciphertext minus the tag
				}
				if !yield(fi, nil) {
					return
				}
			}
			if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
				return
			}
			in.ContinuationToken = out.NextContinuationToken
		}
	}
}

// hiddenKey reports whether List hides key: instruction files, folder
// markers and "directory" keys ending in "/".
func hiddenKey(key string) bool {
	return strings.HasSuffix(key, InstructionSuffix) ||
		strings.HasSuffix(key, folderMarkerSuffix) ||
		strings.HasSuffix(key, "/")
}

// pageInfos merges the objects and common prefixes of one page in key
// order, dropping hidden keys.
func pageInfos(loc Location, out *s3.ListObjectsV2Output) []*FileInfo {
	infos := make([]*FileInfo, 0, len(out.Contents)+len(out.CommonPrefixes))
	i, j := 0, 0
	for i < len(out.Contents) || j < len(out.CommonPrefixes) {
		if j >= len(out.CommonPrefixes) || (i < len(out.Contents) && aws.ToString(out.Contents[i].Key) < aws.ToString(out.CommonPrefixes[j].Prefix)) {
			obj := out.Contents[i]
			i++
			key := aws.ToString(obj.Key)
			if hiddenKey(key) {
				continue
			}
			infos = append(infos, &FileInfo{
				uri:  Location{Scheme: loc.Scheme, Bucket: loc.Bucket, Key: key}.String(),
				name: baseName(key),
				size: aws.ToInt64(obj.Size),
				// HTTP dates (HeadObject) have one-second resolution; list
				// times are truncated to match.
				modTime: aws.ToTime(obj.LastModified).Truncate(time.Second),
				etag:    aws.ToString(obj.ETag),
			})
			continue
		}
		p := aws.ToString(out.CommonPrefixes[j].Prefix)
		j++
		infos = append(infos, &FileInfo{
			uri:  Location{Scheme: loc.Scheme, Bucket: loc.Bucket, Key: p}.String(),
			name: baseName(p),
			dir:  true,
		})
	}
	return infos
}

// plaintextSizes sets the plaintext size of the objects of one page with
// concurrent HEADs (at most Options.ReadConcurrency at once). A GCM
// object's size needs no KMS call (see cseStatSize). The first error, an
// *fs.PathError, is returned.
func (c *Client) plaintextSizes(ctx context.Context, infos []*FileInfo) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.ReadConcurrency)
	for _, fi := range infos {
		if fi.dir {
			continue
		}
		g.Go(func() error {
			sfi, err := c.Stat(gctx, fi.uri)
			if err != nil {
				return err
			}
			fi.size = sfi.size
			return nil
		})
	}
	return g.Wait()
}
