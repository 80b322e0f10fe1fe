package emrfs

// CopyOptions configure one Copy call.
type CopyOptions struct {
	// Progress, when set, is told the bytes of the destination that S3 has
	// acknowledged (copied parts, or the streamed parts of a re-encrypting
	// copy).
	Progress ProgressFunc
	// IfAbsent copies only if the destination key holds no object
	// (If-None-Match: * on the CopyObject, CompleteMultipartUpload or
	// streamed write). If another object is there first, Copy fails with
	// an error matching fs.ErrExist and leaves it alone.
	IfAbsent bool
}
