package emrfs

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/emrs3/emrs3/cse"
)

// objectCtxKey carries the object a KMS call is made for, so that
// Options.Credentials can choose the KMS credentials too.
type objectCtxKey struct{}

type objectRef struct{ bucket, key string }

func withObject(ctx context.Context, bucket, key string) context.Context {
	return context.WithValue(ctx, objectCtxKey{}, objectRef{bucket, key})
}

// kmsWithCredentials sends each KMS call with the credentials
// Options.Credentials chooses for the object being encrypted or decrypted
// (op "kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey").
type kmsWithCredentials struct {
	c   *Client
	api cse.KMSAPI
}

func (k kmsWithCredentials) opts(ctx context.Context, op string) ([]func(*kms.Options), error) {
	ref, _ := ctx.Value(objectCtxKey{}).(objectRef)
	p, err := k.c.opts.Credentials(ctx, "kms:"+op, ref.bucket, ref.key)
	if err != nil || p == nil {
		return nil, err
	}
	return []func(*kms.Options){func(o *kms.Options) { o.Credentials = p }}, nil
}

func (k kmsWithCredentials) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	o, err := k.opts(ctx, "GenerateDataKey")
	if err != nil {
		return nil, err
	}
	return k.api.GenerateDataKey(ctx, in, append(optFns, o...)...)
}

func (k kmsWithCredentials) Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	o, err := k.opts(ctx, "Decrypt")
	if err != nil {
		return nil, err
	}
	return k.api.Decrypt(ctx, in, append(optFns, o...)...)
}

func (k kmsWithCredentials) DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	o, err := k.opts(ctx, "DescribeKey")
	if err != nil {
		return nil, err
	}
	return k.api.DescribeKey(ctx, in, append(optFns, o...)...)
}

// kmsInRegion sends every call to the KMS region of a bucket's CSE
// settings (fs.s3.cse.kms.region, fs.s3a.encryption.cse.kms.region): the
// region is set in the call's kms.Options, so the endpoint is resolved and
// the request signed for it.
type kmsInRegion struct {
	api    cse.KMSAPI
	region string
}

func (k kmsInRegion) opt(o *kms.Options) { o.Region = k.region }

func (k kmsInRegion) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	return k.api.GenerateDataKey(ctx, in, append(optFns, k.opt)...)
}

func (k kmsInRegion) Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	return k.api.Decrypt(ctx, in, append(optFns, k.opt)...)
}

func (k kmsInRegion) DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	return k.api.DescribeKey(ctx, in, append(optFns, k.opt)...)
}

// kmsClient returns Options.KMS, wrapped to apply per-request credentials
// when Options.Credentials is set, to call the given region when it is
// not "", and to serve Decrypt from the data key cache unless
// Options.DataKeyCacheTTL turns it off.
func (c *Client) kmsClient(region string) cse.KMSAPI {
	if c.opts.KMS == nil {
		return nil
	}
	api := c.opts.KMS
	if c.opts.Credentials != nil {
		api = kmsWithCredentials{c: c, api: api}
	}
	if region != "" {
		api = kmsInRegion{api: api, region: region}
	}
	if c.opts.DataKeyCacheTTL > 0 {
		api = kmsCaching{c: c, api: api, region: region}
	}
	return api
}

// DefaultDataKeyCacheTTL is how long an unwrapped data key stays in a
// Client's cache (Options.DataKeyCacheTTL).
const DefaultDataKeyCacheTTL = time.Minute

// maxDataKeys bounds the number of cached data keys.
const maxDataKeys = 1024

// dataKeyCache holds data keys unwrapped by KMS Decrypt, so that opening
// an object again within the TTL costs no KMS call. It is keyed by a hash
// of the wrapped key, the encryption context, the key id and algorithm
// asked for, the region and the principal whose credentials made the call
// (so a principal never reads a key another one unwrapped). At most
// maxDataKeys keys are held; expired and evicted keys are wiped.
type dataKeyCache struct {
	mu    sync.Mutex
	m     map[[32]byte]*list.Element
	order *list.List // of *dataKey, oldest first (uniform TTL: by expiry)
}

type dataKey struct {
	k       [32]byte
	out     kms.DecryptOutput // Plaintext owned by the cache
	expires time.Time
}

func (d *dataKeyCache) get(k [32]byte, now time.Time) *kms.DecryptOutput {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now)
	e, ok := d.m[k]
	if !ok {
		return nil
	}
	out := e.Value.(*dataKey).out
	out.Plaintext = bytes.Clone(out.Plaintext)
	return &out
}

func (d *dataKeyCache) put(k [32]byte, out *kms.DecryptOutput, expires time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m, d.order = map[[32]byte]*list.Element{}, list.New()
	}
	if _, ok := d.m[k]; ok {
		return
	}
	dk := &dataKey{k: k, out: *out, expires: expires}
	dk.out.Plaintext = bytes.Clone(out.Plaintext)
	d.m[k] = d.order.PushBack(dk)
	for d.order.Len() > maxDataKeys {
		d.evict(d.order.Front())
	}
}

// expire wipes the keys whose TTL has passed.
func (d *dataKeyCache) expire(now time.Time) {
	for d.order != nil && d.order.Len() > 0 {
		e := d.order.Front()
		if now.Before(e.Value.(*dataKey).expires) {
			return
		}
		d.evict(e)
	}
}

func (d *dataKeyCache) evict(e *list.Element) {
	dk := e.Value.(*dataKey)
	clear(dk.out.Plaintext)
	d.order.Remove(e)
	delete(d.m, dk.k)
}

// kmsCaching serves KMS Decrypt from the Client's data key cache.
type kmsCaching struct {
	c      *Client
	api    cse.KMSAPI
	region string
}

// cacheKey returns the cache key of a Decrypt call, or false when the
// call must not use the cache (the principal cannot be told).
func (k kmsCaching) cacheKey(ctx context.Context, in *kms.DecryptInput) ([32]byte, bool) {
	principal := ""
	if k.c.opts.Credentials != nil {
		ref, _ := ctx.Value(objectCtxKey{}).(objectRef)
		p, err := k.c.opts.Credentials(ctx, "kms:Decrypt", ref.bucket, ref.key)
		if err != nil {
			return [32]byte{}, false
		}
		if p != nil {
			creds, err := p.Retrieve(ctx)
			if err != nil || creds.AccessKeyID == "" {
				return [32]byte{}, false
			}
			principal = creds.AccessKeyID
		}
	}
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field(string(in.CiphertextBlob))
	field(aws.ToString(in.KeyId))
	field(string(in.EncryptionAlgorithm))
	field(k.region)
	field(principal)
	keys := slices.Sorted(maps.Keys(in.EncryptionContext))
	for _, kk := range keys {
		field(kk)
		field(in.EncryptionContext[kk])
	}
	var out [32]byte
	h.Sum(out[:0])
	return out, true
}

func (k kmsCaching) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	return k.api.GenerateDataKey(ctx, in, optFns...)
}

func (k kmsCaching) DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	return k.api.DescribeKey(ctx, in, optFns...)
}

func (k kmsCaching) Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	key, ok := k.cacheKey(ctx, in)
	now := time.Now()
	if ok {
		if out := k.c.dataKeys.get(key, now); out != nil {
			k.c.log().Debug("emrfs: data key cache hit", "key", aws.ToString(out.KeyId))
			return out, nil
		}
	}
	out, err := k.api.Decrypt(ctx, in, optFns...)
	if err == nil && ok && out != nil && len(out.Plaintext) > 0 {
		k.c.dataKeys.put(key, out, now.Add(k.c.opts.DataKeyCacheTTL))
	}
	return out, err
}

// kmsProviderOptions applies a bucket's CSE settings that reach the KMS
// materials provider's own options (CSE.KMSAnyKey, CSE.KMSSkipKeyCheck).
func kmsProviderOptions(s *CSE) func(*cse.KMSOptions) {
	return func(o *cse.KMSOptions) {
		o.AnyKey = s.KMSAnyKey
		o.SkipKeyCheck = s.KMSSkipKeyCheck
	}
}
