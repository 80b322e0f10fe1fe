package emrfs

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"
)

// FS returns a read-only io/fs view of the keys under prefix in bucket;
// "/" separates directories. The view implements fs.StatFS and
// fs.ReadDirFS. ctx governs every call made through it.
//
// Names are fs.ValidPath names relative to prefix. Keys that do not map to
// a valid name (empty elements such as "a//b", "." or ".."), instruction
// files and directory markers are not shown. In a bucket with client-side
// encryption files read as plaintext and directory listings report
// plaintext sizes (one Stat per entry).
func (c *Client) FS(ctx context.Context, bucket, prefix string) fs.FS {
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &s3FS{c: c, ctx: ctx, bucket: bucket, prefix: prefix}
}

type s3FS struct {
	c      *Client
	ctx    context.Context
	bucket string
	prefix string
}

var (
	_ fs.StatFS    = (*s3FS)(nil)
	_ fs.ReadDirFS = (*s3FS)(nil)
)

func (f *s3FS) uri(name string) string {
	if name == "." {
		return "s3://" + f.bucket + "/" + f.prefix
	}
	return "s3://" + f.bucket + "/" + f.prefix + name
}

func (f *s3FS) dirURI(name string) string {
	if name == "." {
		return "s3://" + f.bucket + "/" + f.prefix
	}
	return "s3://" + f.bucket + "/" + f.prefix + name + "/"
}

// fixErr rewrites the path of an error to the fs name.
func fixErr(op, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: op, Path: name, Err: pe.Err}
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// Stat returns information about the named file or directory.
func (f *s3FS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return &FileInfo{uri: f.uri(name), name: ".", dir: true}, nil
	}
	fi, err := f.c.Stat(f.ctx, f.uri(name))
	if err != nil {
		return nil, fixErr("stat", name, err)
	}
	return fi, nil
}

// Open opens the named file or directory.
func (f *s3FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name != "." {
		file, err := f.c.Open(f.ctx, f.uri(name))
		if err == nil {
			return file, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fixErr("open", name, err)
		}
	}
	fi, err := f.Stat(name)
	if err != nil {
		return nil, fixErr("open", name, err)
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &dirFile{fsys: f, name: name, info: fi}, nil
}

// ReadDir reads the named directory, returning its entries sorted by name.
func (f *s3FS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	var entries []fs.DirEntry
	seen := map[string]bool{}
	for fi, err := range f.c.List(f.ctx, f.dirURI(name), func(o *ListOptions) { o.PlaintextSizes = true }) {
		if err != nil {
			return nil, fixErr("readdir", name, err)
		}
		n := fi.Name()
		if n == "" || n == "." || n == ".." || strings.Contains(n, "/") || seen[n] {
			continue
		}
		if !fi.IsDir() && !strings.HasSuffix(fi.URI(), "/"+n) {
			continue // key with a trailing empty element, e.g. "a//"
		}
		seen[n] = true
		entries = append(entries, fs.FileInfoToDirEntry(fi))
	}
	if len(entries) == 0 && name != "." {
		// S3 has no empty directories: nothing listed means no directory,
		// unless name is a file.
		fi, err := f.Stat(name)
		if err != nil {
			return nil, fixErr("readdir", name, err)
		}
		if !fi.IsDir() {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
		}
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

// dirFile is an open directory of an s3FS.
type dirFile struct {
	fsys    *s3FS
	name    string
	info    fs.FileInfo
	entries []fs.DirEntry
	read    bool
	off     int
}

var _ fs.ReadDirFile = (*dirFile)(nil)

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}

func (d *dirFile) Close() error { return nil }

// ReadDir follows fs.ReadDirFile: n > 0 returns at most n entries and
// io.EOF at the end; n <= 0 returns all remaining entries.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		entries, err := d.fsys.ReadDir(d.name)
		if err != nil {
			return nil, err
		}
		d.entries, d.read = entries, true
	}
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return slices.Clone(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	k := min(n, len(rest))
	d.off += k
	return slices.Clone(rest[:k]), nil
}
