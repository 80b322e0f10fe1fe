package cse

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/emrs3/emrs3/cse/internal/spool"
)

// SpoolBudget caps the bytes that the decryption spools sharing it hold on
// local disk at once (set StreamOptions.SpoolBudget on every decrypter
// that draws from it). Bytes are taken as records are written and given
// back when a spool is closed. It is safe for concurrent use; the zero
// value has no cap.
type SpoolBudget struct {
	// Limit is the cap in bytes; 0 or less means none. Set it before the
	// budget is used.
	Limit int64

	used atomic.Int64
}

// InUse returns the bytes the spools drawing from b hold now.
func (b *SpoolBudget) InUse() int64 { return b.used.Load() }

func (b *SpoolBudget) reserve(n int64) (int64, bool) {
	if b.Limit <= 0 {
		b.used.Add(n)
		return 0, true
	}
	for {
		u := b.used.Load()
		if u+n > b.Limit {
			return b.Limit, false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return b.Limit, true
		}
	}
}

func (b *SpoolBudget) release(n int64) { b.used.Add(-n) }

// SpoolError reports that the decryption spool failed — the temporary
// file that an authenticating decrypter keeps the part of a message past
// StreamOptions.MemoryLimit in. It is about local storage, a cap or the
// spool's key, never about the message itself: reading the message again
// does not help, so callers must not retry it as a network fault.
//
// The cause of a local file-system failure (Op "create", "write", "read")
// is in Err but is deliberately not unwrapped, so that a missing TempDir
// never matches fs.ErrNotExist and passes for a missing object; inspect Err
// directly (errors.Is(e.Err, syscall.ENOSPC)). For Op "limit" the error
// unwraps to ErrSpoolLimit, and for Op "key" to the key source's error.
type SpoolError struct {
	// Op is "create", "write" or "read" (the temporary file), "limit" (a
	// cap) or "key" (SpoolKeys failed).
	Op string
	// Dir is the temporary directory.
	Dir string
	// Limit is, for Op "limit", the cap that was reached, in bytes.
	Limit int64
	// Shared is, for Op "limit", true when the cap was the SpoolBudget's
	// rather than StreamOptions.SpoolLimit.
	Shared bool
	// Err is the cause.
	Err error
}

// Error says what failed, where, and what to change.
func (e *SpoolError) Error() string {
	switch e.Op {
	case "limit":
		which := "the per-message spool cap (StreamOptions.SpoolLimit)"
		if e.Shared {
			which = "the shared spool cap (SpoolBudget)"
		}
		return fmt.Sprintf("cse: decryption spool in %s: the message needs more local disk than %s of %d bytes; "+
			"raise the cap, read with delayed authentication, or read ranges", e.Dir, which, e.Limit)
	case "key":
		return fmt.Sprintf("cse: decryption spool in %s: cannot get the spool key: %v", e.Dir, e.Err)
	}
	return fmt.Sprintf("cse: decryption spool: local temporary directory %s (TempDir) failed to %s the spool file: %v; "+
		"set TempDir to a writable directory with room for the part of the message past the memory limit, "+
		"or raise the memory limit", e.Dir, e.Op, e.Err)
}

// Unwrap returns ErrSpoolLimit for Op "limit", the key source's error for
// Op "key", and nil for local file-system failures (see the type's doc).
func (e *SpoolError) Unwrap() error {
	switch e.Op {
	case "limit", "key":
		return e.Err
	}
	return nil
}

// spoolOptions turns the StreamOptions into the spool's.
func spoolOptions(o *StreamOptions) spool.Options {
	so := spool.Options{Dir: o.TempDir, Limit: o.SpoolLimit}
	if src := o.SpoolKeys; src != nil {
		ctx := o.Context
		if ctx == nil {
			ctx = context.Background()
		}
		so.Key = func() ([]byte, []byte, error) { return src(ctx) }
	}
	if b := o.SpoolBudget; b != nil {
		so.Reserve, so.Release = b.reserve, b.release
	}
	return so
}

// newSpool creates a spool, with its errors as *SpoolError.
func newSpool(o *StreamOptions) (*spool.Spool, error) {
	s, err := spool.New(spoolOptions(o))
	return s, spoolError(err)
}

// spoolError turns a spool package error into a *SpoolError.
func spoolError(err error) error {
	var se *spool.Error
	if !errors.As(err, &se) {
		return err
	}
	e := &SpoolError{Op: se.Op, Dir: se.Dir, Limit: se.Limit, Shared: se.Scope == "shared", Err: se.Err}
	if se.Op == "limit" {
		e.Err = ErrSpoolLimit
	}
	return e
}
