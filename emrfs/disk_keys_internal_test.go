package emrfs

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// TestDiskKeyWipedOnClose: the plaintext data key lives only in the
// Client's memory; SpoolKey hands out copies, and Client.Close zeroes the
// key itself, so a later spool needs a new GenerateDataKey.
func TestDiskKeyWipedOnClose(t *testing.T) {
	st := emrfstest.Start(t)
	diskKey := st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
	c, err := New(s3.NewFromConfig(st.Config, st.S3Options), NewConfig(), func(o *Options) {
		o.KMS = kms.NewFromConfig(st.Config)
		o.DiskEncryption = &DiskEncryption{KeyARN: diskKey, EncryptionContext: map[string]string{"applicationId": "app-1"}}
	})
	if err != nil {
		t.Fatal(err)
	}
	k := c.diskDefault
	ctx := context.Background()
	secret, desc, err := k.SpoolKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	held := k.key
	if len(held) != 32 || !bytes.Equal(secret, held) || &secret[0] == &held[0] {
		t.Fatalf("SpoolKey returned %d bytes, not a copy of the 32-byte data key", len(secret))
	}
	again, desc2, err := k.SpoolKey(ctx)
	if err != nil || !bytes.Equal(again, secret) || !bytes.Equal(desc, desc2) {
		t.Fatalf("second SpoolKey within the rotation interval: %v; want the same data key", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if k.key != nil || k.desc != nil || !bytes.Equal(held, make([]byte, 32)) {
		t.Fatal("Close left the data key in memory")
	}
	fresh, _, err := k.SpoolKey(ctx)
	if err != nil || bytes.Equal(fresh, secret) {
		t.Fatalf("SpoolKey after Close: %v; want a new data key", err)
	}
	n := 0
	for _, call := range st.KMS.Audit() {
		if call.Operation == "GenerateDataKey" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d GenerateDataKey calls, want 2 (one before Close, one after)", n)
	}
}
