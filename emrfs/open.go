package emrfs

import (
	"context"
	"io/fs"
	"strings"
)

// Open opens the object at uri for reading. It issues one HeadObject to fix
// the object's size and ETag; every later read is a ranged GetObject with
// If-Match on that ETag, so a File never mixes bytes of two versions of an
// object (a changed object fails with a precondition error).
//
// ctx governs the Open call and every later Read, ReadAt and Seek on the
// File; cancel it to stop them. Errors are *fs.PathError; a missing object
// matches fs.ErrNotExist, a denied one fs.ErrPermission.
func (c *Client) Open(ctx context.Context, uri string) (*File, error) {
	loc, b, err := c.target("open", uri)
	if err != nil {
		return nil, err
	}
	if loc.Key == "" || strings.HasSuffix(loc.Key, "/") {
		return nil, &fs.PathError{Op: "open", Path: uri, Err: errIsDir}
	}
	out, err := c.head(ctx, loc, b)
	if err != nil {
		return nil, pathError("open", uri, err)
	}
	return &File{c: c, ctx: ctx, loc: loc, b: b, info: fileInfoFromHead(loc, out)}, nil
}
