package cse

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

func kmsErrorOf(t *testing.T, err error) *KMSError {
	t.Helper()
	var ke *KMSError
	if !errors.As(err, &ke) {
		t.Fatalf("error %v is not a *KMSError", err)
	}
	return ke
}

// TestKMSErrorsClassified runs the KMS provider against the emrfstest KMS
// and checks that each failure is told by its cause, with advice that
// fits: a throttled DescribeKey is not a missing permission.
func TestKMSErrorsClassified(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	admin := kms.NewFromConfig(st.Config)
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	req := EncryptionRequest{ContentAlgorithm: "AES/GCM/NoPadding"}

	t.Run("throttled DescribeKey", func(t *testing.T) {
		st.KMS.ThrottleNext(100) // more than the SDK retries
		defer st.KMS.ThrottleNext(0)
		_, err := NewKMSProvider(admin, keyID).EncryptionMaterials(ctx, req)
		ke := kmsErrorOf(t, err)
		if ke.Kind != KMSThrottled || ke.Code != "ThrottlingException" || ke.Operation != "DescribeKey" {
			t.Errorf("kind %v code %q op %s, want throttled ThrottlingException DescribeKey", ke.Kind, ke.Code, ke.Operation)
		}
		if msg := err.Error(); strings.Contains(msg, "permission") && !strings.Contains(msg, "not a permission problem") || !strings.Contains(msg, "quota") {
			t.Errorf("throttling reported with the wrong advice: %v", err)
		}
	})
	t.Run("access denied", func(t *testing.T) {
		private := st.KMS.CreateKey(types.KeySpecSymmetricDefault, emrfstest.UserARN("owner"))
		other := kms.NewFromConfig(st.ConfigFor(st.AddUser("stranger")))
		_, err := NewKMSProvider(other, private).EncryptionMaterials(ctx, req)
		ke := kmsErrorOf(t, err)
		if ke.Kind != KMSAccessDenied || !strings.Contains(err.Error(), "kms:DescribeKey permission") {
			t.Errorf("DescribeKey denied: %v", err)
		}
		_, err = NewKMSProvider(other, private, func(o *KMSOptions) { o.SkipKeyCheck = true }).EncryptionMaterials(ctx, req)
		ke = kmsErrorOf(t, err)
		if ke.Kind != KMSAccessDenied || ke.Operation != "GenerateDataKey" || !strings.Contains(err.Error(), "grant kms:GenerateDataKey") {
			t.Errorf("GenerateDataKey denied: %v", err)
		}
	})
	t.Run("not found", func(t *testing.T) {
		_, err := NewKMSProvider(admin, "alias/no-such-key").EncryptionMaterials(ctx, req)
		if ke := kmsErrorOf(t, err); ke.Kind != KMSNotFound || !strings.Contains(err.Error(), "check the key id") {
			t.Errorf("missing key: %v", err)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		off := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
		st.KMS.SetEnabled(off, false)
		_, err := NewKMSProvider(admin, off).EncryptionMaterials(ctx, req)
		var kc *KMSError
		if !errors.As(err, &kc) || kc.Kind != KMSUnsuitableKey || !strings.Contains(err.Error(), "KeyState is Disabled") {
			t.Errorf("disabled key checked: %v", err)
		}
		_, err = NewKMSProvider(admin, off, func(o *KMSOptions) { o.SkipKeyCheck = true }).EncryptionMaterials(ctx, req)
		if ke := kmsErrorOf(t, err); ke.Kind != KMSDisabled || !strings.Contains(err.Error(), "enable the key") {
			t.Errorf("disabled key used: %v", err)
		}
	})
	t.Run("decrypt throttled", func(t *testing.T) {
		p := NewKMSProvider(admin, keyID)
		m, err := p.EncryptionMaterials(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		st.KMS.ThrottleNext(100)
		defer st.KMS.ThrottleNext(0)
		_, err = p.DecryptMaterials(ctx, DecryptionRequest{WrapAlgorithm: WrapKMSContext, EncryptedKey: m.Encrypted, Description: m.Description})
		if ke := kmsErrorOf(t, err); ke.Kind != KMSThrottled || errors.Is(err, ErrWrongKey) {
			t.Errorf("throttled Decrypt: %v", err)
		}
	})
}

// TestKMSKeyCheckCoalesced starts many first uses of a key at once: they
// share one DescribeKey call.
func TestKMSKeyCheckCoalesced(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	p := NewKMSProvider(kms.NewFromConfig(st.Config), keyID)
	const n = 64
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := p.EncryptionMaterials(ctx, EncryptionRequest{ContentAlgorithm: "AES/GCM/NoPadding"})
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := len(auditOf(st, "DescribeKey")); got != 1 {
		t.Errorf("%d DescribeKey calls for %d concurrent first uses, want 1", got, n)
	}
	if got := len(auditOf(st, "GenerateDataKey")); got != n {
		t.Errorf("%d GenerateDataKey calls, want %d", got, n)
	}
}

// TestKMSKeyCheckCancelledWaiter: a waiter whose context ends gets its
// own error at once, and the shared check still completes for the others.
func TestKMSKeyCheckCancelledWaiter(t *testing.T) {
	st := emrfstest.Start(t)
	keyID := st.KMS.CreateKey(types.KeySpecSymmetricDefault)
	p := NewKMSProvider(kms.NewFromConfig(st.Config), keyID)
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.checkKey(cctx, keyID); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled check: %v", err)
	}
	if err := p.checkKey(context.Background(), keyID); err != nil {
		t.Fatal(err)
	}
}

func TestKMSKindByCode(t *testing.T) {
	for code, want := range map[string]KMSErrorKind{
		"ThrottlingException": KMSThrottled, "AccessDeniedException": KMSAccessDenied, "NotFoundException": KMSNotFound,
		"DisabledException": KMSDisabled, "KMSInvalidStateException": KMSInvalidState, "KeyUnavailableException": KMSInvalidState,
		"KMSInternalException": KMSUnavailable, "DependencyTimeoutException": KMSUnavailable, "ExpiredTokenException": KMSBadCredentials,
		"UnrecognizedClientException": KMSBadCredentials, "LimitExceededException": KMSErrorOther,
	} {
		err := newKMSError("Decrypt", "k", &smithy.GenericAPIError{Code: code, Message: "m"})
		if ke := kmsErrorOf(t, err); ke.Kind != want || ke.Code != code {
			t.Errorf("%s: kind %v, want %v", code, ke.Kind, want)
		}
	}
	if ke := kmsErrorOf(t, newKMSError("Decrypt", "k", context.DeadlineExceeded)); ke.Kind != KMSCanceled {
		t.Errorf("deadline: %v", ke.Kind)
	}
	if ke := kmsErrorOf(t, newKMSError("Decrypt", "k", errors.New("dial tcp: connection refused"))); ke.Kind != KMSUnavailable {
		t.Errorf("network: %v", ke.Kind)
	}
}
