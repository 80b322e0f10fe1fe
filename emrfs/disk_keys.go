package emrfs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/emrs3/emrs3/cse"
)

// DefaultDiskKeyRotation is how long a Client uses one disk-encryption data
// key before it asks KMS for a new one (Options.DiskKeyRotation).
const DefaultDiskKeyRotation = time.Hour

// SpoolFileFormat names the key description in the header of a spool file
// sealed under a customer's KMS key.
const SpoolFileFormat = "emrs3-spool-kms-v1"

// spoolKeyDesc is the key description written in a spool file's header:
// enough to recover the file's key with kms:Decrypt (the header also holds
// the per-file salt). Nothing in it is secret.
type spoolKeyDesc struct {
	Format            string            `json:"format"`
	KeyARN            string            `json:"keyArn"`
	EncryptionContext map[string]string `json:"encryptionContext,omitempty"`
	WrappedKey        []byte            `json:"wrappedKey"`
}

// diskKeys is the disk-encryption key source of one DiskEncryption in one
// Client: it checks the key once, and asks KMS for a data key at most once
// per rotation interval. Its SpoolKey method is a cse.StreamOptions.SpoolKeys.
type diskKeys struct {
	c   *Client
	cfg *DiskEncryption

	// sem serializes key generation (a buffered channel, so waiting
	// honours the caller's context).
	sem     chan struct{}
	checked bool
	key     []byte // plaintext data key; wiped on rotation and Close
	desc    []byte
	expires time.Time
}

var _ func(context.Context) ([]byte, []byte, error) = (*diskKeys)(nil).SpoolKey

// diskStates caches the diskKeys of a Client by configuration.
type diskStates struct {
	mu     sync.Mutex
	m      map[string]*diskKeys
	budget *cse.SpoolBudget // Options.ClientSpoolLimit; nil: none
}

// diskFor returns the key source of a disk encryption configuration (nil
// for the default random key), validating it.
func (c *Client) diskFor(d *DiskEncryption) (*diskKeys, error) {
	if d.IsZero() {
		if d != nil && len(d.EncryptionContext) > 0 {
			return nil, d.Validate()
		}
		return nil, nil
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if c.opts.KMS == nil {
		return nil, errors.New("emrfs: disk encryption with KMS key " + d.KeyARN + " needs a KMS client: set Options.KMS (kms.NewFromConfig(awsCfg))")
	}
	id := d.KeyARN + "\x00" + formatDiskContext(d.EncryptionContext)
	c.disk.mu.Lock()
	defer c.disk.mu.Unlock()
	if k, ok := c.disk.m[id]; ok {
		return k, nil
	}
	k := &diskKeys{c: c, cfg: d.clone(), sem: make(chan struct{}, 1)}
	if c.disk.m == nil {
		c.disk.m = map[string]*diskKeys{}
	}
	c.disk.m[id] = k
	return k, nil
}

// SpoolKey returns a copy of the current data key and its description,
// generating the key when there is none or it is older than the rotation
// interval.
func (k *diskKeys) SpoolKey(ctx context.Context) ([]byte, []byte, error) {
	select {
	case k.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	defer func() { <-k.sem }()
	now := time.Now()
	if k.key != nil && now.Before(k.expires) {
		return append([]byte(nil), k.key...), k.desc, nil
	}
	if err := k.check(ctx); err != nil {
		return nil, nil, err
	}
	api := k.c.kmsClient(k.region())
	out, err := api.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(k.cfg.KeyARN),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: maps.Clone(k.cfg.EncryptionContext),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("emrfs: disk encryption: KMS GenerateDataKey with key %s and context {%s} failed (the principal needs kms:GenerateDataKey on the key with this encryption context): %w",
			k.cfg.KeyARN, formatDiskContext(k.cfg.EncryptionContext), err)
	}
	if len(out.Plaintext) != 32 || len(out.CiphertextBlob) == 0 {
		clear(out.Plaintext)
		return nil, nil, fmt.Errorf("emrfs: disk encryption: KMS GenerateDataKey returned a %d-byte key, want 32", len(out.Plaintext))
	}
	arn := aws.ToString(out.KeyId)
	if arn == "" {
		arn = k.cfg.KeyARN
	}
	desc, err := json.Marshal(spoolKeyDesc{Format: SpoolFileFormat, KeyARN: arn, EncryptionContext: k.cfg.EncryptionContext, WrappedKey: out.CiphertextBlob})
	if err != nil {
		clear(out.Plaintext)
		return nil, nil, err
	}
	clear(k.key)
	k.key, k.desc = out.Plaintext, desc
	rot := k.c.opts.DiskKeyRotation
	if rot < 0 {
		rot = 0 // a data key per spool file
	}
	k.expires = now.Add(rot)
	k.c.log().DebugContext(ctx, "emrfs: new disk-encryption data key", "kmsKey", arn, "encryptionContext", formatDiskContext(k.cfg.EncryptionContext))
	return append([]byte(nil), k.key...), k.desc, nil
}

// check makes the once-per-key DescribeKey check: enabled, symmetric, for
// encryption. Called with sem held.
func (k *diskKeys) check(ctx context.Context) error {
	if k.checked {
		return nil
	}
	api := k.c.kmsClient(k.region())
	out, err := api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(k.cfg.KeyARN)})
	if err != nil {
		return fmt.Errorf("emrfs: disk encryption: KMS DescribeKey %s failed; this once-per-key check that the key is enabled and symmetric needs kms:DescribeKey on the key, as EMR Serverless requires: %w", k.cfg.KeyARN, err)
	}
	md := out.KeyMetadata
	reason := ""
	switch {
	case md == nil:
		reason = "DescribeKey returned no key metadata"
	case md.KeySpec != "" && md.KeySpec != types.KeySpecSymmetricDefault:
		reason = fmt.Sprintf("KeySpec is %s, an asymmetric key; disk encryption supports only symmetric keys (SYMMETRIC_DEFAULT), as in EMR Serverless", md.KeySpec)
	case md.KeyUsage != "" && md.KeyUsage != types.KeyUsageTypeEncryptDecrypt:
		reason = fmt.Sprintf("KeyUsage is %s, want ENCRYPT_DECRYPT", md.KeyUsage)
	case md.KeyState != types.KeyStateEnabled:
		reason = fmt.Sprintf("KeyState is %s, want Enabled", md.KeyState)
	}
	if reason != "" {
		return &cse.KMSError{Operation: "DescribeKey", KeyID: k.cfg.KeyARN, Kind: cse.KMSUnsuitableKey, Err: errors.New(reason)}
	}
	k.checked = true
	return nil
}

// region is the region of a key or alias ARN ("" for a key id or alias
// name: the KMS client's own region), where the calls go.
func (k *diskKeys) region() string {
	parts := strings.SplitN(k.cfg.KeyARN, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "kms" {
		return parts[3]
	}
	return ""
}

// wipe forgets the data key.
func (k *diskKeys) wipe() {
	k.sem <- struct{}{}
	clear(k.key)
	k.key, k.desc, k.expires = nil, nil, time.Time{}
	<-k.sem
}

// Close wipes the disk-encryption data keys the Client holds in memory
// (Options.DiskEncryption). Spool files still open keep their own derived
// keys until their File is closed. The Client stays usable: a later spool
// asks KMS for a new data key. It returns nil.
func (c *Client) Close() error {
	c.disk.mu.Lock()
	keys := make([]*diskKeys, 0, len(c.disk.m))
	for _, k := range c.disk.m {
		keys = append(keys, k)
	}
	c.disk.mu.Unlock()
	for _, k := range keys {
		k.wipe()
	}
	return nil
}
