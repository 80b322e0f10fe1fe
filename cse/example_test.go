package cse_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emrs3/emrs3/cse"
)

func Example() {
	key := bytes.Repeat([]byte{0x42}, 32) // a content key, from a materials provider
	iv := bytes.Repeat([]byte{0x07}, 12)

	enc, err := cse.NewGCMEncryptReader(strings.NewReader("hello, EMRFS"), key, iv, nil)
	if err != nil {
		panic(err)
	}
	ciphertext, _ := io.ReadAll(enc)
	fmt.Println("ciphertext bytes:", len(ciphertext))

	dec, err := cse.NewGCMDecryptReader(bytes.NewReader(ciphertext), key, iv, nil)
	if err != nil {
		panic(err)
	}
	plaintext, _ := io.ReadAll(dec)
	fmt.Println(string(plaintext))

	ciphertext[3] ^= 1 // tamper with the object
	dec, _ = cse.NewGCMDecryptReader(bytes.NewReader(ciphertext), key, iv, nil)
	released, err := io.ReadAll(dec)
	fmt.Println(errors.Is(err, cse.ErrNotAuthentic), len(released))
	// Output:
	// ciphertext bytes: 28
	// hello, EMRFS
	// true 0
}

func ExampleGCMRange() {
	key := bytes.Repeat([]byte{0x42}, 32)
	iv := bytes.Repeat([]byte{0x07}, 12)
	enc, _ := cse.NewGCMEncryptReader(strings.NewReader(strings.Repeat("x", 1000)+"FOOTER"), key, iv, nil)
	object, _ := io.ReadAll(enc)

	// The last 6 bytes of the plaintext: fetch only the blocks that hold them.
	r, _ := cse.GCMRange(1000, 6, int64(len(object)))
	fmt.Println(r.HTTPRange())
	body := bytes.NewReader(object[r.Offset : r.Offset+r.Length]) // the ranged GET
	plain, _ := cse.NewRangeReader(body, key, iv, r)
	footer, _ := io.ReadAll(plain)
	fmt.Println(string(footer))
	// Output:
	// bytes=992-1005
	// FOOTER
}
