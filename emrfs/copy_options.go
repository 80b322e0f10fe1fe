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
	// IfUnchanged makes Copy look at the destination first (one
	// HeadObject) and copy only while it still holds what Copy saw
	// (If-Match on its ETag, or If-None-Match: * when it held nothing), so
	// that a copy or its retry never replaces an object another writer put
	// there in the meantime; Copy fails instead with an error matching
	// ErrPreconditionFailed or fs.ErrExist. It cannot be combined with
	// IfAbsent.
	IfUnchanged bool

	ifMatch string // the destination ETag seen, with IfUnchanged
}
