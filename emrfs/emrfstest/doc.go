// Package emrfstest runs an in-process emulation of the AWS services the
// emrs3 packages talk to — Amazon S3, AWS KMS and AWS STS — behind one
// loopback HTTP endpoint, for tests.
//
// [Start] returns a [Stack] whose URL serves all three services; requests
// are routed by the service named in their SigV4 credential scope. The
// unmodified aws-sdk-go-v2 clients (and the aws-sdk-go v1 clients) talk to
// it once their endpoint points at [Stack.URL]:
//
//	st := emrfstest.Start(t)
//	s3c := s3.NewFromConfig(st.Config, st.S3Options)
//	kmsc := kms.NewFromConfig(st.Config)
//
// Every request must carry a valid SigV4 signature from a registered
// principal: the admin ([AdminARN], used by [Stack.Config]), users added
// with [Stack.AddUser], or temporary credentials issued by the STS
// emulator's AssumeRole. S3 access can be narrowed per principal or role
// with [S3.Grant]; KMS keys can be restricted to principals when created.
//
// The emulators record what they were asked ([KMS.Audit], [S3.Requests],
// [STS.Calls]) and can inject faults ([KMS.ThrottleNext], [STS.FailNext],
// [S3.BreakNextGet], [S3.LoseResponses]: carried out, then no response) so
// tests can assert on the traffic a client produced. [S3.OnRequest] lets a
// test act at exact points of an operation (a request arrives; it has been
// carried out but not yet answered).
//
// S3 behaves like S3 where encryption is concerned: SSE-KMS writes and
// reads are authorized against the KMS emulator as the caller (and appear
// in its audit log), SSE-C objects can only be read with their key, and
// metadata is replaced, not merged, on overwrite and on copy. Conditional
// writes (If-Match, If-None-Match: *) are evaluated atomically on
// PutObject, CompleteMultipartUpload and CopyObject, and UploadPartCopy
// is served (gofakes3 lacks both).
//
// # Security
//
// This package is for tests only. Key material lives in process memory,
// the KMS ciphertext format is the emulator's own (AES-256-GCM under a
// per-key secret, binding the key id and the encryption context), and the
// server listens on 127.0.0.1 without TLS. Signatures are verified exactly
// so that signing bugs in clients surface in tests; secrets are never
// logged.
//
// # Compatibility
//
// Region is fixed to us-east-1 and the account to 111122223333. S3 is
// served by gofakes3 (s3mem backend) with path-style addressing only; use
// [Stack.S3Options] (UsePathStyle). Signatures are accepted in the forms
// aws-sdk-go-v2 and aws-sdk-go v1 send: header authorization with a hex
// payload hash, UNSIGNED-PAYLOAD, and the aws-chunked
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) and
// STREAMING-UNSIGNED-PAYLOAD-TRAILER bodies (Options.TLS makes the v2
// client use the latter), and presigned URLs (query authentication).
// SigV4a, virtual-hosted addressing and browser POST uploads are not
// emulated. KMS speaks the AWS
// JSON 1.1 protocol, STS the Query protocol, with the real error shapes,
// so SDK clients return their typed errors (for example
// *types.NotFoundException).
package emrfstest
