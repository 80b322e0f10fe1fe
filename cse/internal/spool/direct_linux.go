package spool

import (
	"os"
	"strconv"
	"syscall"
)

// openDirect is the open flag that bypasses the page cache (O_DIRECT).
const openDirect = syscall.O_DIRECT

// reopenPath returns a path that opens f's file again, unlinked as it is:
// its descriptor under /proc/self/fd.
func reopenPath(f *os.File) (string, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return "", false
	}
	var fd uintptr
	if rc.Control(func(d uintptr) { fd = d }) != nil {
		return "", false
	}
	return "/proc/self/fd/" + strconv.FormatUint(uint64(fd), 10), true
}
