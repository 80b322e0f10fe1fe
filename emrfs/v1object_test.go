package emrfs_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// v1Put writes bucket/key as the aws-sdk-go v1 s3crypto V1 encryption
// client does with KMS (NewKMSKeyGenerator; x-amz-key-v2, wrap "kms",
// materials description {"kms_cmk_id": keyID} as the KMS context, content
// AES/CBC/PKCS5Padding when cbc, else AES/GCM/NoPadding), as EMRFS does by
// default, through the S3 of st. The objects of the real client are read in
// the interop module (emrfs/internal/interop), which keeps aws-sdk-go v1
// out of this module.
func v1Put(t *testing.T, st *emrfstest.Stack, keyID, bucket, key string, data []byte, cbc bool) {
	t.Helper()
	v1PutTo(t, st.Config, st.Config, keyID, bucket, key, data, cbc)
}

// v1PutTo is v1Put with S3 and KMS at the endpoints of s3Cfg and kmsCfg.
func v1PutTo(t *testing.T, s3Cfg, kmsCfg aws.Config, keyID, bucket, key string, data []byte, cbc bool) {
	t.Helper()
	ctx := context.Background()
	matdesc := map[string]string{"kms_cmk_id": keyID}
	dk, err := kms.NewFromConfig(kmsCfg).GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: aws.String(keyID), KeySpec: kmstypes.DataKeySpecAes256, EncryptionContext: matdesc,
	})
	if err != nil {
		t.Fatalf("V1 object %s: GenerateDataKey: %v", key, err)
	}
	block, err := aes.NewCipher(dk.Plaintext)
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{
		"x-amz-key-v2":                     base64.StdEncoding.EncodeToString(dk.CiphertextBlob),
		"x-amz-matdesc":                    `{"kms_cmk_id":"` + keyID + `"}`,
		"x-amz-wrap-alg":                   "kms",
		"x-amz-unencrypted-content-length": strconv.Itoa(len(data)),
	}
	var iv, ct []byte
	if cbc {
		iv = make([]byte, aes.BlockSize)
		rand.Read(iv)
		pad := aes.BlockSize - len(data)%aes.BlockSize
		ct = append(bytes.Clone(data), bytes.Repeat([]byte{byte(pad)}, pad)...)
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, ct)
		meta["x-amz-cek-alg"] = "AES/CBC/PKCS5Padding"
	} else {
		iv = make([]byte, 12)
		rand.Read(iv)
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			t.Fatal(err)
		}
		ct = gcm.Seal(nil, iv, data, nil)
		meta["x-amz-cek-alg"] = "AES/GCM/NoPadding"
		meta["x-amz-tag-len"] = "128"
	}
	meta["x-amz-iv"] = base64.StdEncoding.EncodeToString(iv)
	if _, err := s3.NewFromConfig(s3Cfg, func(o *s3.Options) { o.UsePathStyle = true }).PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(ct), Metadata: meta,
	}); err != nil {
		t.Fatalf("V1 object %s: PutObject: %v", key, err)
	}
}
