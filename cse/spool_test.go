package cse

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// countingKeys is a StreamOptions.SpoolKeys source that counts its calls.
type countingKeys struct {
	calls atomic.Int32
	err   error
	ctx   context.Context
	mu    sync.Mutex
}

func (k *countingKeys) SpoolKey(ctx context.Context) ([]byte, []byte, error) {
	k.calls.Add(1)
	k.mu.Lock()
	k.ctx = ctx
	k.mu.Unlock()
	if k.err != nil {
		return nil, nil, k.err
	}
	return bytes.Repeat([]byte{9}, 32), []byte("test key"), nil
}

type ctxKey struct{}

func TestGCMSpoolKeySource(t *testing.T) {
	key, iv := testKey(95)
	pt := randBytes(7, 20*testChunk)
	ct := stdSeal(key, iv, nil, pt)
	ctx := context.WithValue(context.Background(), ctxKey{}, "mine")
	for _, m := range modes {
		for _, size := range []int{testChunk, len(pt)} {
			src := &countingKeys{}
			msg := ct
			if size < len(pt) {
				msg = stdSeal(key, iv, nil, pt[:size])
			}
			r, err := newGCMDecryptReader(bytes.NewReader(msg), key, iv, nil, decOpts(m.opt, func(o *StreamOptions) {
				o.MemoryLimit, o.TempDir, o.SpoolKeys, o.Context = 2*testChunk, t.TempDir(), src.SpoolKey, ctx
			})...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if size < len(pt) {
				// A message that fits in memory never asks for a key.
				if err != nil || src.calls.Load() != 0 {
					t.Fatalf("%s: key source called for a message that needs no spool", m.name)
				}
				continue
			}
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("%s: %v", m.name, err)
			}
			if n := src.calls.Load(); n != 1 || src.ctx.Value(ctxKey{}) != "mine" {
				t.Fatalf("%s: key source called %d times, ctx %v", m.name, n, src.ctx)
			}
		}
	}
}

func TestGCMSpoolKeySourceFails(t *testing.T) {
	key, iv := testKey(96)
	pt := randBytes(8, 20*testChunk)
	ct := stdSeal(key, iv, nil, pt)
	boom := errors.New("AccessDeniedException: not allowed")
	for _, m := range modes {
		r, err := newGCMDecryptReader(bytes.NewReader(ct), key, iv, nil, decOpts(m.opt, func(o *StreamOptions) {
			o.MemoryLimit, o.TempDir, o.SpoolKeys = 2*testChunk, t.TempDir(), (&countingKeys{err: boom}).SpoolKey
		})...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		var se *SpoolError
		if len(got) != 0 || !errors.As(err, &se) || se.Op != "key" || !errors.Is(err, boom) {
			t.Fatalf("%s: %d bytes, %v", m.name, len(got), err)
		}
	}
}

// TestGCMSpoolLimits: past the per-message cap or the shared budget the
// read fails with ErrSpoolLimit and releases nothing; the budget is given
// back on Close.
func TestGCMSpoolLimits(t *testing.T) {
	key, iv := testKey(97)
	pt := randBytes(9, 40*testChunk)
	ct := stdSeal(key, iv, nil, pt)
	for _, m := range modes {
		budget := &SpoolBudget{Limit: 10 * testChunk}
		for _, tc := range []struct {
			name   string
			opt    func(*StreamOptions)
			shared bool
		}{
			{"per message", func(o *StreamOptions) { o.SpoolLimit = 10 * testChunk }, false},
			{"shared", func(o *StreamOptions) { o.SpoolBudget = budget }, true},
		} {
			dir := t.TempDir()
			r, err := newGCMDecryptReader(bytes.NewReader(ct), key, iv, nil, decOpts(m.opt, func(o *StreamOptions) {
				o.MemoryLimit, o.TempDir = 2*testChunk, dir
			}, tc.opt)...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			var se *SpoolError
			if len(got) != 0 || !errors.Is(err, ErrSpoolLimit) || !errors.As(err, &se) || se.Shared != tc.shared || se.Limit != 10*testChunk {
				t.Fatalf("%s %s: %d bytes, %v", m.name, tc.name, len(got), err)
			}
			if !strings.Contains(err.Error(), "640 bytes") || !strings.Contains(err.Error(), "delayed authentication") {
				t.Fatalf("%s %s: message does not name the cap and the alternatives: %v", m.name, tc.name, err)
			}
			r.Close()
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Fatalf("spool file left: %v", ents)
			}
		}
		if budget.InUse() != 0 {
			t.Fatalf("%s: budget holds %d bytes after Close", m.name, budget.InUse())
		}
		// Within the caps the same message reads.
		r, _ := newGCMDecryptReader(bytes.NewReader(ct), key, iv, nil, decOpts(m.opt, func(o *StreamOptions) {
			o.MemoryLimit, o.TempDir, o.SpoolLimit = 2*testChunk, t.TempDir(), 60*testChunk
			o.SpoolBudget = &SpoolBudget{Limit: 60 * testChunk}
		})...)
		if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("%s: within the caps: %v", m.name, err)
		}
		r.Close()
	}
}

// TestGCMSpoolMissingDirIsLocal: a missing TempDir is a *SpoolError that
// names it and does not match fs.ErrNotExist.
func TestGCMSpoolMissingDirIsLocal(t *testing.T) {
	key, iv := testKey(98)
	ct := stdSeal(key, iv, nil, randBytes(10, 10*testChunk))
	dir := t.TempDir() + "/missing"
	for _, m := range modes {
		r, _ := newGCMDecryptReader(bytes.NewReader(ct), key, iv, nil, decOpts(m.opt, func(o *StreamOptions) {
			o.MemoryLimit, o.TempDir = testChunk, dir
		})...)
		got, err := io.ReadAll(r)
		r.Close()
		var se *SpoolError
		if len(got) != 0 || !errors.As(err, &se) || se.Op != "create" || se.Dir != dir || errors.Is(err, fs.ErrNotExist) || !errors.Is(se.Err, fs.ErrNotExist) {
			t.Fatalf("%s: %d bytes, %v", m.name, len(got), err)
		}
		if !strings.Contains(err.Error(), dir) {
			t.Fatalf("%s: error does not name the directory: %v", m.name, err)
		}
	}
}
