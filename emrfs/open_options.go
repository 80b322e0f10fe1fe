package emrfs

// OpenOptions configure one Open call. The zero value uses the Client's
// Options.
type OpenOptions struct {
	// Progress, when set, is told the bytes received as the File is read.
	Progress ProgressFunc

	// DiskEncryption, when set, replaces Options.DiskEncryption for this
	// File's spool: a customer KMS key and encryption context, or, as a
	// zero value, the default random in-memory key.
	DiskEncryption *DiskEncryption
}
