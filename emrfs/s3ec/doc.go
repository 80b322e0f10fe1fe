// Package s3ec is an S3-Encryption-Client-shaped front end to emrs3's
// client-side encryption, for programs that move from the official Amazon S3
// Encryption Client for Go (github.com/aws/amazon-s3-encryption-client-go/v4)
// and want to keep its call shapes: PutObject, GetObject and DeleteObject
// over the SDK's own input and output types.
//
// The difference is streaming: the official client reads a whole object into
// memory (or a temporary file) to encrypt it and buffers the plaintext it
// decrypts; this one encrypts the request body as the SDK sends it and
// decrypts the response body as the caller reads it. A GetObject body
// releases no plaintext before the whole object has been authenticated (it
// holds up to Options.BufferSize bytes in memory and spools the rest to an
// encrypted temporary file) unless Options.DelayedAuthentication is set.
//
// The defaults are those of the official v4 client: the commitment policy
// REQUIRE_ENCRYPT_REQUIRE_DECRYPT (objects are written in the key-committing
// format V3, and only V3 objects are read), no legacy content ciphers, no
// legacy key wraps, the envelope in object metadata. Objects written with the
// defaults are read by the official v4 client and by v3 from v3.2.0.
//
// # Mapping of the official v4 client
//
//	official v4 (client, materials)              s3ec
//	-------------------------------------------  ------------------------------------------------
//	client.New(s3Client, cmm, optFns...)         New(s3Client, provider, optFns...)
//	materials.NewKmsKeyring(kms, keyID)          cse.NewKMSProvider(kms, keyID)
//	materials.NewKmsDecryptOnlyAnyKeyKeyring     cse.NewKMSProvider(kms, "", KMSOptions.AnyKey)
//	materials.NewCryptographicMaterialsManager   not needed: the provider is passed directly
//	(no raw keyrings in Go)                      cse.NewAESKeyring, cse.NewRSAKeyring (Java's raw keyrings)
//	EncryptionClientOptions.CommitmentPolicy     Options.CommitmentPolicy (cse.CommitmentPolicy)
//	  commitment.FORBID_ENCRYPT_ALLOW_DECRYPT      cse.ForbidEncryptAllowDecrypt (writes V2, as v3 does)
//	  commitment.REQUIRE_ENCRYPT_ALLOW_DECRYPT     cse.RequireEncryptAllowDecrypt
//	  commitment.REQUIRE_ENCRYPT_REQUIRE_DECRYPT   cse.RequireEncryptRequireDecrypt (the default)
//	EncryptionAlgorithmSuite                     implied by CommitmentPolicy (GCM, committing under Require*)
//	EnableLegacyUnauthenticatedModes             Options.EnableLegacyUnauthenticatedModes
//	materials.KeyringOptions
//	  EnableLegacyWrappingAlgorithms               Options.EnableLegacyWrappingAlgorithms
//	BufferSize                                   Options.BufferSize (held in memory, the rest spooled)
//	TempFolderPath                               Options.TempFolderPath (spool files of GetObject)
//	MinFileSize                                  none: PutObject streams, it never buffers
//	Logger                                       none: errors are returned
//	(Java: delayed authentication)               Options.DelayedAuthentication
//	(Java: instruction file on write)            Options.InstructionFile
//	context.WithValue(ctx, client.EncryptionContext, ec)
//	                                             WithEncryptionContext(ctx, ec); the official key is honoured too
//	embedded *s3.Client for other operations     call the wrapped S3 client directly
//	DeleteObjects                                not provided: use DeleteObject per key, or emrfs.Client
//
// # Limits
//
// PutObject needs the plaintext length: set PutObjectInput.ContentLength, or
// pass a Body with a Len method or an io.Seeker. A body that is also an
// io.Seeker gives a ciphertext body the SDK can rewind (to hash it for SigV4
// over plain HTTP, or to retry): it must yield the same bytes every time.
// Objects are written with a single PUT (up to 5 GiB); use emrfs.Client.Create
// for multipart uploads of streams of any length. GetObject refuses Range and
// PartNumber (as the official client does not decrypt them); emrfs.Client
// reads ranges. Checksums the caller computed over the plaintext
// (ContentMD5, ChecksumCRC32, ...) cannot hold for the ciphertext and are
// refused; set ChecksumAlgorithm and the SDK computes one over the
// ciphertext. The SDK's own checksums stay on: with the settings
// config.LoadDefaultConfig gives, PutObject sends a CRC32 of the
// ciphertext, and GetObject (a whole-object GET) asks for the stored
// checksum and the SDK validates the ciphertext against it, failing the
// read (no plaintext released) when they differ.
package s3ec
