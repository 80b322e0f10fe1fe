package cse

import (
	"bytes"
	"io"
	"runtime"
	"testing"
	"time"
)

// TestCloseMidStream closes readers after a partial read and checks that no
// worker goroutine is left behind.
func TestCloseMidStream(t *testing.T) {
	key, iv := testKey(80)
	pt := randBytes(1, 1<<20)
	ct := stdSeal(key, iv, nil, pt)
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		e, _ := newGCMEncryptReader(bytes.NewReader(pt), key, iv, nil, func(o *StreamOptions) { o.ChunkSize, o.Concurrency = 4096, 4 })
		io.ReadFull(e, make([]byte, 10000))
		e.Close()
		d, _ := newGCMDecryptReader(bytes.NewReader(ct), key, iv, nil, func(o *StreamOptions) {
			o.ChunkSize, o.Concurrency, o.DelayedAuthentication = 4096, 4, i%2 == 0
		})
		io.ReadFull(d, make([]byte, 10000))
		d.Close()
		if _, err := d.Read(make([]byte, 1)); err == nil {
			t.Fatal("Read after Close succeeded")
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines left running after Close (before: %d)", n, before)
	}
}
