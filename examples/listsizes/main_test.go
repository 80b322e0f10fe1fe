package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestListSizesEmbedded(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-embedded"}, &out); err != nil {
		t.Fatal(err)
	}
	// Each GCM object is stored 16 bytes larger than its plaintext.
	for _, want := range [][]string{{"0", "16", "part-0000"}, {"1", "17", "part-0001"}, {"1000", "1016", "part-0002"}, {"70000", "70016", "part-0003"}} {
		found := false
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.Join(strings.Fields(line), " ") == strings.Join(want, " ") {
				found = true
			}
		}
		if !found {
			t.Errorf("no line %v in:\n%s", want, out.String())
		}
	}
}
