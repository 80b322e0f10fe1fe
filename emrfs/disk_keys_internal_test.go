package emrfs

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
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

// TestDiskSecurityConfigurationWarns: a security configuration whose
// LocalDiskEncryptionConfiguration names no key the Client can use is not
// ignored without a word: New logs it at Warn (once), unless
// Options.DiskEncryption decides.
func TestDiskSecurityConfigurationWarns(t *testing.T) {
	sec := `{"EncryptionConfiguration": {"EnableInTransitEncryption": false, "EnableAtRestEncryption": true,
	  "AtRestEncryptionConfiguration": {"LocalDiskEncryptionConfiguration": {"EncryptionKeyProviderType": "Custom",
	  "S3Object": "s3://b/p.jar", "EncryptionKeyProviderClass": "com.example.P"}}}}`
	cfg := NewConfig()
	if err := cfg.ApplySecurityConfiguration([]byte(sec)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*DiskEncryption{nil, {}} {
		h := &recordingHandler{level: slog.LevelWarn}
		if _, err := New(s3.New(s3.Options{}), cfg, func(o *Options) { o.Logger, o.DiskEncryption = slog.New(h), d }); err != nil {
			t.Fatal(err)
		}
		switch {
		case d == nil && (len(h.recs) != 1 || !h.has(slog.LevelWarn, "Custom key provider") || !strings.Contains(h.recs[0], "random in-memory key")):
			t.Fatalf("Warn records %q, want one about the Custom key provider", h.recs)
		case d != nil && len(h.recs) != 0:
			t.Fatalf("Options.DiskEncryption set, yet Warn records %q", h.recs)
		}
	}
}
