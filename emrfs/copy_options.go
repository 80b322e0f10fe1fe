package emrfs

// CopyOptions configure one Copy call.
type CopyOptions struct {
	// Progress, when set, is told the bytes of the destination that S3 has
	// acknowledged (copied parts, or the streamed parts of a re-encrypting
	// copy).
	Progress ProgressFunc
}
