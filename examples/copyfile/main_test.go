package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCopyFileEmbedded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.bin")
	data := make([]byte, 12<<20+5) // several parts
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, progress bytes.Buffer
	if err := run(context.Background(), []string{"-embedded", "-verify", "-progress", "1ms", path}, &out, &progress); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "verified: 12582917 bytes") {
		t.Errorf("output:\n%s", out.String())
	}
	if !strings.Contains(progress.String(), "100.0%") {
		t.Errorf("no final progress line:\n%s", progress.String())
	}
}

func TestCopyFileUsage(t *testing.T) {
	if err := run(context.Background(), []string{"-embedded"}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("no file: %v", err)
	}
}

func TestCopyFileHelp(t *testing.T) {
	if err := run(context.Background(), []string{"-h"}, &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp (exit 0 after the usage)", err)
	}
}
