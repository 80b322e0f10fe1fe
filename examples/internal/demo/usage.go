package demo

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// SetUsage makes fs's -h print what the program does, runnable command
// lines and every flag, on stderr:
//
//	usage: NAME SYNOPSIS
//
//	ABOUT
//
//	examples:
//	  EXAMPLE...
//
//	flags:
//	  ...
func SetUsage(fs *flag.FlagSet, synopsis, about string, examples ...string) {
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s %s\n\n%s\n", fs.Name(), synopsis, strings.TrimSpace(about))
		if len(examples) > 0 {
			fmt.Fprintf(w, "\nexamples:\n")
			for _, e := range examples {
				fmt.Fprintf(w, "  %s\n", e)
			}
		}
		fmt.Fprintf(w, "\nflags:\n")
		fs.PrintDefaults()
	}
}

// Exit ends an example's main: status 0 for -h (the usage was printed),
// 2 for another flag error (already printed by the flag package), 1 with
// the error on stderr otherwise.
func Exit(name string, err error) {
	switch {
	case err == nil:
		return
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errFlag):
		os.Exit(2)
	}
	fmt.Fprintln(os.Stderr, name+":", err)
	os.Exit(1)
}

// errFlag marks an error the flag package has already reported.
var errFlag = errors.New("invalid flags")

// Parse parses args with fs; a flag error (other than -h) is returned
// wrapped so that Exit exits with status 2 without printing it twice.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errFlag, err)
	}
	return nil
}
