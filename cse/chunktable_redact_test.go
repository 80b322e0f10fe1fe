package cse

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// TestChunkTableNeverPrints: a table's chunk hashes (derived from the
// content key) appear under no fmt verb, alone or inside a struct, slice
// or map.
func TestChunkTableNeverPrints(t *testing.T) {
	var sum [16]byte
	for i := range sum {
		sum[i] = byte(0xa0 + i)
	}
	tab := &ChunkTable{chunkSize: DefaultChunkSize}
	tab.record(sum, DefaultChunkSize)
	tab.finish(DefaultChunkSize)
	forms := []string{string(sum[:]), hex.EncodeToString(sum[:]), strings.ToUpper(hex.EncodeToString(sum[:])), base64.StdEncoding.EncodeToString(sum[:]), fmt.Sprint(sum[:4])[1:8]}
	values := map[string]any{
		"ptr":    tab,
		"struct": struct{ T *ChunkTable }{tab},
		"slice":  []*ChunkTable{tab},
		"map":    map[string]*ChunkTable{"t": tab},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
			out := fmt.Sprintf(verb, v)
			for _, f := range forms {
				if strings.Contains(out, f) {
					t.Errorf("%s under %s prints a chunk hash: %s", name, verb, out)
				}
			}
		}
	}
	if !strings.Contains(tab.String(), "complete: true") {
		t.Errorf("String = %q", tab.String())
	}
}
