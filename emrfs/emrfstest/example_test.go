package emrfstest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

func Example() {
	ctx := context.Background()
	st, err := emrfstest.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	c := kms.NewFromConfig(st.Config) // the unmodified SDK client
	ec := map[string]string{"bucket": "demo"}
	dk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: &keyID, KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: map[string]string{"bucket": "other"}})
	fmt.Println("wrong context:", err != nil)
	for _, call := range st.KMS.Audit() {
		fmt.Printf("%s by %s: error %q\n", call.Operation, call.Principal, call.Err)
	}
	// Output:
	// wrong context: true
	// GenerateDataKey by arn:aws:iam::111122223333:user/admin: error ""
	// Decrypt by arn:aws:iam::111122223333:user/admin: error "InvalidCiphertextException"
}
