//go:build !linux

package spool

import "os"

// openDirect is 0 where the spool does not bypass the page cache.
const openDirect = 0

func reopenPath(*os.File) (string, bool) { return "", false }
