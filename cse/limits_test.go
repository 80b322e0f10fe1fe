package cse

import (
	"strings"
	"testing"

	"github.com/emrs3/emrs3/cse/internal/envelope"
)

// TestInstructionTooLargeSaysSo: an oversized instruction file (of which a
// reader may pass only a prefix) is reported as too large with the limit,
// not by the length of what was read.
func TestInstructionTooLargeSaysSo(t *testing.T) {
	body := []byte(`{"x-amz-key-v2": "` + strings.Repeat("A", 1<<20) + `"}`)
	_, err := envelope.ParseInstruction(body[:1<<20])
	if err == nil || !strings.Contains(err.Error(), "too large") || !strings.Contains(err.Error(), "64 KiB") || strings.Contains(err.Error(), "1048576") {
		t.Fatalf("oversized instruction file: %v", err)
	}
}
