package cse_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/emrs3/emrs3/cse"
)

// Encrypt an object body with a raw AES key-encryption key and read it back.
// With a KMS client, use cse.NewKMSProvider(kmsClient, keyID) instead.
func ExampleEncryptor() {
	ctx := context.Background()
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	keyring, err := cse.NewAESKeyring(kek, map[string]string{"purpose": "example"})
	if err != nil {
		panic(err)
	}

	// Writing: an envelope for the object's metadata and a content key.
	body := "hello, EMRFS"
	env, content, err := cse.NewEncryptor(keyring).Encrypt(ctx, cse.ObjectInfo{
		Bucket: "bucket", Key: "data/part-0", PlaintextSize: int64(len(body)),
	})
	if err != nil {
		panic(err)
	}
	enc, _ := content.NewEncryptReader(strings.NewReader(body))
	ciphertext, _ := io.ReadAll(enc)
	content.Wipe()

	keys := make([]string, 0, len(env.Metadata))
	for k := range env.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Println(keys)

	// Reading: the metadata as S3 returns it (x-amz-meta- prefix and all).
	meta := map[string]string{}
	for k, v := range env.Metadata {
		meta["X-Amz-Meta-"+k] = v
	}
	content, err = cse.NewDecryptor(keyring).Decrypt(ctx, meta, nil, cse.ObjectInfo{Bucket: "bucket", Key: "data/part-0"})
	if err != nil {
		panic(err)
	}
	defer content.Wipe()
	dec, _ := content.NewDecryptReader(bytes.NewReader(ciphertext))
	plaintext, _ := io.ReadAll(dec)
	fmt.Println(string(plaintext), content.PlaintextSize)
	// Output:
	// [x-amz-cek-alg x-amz-iv x-amz-key-v2 x-amz-matdesc x-amz-tag-len x-amz-unencrypted-content-length x-amz-wrap-alg]
	// hello, EMRFS 12
}

// The default policy refuses the legacy formats; the error names the option.
func ExamplePolicy() {
	meta := map[string]string{ // EMRFS's default CSE-KMS object (abridged)
		"x-amz-key-v2":   "AQIDBA==",
		"x-amz-iv":       "AAAAAAAAAAAAAAAAAAAAAA==",
		"x-amz-matdesc":  `{"kms_cmk_id":"alias/emr"}`,
		"x-amz-wrap-alg": "kms",
		"x-amz-cek-alg":  "AES/CBC/PKCS5Padding",
	}
	_, err := cse.NewDecryptor(nil).Decrypt(context.Background(), meta, nil, cse.ObjectInfo{})
	fmt.Println(err)
	// Output:
	// cse: legacy unauthenticated content AES/CBC/PKCS5Padding with legacy key wrap kms is refused by policy; set Policy.LegacyUnauthenticated and Policy.LegacyWrapping to allow it (cse.EMRFSCompatible() sets both)
}
