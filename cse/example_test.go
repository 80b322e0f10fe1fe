package cse_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/emrs3/emrs3/cse"
)

// Encrypt an object with an envelope in an instruction file, then read it
// back: Decrypt fetches the instruction file only because the metadata holds
// no envelope, and the Content decrypts the body.
func Example() {
	ctx := context.Background()
	keyring, _ := cse.NewAESKeyring(bytes.Repeat([]byte{0x42}, 32), map[string]string{"kek": "example"})
	store := map[string][]byte{} // a stand-in for S3

	enc := cse.NewEncryptor(keyring, func(o *cse.Options) { o.InstructionFile = true })
	env, content, err := enc.Encrypt(ctx, cse.ObjectInfo{Bucket: "bucket", Key: "data/part-0"})
	if err != nil {
		panic(err)
	}
	r, _ := content.NewEncryptReader(strings.NewReader("hello, EMRFS"))
	store["data/part-0"], _ = io.ReadAll(r)
	store[env.InstructionKey] = env.Instruction
	content.Wipe()
	fmt.Println("ciphertext bytes:", len(store["data/part-0"]), "instruction file:", env.InstructionKey)

	fetch := func(_ context.Context, key string) ([]byte, error) { return store[key], nil }
	dec := cse.NewDecryptor(keyring)
	content, err = dec.Decrypt(ctx, env.Metadata, fetch, cse.ObjectInfo{Bucket: "bucket", Key: "data/part-0"})
	if err != nil {
		panic(err)
	}
	defer content.Wipe()
	pr, _ := content.NewDecryptReader(bytes.NewReader(store["data/part-0"]))
	plaintext, _ := io.ReadAll(pr)
	fmt.Println(string(plaintext))

	store["data/part-0"][3] ^= 1 // tamper with the object
	pr, _ = content.NewDecryptReader(bytes.NewReader(store["data/part-0"]))
	released, err := io.ReadAll(pr)
	fmt.Println(errors.Is(err, cse.ErrNotAuthentic), len(released))
	// Output:
	// ciphertext bytes: 28 instruction file: data/part-0.instruction
	// hello, EMRFS
	// true 0
}

// Read the end of an object with a ranged GET. Ranges are not
// authenticated, so the Decryptor's Policy must allow them.
func ExampleContent_Range() {
	ctx := context.Background()
	keyring, _ := cse.NewAESKeyring(bytes.Repeat([]byte{0x42}, 32), nil)
	env, content, _ := cse.NewEncryptor(keyring).Encrypt(ctx, cse.ObjectInfo{Key: "k"})
	r, _ := content.NewEncryptReader(strings.NewReader(strings.Repeat("x", 1000) + "FOOTER"))
	object, _ := io.ReadAll(r)
	content.Wipe()

	content, _ = cse.NewDecryptor(keyring).Decrypt(ctx, env.Metadata, nil, cse.ObjectInfo{Key: "k"})
	_, err := content.Range(1000, 6, int64(len(object)))
	fmt.Println(err)

	ranged := cse.NewDecryptor(keyring, func(o *cse.Options) { o.Policy.UnauthenticatedRanges = true })
	content, _ = ranged.Decrypt(ctx, env.Metadata, nil, cse.ObjectInfo{Key: "k"})
	defer content.Wipe()
	// The last 6 bytes of the plaintext: fetch only the blocks that hold them.
	rg, _ := content.Range(1000, 6, int64(len(object)))
	fmt.Println(rg.HTTPRange())
	body := bytes.NewReader(object[rg.Offset : rg.Offset+rg.Length]) // the ranged GET
	plain, _ := content.NewRangeReader(body, rg)
	footer, _ := io.ReadAll(plain)
	fmt.Println(string(footer))
	// Output:
	// cse: a ranged (unauthenticated) read of AES/GCM/NoPadding content is refused by policy; set Policy.UnauthenticatedRanges to allow it
	// bytes=992-1005
	// FOOTER
}
