package cse

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/emrs3/emrs3/cse/internal/envelope"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// These tests run the KMS provider against the emrfstest KMS emulator over
// HTTP with the unmodified aws-sdk-go-v2 kms client.

func auditOf(st *emrfstest.Stack, op string) []emrfstest.KMSCall {
	var out []emrfstest.KMSCall
	for _, c := range st.KMS.Audit() {
		if c.Operation == op {
			out = append(out, c)
		}
	}
	return out
}

func TestKMSProviderOverHTTP(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	st.KMS.CreateAlias("alias/emr-cse", keyID)
	client := kms.NewFromConfig(st.Config)
	pt := []byte(strings.Repeat("kms over http ", 500))

	cases := []struct {
		name string
		key  string
		enc  func(*Options)
		pol  Policy
		ctx  map[string]string
	}{
		{name: "V2 kms+context by key id", key: keyID, ctx: map[string]string{"project": "alpha"}},
		{name: "V2 kms+context by alias", key: "alias/emr-cse"},
		{name: "V2 kms+context by ARN", key: st.KMS.KeyARN(keyID)},
		{name: "V2 legacy kms", key: keyID, enc: func(o *Options) { o.LegacyKMSWrap = true }, pol: Policy{LegacyWrapping: true}},
		{name: "V3 kms+context", key: keyID, enc: func(o *Options) { o.Policy.Commitment = RequireEncryptRequireDecrypt },
			pol: Policy{Commitment: RequireEncryptRequireDecrypt}, ctx: map[string]string{"project": "beta"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := NewKMSProvider(client, tc.key)
			obj := ObjectInfo{Bucket: "b", Key: "k", PlaintextSize: int64(len(pt)), EncryptionContext: tc.ctx}
			before := len(auditOf(st, "GenerateDataKey"))
			env, c, err := NewEncryptor(p, tc.enc).Encrypt(ctx, obj)
			if err != nil {
				t.Fatal(err)
			}
			ct := envSeal(t, c, pt)
			c.Wipe()
			gdk := auditOf(st, "GenerateDataKey")
			if len(gdk) != before+1 {
				t.Fatalf("%d GenerateDataKey calls", len(gdk)-before)
			}
			// The context KMS saw is exactly the one stored in the envelope.
			stored, err := storedContext(env.Metadata)
			if err != nil {
				t.Fatal(err)
			}
			if got := gdk[len(gdk)-1].EncryptionContext; !maps.Equal(got, stored) {
				t.Fatalf("KMS context %v, stored %v", got, stored)
			}
			c, err = NewDecryptor(p, func(o *Options) { o.Policy = tc.pol }).Decrypt(ctx, env.Metadata, nil, obj)
			if err != nil {
				t.Fatal(err)
			}
			got, err := envOpen(c, ct)
			c.Wipe()
			if err != nil || string(got) != string(pt) {
				t.Fatalf("decrypt: %v", err)
			}
			dc := auditOf(st, "Decrypt")
			if last := dc[len(dc)-1]; last.KeyID != keyID || !maps.Equal(last.EncryptionContext, stored) || last.Err != "" {
				t.Fatalf("Decrypt audit %+v", last)
			}
		})
	}

	// DescribeKey once per key and provider, however many objects.
	before := len(auditOf(st, "DescribeKey"))
	p := NewKMSProvider(client, keyID)
	for i := 0; i < 3; i++ {
		_, c, err := NewEncryptor(p).Encrypt(ctx, ObjectInfo{})
		if err != nil {
			t.Fatal(err)
		}
		c.Wipe()
	}
	if n := len(auditOf(st, "DescribeKey")) - before; n != 1 {
		t.Fatalf("DescribeKey called %d times for 3 objects, want 1", n)
	}
}

// storedContext returns the stored KMS context of an envelope: x-amz-matdesc
// (V2) or x-amz-t (V3).
func storedContext(meta map[string]string) (map[string]string, error) {
	s, ok := meta["x-amz-t"]
	if !ok {
		s = meta["x-amz-matdesc"]
	}
	return envelope.ParseMatDesc(s)
}

func TestKMSProviderOverHTTPErrors(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	client := kms.NewFromConfig(st.Config)
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	otherKey := st.KMS.CreateKey(types.KeySpecSymmetricDefault)

	t.Run("RSA key refused before use", func(t *testing.T) {
		rsaKey := st.KMS.CreateKey(types.KeySpecRsa2048)
		_, _, err := NewEncryptor(NewKMSProvider(client, rsaKey)).Encrypt(ctx, ObjectInfo{})
		var ke *KMSError
		if !errors.As(err, &ke) || ke.Kind != KMSUnsuitableKey || !strings.Contains(err.Error(), "KeySpec is RSA_2048, want SYMMETRIC_DEFAULT") {
			t.Fatalf("err = %v", err)
		}
		for _, c := range auditOf(st, "GenerateDataKey") {
			if c.KeyID == rsaKey {
				t.Fatal("GenerateDataKey called with an RSA key")
			}
		}
	})
	t.Run("disabled key refused", func(t *testing.T) {
		k := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
		st.KMS.SetEnabled(k, false)
		_, _, err := NewEncryptor(NewKMSProvider(client, k)).Encrypt(ctx, ObjectInfo{})
		var ke *KMSError
		if !errors.As(err, &ke) || ke.Kind != KMSUnsuitableKey || !strings.Contains(err.Error(), "KeyState is Disabled, want Enabled") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		_, _, err := NewEncryptor(NewKMSProvider(client, "alias/missing")).Encrypt(ctx, ObjectInfo{})
		var nf *types.NotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("err = %v, want NotFoundException in the chain", err)
		}
	})

	env, c, err := NewEncryptor(NewKMSProvider(client, keyID)).Encrypt(ctx, ObjectInfo{EncryptionContext: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Wipe()
	t.Run("wrong key", func(t *testing.T) {
		_, err := NewDecryptor(NewKMSProvider(client, otherKey)).Decrypt(ctx, env.Metadata, nil, ObjectInfo{})
		var ik *types.IncorrectKeyException
		if !errors.Is(err, ErrWrongKey) || !errors.As(err, &ik) {
			t.Fatalf("err = %v, want ErrWrongKey from IncorrectKeyException", err)
		}
		c, err := NewDecryptor(NewKMSProvider(client, otherKey, func(o *KMSOptions) { o.AnyKey = true })).Decrypt(ctx, env.Metadata, nil, ObjectInfo{})
		if err != nil {
			t.Fatalf("AnyKey: %v", err)
		}
		c.Wipe()
	})
	t.Run("stored context altered", func(t *testing.T) {
		m := maps.Clone(env.Metadata)
		m["x-amz-matdesc"] = `{"a":"2","aws:x-amz-cek-alg":"AES/GCM/NoPadding"}`
		_, err := NewDecryptor(NewKMSProvider(client, keyID)).Decrypt(ctx, m, nil, ObjectInfo{})
		var ic *types.InvalidCiphertextException
		if !errors.Is(err, ErrWrongKey) || !errors.As(err, &ic) {
			t.Fatalf("err = %v, want ErrWrongKey from InvalidCiphertextException", err)
		}
	})
	t.Run("principal not allowed", func(t *testing.T) {
		creds := st.AddUser("reader")
		private := st.KMS.CreateKey(types.KeySpecSymmetricDefault, emrfstest.UserARN("writer"))
		_, _, err := NewEncryptor(NewKMSProvider(kms.NewFromConfig(st.ConfigFor(creds)), private)).Encrypt(ctx, ObjectInfo{})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || errors.Is(err, ErrWrongKey) {
			t.Fatalf("err = %v, want AccessDeniedException, not ErrWrongKey", err)
		}
		// The first call is the key check: the error says how to get past it.
		for _, want := range []string{"DescribeKey", "kms:DescribeKey permission", "KMSOptions.SkipKeyCheck"} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want it to mention %q", err, want)
			}
		}
	})
}
