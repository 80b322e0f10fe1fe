// Package emrs3 reads and writes Amazon S3 data exactly as Amazon EMRFS does,
// from Go.
//
// The library is made of three packages:
//
//   - [github.com/emrs3/emrs3/cse]: client-side envelope encryption. It reads
//     and writes the S3 Encryption Client wire format (V1, V2 and the
//     key-committing V3) that EMRFS, Hadoop S3A and every AWS S3 Encryption
//     Client use, streaming any object size in bounded memory.
//   - [github.com/emrs3/emrs3/emrfs]: the file-system client. It takes the
//     configuration EMR and Hadoop users already have (emrfs-site, core-site,
//     EMR security configurations) and applies server-side encryption (SSE-S3,
//     SSE-KMS, DSSE-KMS, SSE-C) or client-side encryption on every S3 call.
//   - [github.com/emrs3/emrs3/authz]: EMRFS role mappings, which choose the
//     IAM role whose credentials sign each request, by user, group or S3 prefix.
//
// # Security
//
// Plaintext is never released before it has been authenticated unless the
// caller opted in (delayed authentication, ranged reads of GCM objects, legacy
// CBC objects). Data keys are wiped after use, and keys or credentials are
// never logged or printed.
//
// # Compatibility
//
// Objects written by this library are read by EMRFS, S3A and the AWS S3
// Encryption Clients, and objects they write are read by it; see the README
// for the table of formats.
package emrs3
