package s3ec

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/cse"
)

// S3API is the part of *s3.Client that Client uses.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Options configure a Client. New sets the defaults of the official v4
// client before calling the option functions; see the package doc for the
// mapping of the official client's options.
type Options struct {
	// CommitmentPolicy decides the format written and the formats read:
	// cse.RequireEncryptRequireDecrypt (the default) writes V3 and reads
	// only V3; cse.RequireEncryptAllowDecrypt writes V3 and reads V2 and
	// V3; cse.ForbidEncryptAllowDecrypt writes V2 (as the official v3
	// client does) and reads V2 and V3.
	CommitmentPolicy cse.CommitmentPolicy

	// EnableLegacyUnauthenticatedModes reads AES-CBC content (objects of
	// the V1 clients and of EMRFS's default mode). Off by default.
	EnableLegacyUnauthenticatedModes bool

	// EnableLegacyWrappingAlgorithms reads data keys under the legacy
	// wraps: KMS without context ("kms"), AESWrap, RSA-OAEP-SHA1 and V1's
	// raw AES/RSA. Off by default.
	EnableLegacyWrappingAlgorithms bool

	// InstructionFile writes the envelope to "<key>.instruction" instead
	// of the object's metadata. Reads find instruction files whatever it
	// says.
	InstructionFile bool

	// EncryptionContext is the KMS encryption context (materials
	// description for raw keyrings) of every request; the context of a
	// request (WithEncryptionContext) is merged over it. On GetObject a
	// non-empty merged context must equal the one stored with a KMS
	// object, or the read fails with a *cse.ContextMismatchError before
	// KMS is called.
	EncryptionContext map[string]string

	// DelayedAuthentication releases plaintext as it is decrypted; the
	// body's last Read fails (cse.ErrNotAuthentic) if the object was
	// modified. Off by default: no plaintext before the whole object is
	// authenticated.
	DelayedAuthentication bool

	// BufferSize is how much of an object GetObject holds in memory while
	// it authenticates it; the rest goes to an encrypted temporary file.
	// 0 means cse.DefaultMemoryLimit.
	BufferSize int64

	// TempFolderPath is where GetObject's spool files go; "" means
	// os.TempDir().
	TempFolderPath string

	// MaxInstructionFileSize bounds the instruction file GetObject reads.
	// 0 means 1 MiB.
	MaxInstructionFileSize int64
}

// Client encrypts PutObject bodies and decrypts GetObject bodies the way
// the official S3 Encryption Client does, streaming. It is safe for
// concurrent use.
type Client struct {
	s3   S3API
	opts Options
	enc  *cse.Encryptor
	dec  *cse.Decryptor
}

// New returns a Client over s3Client with the data keys of p, for example
// cse.NewKMSProvider(kms.NewFromConfig(cfg), keyID).
func New(s3Client S3API, p cse.MaterialsProvider, optFns ...func(*Options)) (*Client, error) {
	if s3Client == nil || p == nil {
		return nil, errors.New("s3ec: New needs an S3 client and a materials provider")
	}
	o := Options{CommitmentPolicy: cse.RequireEncryptRequireDecrypt}
	for _, fn := range optFns {
		fn(&o)
	}
	switch o.CommitmentPolicy {
	case cse.ForbidEncryptAllowDecrypt, cse.RequireEncryptAllowDecrypt, cse.RequireEncryptRequireDecrypt:
	default:
		return nil, fmt.Errorf("s3ec: unknown Options.CommitmentPolicy %d", o.CommitmentPolicy)
	}
	if o.BufferSize < 0 || o.MaxInstructionFileSize < 0 {
		return nil, errors.New("s3ec: Options.BufferSize and Options.MaxInstructionFileSize must not be negative")
	}
	if o.MaxInstructionFileSize == 0 {
		o.MaxInstructionFileSize = 1 << 20
	}
	ec := make(map[string]string, len(o.EncryptionContext))
	for k, v := range o.EncryptionContext {
		ec[k] = v
	}
	o.EncryptionContext = ec
	pol := cse.Policy{
		LegacyUnauthenticated: o.EnableLegacyUnauthenticatedModes,
		LegacyWrapping:        o.EnableLegacyWrappingAlgorithms,
		Commitment:            o.CommitmentPolicy,
	}
	return &Client{
		s3:   s3Client,
		opts: o,
		enc: cse.NewEncryptor(p, func(eo *cse.Options) {
			eo.Policy = pol
			eo.InstructionFile = o.InstructionFile
			eo.EncryptionContext = ec
		}),
		dec: cse.NewDecryptor(p, func(do *cse.Options) {
			do.Policy = pol
			do.EncryptionContext = ec
		}),
	}, nil
}

// Options returns a copy of the options the Client was built with.
func (c *Client) Options() Options {
	o := c.opts
	o.EncryptionContext = make(map[string]string, len(c.opts.EncryptionContext))
	for k, v := range c.opts.EncryptionContext {
		o.EncryptionContext[k] = v
	}
	return o
}

type ecKey struct{}

// officialECKey is the context key of the official clients
// (client.EncryptionContext, an untyped string constant).
const officialECKey = "EncryptionContext"

// WithEncryptionContext returns a context that makes PutObject use ec as
// the encryption context of the object (merged over
// Options.EncryptionContext) and makes GetObject check it. The official
// clients' context.WithValue(ctx, client.EncryptionContext, ec) is honoured
// too.
func WithEncryptionContext(ctx context.Context, ec map[string]string) context.Context {
	return context.WithValue(ctx, ecKey{}, ec)
}

func requestContext(ctx context.Context) map[string]string {
	if ec, ok := ctx.Value(ecKey{}).(map[string]string); ok {
		return ec
	}
	if ec, ok := ctx.Value(officialECKey).(map[string]string); ok {
		return ec
	}
	return nil
}

// DeleteObject deletes the object and its instruction file
// ("<key>.instruction", without VersionId), as the official client does.
// An error deleting the instruction file is returned with the object's
// output.
func (c *Client) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	if in == nil || aws.ToString(in.Bucket) == "" || aws.ToString(in.Key) == "" {
		return nil, errors.New("s3ec: DeleteObject: Bucket and Key are required")
	}
	out, err := c.s3.DeleteObject(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	ikey := *in.Key + instructionSuffix
	if _, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: in.Bucket, Key: &ikey, ExpectedBucketOwner: in.ExpectedBucketOwner}, optFns...); err != nil {
		return out, fmt.Errorf("s3ec: deleted s3://%s/%s but not its instruction file %s: %w", *in.Bucket, *in.Key, ikey, err)
	}
	return out, nil
}

// instructionSuffix names an object's instruction file, as the AWS clients
// do by default (cse's Envelope.InstructionKey).
const instructionSuffix = ".instruction"

// objectError names the object in an error of GetObject or PutObject.
func objectError(op, bucket, key string, err error) error {
	return fmt.Errorf("s3ec: %s s3://%s/%s: %w", op, bucket, key, err)
}

// plaintextChecksums lists the fields of PutObjectInput that describe the
// body as given, which the ciphertext cannot match.
func plaintextChecksums(in *s3.PutObjectInput) []string {
	var set []string
	for _, f := range []struct {
		name string
		v    *string
	}{
		{"ContentMD5", in.ContentMD5},
		{"ChecksumCRC32", in.ChecksumCRC32},
		{"ChecksumCRC32C", in.ChecksumCRC32C},
		{"ChecksumCRC64NVME", in.ChecksumCRC64NVME},
		{"ChecksumSHA1", in.ChecksumSHA1},
		{"ChecksumSHA256", in.ChecksumSHA256},
	} {
		if f.v != nil {
			set = append(set, f.name)
		}
	}
	return set
}

// reservedMetadata reports a user metadata key the envelope owns.
func reservedMetadata(meta map[string]string) string {
	for k := range meta {
		lk := strings.ToLower(strings.TrimPrefix(strings.ToLower(k), "x-amz-meta-"))
		if strings.HasPrefix(lk, "x-amz-") {
			return k
		}
	}
	return ""
}
