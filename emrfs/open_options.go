package emrfs

// DefaultReadPartSize is the default size of the ranged GETs of a
// whole-object read (Options.ReadPartSize): 8 MiB, what AWS suggests for
// concurrent GETs from S3.
const DefaultReadPartSize = 8 << 20

// DefaultReadConcurrency is the default number of parts of a whole-object
// read fetched at once (Options.ReadConcurrency).
const DefaultReadConcurrency = 8

// OpenOptions configure one Open call. The zero value uses the Client's
// Options.
type OpenOptions struct {
	// Progress, when set, is told the bytes received as the File is read:
	// the cumulative plaintext bytes received from S3 and released to the
	// caller (for a CSE object, only once verified), with the File's size
	// as total.
	Progress ProgressFunc

	// DiskEncryption, when set, replaces Options.DiskEncryption for this
	// File's spool: a customer KMS key and encryption context, or, as a
	// zero value, the default random in-memory key.
	DiskEncryption *DiskEncryption
	// VersionID opens that version of the object; every GET of the File
	// carries it. "" opens the current version. A CSE object's envelope
	// comes with the version from its metadata; an instruction file is
	// not versioned with its object (in EMRFS and the AWS clients alike)
	// and belongs to the current version, so an older version whose
	// envelope is in one fails as not authentic (cse.ErrNotAuthentic),
	// releasing nothing.
	VersionID string

	// PartSize overrides Options.ReadPartSize for this File.
	PartSize int64

	// Concurrency overrides Options.ReadConcurrency for this File.
	Concurrency int
}
