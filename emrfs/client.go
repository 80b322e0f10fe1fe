package emrfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/tracing"

	"github.com/emrs3/emrs3/cse"
)

// S3API is the set of S3 operations the client uses. *s3.Client satisfies
// it; a wrapper (to trace, count or fail calls) need implement only these.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, optFns ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput, optFns ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error)
}

var _ S3API = (*s3.Client)(nil)

const (
	// MinPartSize is the smallest multipart part S3 accepts (5 MiB).
	MinPartSize = 5 << 20
	// DefaultPartSize is the default part size (8 MiB, the size AWS
	// suggests for concurrent transfers). With DefaultConcurrency a Writer
	// holds at most 72 MiB of parts, and a streamed object can be up to
	// 10,000 parts (about 78 GiB); set a larger Options.PartSize for larger
	// objects, or a smaller Options.Concurrency to hold less memory.
	DefaultPartSize = 8 << 20
	// DefaultConcurrency is the default number of parts one Writer uploads
	// at once (and of parts one Copy copies at once). One S3 connection
	// carries roughly 90 MB/s and every part costs a round trip, so writes
	// reach the link's speed only with several parts in flight: on a
	// modelled link (20 ms round trip, a bandwidth cap per connection), 3
	// in flight reached about 0.6× feature/s3/manager's Uploader with 8
	// (bench/README.md, "link model").
	DefaultConcurrency = 8
	// maxParts is the S3 limit on parts in one multipart upload.
	maxParts = 10000
)

// Options configure a Client.
type Options struct {
	// PartSize is the multipart part size in bytes; objects smaller than one
	// part are written with a single PutObject. Default DefaultPartSize,
	// minimum MinPartSize.
	PartSize int64

	// Concurrency is how many parts one Writer uploads at once. A Writer
	// holds at most PartSize*(Concurrency+1) bytes in memory (72 MiB with
	// the defaults). Default DefaultConcurrency.
	Concurrency int

	// Credentials, when set, chooses the credentials of each request, for
	// example from EMRFS role mappings. op is the S3 operation name
	// ("GetObject", ...), or for the KMS calls of client-side encryption
	// "kms:GenerateDataKey", "kms:Decrypt" or "kms:DescribeKey" with the
	// object's bucket and key. Returning a nil provider and nil error keeps
	// the S3 (or KMS) client's own credentials.
	Credentials func(ctx context.Context, op, bucket, key string) (aws.CredentialsProvider, error)

	// KMS is the KMS client of CSE-KMS buckets (kms.NewFromConfig(awsCfg)).
	// Required only when a bucket uses CSE-KMS. A bucket whose settings
	// name a KMS region (fs.s3.cse.kms.region,
	// fs.s3a.encryption.cse.kms.region) sends its calls there: the region
	// is set in the kms.Options of every call, so the endpoint is resolved
	// and the request signed for that region; otherwise the client's own
	// region is used. Custom providers built from Providers get the same
	// client in ProviderConfig.KMS.
	KMS cse.KMSAPI

	// MaterialsProviders maps a CSE provider name (CSE.Provider, e.g. a
	// Java class name from fs.s3.cse.encryptionMaterialsProvider) to the
	// provider to use; it wins over Providers and the built-in KMS provider.
	MaterialsProviders map[string]cse.MaterialsProvider

	// Providers builds custom CSE materials providers by name from the
	// configuration; nil means DefaultProviders.
	Providers *Providers

	// CSEPolicy is the policy CSE objects are written and read with. nil
	// means the safe default: GCM content only, whole objects authenticated
	// before any plaintext is returned (Seek and ReadAt re-read and verify
	// the object), V2 written; a bucket that writes the legacy kms wrap
	// (EMRFS without fs.s3.cse.encryptionV2.enabled) also reads it, and a
	// bucket with fs.s3a.encryption.cse.v1.compatibility.enabled reads
	// legacy wraps and CBC content as S3A does with it. Set
	// cse.EMRFSCompatible() to read EMRFS's default CBC objects and to
	// allow ranged (AES-CTR, unauthenticated) reads of GCM objects, as an
	// EMR cluster does.
	//
	// fs.s3.cse.cryptoMode (CSE.CryptoMode) adjusts it per bucket:
	// StrictAuthenticatedEncryption refuses unauthenticated content (CBC
	// objects, ranged reads) whatever this policy allows;
	// AuthenticatedEncryption makes partial reads of GCM objects ranged
	// even under the default policy (not for S3A settings, which have no
	// crypto mode); EncryptionOnly, the default, leaves the policy alone.
	// A whole-object read is authenticated in every mode.
	CSEPolicy *cse.Policy

	// DelayedAuthentication streams the plaintext of CSE reads that run to
	// the end of the object (Read, io.Copy, a ReadAt of the tail) as it is
	// decrypted instead of authenticating first. The last bytes are held
	// back until the GCM tag has been checked, so a modified object always
	// ends with an error matching cse.ErrNotAuthentic, even for a caller
	// that stops reading once it has the bytes it expects (io.ReadFull);
	// but the bytes before them were released unverified, so act on them
	// only once the read has ended without error. Reads that stop before
	// the end (ReadAt of a slice, when the policy refuses ranged reads)
	// still authenticate the whole object first. See cse.StreamOptions.
	DelayedAuthentication bool

	// DecryptMemoryLimit is how much of an object an authenticating read
	// holds in memory before it spools to an encrypted temporary file in
	// TempDir; 0 means 8 MiB. A larger limit keeps more objects off the
	// disk but is not faster: memory a process touches for the first time
	// costs more than the page cache a spool file writes to (on the link
	// model in bench/, a cold 64 MiB GET runs at 0.83× the SDK's
	// Downloader with 8 MiB, 0.74× with 32 MiB, 0.63× with 80 MiB).
	DecryptMemoryLimit int64

	// TempDir is where spool files go; "" means os.TempDir(). A missing,
	// read-only or full TempDir fails the read once, with an error naming
	// the directory and the object that matches neither fs.ErrNotExist nor
	// a network fault (errors.As finds a *cse.SpoolError); it is not
	// retried. On Linux, a spool file's bytes past its first 64 MiB
	// bypass the page cache (O_DIRECT, about 10 MiB of buffers for such a
	// read) where TempDir's file system allows it.
	TempDir string

	// DiskEncryption is the key spool files are sealed under (see
	// DiskEncryption). nil takes it from the Config (Config.DiskEncryption:
	// the security configuration's LocalDiskEncryptionConfiguration, or the
	// spark.emr-serverless.disk.* properties); a non-nil zero value forces
	// the default random in-memory key. OpenOptions.DiskEncryption
	// overrides it for one Open.
	DiskEncryption *DiskEncryption

	// DiskKeyRotation is how long the Client uses one disk-encryption data
	// key: at most one kms:GenerateDataKey per key and context per
	// interval, however many Files spool; each spool file derives its own
	// key from the data key and a fresh salt. 0 means
	// DefaultDiskKeyRotation (1 hour); a negative value asks KMS for a
	// data key for every spool file.
	DiskKeyRotation time.Duration

	// SpoolLimit caps the local disk one File's authenticated read may
	// spool to TempDir; an object that needs more fails, before any
	// plaintext is released, with an error naming the object, the cap and
	// the alternatives (matching cse.ErrSpoolLimit). 0 means no cap.
	SpoolLimit int64

	// ClientSpoolLimit caps the local disk the spools of all the Client's
	// Files hold at once. 0 means no cap.
	ClientSpoolLimit int64

	// ReadRetries is how many times a GET broken mid-stream is resumed
	// without progress before the read fails. Default 3.
	ReadRetries int

	// ReadPartSize is the size of the ranged GETs a whole-object read is
	// split into; 0 means DefaultReadPartSize (8 MiB). Open's own GET
	// fetches the first part.
	ReadPartSize int64

	// ReadConcurrency is how many parts of a whole-object read are fetched
	// at once; 0 means DefaultReadConcurrency (8). A read holds at most
	// ReadConcurrency × ReadPartSize bytes of fetched parts in memory (64
	// MiB by default), plus, for CSE objects, what the authenticating
	// decrypter holds (DecryptMemoryLimit). 1 reads with one GET.
	ReadConcurrency int

	// DataKeyCacheTTL is how long the Client keeps a data key unwrapped by
	// KMS Decrypt, so that reading an object again costs no KMS call; 0
	// means DefaultDataKeyCacheTTL (one minute), a negative value turns the
	// cache off. At most 1024 keys are cached, each under its wrapped key,
	// encryption context, KMS key id, region and the credentials that
	// unwrapped it (with Options.Credentials, their access key id: a
	// principal never gets a key another one unwrapped); expired and
	// evicted keys are wiped. A KMS key disabled or a grant revoked takes
	// effect on cached keys within the TTL.
	DataKeyCacheTTL time.Duration

	// JobflowID is the EMR cluster id (j-...) that EMRFS puts in the
	// materials description as "JobflowId", next to "Path" (and "DstPath"),
	// in buckets with fs.s3.cse.materialsDescription.enabled. EMRFS reads
	// it from the node it runs on (/mnt/var/lib/info/job-flow.json); a Go
	// program is told. Empty (the default) leaves JobflowId out, as EMRFS
	// does when it has no cluster id.
	JobflowID string

	// Bucket, when set, is called with the encryption each bucket resolves
	// to from the configuration and may change it: set what no property
	// reaches (SSE.BucketKey, CSE.EncryptionContext,
	// CSE.MaterialsDescription, CSE.KMSAnyKey, CSE.KMSSkipKeyCheck) or
	// replace b.SSE or b.CSE. It is called once per bucket, when the
	// Client first needs the bucket (in New for the buckets the
	// configuration names), possibly concurrently for different buckets;
	// the Client keeps a copy of the result for its lifetime, so b and
	// what it points to belong to the function. Leaving both SSE and CSE
	// set fails every operation on the bucket.
	Bucket func(b *Bucket)

	// Logger receives the Client's records: at Debug, retries, resumed
	// reads, aborted uploads, spool use and cache hits; at Warn, anything
	// that loses data or leaves doubt about what a bucket holds, and (from
	// New) a security configuration's local-disk encryption the Client
	// cannot apply. nil
	// discards them. A successful read or write logs nothing above Debug.
	Logger *slog.Logger

	// TracerProvider, when set, receives spans around Open, Create, Copy
	// and the KMS calls of client-side encryption, in smithy-go's tracing
	// interfaces, so that they nest with the SDK's own spans (pass the
	// same provider as in s3.Options.TracerProvider). nil means no spans.
	TracerProvider tracing.TracerProvider
}

// Client reads and writes S3 objects the way EMRFS does, applying the
// per-bucket SSE (and, later, CSE) settings of a Config to every request.
// It is safe for concurrent use.
type Client struct {
	s3   S3API
	cfg  *Config
	opts Options

	// copyThreshold is the largest object copied with one CopyObject;
	// larger ones use UploadPartCopy. Tests lower it.
	copyThreshold int64

	cse cseStates

	// buckets holds each bucket's settings, resolved once; resolved counts
	// the resolutions (for tests).
	buckets  bucketStates
	resolved atomic.Int64

	// disk holds the disk-encryption key sources and the spool budget;
	// diskDefault is the Client's (nil: random in-memory key).
	disk        diskStates
	diskDefault *diskKeys
	tables      tableCache   // chunk tables for authenticated random access
	dataKeys    dataKeyCache // unwrapped KMS data keys

	// parts recycles part buffers (*[]byte of cap PartSize) across Writers.
	parts sync.Pool
}

// New returns a Client that sends requests with client and takes per-bucket
// encryption settings from cfg (nil means NewConfig()).
//
// New fails when the settings of a bucket need something Options does not
// give: a CSE-KMS bucket without Options.KMS, or a custom CSE provider
// that is neither in Options.MaterialsProviders nor registered in
// Options.Providers (or DefaultProviders). It checks the global settings
// (which apply to every bucket no per-bucket property names) and each
// bucket named by a per-bucket property (fs.s3.bucket.NAME.*,
// fs.s3a.bucket.NAME.*) or a security-configuration override, the latter
// after Options.Bucket; the
// error (errors.Is(err, ErrInvalidConfig); one *ConfigError per bucket)
// names the bucket, the property that turned client-side encryption on
// and the Options field to set. Other configuration problems are
// reported by the operations that meet them (see Config.Validate).
func New(client S3API, cfg *Config, optFns ...func(*Options)) (*Client, error) {
	if client == nil {
		return nil, errors.New("emrfs: New: nil S3 client; pass an *s3.Client")
	}
	cfg = cfg.Clone() // nil: NewConfig(); later changes to the caller's Config do not reach the Client
	o := Options{PartSize: DefaultPartSize, Concurrency: DefaultConcurrency, ReadRetries: 3}
	for _, fn := range optFns {
		fn(&o)
	}
	if o.PartSize == 0 {
		o.PartSize = DefaultPartSize
	}
	if o.PartSize < MinPartSize {
		return nil, fmt.Errorf("emrfs: New: PartSize %d is below the S3 minimum; set Options.PartSize to at least %d (5 MiB)", o.PartSize, MinPartSize)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.ReadRetries <= 0 {
		o.ReadRetries = 3
	}
	if o.ReadPartSize <= 0 {
		o.ReadPartSize = DefaultReadPartSize
	}
	if o.ReadConcurrency <= 0 {
		o.ReadConcurrency = DefaultReadConcurrency
	}
	if o.DataKeyCacheTTL == 0 {
		o.DataKeyCacheTTL = DefaultDataKeyCacheTTL
	}
	if o.DecryptMemoryLimit == 0 {
		o.DecryptMemoryLimit = 8 << 20
	}
	if o.DiskKeyRotation == 0 {
		o.DiskKeyRotation = DefaultDiskKeyRotation
	}
	o.KMS = traceKMS(logKMS(o.KMS, o.Logger), o.TracerProvider)
	c := &Client{s3: client, cfg: cfg, opts: o, copyThreshold: maxCopyObjectSize}
	if err := c.checkClients(); err != nil {
		return nil, fmt.Errorf("emrfs: New: %w", err)
	}
	if err := c.initDisk(); err != nil {
		return nil, fmt.Errorf("emrfs: New: %w", err)
	}
	return c, nil
}

// decryptOptions applies the Options of whole-object CSE reads.
func (c *Client) decryptOptions(o *cse.StreamOptions) {
	o.DelayedAuthentication = c.opts.DelayedAuthentication
	o.MemoryLimit = c.opts.DecryptMemoryLimit
	o.TempDir = c.opts.TempDir
}

// target resolves a URI to its location and bucket settings (resolved once
// per bucket; see bucketStates).
func (c *Client) target(op, uri string) (Location, *Bucket, error) {
	loc, err := ParseURI(uri)
	if err != nil {
		return Location{}, nil, &fs.PathError{Op: op, Path: uri, Err: err}
	}
	b, _, err := c.bucket(loc.Bucket)
	if err != nil {
		return Location{}, nil, &fs.PathError{Op: op, Path: uri, Err: err}
	}
	return loc, b, nil
}

// reqOpts returns the per-request options for one S3 call: the credentials
// chosen by Options.Credentials, if any, and the Debug log of the SDK's
// retries (see s3RetryLog).
func (c *Client) reqOpts(ctx context.Context, op, bucket, key string) ([]func(*s3.Options), error) {
	var opts []func(*s3.Options)
	if l := c.s3RetryLog(ctx, op, bucket, key); l != nil {
		opts = append(opts, l)
	}
	if c.opts.Credentials == nil {
		return opts, nil
	}
	p, err := c.opts.Credentials(ctx, op, bucket, key)
	if err != nil {
		return nil, fmt.Errorf("emrfs: choosing credentials for %s s3://%s/%s: %w", op, bucket, key, err)
	}
	if p == nil {
		return opts, nil
	}
	return append(opts, func(o *s3.Options) { o.Credentials = p }), nil
}

// discardLogger is the Logger of a Client without Options.Logger.
var discardLogger = slog.New(slog.DiscardHandler)

// log returns the Client's logger; never nil.
func (c *Client) log() *slog.Logger {
	if c.opts.Logger != nil {
		return c.opts.Logger
	}
	return discardLogger
}
