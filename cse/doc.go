// Package cse implements client-side envelope encryption of S3 objects in the
// wire format of the AWS S3 Encryption Client, which EMRFS, Hadoop S3A and
// every AWS S3 Encryption Client read and write.
//
// This file's layer is the streaming content-cipher core:
//
//   - [NewGCMEncryptReader] and [NewGCMEncryptWriter] encrypt a stream with
//     AES-256-GCM, byte-identical to crypto/cipher's Seal;
//   - [NewGCMDecryptReader] decrypts one, authenticating before it releases
//     any plaintext unless delayed authentication was asked for;
//   - [NewCBCDecryptReader] decrypts legacy AES-CBC objects;
//   - [GCMRange], [CBCRange] and [NewRangeReader] decrypt a byte range of an
//     object from a ranged GET;
//   - [MultipartEncryptor] cuts one GCM stream into the parts of a multipart
//     upload.
//
// Every stream is processed in chunks on all cores, in memory bounded by
// chunk size × concurrency, whatever the object's size. AES-CTR keystream and
// GHASH are computed per chunk, and the partial GHASH values are combined by
// multiplication with powers of H; a message that fits in one chunk goes
// through crypto/cipher's fused kernel directly.
//
// # Security
//
// The default GCM decrypter never returns plaintext whose tag has not been
// verified: it holds the plaintext in memory up to a limit and, above it, in
// a temporary file sealed under a random key that never leaves memory.
// Delayed authentication, ranged reads of GCM objects (AES-CTR without the
// tag) and CBC objects are unauthenticated: their plaintext may have been
// modified by anyone who can write the object. Every authentication failure
// is an *[AuthenticationError] matching [ErrNotAuthentic]; misuse (wrong key
// or IV size, bad options) is reported with other errors. Keys passed in are
// not retained beyond the expanded AES key schedule.
//
// # Compatibility
//
// GCM output equals crypto/cipher's AES-GCM with a 12-byte IV and 16-byte
// tag, as used by the S3 Encryption Client formats V2 (no additional data)
// and V3 (additional data 0x00 0x73). CBC input is AES-CBC with PKCS#5/#7
// padding as written by the V1 format and EMRFS's default mode. Range
// arithmetic follows the AWS Java client (counter IV ‖ uint32be(2+block)).
package cse
