// Package interop holds the interoperability tests of emrs3 with the
// official Amazon S3 Encryption Clients for Go (v3 and v4) and with
// aws-sdk-go v1 s3crypto, in a module of their own so that the library's
// go.mod does not require them.
package interop
