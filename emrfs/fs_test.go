package emrfs

import (
	"context"
	"errors"
	"io/fs"
	"testing"
	"testing/fstest"
)

func TestFS(t *testing.T) {
	api := newTestS3(t)
	c := newTestClient(t, api)
	for _, k := range []string{"root/a.txt", "root/dir/b.txt", "root/dir/sub/c.txt", "root/dir/sub/d.txt", "root/e", "root/e.instruction", "other/x"} {
		putRaw(t, api, k, "content of "+k)
	}
	fsys := c.FS(context.Background(), testBucket, "root/")
	if err := fstest.TestFS(fsys, "a.txt", "dir/b.txt", "dir/sub/c.txt", "dir/sub/d.txt", "e"); err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, "dir/sub/c.txt")
	if err != nil || string(b) != "content of root/dir/sub/c.txt" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
	if _, err := fs.Stat(fsys, "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(nope) = %v", err)
	}
	if _, err := fsys.Open("../x"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Open(../x) = %v", err)
	}
	if _, err := fs.ReadDir(fsys, "a.txt"); err == nil {
		t.Error("ReadDir of a file succeeded")
	}

	whole := c.FS(context.Background(), testBucket, "")
	if err := fstest.TestFS(whole, "root/a.txt", "other/x"); err != nil {
		t.Fatal(err)
	}
}
