package cse

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"golang.org/x/sync/singleflight"

	"github.com/emrs3/emrs3/cse/internal/envelope"
)

// KMSAPI is the part of the AWS KMS API the KMS provider calls; *kms.Client
// satisfies it.
type KMSAPI interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
	DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
}

// KMSOptions configure a KMSProvider. The zero value is the default.
type KMSOptions struct {
	// EncryptionContext is added to every request's context (the request's
	// own pairs win). Keys must not start with "aws:".
	EncryptionContext map[string]string
	// AnyKey decrypts with whatever key the ciphertext names instead of
	// insisting on the provider's key (KMS Decrypt without KeyId). Useful
	// for readers of objects written under several keys; leave it off to
	// be sure of the key that protects what you read.
	AnyKey bool
	// SkipKeyCheck turns off the DescribeKey check made once per key
	// before its first GenerateDataKey, for callers without the
	// kms:DescribeKey permission (EMRFS itself never calls DescribeKey).
	SkipKeyCheck bool
}

// KMSProvider is a MaterialsProvider backed by AWS KMS. It writes the
// kms+context wrap (the caller's context plus aws:x-amz-cek-alg, stored as the
// materials description) or, when asked, the legacy kms wrap (context = the
// materials description {"kms_cmk_id": key}), and reads both.
type KMSProvider struct {
	client KMSAPI
	keyID  string
	opts   KMSOptions

	mu       sync.Mutex
	checked  map[string]bool
	checking singleflight.Group // one DescribeKey per key at a time
}

var _ MaterialsProvider = (*KMSProvider)(nil)

// NewKMSProvider returns a provider that protects data keys with the KMS key
// keyID (key id, ARN, alias/NAME or alias ARN).
func NewKMSProvider(client KMSAPI, keyID string, optFns ...func(*KMSOptions)) *KMSProvider {
	p := &KMSProvider{client: client, keyID: keyID, checked: map[string]bool{}}
	for _, f := range optFns {
		if f == nil {
			continue
		}
		f(&p.opts)
	}
	p.opts.EncryptionContext = maps.Clone(p.opts.EncryptionContext)
	return p
}

// KeyID returns the provider's KMS key.
func (p *KMSProvider) KeyID() string { return p.keyID }

// keyCheckTimeout bounds the DescribeKey call that concurrent first uses
// of a key share.
const keyCheckTimeout = time.Minute

// checkKey makes the DescribeKey check once per key; a success is cached,
// and concurrent first uses of a key share one DescribeKey call (a cold
// start under load makes one call per key, not one per request). A failure
// is not cached: the next use tries again.
func (p *KMSProvider) checkKey(ctx context.Context, keyID string) error {
	if p.opts.SkipKeyCheck {
		return nil
	}
	p.mu.Lock()
	ok := p.checked[keyID]
	p.mu.Unlock()
	if ok {
		return nil
	}
	if ctx.Err() != nil {
		// Cancelled before the check: report it, whatever a shared call
		// may already have found (select below picks at random when both
		// are ready).
		return fmt.Errorf("cse: KMS DescribeKey %s: %w", keyID, context.Cause(ctx))
	}
	// The shared call must not fail for every waiter because the first
	// caller's context was cancelled: it runs without that cancellation,
	// bounded by keyCheckTimeout, and each caller waits on its own context.
	ch := p.checking.DoChan(keyID, func() (any, error) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keyCheckTimeout)
		defer cancel()
		return nil, p.describeKey(cctx, keyID)
	})
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return fmt.Errorf("cse: KMS DescribeKey %s: %w", keyID, context.Cause(ctx))
	}
}

func (p *KMSProvider) describeKey(ctx context.Context, keyID string) error {
	p.mu.Lock()
	ok := p.checked[keyID]
	p.mu.Unlock()
	if ok {
		return nil
	}
	out, err := p.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return newKMSError("DescribeKey", keyID, err)
	}
	md := out.KeyMetadata
	if md == nil {
		return unsuitableKey(keyID, "DescribeKey returned no key metadata")
	}
	switch {
	case md.KeyState != types.KeyStateEnabled:
		return unsuitableKey(keyID, fmt.Sprintf("KeyState is %s, want Enabled", md.KeyState))
	case md.KeySpec != "" && md.KeySpec != types.KeySpecSymmetricDefault:
		return unsuitableKey(keyID, fmt.Sprintf("KeySpec is %s, want SYMMETRIC_DEFAULT", md.KeySpec))
	case md.KeyUsage != "" && md.KeyUsage != types.KeyUsageTypeEncryptDecrypt:
		return unsuitableKey(keyID, fmt.Sprintf("KeyUsage is %s, want ENCRYPT_DECRYPT", md.KeyUsage))
	}
	p.mu.Lock()
	p.checked[keyID] = true
	p.mu.Unlock()
	return nil
}

func checkUserContext(m map[string]string) error {
	for k := range m {
		if len(k) >= len(envelope.ReservedPrefix) && equalFold(k[:len(envelope.ReservedPrefix)], envelope.ReservedPrefix) {
			return &ContextError{Input: k, Offset: -1, Reason: "key uses the reserved \"aws:\" prefix; the client sets aws:x-amz-cek-alg itself"}
		}
	}
	return nil
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// EncryptionMaterials calls GenerateDataKey. For kms+context (the default)
// the context is the options' context, the request's, and
// aws:x-amz-cek-alg = the content algorithm; for the legacy kms wrap it is
// the request's description plus kms_cmk_id.
func (p *KMSProvider) EncryptionMaterials(ctx context.Context, req EncryptionRequest) (*Materials, error) {
	if err := p.checkKey(ctx, p.keyID); err != nil {
		return nil, err
	}
	ec := cloneDesc(p.opts.EncryptionContext)
	maps.Copy(ec, req.Description)
	if err := checkUserContext(ec); err != nil {
		return nil, err
	}
	wrap := req.WrapAlgorithm
	switch wrap {
	case "", WrapKMSContext:
		wrap = WrapKMSContext
		ec[envelope.V3ContextCEKAlg] = req.ContentAlgorithm
	case WrapKMS:
		ec[kmsKeyIDKey] = p.keyID
	default:
		return nil, fmt.Errorf("cse: KMS provider cannot write wrap algorithm %q", wrap)
	}
	out, err := p.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(p.keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: ec,
	})
	if err != nil {
		return nil, newKMSError("GenerateDataKey", p.keyID, err)
	}
	if len(out.Plaintext) != 32 || len(out.CiphertextBlob) == 0 {
		clear(out.Plaintext)
		return nil, fmt.Errorf("cse: KMS GenerateDataKey returned a %d-byte key, want 32", len(out.Plaintext))
	}
	return &Materials{Key: out.Plaintext, Encrypted: out.CiphertextBlob, WrapAlgorithm: wrap, Description: ec}, nil
}

// DecryptMaterials calls KMS Decrypt with the stored context (the
// description) and, unless AnyKey is set, the provider's key.
func (p *KMSProvider) DecryptMaterials(ctx context.Context, req DecryptionRequest) (*Materials, error) {
	if req.WrapAlgorithm != WrapKMS && req.WrapAlgorithm != WrapKMSContext {
		return nil, &KeyError{WrapAlgorithm: req.WrapAlgorithm, KeyID: p.keyID, Err: errors.New("the KMS provider unwraps only kms and kms+context; configure a keyring for this object")}
	}
	in := &kms.DecryptInput{CiphertextBlob: req.EncryptedKey, EncryptionContext: req.Description}
	keyID := ""
	if !p.opts.AnyKey {
		keyID = p.keyID
		in.KeyId = aws.String(p.keyID)
	}
	out, err := p.client.Decrypt(ctx, in)
	if err != nil {
		var ik *types.IncorrectKeyException
		var ic *types.InvalidCiphertextException
		if errors.As(err, &ik) || errors.As(err, &ic) {
			return nil, wrongKey(req.WrapAlgorithm, keyID, err)
		}
		return nil, &KeyError{WrapAlgorithm: req.WrapAlgorithm, KeyID: keyID, Err: newKMSError("Decrypt", keyID, err)}
	}
	return &Materials{Key: out.Plaintext, Encrypted: req.EncryptedKey, WrapAlgorithm: req.WrapAlgorithm, Description: req.Description}, nil
}

// unsuitableKey reports a KMS key that DescribeKey shows cannot protect
// data keys.
func unsuitableKey(keyID, reason string) error {
	return &KMSError{Operation: "DescribeKey", KeyID: keyID, Kind: KMSUnsuitableKey, Err: errors.New(reason)}
}
