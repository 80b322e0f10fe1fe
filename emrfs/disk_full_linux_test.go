package emrfs_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
)

// TestSpoolFullTempDir fills the disk: the spool's writes fail with ENOSPC
// on a 1 MiB tmpfs mounted on TempDir (in a child process in a mount
// namespace of its own, `unshare -m`, so the mount is nobody else's), or,
// where that is not allowed, with EFBIG under a file-size limit
// (RLIMIT_FSIZE, set in a child process so that it binds nothing else).
// Either way the error comes from a real write(2) to a real file system.
// The child reads a one-GET object and one of many parts.
func TestSpoolFullTempDir(t *testing.T) {
	switch os.Getenv("EMRS3_TEST_FULL_CHILD") {
	case "tmpfs":
		dir := t.TempDir()
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
			t.Skip("mount tmpfs:", err)
		}
		t.Cleanup(func() { syscall.Unmount(dir, 0) })
		spoolFull(t, dir, syscall.ENOSPC)
		return
	case "fsize":
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 1 << 20, Max: ^uint64(0)}); err != nil {
			t.Skip("setrlimit:", err)
		}
		spoolFull(t, t.TempDir(), syscall.EFBIG)
		return
	}
	child := func(mode string, prefix ...string) (bool, string) {
		args := append(prefix, os.Args[0], "-test.run=^TestSpoolFullTempDir$", "-test.count=1", "-test.v")
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "EMRS3_TEST_FULL_CHILD="+mode)
		out, err := cmd.CombinedOutput()
		if bytes.Contains(out, []byte("--- FAIL")) {
			t.Fatalf("child (%s): %v\n%s", mode, err, out)
		}
		return err == nil && bytes.Contains(out, []byte("spool full: ok")), string(out)
	}
	if unshare, err := exec.LookPath("unshare"); err == nil {
		flags := "-m"
		if os.Geteuid() != 0 {
			flags = "-rm"
		}
		if ok, _ := child("tmpfs", unshare, flags); ok {
			t.Log("full tmpfs: one ENOSPC error, no plaintext, no extra GET")
			return
		}
	}
	if ok, out := child("fsize"); !ok {
		t.Fatalf("child (RLIMIT_FSIZE):\n%s", out)
	}
	t.Log("file-size limit: one EFBIG error, no plaintext, no extra GET")
}

// spoolFull reads, with TempDir dir on a full file system, an object in one
// GET and in many parts: each read fails once with the write error want,
// releases nothing and fetches no part twice.
func spoolFull(t *testing.T, dir string, want syscall.Errno) {
	st, c, _ := diskStack(t, func(o *emrfs.Options) { o.TempDir = dir })
	if err := put(t, c, context.Background(), "s3://data/full", randomData(8, 3<<20)); err != nil {
		t.Fatal(err)
	}
	for i, err := range []error{
		checkLocal(t, st, c, "s3://data/full", dir, 1),
		// The read spools up to the 1 MiB the disk holds, in parts of
		// 256 KiB with 4 in flight, and stops there; the part GETs Open
		// started may all have landed by then on a busy machine, so the
		// bound is the object's 12 parts, each fetched once (a retried
		// local failure would fetch a range twice, which checkLocalParts
		// refuses).
		checkLocalParts(t, st, c, "s3://data/full", dir, (3<<20)/(256<<10)),
	} {
		var se *cse.SpoolError
		errors.As(err, &se)
		if se.Op != "write" || !errors.Is(se.Err, want) {
			t.Fatalf("read %d: cause %+v, want a write failing with %v", i, se, want)
		}
	}
	t.Log("spool full: ok")
}
