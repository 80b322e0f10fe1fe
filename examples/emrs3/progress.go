package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/emrs3/emrs3/emrfs"
)

// bar draws the progress of one transfer on stderr from the emrfs
// ProgressFunc callbacks, which count bytes S3 acknowledged (writes,
// copies) or delivered (reads). On a terminal it redraws one line at most
// ten times a second; with --progress on a pipe it prints one line per
// callback. A nil bar does nothing.
type bar struct {
	w     io.Writer
	tty   bool
	label string
	start time.Time

	mu       sync.Mutex
	last     time.Time
	done     int64
	total    int64
	finished bool
}

// newBar returns the bar of one transfer, or nil when progress is off (-q,
// or stderr is not a terminal and --progress is not given).
func (a *app) newBar(label string, total int64) *bar {
	if a.quiet || (!a.io.errTTY && !a.progress) {
		return nil
	}
	return &bar{w: a.io.err, tty: a.io.errTTY, label: label, start: time.Now(), total: total}
}

// fn returns the ProgressFunc feeding the bar (nil for a nil bar).
func (b *bar) fn() emrfs.ProgressFunc {
	if b == nil {
		return nil
	}
	return b.update
}

func (b *bar) update(done, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished || done < b.done || (!b.tty && done == b.done && !b.last.IsZero()) {
		return // on a pipe, one line per new value
	}
	b.done = done
	if total >= 0 {
		b.total = total
	}
	now := time.Now()
	if b.tty && now.Sub(b.last) < 100*time.Millisecond && done != b.total {
		return
	}
	b.last = now
	b.draw(now)
}

// finish draws the final state of a successful transfer of n bytes and
// ends the line.
func (b *bar) finish(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	if b.tty || b.done != n || b.total != n || b.last.IsZero() {
		b.done, b.total = n, n
		b.draw(time.Now())
	}
	if b.tty {
		fmt.Fprintln(b.w)
	}
	b.finished = true
}

// abandon ends the line of a failed transfer.
func (b *bar) abandon() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.finished && b.tty && !b.last.IsZero() {
		fmt.Fprintln(b.w)
	}
	b.finished = true
}

func (b *bar) draw(now time.Time) {
	secs := now.Sub(b.start).Seconds()
	rate := ""
	if secs > 0 {
		rate = humanBytes(int64(float64(b.done)/secs)) + "/s"
	}
	line := ""
	if b.total > 0 {
		pct := 100 * float64(b.done) / float64(b.total)
		const width = 24
		fill := int(pct / 100 * width)
		line = fmt.Sprintf("%s [%s%s] %5.1f%% %s / %s %s", b.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), pct, humanBytes(b.done), humanBytes(b.total), rate)
	} else {
		line = fmt.Sprintf("%s %s %s", b.label, humanBytes(b.done), rate)
	}
	if b.tty {
		fmt.Fprintf(b.w, "\r%s\x1b[K", line)
	} else {
		fmt.Fprintln(b.w, line)
	}
}

// humanBytes formats n in binary units.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
