package emrfstest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

func TestKMSOperations(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	c := kms.NewFromConfig(st.Config)

	ck, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("test key")})
	if err != nil {
		t.Fatal(err)
	}
	keyID := aws.ToString(ck.KeyMetadata.KeyId)
	if ck.KeyMetadata.KeySpec != types.KeySpecSymmetricDefault || ck.KeyMetadata.KeyState != types.KeyStateEnabled {
		t.Fatalf("CreateKey metadata %+v", ck.KeyMetadata)
	}
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/emr"), TargetKeyId: &keyID}); err != nil {
		t.Fatal(err)
	}
	var exists *types.AlreadyExistsException
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/emr"), TargetKeyId: &keyID}); !errors.As(err, &exists) {
		t.Fatalf("duplicate alias: %v", err)
	}
	arn := st.KMS.KeyARN(keyID)
	for _, ref := range []string{keyID, arn, "alias/emr", "arn:aws:kms:us-east-1:111122223333:alias/emr"} {
		d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
		if err != nil {
			t.Fatalf("DescribeKey(%s): %v", ref, err)
		}
		if aws.ToString(d.KeyMetadata.Arn) != arn || d.KeyMetadata.KeyUsage != types.KeyUsageTypeEncryptDecrypt ||
			aws.ToString(d.KeyMetadata.Description) != "test key" || d.KeyMetadata.CreationDate == nil {
			t.Fatalf("DescribeKey(%s) = %+v", ref, d.KeyMetadata)
		}
	}

	ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::bucket/key"}
	gdk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String("alias/emr"), KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	if len(gdk.Plaintext) != 32 || aws.ToString(gdk.KeyId) != arn {
		t.Fatalf("GenerateDataKey: %d bytes, key %s", len(gdk.Plaintext), aws.ToString(gdk.KeyId))
	}
	// Decrypt without KeyId: the key comes from the blob.
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gdk.CiphertextBlob, EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dec.Plaintext, gdk.Plaintext) || aws.ToString(dec.KeyId) != arn {
		t.Fatal("Decrypt did not return the data key")
	}

	g16, err := c.GenerateDataKeyWithoutPlaintext(ctx, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: &keyID, NumberOfBytes: aws.Int32(16)})
	if err != nil {
		t.Fatal(err)
	}
	d16, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: g16.CiphertextBlob, KeyId: &keyID})
	if err != nil || len(d16.Plaintext) != 16 {
		t.Fatalf("Decrypt of 16-byte key: %v", err)
	}

	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: &keyID, Plaintext: []byte("secret"), EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	key2 := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	ec2 := map[string]string{"purpose": "rotated"}
	re, err := c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: ec, DestinationKeyId: &key2, DestinationEncryptionContext: ec2})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(re.SourceKeyId) != arn || aws.ToString(re.KeyId) != st.KMS.KeyARN(key2) {
		t.Fatalf("ReEncrypt keys %s -> %s", aws.ToString(re.SourceKeyId), aws.ToString(re.KeyId))
	}
	// The audit record of ReEncrypt carries both contexts and both keys.
	var reCall *emrfstest.KMSCall
	for _, call := range st.KMS.Audit() {
		if call.Operation == "ReEncrypt" {
			reCall = &call
		}
	}
	if reCall == nil || reCall.SourceKeyID != keyID || reCall.KeyID != key2 ||
		!maps.Equal(reCall.SourceEncryptionContext, ec) || !maps.Equal(reCall.EncryptionContext, ec2) {
		t.Fatalf("ReEncrypt audit record %+v, want source %s %v, destination %s %v", reCall, keyID, ec, key2, ec2)
	}
	d2, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob, EncryptionContext: ec2})
	if err != nil || string(d2.Plaintext) != "secret" {
		t.Fatalf("Decrypt after ReEncrypt: %q %v", d2.Plaintext, err)
	}
	var incorrect *types.IncorrectKeyException
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob, KeyId: &keyID, EncryptionContext: ec2}); !errors.As(err, &incorrect) {
		t.Fatalf("Decrypt with the wrong KeyId: %v", err)
	}

	// Disable / enable.
	if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: &keyID}); err != nil {
		t.Fatal(err)
	}
	d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &keyID})
	if d.KeyMetadata.KeyState != types.KeyStateDisabled || d.KeyMetadata.Enabled {
		t.Fatalf("disabled key state %s", d.KeyMetadata.KeyState)
	}
	var disabled *types.DisabledException
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gdk.CiphertextBlob, EncryptionContext: ec}); !errors.As(err, &disabled) {
		t.Fatalf("Decrypt under disabled key: %v", err)
	}
	if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: &keyID}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gdk.CiphertextBlob, EncryptionContext: ec}); err != nil {
		t.Fatalf("Decrypt after EnableKey: %v", err)
	}
}

func TestKMSErrors(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	c := kms.NewFromConfig(st.Config)
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	rsaID := st.KMS.CreateKey(types.KeySpecRsa2048)
	ec := map[string]string{"k": "v"}
	gdk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: &keyID, KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want any
	}{
		{"context mismatch", func() error {
			_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gdk.CiphertextBlob, EncryptionContext: map[string]string{"k": "w"}})
			return err
		}, new(*types.InvalidCiphertextException)},
		{"context missing", func() error {
			_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gdk.CiphertextBlob})
			return err
		}, new(*types.InvalidCiphertextException)},
		{"garbage ciphertext", func() error {
			_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: []byte("not a blob")})
			return err
		}, new(*types.InvalidCiphertextException)},
		{"unknown key", func() error {
			_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/nope")})
			return err
		}, new(*types.NotFoundException)},
		{"rsa data key", func() error {
			_, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: &rsaID, KeySpec: types.DataKeySpecAes256})
			return err
		}, new(*types.InvalidKeyUsageException)},
		{"rsa without algorithm", func() error {
			_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: &rsaID, Plaintext: []byte("x")})
			return err
		}, new(*types.InvalidKeyUsageException)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			switch want := tc.want.(type) {
			case **types.InvalidCiphertextException:
				if !errors.As(err, want) {
					t.Fatalf("err = %v", err)
				}
			case **types.NotFoundException:
				if !errors.As(err, want) {
					t.Fatalf("err = %v", err)
				}
			case **types.InvalidKeyUsageException:
				if !errors.As(err, want) {
					t.Fatalf("err = %v", err)
				}
			default:
				t.Fatalf("unhandled %T", want)
			}
		})
	}
}

func TestKMSRSA(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	c := kms.NewFromConfig(st.Config)
	rsaID := st.KMS.CreateKey(types.KeySpecRsa2048)
	d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &rsaID})
	if err != nil || d.KeyMetadata.KeySpec != types.KeySpecRsa2048 {
		t.Fatalf("DescribeKey: %v", err)
	}
	for _, alg := range []types.EncryptionAlgorithmSpec{types.EncryptionAlgorithmSpecRsaesOaepSha1, types.EncryptionAlgorithmSpecRsaesOaepSha256} {
		enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: &rsaID, Plaintext: []byte("data key"), EncryptionAlgorithm: alg})
		if err != nil {
			t.Fatal(err)
		}
		dec, err := c.Decrypt(ctx, &kms.DecryptInput{KeyId: &rsaID, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: alg})
		if err != nil || string(dec.Plaintext) != "data key" {
			t.Fatalf("%s: %q %v", alg, dec.Plaintext, err)
		}
	}
	pk, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: &rsaID})
	if err != nil || len(pk.PublicKey) == 0 {
		t.Fatalf("GetPublicKey: %v", err)
	}
}

func TestKMSAccessAndAudit(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	alice := st.AddUser("alice")
	bob := st.AddUser("bob")
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault, emrfstest.UserARN("alice"))
	ca := kms.NewFromConfig(st.ConfigFor(alice))
	cb := kms.NewFromConfig(st.ConfigFor(bob))
	ec := map[string]string{"path": "/a"}
	out, err := ca.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: &keyID, KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	// AccessDeniedException is not in the KMS model's error list, so the
	// SDK returns a generic smithy.APIError with the code.
	_, err = cb.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: ec})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("bob Decrypt: %v", err)
	}
	if _, err := kms.NewFromConfig(st.Config).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: ec}); err != nil {
		t.Fatalf("admin Decrypt: %v", err)
	}
	audit := st.KMS.Audit()
	if len(audit) != 3 {
		t.Fatalf("audit has %d calls: %+v", len(audit), audit)
	}
	want := []emrfstest.KMSCall{
		{Operation: "GenerateDataKey", KeyID: keyID, Principal: emrfstest.UserARN("alice"), EncryptionContext: ec},
		{Operation: "Decrypt", KeyID: keyID, Principal: emrfstest.UserARN("bob"), EncryptionContext: ec, Err: "AccessDeniedException"},
		{Operation: "Decrypt", KeyID: keyID, Principal: emrfstest.AdminARN, EncryptionContext: ec},
	}
	for i, w := range want {
		g := audit[i]
		if g.Operation != w.Operation || g.KeyID != w.KeyID || g.Principal != w.Principal || g.Err != w.Err || g.EncryptionContext["path"] != "/a" {
			t.Errorf("audit[%d] = %+v, want %+v", i, g, w)
		}
	}
}

func TestKMSThrottleRetried(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	c := kms.NewFromConfig(st.Config)
	keyID := st.KMS.CreateKey("")
	st.KMS.ThrottleNext(2)
	if _, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &keyID}); err != nil {
		t.Fatalf("two throttles should be retried away: %v", err)
	}
	st.KMS.ThrottleNext(3)
	_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &keyID})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" {
		t.Fatalf("three throttles exceed the 3 attempts: %v", err)
	}
	n := 0
	for _, c := range st.KMS.Audit() {
		if c.Err == "ThrottlingException" {
			n++
		}
	}
	if n != 5 {
		t.Fatalf("%d throttled calls in audit, want 5", n)
	}
}

func TestKMSBadSignature(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	creds := st.AddUser("carol")
	tests := []struct {
		name  string
		creds aws.Credentials
		code  string
	}{
		{"wrong secret", aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey + "x"}, "InvalidSignatureException"},
		{"unknown access key", aws.Credentials{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: "x"}, "UnrecognizedClientException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := kms.NewFromConfig(st.ConfigFor(tc.creds))
			_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/any")})
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
			if strings.Contains(err.Error(), creds.SecretAccessKey) {
				t.Fatal("error leaks the secret key")
			}
		})
	}
}

// TestKMSSigningRules: KMS, unlike S3, takes no unsigned body, and the
// operation header must be signed; the SDK's own requests pass.
func TestKMSSigningRules(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	if _, err := kms.NewFromConfig(st.Config).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &keyID}); err != nil {
		t.Fatalf("signed as the SDK signs: %v", err)
	}
	unsigned := kms.NewFromConfig(st.Config, func(o *kms.Options) {
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware, v4.AddContentSHA256HeaderMiddleware)
	})
	_, err := unsigned.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &keyID})
	if apiCode(err) != "IncompleteSignatureException" || !strings.Contains(err.Error(), "UNSIGNED-PAYLOAD") {
		t.Fatalf("UNSIGNED-PAYLOAD body: err = %v, want IncompleteSignatureException", err)
	}

	// X-Amz-Target added after signing: the signature holds, the rule
	// does not.
	creds, err := st.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"KeyId":"` + keyID + `"}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.URL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "kms", st.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "TrentService.DescribeKey")
	resp, err := st.HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadRequest || out.Type != "IncompleteSignatureException" || !strings.Contains(out.Message, "x-amz-target") {
		t.Fatalf("unsigned X-Amz-Target: %d %+v, want 400 IncompleteSignatureException", resp.StatusCode, out)
	}
}

func TestKMSCreateKeyAPI(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	c := kms.NewFromConfig(st.Config)
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa3072, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	if err != nil || out.KeyMetadata.KeySpec != types.KeySpecRsa3072 || len(out.KeyMetadata.EncryptionAlgorithms) != 2 {
		t.Fatalf("CreateKey RSA_3072: %v %+v", err, out)
	}
	_, err = c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256})
	if apiCode(err) != "ValidationException" {
		t.Fatalf("unsupported key spec: %v", err)
	}
	_, err = c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/aws/reserved"), TargetKeyId: out.KeyMetadata.KeyId})
	if apiCode(err) != "ValidationException" {
		t.Fatalf("reserved alias: %v", err)
	}
}
