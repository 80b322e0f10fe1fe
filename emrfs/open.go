package emrfs

import (
	"context"
	"io/fs"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Open opens the object at uri for reading. It issues one HeadObject to fix
// the object's size and ETag; every later read is a ranged GetObject with
// If-Match on that ETag, so a File never mixes bytes of two versions of an
// object (a changed object fails with a precondition error).
//
// For a bucket with client-side encryption, Open reads the envelope (from
// the metadata or <key>.instruction), recovers the content key and the
// plaintext size, and the File returns plaintext. A read from the start to
// the end is one GET, authenticated before plaintext is released. When the
// CSE policy allows ranged (unauthenticated) reads, as cse.EMRFSCompatible
// does, partial reads are ranged GETs decrypted from the enclosing cipher
// block; otherwise they read and authenticate the whole object. An object without envelope is
// readable only with CSE.Compatibility; else the error matches
// ErrNotEncrypted.
//
// ctx governs the Open call and every later Read, ReadAt and Seek on the
// File; cancel it to stop them. Errors are *fs.PathError; a missing object
// matches fs.ErrNotExist, a denied one fs.ErrPermission.
func (c *Client) Open(ctx context.Context, uri string, optFns ...func(*OpenOptions)) (_ *File, err error) {
	ctx, span := c.startSpan(ctx, spanOpen, uriProps(uri)...)
	defer func() { span.end(err) }()
	var o OpenOptions
	for _, fn := range optFns {
		fn(&o)
	}
	loc, b, err := c.target("open", uri)
	if err != nil {
		return nil, err
	}
	disk, err := c.openDisk(&o)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: uri, Err: err}
	}
	if loc.Key == "" || strings.HasSuffix(loc.Key, "/") {
		return nil, &fs.PathError{Op: "open", Path: uri, Err: errIsDir}
	}
	out, err := c.head(ctx, loc, b)
	if err != nil {
		return nil, pathError("open", uri, err)
	}
	f := &File{c: c, ctx: ctx, loc: loc, b: b, info: fileInfoFromHead(loc, out), ctSize: aws.ToInt64(out.ContentLength), contentType: out.ContentType}
	f.disk = disk
	st, err := c.cseFor(ctx, b)
	if err != nil {
		return nil, pathError("open", uri, err)
	}
	if st != nil {
		obj, err := c.openCSE(ctx, st, loc, b, out)
		if err != nil {
			return nil, pathError("open", uri, err)
		}
		f.content, f.ranged = obj.content, obj.ranged
		f.info.size = obj.size
	}
	return f, nil
}
