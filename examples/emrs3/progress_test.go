package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestBarTerminal: on a terminal the bar redraws one line in place (\r,
// clear to the end of line) and ends it once; on a pipe it is drawn only
// with --progress, one line per value; -q turns it off everywhere.
func TestBarTerminal(t *testing.T) {
	for _, tc := range []struct {
		name          string
		tty, progress bool
		quiet         bool
		want          bool // a bar at all
	}{
		{"terminal", true, false, false, true},
		{"terminal -q", true, false, true, false},
		{"pipe", false, false, false, false},
		{"pipe --progress", false, true, false, true},
		{"pipe --progress -q", false, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			a := &app{io: &stdio{err: &buf, errTTY: tc.tty}, progress: tc.progress, quiet: tc.quiet}
			b := a.newBar("big.bin", 3<<20)
			if (b != nil) != tc.want {
				t.Fatalf("newBar = %v, want a bar: %v", b, tc.want)
			}
			fn := b.fn()
			if fn != nil {
				fn(1<<20, 3<<20)
				fn(1<<20, 3<<20)
				fn(3<<20, 3<<20)
			}
			b.finish(3 << 20)
			out := buf.String()
			if !tc.want {
				if out != "" {
					t.Errorf("drawn without a bar: %q", out)
				}
				return
			}
			if !strings.Contains(out, " 33.3% 1.0 MiB / 3.0 MiB") || !strings.Contains(out, "100.0% 3.0 MiB / 3.0 MiB") {
				t.Errorf("bar %q", out)
			}
			if tc.tty {
				if !strings.HasPrefix(out, "\r") || !strings.Contains(out, "\x1b[K") || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
					t.Errorf("terminal bar is not one line redrawn in place: %q", out)
				}
			} else if n := strings.Count(out, "\n"); n != 2 || strings.Contains(out, "\r") {
				t.Errorf("pipe bar: %d lines, want one per value (33.3%%, 100%%): %q", n, out)
			}
		})
	}
}
