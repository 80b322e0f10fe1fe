package emrfs

// ProgressFunc reports the progress of one transfer: done is the number of
// bytes confirmed on the wire so far — for a write, the plaintext bytes of
// parts (or the single PUT) that S3 has acknowledged; for a read, the
// plaintext bytes received from S3 and released or verified — and total
// the size of the whole transfer, or -1 while it is not known. done never
// runs ahead of what S3 has acknowledged or delivered and never decreases.
//
// It is called from the goroutines doing the transfer, possibly from
// several at once but never concurrently for the same transfer; it must
// return quickly and must not call back into the Writer or File.
type ProgressFunc func(done, total int64)
