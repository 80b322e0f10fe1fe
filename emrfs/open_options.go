package emrfs

// OpenOptions configure one Open call. The zero value uses the Client's
// Options.
type OpenOptions struct {
	// Progress, when set, is told the bytes received as the File is read.
	Progress ProgressFunc
}
