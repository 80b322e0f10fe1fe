package cse

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"testing"
)

// TestChunkTable records a table while decrypting GCM messages of several
// sizes and chunk sizes, then reads every span through NewChunkReader:
// the plaintext matches, a changed chunk is rejected with ErrNotAuthentic
// before any of its bytes is returned, and a message whose tag does not
// verify leaves no complete table.
func TestChunkTable(t *testing.T) {
	key, iv := make([]byte, 32), make([]byte, 12)
	rand.Read(key)
	rand.Read(iv)
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	for _, chunk := range []int{16, 64, DefaultChunkSize} {
		for _, size := range []int{0, 1, 15, 16, 17, chunk - 1, chunk, chunk + 1, 3*chunk + 5, 300_000} {
			for _, delayed := range []bool{false, true} {
				name := fmt.Sprintf("chunk %d size %d delayed %v", chunk, size, delayed)
				pt := make([]byte, size)
				rand.Read(pt)
				ct := aead.Seal(nil, iv, pt, nil)
				tab := &ChunkTable{}
				dr, err := newGCMDecryptReader(bytes.NewReader(ct), key, iv, nil, func(o *StreamOptions) {
					o.ChunkSize, o.ChunkTable, o.DelayedAuthentication, o.Concurrency = chunk, tab, delayed, 2
				})
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(dr)
				dr.Close()
				if err != nil || !bytes.Equal(got, pt) || !tab.Complete() {
					t.Fatalf("%s: decrypt: %v, complete %v", name, err, tab.Complete())
				}
				c := &Content{Algorithm: AlgGCM, Key: key, IV: iv}
				for _, r := range [][2]int64{{0, int64(size)}, {int64(size) / 2, 7}, {int64(size) - 1, 1}, {int64(chunk), int64(chunk)}} {
					start, end := tab.Span(r[0], r[1])
					cr, err := c.NewChunkReader(bytes.NewReader(ct[start:end]), tab, start, end)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					b, err := io.ReadAll(cr)
					if err != nil || !bytes.Equal(b, pt[start:end]) {
						t.Fatalf("%s: span [%d,%d): %v", name, start, end, err)
					}
					if end > start {
						bad := bytes.Clone(ct[start:end])
						bad[len(bad)-1] ^= 1
						cr, _ := c.NewChunkReader(bytes.NewReader(bad), tab, start, end)
						b, err := io.ReadAll(cr)
						if !errors.Is(err, ErrNotAuthentic) || int64(len(b)) > max(0, (end-1)/int64(chunk)*int64(chunk)-start) {
							t.Fatalf("%s: tampered span [%d,%d): %d bytes, %v", name, start, end, len(b), err)
						}
					}
				}
				tab.Wipe()
				if tab.Complete() {
					t.Fatal("wiped table still complete")
				}
				// A bad tag leaves the table incomplete.
				bad := bytes.Clone(ct)
				bad[len(bad)-1] ^= 1
				tab = &ChunkTable{}
				dr, _ = newGCMDecryptReader(bytes.NewReader(bad), key, iv, nil, func(o *StreamOptions) {
					o.ChunkSize, o.ChunkTable, o.DelayedAuthentication = chunk, tab, delayed
				})
				_, err = io.ReadAll(dr)
				dr.Close()
				if !errors.Is(err, ErrNotAuthentic) || tab.Complete() {
					t.Fatalf("%s: bad tag: %v, complete %v", name, err, tab.Complete())
				}
			}
		}
	}
}
