package cse_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/emrs3/emrs3/cse"
)

// Tampering has one outcome: a damaged envelope, a swapped key commitment,
// a relabelled wrap and a failed tag all match cse.ErrNotAuthentic, and
// errors.As gives the detail. Only metadata with no envelope key at all is
// cse.ErrNoEnvelope (the object is not client-side encrypted).
func ExampleAuthenticationError() {
	ctx := context.Background()
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	keyring, _ := cse.NewAESKeyring(kek, nil)
	env, content, err := cse.NewEncryptor(keyring).Encrypt(ctx, cse.ObjectInfo{Bucket: "b", Key: "k"})
	if err != nil {
		panic(err)
	}
	content.Wipe()

	damaged := map[string]string{}
	for k, v := range env.Metadata {
		if k != "x-amz-iv" { // someone dropped the IV
			damaged[k] = v
		}
	}
	dec := cse.NewDecryptor(keyring)
	_, err = dec.Decrypt(ctx, damaged, nil, cse.ObjectInfo{Bucket: "b", Key: "k"})
	var ae *cse.AuthenticationError
	fmt.Println(errors.Is(err, cse.ErrNotAuthentic), errors.As(err, &ae), ae.Check, ae.Key)

	_, err = dec.Decrypt(ctx, map[string]string{"owner": "a"}, nil, cse.ObjectInfo{Bucket: "b", Key: "k"})
	fmt.Println(errors.Is(err, cse.ErrNoEnvelope), errors.Is(err, cse.ErrNotAuthentic))
	// Output:
	// true true envelope x-amz-iv
	// true false
}
