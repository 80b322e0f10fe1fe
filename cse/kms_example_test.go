package cse_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// CSE-KMS as EMRFS with fs.s3.cse.encryptionV2.enabled=true writes it, here
// against the emrfstest KMS emulator; with AWS, pass kms.NewFromConfig(cfg).
func ExampleNewKMSProvider() {
	ctx := context.Background()
	st, err := emrfstest.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	st.KMS.CreateAlias("alias/emr-cse", keyID)

	provider := cse.NewKMSProvider(kms.NewFromConfig(st.Config), "alias/emr-cse", func(o *cse.KMSOptions) {
		o.EncryptionContext = map[string]string{"cluster": "j-1ABC"}
	})
	env, content, err := cse.NewEncryptor(provider).Encrypt(ctx, cse.ObjectInfo{Bucket: "bucket", Key: "k"})
	if err != nil {
		log.Fatal(err)
	}
	content.Wipe()
	fmt.Println(env.Metadata["x-amz-wrap-alg"], env.Metadata["x-amz-cek-alg"])
	fmt.Println(env.Metadata["x-amz-matdesc"])

	// A key that cannot protect data keys is refused before it is used.
	rsaKey := st.KMS.CreateKey(types.KeySpecRsa2048)
	_, _, err = cse.NewEncryptor(cse.NewKMSProvider(kms.NewFromConfig(st.Config), rsaKey)).Encrypt(ctx, cse.ObjectInfo{})
	fmt.Println(err != nil)
	// Output:
	// kms+context AES/GCM/NoPadding
	// {"aws:x-amz-cek-alg":"AES/GCM/NoPadding","cluster":"j-1ABC"}
	// true
}
