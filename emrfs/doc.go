// Package emrfs reads and writes Amazon S3 objects the way Amazon EMRFS
// (and Hadoop S3A) does, through s3://, s3a:// and s3n:// URIs, applying
// the encryption settings a cluster's emrfs-site, core-site or EMR security
// configuration gives each bucket.
//
// A [Client] wraps an S3 client (*s3.Client satisfies [S3API]) and a
// [Config]:
//
//	c, err := emrfs.New(s3.NewFromConfig(awsCfg), cfg)
//	w, err := c.Create(ctx, "s3://bucket/path/part-0000")
//	_, err = w.Write(data)
//	err = w.Close() // nothing is visible until Close returns nil
//
//	f, err := c.Open(ctx, "s3a://bucket/path/part-0000")
//	defer f.Close() // f is an io.ReadSeekCloser and an io.ReaderAt
//
// [Client.Create] streams: data smaller than one part goes in a single
// PutObject at Close, larger data in a multipart upload whose parts are sent
// concurrently while writing, in memory bounded by PartSize×(Concurrency+1).
// [Client.Open] reads with ranged GETs pinned to the object's ETag and
// resumes a body broken mid-stream from the offset reached. [Client.Stat],
// [Client.List], [Client.Remove], [Client.Copy] and [Client.Rename] cover
// the rest of a file system, and [Client.FS] is an io/fs view (fs.StatFS,
// fs.ReadDirFS) of a prefix.
//
// Buckets with client-side encryption (CSE-KMS, or a custom materials
// provider from [Options.MaterialsProviders] or [Options.Providers]) are
// encrypted and decrypted transparently with package cse: Create writes the
// envelope (object metadata or <key>.instruction), Open, Stat, List
// (ListOptions.PlaintextSizes) and FS report plaintext and plaintext sizes,
// and Copy between buckets with different CSE settings re-encrypts by
// streaming.
//
// Errors are *fs.PathError values naming the URI; S3 "not found" errors
// match fs.ErrNotExist and "access denied" errors fs.ErrPermission with
// errors.Is, and the SDK's error stays reachable with errors.As.
//
// # Security
//
// The SSE settings of the bucket (SSE-S3, SSE-KMS, DSSE-KMS, SSE-C) are
// applied to every request that needs them; SSE-C keys are sent on reads,
// HEAD, parts and copies (as copy-source keys too) and never logged or
// printed. A failed or cancelled upload is aborted (AbortMultipartUpload is
// sent even after the caller's context is cancelled, and as soon as it is
// cancelled, without waiting for the next Write or Close), so no partial
// object becomes visible; if a step after the object became visible fails
// (its instruction file, the unencrypted length), the object is deleted
// again. Once the request that makes an object visible has been sent,
// Close and Copy wait for its answer even if the context is cancelled, and
// when the answer is lost or leaves doubt they find out from the object's
// write token (WriteTokenKey) or envelope whether it is theirs: nil means
// it is, and a *CommitError says whether anything is visible or that it
// could not be found out (ErrCommitUnknown). A Writer's error is final and
// reports a failed abort. Reads pin the ETag seen by
// Open with If-Match, so a File never mixes two versions of an object.
// CSE: by default only authenticated content is read — GCM objects, whose
// whole body is verified (in memory up to [Options.DecryptMemoryLimit], then
// in a temporary file sealed under a random key, or under a customer KMS
// key with [DiskEncryption] as EMR Serverless encrypts its disks, and capped
// by [Options.SpoolLimit]) before any plaintext is returned, with broken bodies resumed at the ciphertext layer. EMRFS's
// default objects (AES-CBC) and ranged reads of GCM objects are
// unauthenticated: their plaintext may have been modified by anyone able to
// write the object. They are an explicit opt-in: set [Options.CSEPolicy]
// to cse.EMRFSCompatible() to read what an EMR cluster reads; even then a
// whole-object read is authenticated and only partial reads (Seek,
// ReadAt) are ranged. Per bucket, fs.s3.cse.cryptoMode
// StrictAuthenticatedEncryption refuses unauthenticated content whatever
// the policy, AuthenticatedEncryption makes partial reads of GCM objects
// ranged, and fs.s3a.encryption.cse.v1.compatibility.enabled reads the V1
// clients' objects (legacy wraps, CBC) and unencrypted ones, as S3A does.
// [Options.DelayedAuthentication] streams plaintext before the tag is
// checked; the last bytes are held back until it is, so a read to the end
// of a modified object always ends with cse.ErrNotAuthentic, and partial
// reads still authenticate first.
// Content keys are wiped when a File or Writer is closed. KMS
// calls use the client in [Options.KMS], with the credentials
// [Options.Credentials] chooses for the object when it is set.
//
// [Options.Credentials] chooses credentials per request (for EMRFS role
// mappings); when it fails, the request is not sent with the client's own
// credentials instead.
//
// # Compatibility
//
// Keys and URIs follow EMRFS/S3A: the s3, s3a and s3n schemes are
// equivalent; "directories" are common prefixes under "/". List hides CSE
// instruction files (<key>.instruction), "_$folder$" markers and directory
// marker objects (keys ending in "/"). In buckets with client-side
// encryption Copy and Rename copy the instruction file with its object, and
// Remove deletes it with
// fs.s3.cse.cryptoStorageMode.deleteInstructionFiles.enabled (off by
// default, as in EMRFS); elsewhere "<key>.instruction" is an ordinary
// object that they leave alone. Copy keeps the object's metadata (and
// so a CSE envelope stored there) and copies objects over 5 GiB with
// UploadPartCopy. Rename is a copy then a delete, as in EMRFS, and is not
// atomic. Multipart uploads carry CRC32 part checksums, as the AWS SDK's
// transfer manager does. Remove of a missing key succeeds, as S3's
// DeleteObject does.
//
// CSE objects are written in format V2 (AES-GCM, kms+context wrap) as EMRFS
// with fs.s3.cse.encryptionV2.enabled and S3A write them, or with the legacy
// kms wrap for EMRFS's default (V2 off) — GCM content either way, which
// EMRFS reads; CBC is read, never written. Multipart parts are multiples of
// 16 bytes with the tag at the end of the last part, as the AWS clients
// write them; a single-PUT object carries x-amz-unencrypted-content-length,
// a multipart one only with fs.s3.multipart.cse.add.unencrypted.length
// (added by a copy onto itself, as EMRFS does). Without the header, Stat
// derives the size from the ciphertext (GCM) or a 32-byte tail read (CBC).
package emrfs
