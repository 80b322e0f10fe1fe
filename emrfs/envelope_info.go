package emrfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/emrs3/emrs3/cse"
)

// EnvelopeInfo describes how one object is stored and, when it is
// client-side encrypted, its envelope: what a person inspecting a bucket
// wants to know, without any key material.
type EnvelopeInfo struct {
	// URI is the object's URI as given.
	URI string
	// Size is the stored size in bytes (the ciphertext of a CSE object).
	Size int64
	// PlaintextSize is the plaintext size when the object is encrypted:
	// x-amz-unencrypted-content-length, or derived from Size for GCM
	// content; -1 when only a read can tell (CBC without the header).
	PlaintextSize int64
	// ETag is the object's ETag, without quotes.
	ETag string
	// ServerSideEncryption is S3's encryption of the stored bytes
	// ("AES256", "aws:kms", "aws:kms:dsse"; "" when S3 does not say), and
	// ServerSideKMSKeyID its KMS key.
	ServerSideEncryption string
	ServerSideKMSKeyID   string

	// Encrypted reports whether the object has a client-side encryption
	// envelope; the fields below are zero when it has none.
	Encrypted bool
	// Format is the envelope format: 1, 2 or 3 (V3 commits to its key).
	Format int
	// ContentAlgorithm is the content cipher as stored
	// ("AES/GCM/NoPadding", "AES/CBC/PKCS5Padding", or "115" for V3's
	// key-committing AES-256-GCM-HKDF-SHA512).
	ContentAlgorithm string
	// Authenticated reports whether the content cipher authenticates the
	// plaintext (GCM and the V3 suite do, CBC does not).
	Authenticated bool
	// KeyCommitment reports a V3 envelope, whose data key is bound to the
	// object by a commitment checked before use.
	KeyCommitment bool
	// WrapAlgorithm is how the data key is protected (cse.WrapKMSContext,
	// cse.WrapKMS, cse.WrapAESGCM, ...; cse.WrapV1 for V1's raw wrap).
	WrapAlgorithm string
	// KMSKeyID is the KMS key protecting the data key when the envelope
	// names it (kms_cmk_id, as the legacy kms wrap and the Java v1 client
	// store it) or, with EnvelopeOptions.Unwrap, the key ARN KMS reports.
	// Empty when neither says: a kms+context envelope does not store it,
	// KMS finds it in the wrapped key.
	KMSKeyID string
	// Unwrapped reports that KMS decrypted the data key
	// (EnvelopeOptions.Unwrap): the caller may use the key and the stored
	// context matches. The key itself is wiped at once.
	Unwrapped bool
	// EncryptionContext is the KMS encryption context of a KMS wrap: the
	// stored context of kms+context (with aws:x-amz-cek-alg), or for the
	// legacy kms wrap the materials description, which is sent as the
	// context.
	EncryptionContext map[string]string
	// MaterialsDescription is the stored materials description of the
	// other wraps (raw keyrings and custom providers).
	MaterialsDescription map[string]string
	// InstructionFile reports that the envelope is in <key>.instruction
	// rather than in the object's metadata.
	InstructionFile bool
}

// EnvelopeOptions configure one Envelope call.
type EnvelopeOptions struct {
	// Unwrap asks KMS to decrypt the data key of a KMS-wrapped envelope
	// (one kms:Decrypt, with Options.KMS and the credentials
	// Options.Credentials chooses for the object), to report the key in
	// EnvelopeInfo.KMSKeyID and prove that the caller can read the object.
	// The plaintext data key is wiped immediately.
	Unwrap bool
}

// errEnvelopeSeen stops a describe-only Decrypt once the provider has been
// handed the stored data key.
var errEnvelopeSeen = errors.New("emrfs: envelope described")

// describeProvider records the request of a Decrypt and refuses it.
type describeProvider struct{ req *cse.DecryptionRequest }

func (p *describeProvider) EncryptionMaterials(context.Context, cse.EncryptionRequest) (*cse.Materials, error) {
	return nil, errors.New("emrfs: describing an envelope encrypts nothing")
}

func (p *describeProvider) DecryptMaterials(_ context.Context, req cse.DecryptionRequest) (*cse.Materials, error) {
	r := req
	p.req = &r
	return nil, errEnvelopeSeen
}

// keyIDRecorder remembers the key KMS says decrypted the data key.
type keyIDRecorder struct {
	cse.KMSAPI
	keyID string
}

func (k *keyIDRecorder) Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	out, err := k.KMSAPI.Decrypt(ctx, in, optFns...)
	if err == nil {
		k.keyID = aws.ToString(out.KeyId)
	}
	return out, err
}

// Envelope describes the object at uri: its stored size and server-side
// encryption and, when it has a client-side encryption envelope (in its
// metadata or <key>.instruction), the envelope's format, content and wrap
// algorithms, KMS key, encryption context or materials description and
// key commitment. It reads every format, including those the Client's
// CSEPolicy would refuse to decrypt (CBC, legacy wraps), whatever the
// bucket's configuration, and without KMS unless EnvelopeOptions.Unwrap
// is set. It sends one HeadObject, and one GetObject when the envelope is
// in an instruction file.
//
// Errors are *fs.PathError: a missing object matches fs.ErrNotExist, a
// denied one fs.ErrPermission; a malformed or downgraded envelope returns
// cse's error (a *cse.AuthenticationError matching cse.ErrNotAuthentic);
// with Unwrap, a key that does not open returns the KMS error.
func (c *Client) Envelope(ctx context.Context, uri string, optFns ...func(*EnvelopeOptions)) (*EnvelopeInfo, error) {
	var o EnvelopeOptions
	for _, fn := range optFns {
		fn(&o)
	}
	loc, b, err := c.target("envelope", uri)
	if err != nil {
		return nil, err
	}
	if loc.Key == "" || strings.HasSuffix(loc.Key, "/") {
		return nil, &fs.PathError{Op: "envelope", Path: uri, Err: errIsDir}
	}
	head, err := c.head(ctx, loc, b)
	if err != nil {
		return nil, pathError("envelope", uri, err)
	}
	info := &EnvelopeInfo{
		URI:                  uri,
		Size:                 aws.ToInt64(head.ContentLength),
		PlaintextSize:        aws.ToInt64(head.ContentLength),
		ETag:                 strings.Trim(aws.ToString(head.ETag), `"`),
		ServerSideEncryption: string(head.ServerSideEncryption),
		ServerSideKMSKeyID:   aws.ToString(head.SSEKMSKeyId),
	}
	meta := head.Metadata
	var instr []byte
	var fetchErr error
	fetch := c.instructionFetcher(loc, b, &instr)
	p := &describeProvider{}
	dec := cse.NewDecryptor(p, func(o *cse.Options) {
		o.Policy = cse.Policy{LegacyUnauthenticated: true, LegacyWrapping: true}
	})
	content, err := dec.Decrypt(ctx, meta, func(ctx context.Context, key string) ([]byte, error) {
		body, err := fetch(ctx, key)
		fetchErr = err
		return body, err
	}, cse.ObjectInfo{Bucket: loc.Bucket, Key: loc.Key})
	if content != nil {
		content.Wipe() // not reached: the provider refuses
	}
	if fetchErr != nil {
		return nil, pathError("envelope", uri, fetchErr)
	}
	info.InstructionFile = instr != nil
	if p.req == nil {
		if err == nil || errors.Is(err, cse.ErrNoEnvelope) {
			return info, nil
		}
		return nil, &fs.PathError{Op: "envelope", Path: uri, Err: err}
	}
	req := p.req
	info.Encrypted = true
	info.Format = req.Version
	info.ContentAlgorithm = req.ContentAlgorithm
	info.WrapAlgorithm = req.WrapAlgorithm
	info.KeyCommitment = req.Version == 3
	info.Authenticated = !strings.Contains(req.ContentAlgorithm, "CBC")
	switch req.WrapAlgorithm {
	case cse.WrapKMS, cse.WrapKMSContext:
		info.EncryptionContext = maps.Clone(req.Description)
		info.KMSKeyID = req.Description["kms_cmk_id"]
	default:
		info.MaterialsDescription = maps.Clone(req.Description)
	}
	info.PlaintextSize = envelopePlaintextSize(meta, info)

	if o.Unwrap && (req.WrapAlgorithm == cse.WrapKMS || req.WrapAlgorithm == cse.WrapKMSContext) {
		region := ""
		if b.CSE != nil {
			region = b.CSE.KMSRegion
		}
		api := c.kmsClient(region)
		if api == nil {
			return nil, &fs.PathError{Op: "envelope", Path: uri, Err: errors.New("emrfs: unwrapping a KMS envelope needs Options.KMS (kms.NewFromConfig(awsCfg))")}
		}
		rec := &keyIDRecorder{KMSAPI: api}
		m, err := cse.NewKMSProvider(rec, "", func(o *cse.KMSOptions) { o.AnyKey = true }).DecryptMaterials(withObject(ctx, loc.Bucket, loc.Key), *req)
		if err != nil {
			return nil, pathError("envelope", uri, fmt.Errorf("KMS does not decrypt the data key: %w", err))
		}
		m.Wipe()
		info.Unwrapped = true
		if rec.keyID != "" {
			info.KMSKeyID = rec.keyID
		}
	}
	c.log().LogAttrs(ctx, slog.LevelDebug, "emrfs: envelope described", slog.String("uri", uri), slog.Int("format", info.Format), slog.String("wrap", info.WrapAlgorithm), slog.Bool("instructionFile", info.InstructionFile))
	return info, nil
}

// envelopePlaintextSize returns x-amz-unencrypted-content-length, or the
// size GCM content implies, or -1.
func envelopePlaintextSize(meta map[string]string, info *EnvelopeInfo) int64 {
	for k, v := range meta {
		if strings.EqualFold(k, "x-amz-unencrypted-content-length") {
			var n int64
			if _, err := fmt.Sscan(v, &n); err == nil && n >= 0 {
				return n
			}
		}
	}
	if info.Authenticated && info.Size >= 16 {
		return info.Size - 16 // the GCM tag
	}
	return -1
}
