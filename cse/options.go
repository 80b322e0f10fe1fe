package cse

import (
	"context"
	"fmt"
	"io"
	"runtime"
)

// Defaults of the streaming ciphers (see StreamOptions).
const (
	// DefaultChunkSize is the unit of work of the streaming ciphers.
	DefaultChunkSize = 256 << 10

	// DefaultMemoryLimit is how much of a message an authenticating
	// decrypter holds in memory before it spools the rest to an encrypted
	// temporary file.
	DefaultMemoryLimit = 64 << 20
)

// Options configure an Encryptor or a Decryptor. The zero value writes V2
// with GCM content and the provider's default wrap (kms+context for KMS) to
// object metadata, and reads with the default Policy.
type Options struct {
	// Policy decides which formats, content ciphers and wraps are read,
	// and (Commitment RequireEncrypt*) whether format V3 is written
	// instead of V2.
	Policy Policy

	// EncryptionContext is the KMS encryption context (or materials
	// description) of every object; ObjectInfo.EncryptionContext adds to
	// it.
	//
	// On decryption it is the context the caller expects. When it is not
	// empty it must equal the stored context of a kms+context object (V2
	// x-amz-matdesc, V3 x-amz-t) once the reserved "aws:" keys and
	// kms_cmk_id (which the Java v1 V2 client, and so EMRFS, stores there)
	// are removed; otherwise Decrypt returns a *ContextMismatchError before
	// KMS is called. It is not checked for any other wrap, as in the AWS
	// clients (Java v1 and v3, s3crypto): the legacy kms wrap's materials
	// description ({"kms_cmk_id": ...} plus the writer's pairs) is sent to
	// KMS as it is stored, and a raw keyring's description is not
	// authenticated at all. A kms+context object relabelled as kms to dodge
	// this check is refused as not authentic (a downgrade).
	EncryptionContext map[string]string

	// LegacyKMSWrap writes the kms wrap (materials description
	// {"kms_cmk_id": key} as the context) instead of kms+context, for EMR
	// 5.30.1 / 6.1.0 and older readers. GCM content still; V2 only.
	// Encryption only.
	LegacyKMSWrap bool
	// InstructionFile puts the envelope in a "<key>.instruction" object
	// instead of the object's metadata. Encryption only.
	InstructionFile bool
	// Rand supplies IVs and message IDs; nil means crypto/rand. Encryption
	// only.
	Rand io.Reader
}

// StreamOptions tune the streaming ciphers of a [Content]. The zero value
// is the default. Concurrency and ChunkSize apply to every stream; the
// other fields to decryption only (ChunkTable to GCM decryption only).
type StreamOptions struct {
	// Concurrency is the number of goroutines that encrypt or decrypt
	// chunks of one stream. 0 means runtime.GOMAXPROCS(0); 1 processes the
	// stream on the caller's goroutine.
	Concurrency int
	// ChunkSize is the number of bytes processed as one unit, a multiple of
	// 16; 0 means DefaultChunkSize. Memory use is about
	// 2 × ChunkSize × Concurrency.
	ChunkSize int

	// DelayedAuthentication releases GCM plaintext as it is decrypted,
	// before the tag has been checked. The final Read returns an
	// *AuthenticationError instead of io.EOF when the tag is wrong, so a
	// caller that acts on plaintext before that Read may act on forged or
	// corrupted data. Leave it off unless the consumer can undo its work.
	DelayedAuthentication bool

	// MemoryLimit is how many bytes of a message the default (authenticate
	// before release) mode holds in memory until the tag has verified; the
	// rest of a larger message goes to a temporary file sealed under a
	// random in-memory key (or one from SpoolKeys). 0 means DefaultMemoryLimit; a negative value
	// spools all but a message of a single chunk (at most ChunkSize bytes,
	// which the stream holds in memory anyway).
	MemoryLimit int64

	// TempDir is where spool files are created; "" means os.TempDir().
	// On Linux, a spool file's bytes past its first 64 MiB bypass the page
	// cache (O_DIRECT) where the file system allows it.
	TempDir string

	// SpoolKeys, when set, supplies the key spool files are sealed under,
	// in place of the default random key that lives only in memory (nil),
	// for example a data key that a customer-managed KMS key protects.
	//
	// Each spool file derives its own AES-256 key from the secret SpoolKeys
	// returns and a fresh random per-file salt (HKDF-SHA256, with desc in
	// the info), and writes the salt and desc in its header, so that the
	// file names the key that opens it. SpoolKeys is called once per
	// spooled message, on the goroutine that first needs to spool, with
	// Context. The returned secret (at least 16 bytes) belongs to the
	// spool, which wipes it once the file key is derived; desc (at most 64
	// KiB) is not secret and is stored in plaintext. It must be safe for
	// concurrent use.
	SpoolKeys func(ctx context.Context) (secret, desc []byte, err error)

	// SpoolLimit caps the bytes one message may spool to TempDir; a
	// message that needs more fails with a *SpoolError matching
	// ErrSpoolLimit before any plaintext is released. 0 means no cap.
	SpoolLimit int64

	// SpoolBudget, when set, is a cap shared with the other decrypters
	// that hold it (for example all the reads of one client).
	SpoolBudget *SpoolBudget

	// Context governs the calls the decrypter makes on its own, to
	// SpoolKeys; nil means context.Background().
	Context context.Context
	// ChunkTable, when not nil, is filled by a GCM decrypter with the
	// GHASH contribution of each chunk it reads, and marked complete once
	// the tag has verified; see [ChunkTable]. It must be new (zero) and
	// used by one decrypter. CBC decryption ignores it.
	ChunkTable *ChunkTable
}

func (o *StreamOptions) normalize() error {
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.GOMAXPROCS(0)
	}
	if o.ChunkSize == 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.ChunkSize < 16 || o.ChunkSize%16 != 0 || o.ChunkSize > 64<<20 {
		return fmt.Errorf("cse: ChunkSize %d must be a multiple of 16 between 16 and 64 MiB", o.ChunkSize)
	}
	return nil
}

func streamOptions(optFns []func(*StreamOptions)) (StreamOptions, error) {
	var o StreamOptions
	for _, fn := range optFns {
		fn(&o)
	}
	return o, o.normalize()
}

func decryptOptions(optFns []func(*StreamOptions)) (StreamOptions, error) {
	var o StreamOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.MemoryLimit == 0 {
		o.MemoryLimit = DefaultMemoryLimit
	}
	return o, o.normalize()
}
