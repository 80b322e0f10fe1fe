// Package cse implements client-side envelope encryption of S3 objects in the
// wire format of the AWS S3 Encryption Client, which EMRFS, Hadoop S3A and
// every AWS S3 Encryption Client read and write.
//
// # Envelopes
//
// An [Encryptor] creates, for each new object, a fresh content key protected
// by a [MaterialsProvider] — KMS ([NewKMSProvider]), a raw AES or RSA keyring
// ([NewAESKeyring], [NewRSAKeyring]), or a custom provider ([ProviderFunc],
// the EMRFS custom-provider contract: a materials description in, a key and
// the description to store out) — and returns the [Envelope] (object metadata,
// or a <key>.instruction file) and the [Content]. A [Decryptor] reads V1, V2
// and V3 envelopes from the object's metadata, fetching its instruction file
// only when the metadata holds no envelope ([Decryptor.Decrypt]), and
// recovers the [Content] after applying its [Policy].
// Configuration by name (EMRFS properties, provider class names,
// encryption-context strings) belongs to package emrfs, which hands this
// package plain values.
//
// # Content
//
// A [Content] holds the content key of one object and is the handle for
// everything done with it:
//
//   - [Content.NewEncryptReader] encrypts a body with AES-256-GCM,
//     byte-identical to crypto/cipher's Seal, and
//     [Content.NewMultipartEncryptor] cuts it into the parts of a multipart
//     upload, to be uploaded concurrently;
//   - [Content.NewDecryptReader] decrypts a body, authenticating GCM before
//     it releases any plaintext unless delayed authentication was asked for
//     (legacy CBC content is decrypted too, unauthenticated);
//   - [Content.Range] and [Content.NewRangeReader] decrypt a byte range of an
//     object from a ranged GET, when the Policy allows unauthenticated
//     ranges, and a [ChunkTable] recorded by one authenticated pass lets
//     [Content.NewChunkReader] read ranges that are checked chunk by chunk;
//   - [Content.DecryptedSize] and [Content.EncryptedSize] convert sizes.
//
// Every stream is processed in chunks on all cores, in memory bounded by
// chunk size × concurrency, whatever the object's size ([StreamOptions]).
// Partial GHASH values of chunks are combined by multiplication with powers
// of H. Encryption runs each chunk through crypto/cipher's own fused AES-GCM
// assembly, with a 16-byte nonce chosen so that the chunk gets the counters
// of its place in the message; decryption composes AES-CTR and GHASH per
// chunk; a message that fits in one chunk goes through crypto/cipher's Seal
// or Open directly. The composed path and a pure-Go GHASH are kept as the
// references the fast paths are tested against.
//
// # Security
//
// The zero [Policy] is the safe default of the AWS clients: only
// authenticated content (GCM, and the key-committing V3 suite) is read, whole
// or through chunk tables, and only the current key wraps. Legacy
// unauthenticated content (CBC objects), unauthenticated ranged reads and
// legacy wraps (kms, AESWrap, RSA-OAEP-SHA256, V1's raw wraps) are opt-ins,
// and the *[PolicyError] names the option; the Policy documents how EMRFS's
// crypto modes map onto them. Downgrades are refused whatever the wrap
// claims: a stored aws:x-amz-cek-alg must match the content algorithm, a
// legacy kms envelope must not carry one (it would be a relabelled
// kms+context envelope), and a kms+context context that disagrees with the
// caller's expected context is refused; V3 key commitments are checked in
// constant time before the key is used. The KMS provider checks, once per
// key, that the key is enabled, symmetric and for encryption.
//
// The default GCM decrypter never returns plaintext whose tag has not been
// verified: it holds the first [StreamOptions.MemoryLimit] bytes of the
// message in memory and the rest in a temporary file sealed record by record
// under a key derived from a random secret that never leaves memory, or from
// a customer's key through [StreamOptions.SpoolKeys] (unlinked as soon as it
// is created where the system allows it, removed on Close and on every
// error); [StreamOptions.SpoolLimit] and [SpoolBudget] cap it. Delayed
// authentication, ranged reads and CBC objects are unauthenticated: their
// plaintext may have been modified by anyone who can write the object.
// Plaintext data keys are wiped after use ([Content.Wipe], [Materials.Wipe]).
//
// Errors say which of these outcomes happened:
//
//   - [ErrNotAuthentic]: the object was modified or is not what it claims —
//     a GCM tag that does not verify, a truncated or extended stream, a bad
//     CBC padding, a damaged, partial or contradictory envelope, a
//     downgrade, a V3 key commitment that does not match. This is the one
//     integrity outcome; errors.As gives an *[AuthenticationError] whose
//     Check names the check that failed, and a CBC failure says nothing
//     more, so it cannot serve as a padding oracle. No plaintext is released
//     in the default mode.
//   - *[PolicyError]: the object is in a format, or the read is of a kind,
//     that the caller's Policy refuses. It says nothing about integrity.
//   - *[ContextMismatchError]: the caller expects another encryption context
//     than the object's.
//   - [ErrWrongKey] (a *[KeyError]): the data key does not unwrap with the
//     provider's key — another key wrote the object, or its wrapped key was
//     altered, which no key can tell apart.
//   - [ErrNoEnvelope]: the object holds no envelope at all; it is not
//     client-side encrypted. Only this outcome allows reading it as
//     plaintext.
//   - *[KMSError]: a failed KMS call, or a KMS key that cannot protect data
//     keys; *[SpoolError] (matching [ErrSpoolLimit] for a cap): the local
//     decryption spool failed, never the message; *[ContextError]: an
//     encryption context the caller gave is invalid; [ErrTooLarge]: more
//     plaintext than one GCM message may carry.
//
// Misuse (wrong key or IV size, bad options) is reported with other errors.
//
// # Compatibility
//
// Written: V2 with AES-GCM and kms+context (the default); V2 with the legacy
// kms wrap for EMR 5.30.1 / 6.1.0 and older readers; V3 (key commitment)
// when the commitment policy requires it; envelopes in metadata or in
// instruction files. Never CBC. Read: every format EMRFS, S3A and the AWS
// clients write, V1 included, as the policy allows. GCM output equals
// crypto/cipher's AES-GCM with a 12-byte IV and 16-byte tag (V2: no
// additional data; V3: 0x00 0x73). Range arithmetic follows the AWS Java
// client (counter IV ‖ uint32be(2+block)), fetching only the blocks that
// hold the range. Interoperability is tested in
// both directions against aws-sdk-go v1 s3crypto over HTTP.
package cse
