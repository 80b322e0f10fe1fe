// Package authz implements EMRFS role mappings: it chooses, for every S3
// request, the IAM role whose credentials sign it, by the user or group the
// request is made for or by the S3 location it touches.
//
// Mappings are plain Go values ([Mapping], checked by [Validate]). This
// package knows no configuration syntax and no properties: emrfs reads the
// RoleMappings array of an EMR security configuration and the text form of
// EMRFS's role-mapping property (emrfs.Config.RoleMappings), and
// emrfs.NewRoleResolver reads the other settings (STS endpoint, session
// length, custom credentials provider) and builds a Resolver with [New];
// the security configuration's mappings win as on a cluster.
// A [Resolver] evaluates them top-down for the identity carried by the
// request's context ([WithIdentity]); the first mapping with a matching
// identifier wins. Prefixes compare alike for the s3, s3a and s3n schemes,
// a trailing "*" is stripped, and a bucket-only prefix (s3://data) matches
// that bucket only, never s3://data-private. When nothing matches, the
// default credentials are used, or the request is denied
// ([Options.DenyUnmapped]).
//
// A mapped role is assumed through STS AssumeRole. There is one cached,
// self-refreshing provider per role and session name; the session name is
// derived from the user, so CloudTrail shows who acted. User names of 2-64
// characters of [A-Za-z0-9_.@] are used as they are; others (with "-",
// "/", spaces, non-ASCII, ...) keep their readable part and get a hash
// suffix ("hdfs/host@REALM" becomes "hdfs-host@REALM-<16 hex digits>"), so
// no two users share a session name.
//
// # Security
//
// The resolver fails closed: when the mapped role cannot be assumed, or the
// user's groups cannot be resolved, the request fails with an error naming
// the role ([*AssumeRoleError]); it is never signed with other credentials.
// A request whose context carries no identity matches only Prefix mappings.
// Decisions are logged through log/slog without credentials. Copies and
// renames resolve both locations ([Resolver.ResolvePair]); when the roles
// differ the data must stream through the client with each side's own
// credentials.
//
// # Compatibility
//
// The matching rules are those of EMRFS (EMR 5.10.0 and later). Buckets
// compare case-sensitively and key prefixes as plain string prefixes, as S3
// does. Error messages count mappings from 1 and give the zero-based index:
// "role mapping #2 (index 1)".
package authz
