package emrfs

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/emrs3/emrs3/cse"
)

// recordingHandler keeps the messages of every record at or above level.
type recordingHandler struct {
	level slog.Level
	mu    sync.Mutex
	recs  []string
}

func (h *recordingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Level.String()+" "+r.Message)
	h.mu.Unlock()
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordingHandler) has(level slog.Level, substr string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.recs {
		if strings.HasPrefix(r, level.String()+" ") && strings.Contains(r, substr) {
			return true
		}
	}
	return false
}

// TestDebugTellsResumeSpoolAbort: at Debug the Client tells a resumed GET,
// a read that spools to local disk and an aborted upload — and nothing of
// it reaches Info.
func TestDebugTellsResumeSpoolAbort(t *testing.T) {
	e := newCSEEnv(t)
	h := &recordingHandler{level: slog.LevelDebug}
	c := e.client(t, s3aCSE, func(o *Options) {
		o.Logger = slog.New(h)
		o.CSEPolicy = &cse.Policy{}                 // authenticated reads
		o.DecryptMemoryLimit = cse.DefaultChunkSize // spool past one chunk
		o.PartSize = MinPartSize
	})
	ctx := context.Background()
	data := randomBytes(1<<20, 17)
	uri := "s3://" + testBucket + "/logged"
	writeObject(t, c, uri, data)

	e.fault.cutAfter = 100_000
	e.fault.cuts.Store(1)
	if got := readObject(t, c, uri); !bytes.Equal(got, data) {
		t.Fatal("read differs")
	}
	e.fault.cutAfter = 0
	if !h.has(slog.LevelDebug, "resuming a broken GET") {
		t.Errorf("no Debug record of the resume in %q", h.recs)
	}
	if !h.has(slog.LevelDebug, "spools to local disk") {
		t.Errorf("no Debug record of the spool in %q", h.recs)
	}

	w, err := c.Create(ctx, uri+".aborted")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, bytes.NewReader(randomBytes(MinPartSize+1, 18))); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if !h.has(slog.LevelDebug, "aborted") {
		t.Errorf("no Debug record of the abort in %q", h.recs)
	}
	for _, r := range h.recs {
		if !strings.HasPrefix(r, "DEBUG ") {
			t.Errorf("record above Debug for operations that succeeded or were aborted on request: %q", r)
		}
	}
}
