package emrfstest_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// TestKMSKeyPolicyEncryptionContext: a key policy that conditions
// GenerateDataKey and Decrypt on kms:EncryptionContext:applicationId (the
// EMR Serverless example) lets a principal use the key with that context
// only; DescribeKey needs its own statement; every call, denied ones too,
// is audited with its context and key spec.
func TestKMSKeyPolicyEncryptionContext(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	job := st.AddUser("job")
	st.KMS.SetKeyPolicy(keyID,
		emrfstest.KeyPolicyStatement{Principals: []string{emrfstest.UserARN("job")}, Actions: []string{"kms:DescribeKey"}},
		emrfstest.KeyPolicyStatement{
			Principals:        []string{emrfstest.UserARN("job")},
			Actions:           []string{"kms:GenerateDataKey", "kms:Decrypt"},
			EncryptionContext: map[string]string{"applicationId": "app-1"},
		})
	c := kms.NewFromConfig(st.ConfigFor(job))
	good := map[string]string{"applicationId": "app-1", "jobRunId": "r-1"}
	bad := map[string]string{"applicationId": "app-2"}

	if _, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)}); err != nil {
		t.Fatalf("DescribeKey: %v", err)
	}
	gdk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(keyID), KeySpec: types.DataKeySpecAes256, EncryptionContext: good})
	if err != nil {
		t.Fatalf("GenerateDataKey with the allowed context: %v", err)
	}
	// AccessDeniedException is not in the KMS model: match the code.
	isDenied := func(err error) bool {
		var api smithy.APIError
		return errors.As(err, &api) && api.ErrorCode() == "AccessDeniedException"
	}
	for _, ec := range []map[string]string{bad, nil} {
		if _, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(keyID), KeySpec: types.DataKeySpecAes256, EncryptionContext: ec}); !isDenied(err) {
			t.Fatalf("GenerateDataKey with context %v: %v, want AccessDeniedException", ec, err)
		}
	}
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gdk.CiphertextBlob, EncryptionContext: good}); err != nil {
		t.Fatalf("Decrypt with the allowed context: %v", err)
	}
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gdk.CiphertextBlob, EncryptionContext: bad}); !isDenied(err) {
		t.Fatalf("Decrypt with another context: %v, want AccessDeniedException", err)
	}
	if _, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(keyID), Plaintext: []byte("x"), EncryptionContext: good}); !isDenied(err) {
		t.Fatalf("Encrypt, not in the policy: %v, want AccessDeniedException", err)
	}
	// Another principal gets nothing; the admin everything.
	other := kms.NewFromConfig(st.ConfigFor(st.AddUser("other")))
	if _, err := other.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(keyID), KeySpec: types.DataKeySpecAes256, EncryptionContext: good}); !isDenied(err) {
		t.Fatalf("other principal: %v", err)
	}
	if _, err := kms.NewFromConfig(st.Config).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gdk.CiphertextBlob, EncryptionContext: good}); err != nil {
		t.Fatalf("admin: %v", err)
	}

	var gdks []emrfstest.KMSCall
	for _, call := range st.KMS.Audit() {
		if call.Operation == "GenerateDataKey" {
			gdks = append(gdks, call)
		}
	}
	if len(gdks) != 4 {
		t.Fatalf("%d GenerateDataKey calls audited, want 4", len(gdks))
	}
	if g := gdks[0]; g.Err != "" || g.KeySpec != "AES_256" || !maps.Equal(g.EncryptionContext, good) || g.Principal != emrfstest.UserARN("job") || g.KeyID != keyID {
		t.Fatalf("audited %+v", g)
	}
	if g := gdks[1]; g.Err != "AccessDeniedException" || !maps.Equal(g.EncryptionContext, bad) {
		t.Fatalf("denied call audited as %+v", g)
	}
}
