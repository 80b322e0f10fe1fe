package main

import (
	"errors"
	"io"
	"syscall"
)

// outWriter is the commands' stdout. It remembers the first write error,
// so that a command printing with fmt.Fprintf still fails (a full disk is
// exit 1) and stops at once, and it marks that error as stdout's, so that
// a reader that went away early is told apart from a broken network
// connection (both are EPIPE).
type outWriter struct {
	w   io.Writer
	err error
}

func (o *outWriter) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	if err != nil {
		o.err = &stdoutError{err}
	}
	return n, o.err
}

// stdoutError is a failed write to stdout.
type stdoutError struct{ err error }

func (e *stdoutError) Error() string { return "writing to stdout: " + e.err.Error() }
func (e *stdoutError) Unwrap() error { return e.err }

// readerGone reports whether err is a write to stdout that failed because
// its reader closed the pipe (emrs3 cat URI | head): not an error of
// emrs3's, exit 0 without a message. main ignores SIGPIPE so that such a
// write returns EPIPE instead of killing the process (exit 141 in a shell
// with pipefail) before it has closed its reads.
func readerGone(err error) bool {
	var se *stdoutError
	return errors.As(err, &se) && errors.Is(se.err, syscall.EPIPE)
}
