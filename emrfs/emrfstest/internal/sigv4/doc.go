// Package sigv4 verifies AWS Signature Version 4 requests the way AWS
// services do: header authorization and presigned URLs, the S3 payload
// forms (hex SHA-256, UNSIGNED-PAYLOAD) and the aws-chunked streaming
// forms, whose chunks it decodes and whose chunk and trailer signatures it
// checks. Those payload forms are S3's alone: for every other service the
// body's SHA-256 must be signed, and an X-Amz-Target header (the operation
// of AWS JSON services such as KMS) must be among the signed headers.
//
// It is the server half used by the emrfstest emulators; it never signs
// requests for clients except in tests.
package sigv4
