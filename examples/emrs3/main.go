// Command emrs3 lists, reads, copies, inspects and removes objects in S3
// buckets the way Amazon EMRFS does, client-side encryption (CSE-KMS,
// custom providers) and SSE included: what `aws s3` cannot decrypt,
// emrs3 reads.
//
//	go install ./examples/emrs3                 # from a checkout
//	emrs3 --embedded demo                      # try it without AWS
//	emrs3 --conf /etc/hadoop/conf/emrfs-site.xml ls -r s3://bucket/prefix/
//	emrs3 --conf emrfs-site.xml cat s3://bucket/data.csv | head
//	emrs3 --conf emrfs-site.xml cp big.parquet s3://bucket/in/
//	emrs3 --conf emrfs-site.xml stat s3://bucket/data.csv
//
// `emrs3 --help` and `emrs3 COMMAND --help` are the reference.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	// A write to stdout whose reader went away (emrs3 cat URI | head)
	// returns EPIPE, which run turns into a quiet exit 0, instead of
	// killing the process.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, os.Args[1:], &stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, errTTY: isTerminal(os.Stderr)})
	}()
	select {
	case code := <-done:
		stop()
		os.Exit(code)
	case <-ctx.Done():
	}
	// Interrupted: a second Ctrl-C kills at once. The cancelled context has
	// made emrfs abort any upload; a command blocked reading stdin cannot
	// notice, so wait for it only a little.
	stop()
	select {
	case code := <-done: // 0 if it finished anyway (or is serve, stopped by Ctrl-C)
		os.Exit(code)
	case <-time.After(interruptGrace):
		fmt.Fprintln(os.Stderr, "emrs3: interrupted")
		os.Exit(exitInterrupt)
	}
}

// interruptGrace is how long an interrupted command has to clean up
// (abort its upload, remove a partial download) before the process exits.
const interruptGrace = 10 * time.Second

// stdio is the process's standard streams; errTTY tells whether stderr is
// a terminal (progress bars are drawn only then, unless --progress).
type stdio struct {
	in     io.Reader
	out    io.Writer
	err    io.Writer
	errTTY bool
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Exit codes; documented in usage.
const (
	exitOK         = 0
	exitError      = 1
	exitUsage      = 2
	exitNotFound   = 3
	exitDenied     = 4
	exitIntegrity  = 5
	exitConfig     = 6
	exitRefused    = 7
	exitInterrupt  = 130
	usageTopicHelp = "help"
)

// command is one subcommand.
type command struct {
	name, args, short, long string
	run                     func(ctx context.Context, a *app, args []string) error
	flags                   func(a *app, fs *flagSet)
}

var commands []*command

func init() {
	commands = []*command{cmdLs, cmdCat, cmdCp, cmdStat, cmdRm, cmdDemo, cmdServe}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, std *stdio) int {
	out := &outWriter{w: std.out}
	io := &stdio{in: std.in, out: out, err: std.err, errTTY: std.errTTY}
	a := &app{io: io, pathStyle: "auto"}
	top := newFlagSet("emrs3")
	a.globalFlags(top)
	rest, err := top.parseUntilCommand(args)
	if err != nil {
		return a.usageError(err, nil)
	}
	if a.help || len(rest) == 0 {
		fmt.Fprint(io.out, a.usage())
		if a.help {
			return exitOK
		}
		return exitUsage
	}
	name := rest[0]
	if name == usageTopicHelp {
		if len(rest) > 1 && lookup(rest[1]) != nil {
			fmt.Fprint(io.out, a.commandUsage(lookup(rest[1])))
		} else {
			fmt.Fprint(io.out, a.usage())
		}
		return exitOK
	}
	cmd := lookup(name)
	if cmd == nil {
		return a.usageError(fmt.Errorf("unknown command %q", name), nil)
	}
	fs := newFlagSet("emrs3 " + name)
	a.globalFlags(fs) // global flags are accepted after the command too
	if cmd.flags != nil {
		cmd.flags(a, fs)
	}
	pos, err := fs.parseInterspersed(rest[1:])
	if err != nil {
		return a.usageError(err, cmd)
	}
	if a.help {
		fmt.Fprint(io.out, a.commandUsage(cmd))
		return exitOK
	}
	defer a.close()
	err = cmd.run(ctx, a, pos)
	if err == nil {
		err = out.err // printed with fmt.Fprintf
	}
	if err == nil || readerGone(err) {
		return exitOK
	}
	if ue, ok := err.(*usageErr); ok {
		return a.usageError(ue, cmd)
	}
	return a.fail(ctx, name, err)
}
