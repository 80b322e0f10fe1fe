package emrfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/cse"
)

// ErrNotEncrypted is matched (errors.Is) when a bucket is configured for
// client-side encryption and an object has no envelope (neither in its
// metadata nor in an instruction file).
var ErrNotEncrypted = errors.New("emrfs: object is not client-side encrypted; set fs.s3a.encryption.cse.v1.compatibility.enabled=true (CSE.Compatibility) to read unencrypted objects from a CSE bucket")

// metaUnencryptedLength is the envelope metadata key holding the plaintext
// size.
const metaUnencryptedLength = "x-amz-unencrypted-content-length"

// cseState is the CSE machinery of one bucket.
type cseState struct {
	cfg *CSE
	enc *cse.Encryptor
	dec *cse.Decryptor
}

// cseStates caches cseState by bucket name.
type cseStates struct {
	mu sync.Mutex
	m  map[string]*cseState
}

// cseFor returns the Encryptor/Decryptor of bucket b, or nil when b has no
// CSE. Providers are built once per bucket.
func (c *Client) cseFor(ctx context.Context, b *Bucket) (*cseState, error) {
	if b.CSE == nil {
		return nil, nil
	}
	c.cse.mu.Lock()
	defer c.cse.mu.Unlock()
	if st, ok := c.cse.m[b.Name]; ok {
		return st, nil
	}
	p, err := c.provider(ctx, b.Name, b.CSE)
	if err != nil {
		return nil, fmt.Errorf("emrfs: CSE for bucket %s: %w", b.Name, err)
	}
	policy := c.readPolicy(b.CSE)
	ctxPairs := b.CSE.EncryptionContext
	if !b.CSE.IsKMS() || b.CSE.MaterialsDescription != nil {
		ctxPairs = mergeMaps(b.CSE.EncryptionContext, b.CSE.MaterialsDescription)
	}
	st := &cseState{
		cfg: b.CSE,
		enc: cse.NewEncryptor(p, func(o *cse.Options) {
			o.Policy = policy
			o.InstructionFile = b.CSE.InstructionFile
			o.LegacyKMSWrap = b.CSE.IsKMS() && !b.CSE.V2 && !b.CSE.S3A
			o.EncryptionContext = ctxPairs
		}),
		dec: cse.NewDecryptor(p, func(o *cse.Options) {
			o.Policy = policy
			if !b.CSE.MaterialsDescriptionEnabled {
				o.EncryptionContext = ctxPairs
			}
		}),
	}
	if c.cse.m == nil {
		c.cse.m = map[string]*cseState{}
	}
	c.cse.m[b.Name] = st
	return st, nil
}

// readPolicy returns the policy a bucket's CSE objects are read (and
// written) with; its CheckRange says which partial reads may be ranged.
//
// The policy is Options.CSEPolicy when set, else defaultPolicy. The crypto
// mode (fs.s3.cse.cryptoMode, CSE.CryptoMode) then applies as in the AWS
// Java v1 client (cse.Policy documents the mapping):
//
//   - StrictAuthenticatedEncryption: only authenticated content, whatever
//     the policy says — CBC objects are refused and partial reads of GCM
//     objects read and verify the whole object (never ranged);
//   - AuthenticatedEncryption: partial reads of GCM (and key-committing)
//     objects are ranged GETs decrypted with AES-CTR, unauthenticated, even
//     under the default policy — set it only if the readers accept that;
//     CBC objects still need the policy's LegacyUnauthenticated. S3A
//     buckets report this mode (it is what S3A writes) but the S3A
//     properties have no crypto mode, so for them it does not enable
//     ranged reads;
//   - EncryptionOnly (the EMRFS default): nothing changes — ranged reads
//     happen only when the policy allows them (cse.EMRFSCompatible does).
//     The default policy never ranges, even when the compatibility option
//     lets it read CBC content.
func (c *Client) readPolicy(s *CSE) cse.Policy {
	policy := defaultPolicy(s)
	if c.opts.CSEPolicy != nil {
		policy = *c.opts.CSEPolicy
	}
	switch {
	case s.CryptoMode == CryptoModeStrictAuthenticatedEncryption:
		policy.LegacyUnauthenticated, policy.UnauthenticatedRanges = false, false
	case s.CryptoMode == CryptoModeAuthenticatedEncryption && !s.S3A:
		policy.UnauthenticatedRanges = true
	}
	return policy
}

// defaultPolicy is the policy of a CSE bucket when Options.CSEPolicy is nil:
// the safe default of the AWS clients — no unauthenticated content (CBC
// objects, ranged reads of GCM objects) — except that:
//
//   - a bucket configured to write the legacy kms wrap (EMRFS without
//     fs.s3.cse.encryptionV2.enabled) also reads it. Content stays
//     authenticated: GCM only, so the kms wrap's missing content-algorithm
//     binding cannot be used to downgrade;
//   - a bucket with fs.s3a.encryption.cse.v1.compatibility.enabled
//     (CSE.Compatibility) reads what S3A reads with that option: objects
//     of the V1 clients and EMRFS — the legacy wraps (kms, V1 raw key
//     encryption) and unauthenticated AES-CBC content — as well as
//     unencrypted objects.
func defaultPolicy(s *CSE) cse.Policy {
	p := cse.Policy{LegacyWrapping: s.IsKMS() && !s.V2 && !s.S3A}
	if s.Compatibility {
		p.LegacyWrapping, p.LegacyUnauthenticated = true, true
	}
	return p
}

func mergeMaps(a, b map[string]string) map[string]string {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	m := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// provider builds the materials provider a bucket's CSE settings name.
func (c *Client) provider(ctx context.Context, bucket string, s *CSE) (cse.MaterialsProvider, error) {
	if p, ok := c.opts.MaterialsProviders[s.Provider]; ok {
		return p, nil
	}
	if s.IsKMS() {
		if c.opts.KMS == nil {
			return nil, errors.New("CSE-KMS needs a KMS client: set Options.KMS (kms.NewFromConfig(awsCfg))")
		}
		return cse.NewKMSProvider(c.kmsClient(s.KMSRegion), s.KMSKeyID, kmsProviderOptions(s)), nil
	}
	return c.opts.Providers.orDefault().newMaterials(ctx, s.Provider, ProviderConfig{Bucket: bucket, Get: c.cfg.Get, KMS: c.kmsClient(s.KMSRegion)})
}

// instructionFetcher returns the instruction-file fetch of cse's Decrypt for
// the object at loc; the body it fetched, if any, is left in *body.
func (c *Client) instructionFetcher(loc Location, b *Bucket, body *[]byte) func(context.Context, string) ([]byte, error) {
	return func(ctx context.Context, key string) ([]byte, error) {
		var err error
		*body, err = c.fetchInstruction(ctx, loc, b, key)
		return *body, err
	}
}

// fetchInstruction returns the body of the instruction file key of the
// object at loc, or nil if there is none.
func (c *Client) fetchInstruction(ctx context.Context, loc Location, b *Bucket, key string) ([]byte, error) {
	out, err := send(ctx, c.req(Location{Scheme: loc.Scheme, Bucket: loc.Bucket, Key: key}, b.SSE), &s3.GetObjectInput{}, c.s3.GetObject)
	if err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return body, nil
}

// cseObject is what reading a CSE object needs.
type cseObject struct {
	content *cse.Content // nil: a plaintext object (compatibility mode)
	size    int64        // plaintext size
	ranged  bool         // partial reads may be ranged (the policy's CheckRange)
	// envelope is a digest of the envelope (metadata and instruction
	// file), part of the key of cached chunk tables.
	envelope [32]byte
}

// objHead is what a HEAD, or the first GET of Open, tells about an object.
type objHead struct {
	meta      map[string]string
	size      int64 // stored size
	etag      string
	versionID string
}

func headOf(out *s3.HeadObjectOutput) objHead {
	return objHead{meta: out.Metadata, size: aws.ToInt64(out.ContentLength), etag: aws.ToString(out.ETag), versionID: aws.ToString(out.VersionId)}
}

// openCSE reads the envelope of the object described by head and recovers
// its content key and plaintext size.
func (c *Client) openCSE(ctx context.Context, st *cseState, loc Location, b *Bucket, head objHead) (*cseObject, error) {
	meta := head.meta
	ctSize := head.size
	var instr []byte
	content, err := st.dec.Decrypt(withObject(ctx, loc.Bucket, loc.Key), meta, c.instructionFetcher(loc, b, &instr), cse.ObjectInfo{Bucket: loc.Bucket, Key: loc.Key})
	if errors.Is(err, cse.ErrNoEnvelope) {
		// No envelope key at all and no instruction file (a partial
		// envelope is an error matching cse.ErrNotAuthentic instead).
		if st.cfg.Compatibility {
			return &cseObject{size: ctSize, ranged: true}, nil
		}
		return nil, ErrNotEncrypted
	}
	var pe *cse.PolicyError
	if errors.As(err, &pe) {
		if st.cfg.CryptoMode == CryptoModeStrictAuthenticatedEncryption && pe.Option == "Policy.LegacyUnauthenticated" {
			return nil, fmt.Errorf("%w (fs.s3.cse.cryptoMode=StrictAuthenticatedEncryption refuses unauthenticated content whatever the policy; set another crypto mode to read it)", err)
		}
		return nil, fmt.Errorf("%w (with emrfs: set Options.CSEPolicy, e.g. to cse.EMRFSCompatible(), to read it as an EMR cluster does, or %s=true to read what S3A reads)", err, s3aPrefix+aCSECompat)
	}
	if err != nil {
		return nil, err
	}
	obj := &cseObject{content: content, ranged: st.dec.Policy().CheckRange(content.Algorithm) == nil, envelope: envelopeDigest(meta, instr)}
	pin := &objectPin{c: c, loc: loc, b: b, etag: head.etag, versionID: head.versionID, size: ctSize}
	switch {
	case content.PlaintextSize >= 0:
		obj.size = content.PlaintextSize
		err = checkSizes(content.Algorithm, obj.size, ctSize)
	case content.Algorithm == cse.AlgCBC:
		obj.size, err = c.cbcSize(ctx, pin, content)
	default:
		obj.size, err = content.DecryptedSize(ctSize, nil)
	}
	if err != nil {
		content.Wipe()
		return nil, err
	}
	return obj, nil
}

// checkSizes compares the plaintext size an envelope records
// (x-amz-unencrypted-content-length) with the stored size of the
// ciphertext: GCM adds a 16-byte tag, CBC pads to the next whole block. A
// mismatch means the object or its envelope was modified (or belong to
// different objects): the error matches cse.ErrNotAuthentic and is found
// before any plaintext is released.
func checkSizes(alg cse.Algorithm, plain, stored int64) error {
	want := plain + 16
	if alg == cse.AlgCBC {
		want = (plain/16 + 1) * 16
	}
	if plain < 0 || stored != want {
		return fmt.Errorf("emrfs: the envelope records a plaintext of %d bytes (%s) but the object holds %d bytes of ciphertext, not %d; the object or its envelope was modified: %w", plain, metaUnencryptedLength, stored, want, cse.ErrNotAuthentic)
	}
	return nil
}

// cbcSize finds the plaintext size of a CBC object from its last 32 bytes.
func (c *Client) cbcSize(ctx context.Context, pin *objectPin, content *cse.Content) (int64, error) {
	n := pin.size
	if n < 16 || n%16 != 0 {
		return 0, fmt.Errorf("emrfs: CBC object of %d bytes is not a whole number of blocks: %w", n, cse.ErrNotAuthentic)
	}
	tail := make([]byte, min(n, 32))
	if err := pin.readFullAt(ctx, tail, n-int64(len(tail))); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = errShortBody
		}
		return 0, fmt.Errorf("emrfs: reading the last blocks: %w", err)
	}
	return content.DecryptedSize(n, tail)
}

// cseStatSize returns the plaintext size of a CSE object for Stat and
// List: the envelope's x-amz-unencrypted-content-length when present; the
// ciphertext size less the 16-byte tag when the metadata names a GCM
// content algorithm (no KMS call); else found as Open does.
func (c *Client) cseStatSize(ctx context.Context, st *cseState, loc Location, b *Bucket, head *s3.HeadObjectOutput) (int64, error) {
	if v, ok := head.Metadata[metaUnencryptedLength]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			return n, nil
		}
	}
	if n := aws.ToInt64(head.ContentLength); n >= 16 && (head.Metadata[metaCEKAlg] == cse.AlgGCM.String() || head.Metadata[metaV3Alg] == cse.AlgCommitting.String()) {
		return n - 16, nil
	}
	obj, err := c.openCSE(ctx, st, loc, b, headOf(head))
	if errors.Is(err, ErrNotEncrypted) {
		return aws.ToInt64(head.ContentLength), nil
	}
	if err != nil {
		return 0, err
	}
	obj.content.Wipe()
	return obj.size, nil
}

// The metadata keys naming the content algorithm (V2, V3 envelopes).
const (
	metaCEKAlg = "x-amz-cek-alg"
	metaV3Alg  = "x-amz-c"
)

// sameCSE reports whether objects can be copied server-side between buckets
// with CSE settings a and b: the envelope (and instruction file) written
// under a is what a reader configured with b accepts and expects. Every
// setting that changes how objects are written or read must agree — the
// provider and key, the KMS region, the storage mode, the format written
// (V2, S3A), the crypto mode and the compatibility option (which decide
// the read policy), and the encryption context and materials description
// the reader expects. Only settings that do not affect reading
// (ProviderURI, DeleteInstructionFiles, AddUnencryptedLength) may differ.
func sameCSE(a, b *CSE) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Provider == b.Provider && a.KMSKeyID == b.KMSKeyID && a.KMSRegion == b.KMSRegion &&
		a.InstructionFile == b.InstructionFile && a.V2 == b.V2 && a.S3A == b.S3A &&
		a.CryptoMode == b.CryptoMode && a.Compatibility == b.Compatibility &&
		a.MaterialsDescriptionEnabled == b.MaterialsDescriptionEnabled &&
		maps.Equal(a.EncryptionContext, b.EncryptionContext) &&
		maps.Equal(a.MaterialsDescription, b.MaterialsDescription)
}
