package cse

import (
	"context"
	"fmt"
	"runtime"
)

// DefaultChunkSize is the unit of work of the streaming ciphers.
const DefaultChunkSize = 256 << 10

// DefaultMemoryLimit is how much of a message an authenticating decrypter
// holds in memory before it spools the rest to an encrypted temporary file.
const DefaultMemoryLimit = 64 << 20

// StreamOptions tune the streaming ciphers. The zero value is the default.
type StreamOptions struct {
	// Concurrency is the number of goroutines that encrypt or decrypt
	// chunks of one stream. 0 means runtime.GOMAXPROCS(0); 1 processes the
	// stream on the caller's goroutine.
	Concurrency int
	// ChunkSize is the number of bytes processed as one unit, a multiple of
	// 16; 0 means DefaultChunkSize. Memory use is about
	// 2 × ChunkSize × Concurrency.
	ChunkSize int
}

// DecryptOptions tune GCM and CBC decryption.
type DecryptOptions struct {
	StreamOptions

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
	TempDir string

	// SpoolKeys, when set, supplies the key spool files are sealed under
	// (each file derives its own key from it and a fresh salt); nil means
	// a random key that lives only in memory. See SpoolKeySource.
	SpoolKeys SpoolKeySource

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

func decryptOptions(optFns []func(*DecryptOptions)) (DecryptOptions, error) {
	var o DecryptOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.MemoryLimit == 0 {
		o.MemoryLimit = DefaultMemoryLimit
	}
	return o, o.StreamOptions.normalize()
}
