package cse_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"io"

	"github.com/emrs3/emrs3/cse"
)

// Authenticate a GCM message once while recording its chunk table, then
// read a range of it — checked chunk by chunk — without the rest.
func ExampleChunkTable() {
	key, iv := bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{9}, 12)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	plaintext := bytes.Repeat([]byte("0123456789"), 100_000) // 1 MB
	ciphertext := gcm.Seal(nil, iv, plaintext, nil)
	content := &cse.Content{Algorithm: cse.AlgGCM, Key: key, IV: iv} // as Decrypt returns it

	t := &cse.ChunkTable{}
	dr, err := content.NewDecryptReader(bytes.NewReader(ciphertext), func(o *cse.StreamOptions) {
		o.ChunkTable = t
	})
	if err != nil {
		panic(err)
	}
	if _, err := io.Copy(io.Discard, dr); err != nil { // verifies the tag
		panic(err)
	}
	dr.Close()

	// Later: plaintext bytes [500000, 500010), fetching only their chunk.
	start, end := t.Span(500_000, 10)
	r, err := content.NewChunkReader(bytes.NewReader(ciphertext[start:end]), t, start, end)
	if err != nil {
		panic(err)
	}
	chunk, err := io.ReadAll(r)
	fmt.Println(end-start, string(chunk[500_000-start:][:10]), err)
	t.Wipe()
	// Output: 262144 0123456789 <nil>
}
