package emrfs

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
)

// EMRFS (emrfs-site) property names, relative to "fs.s3." (and to
// "fs.s3.bucket.NAME." in their per-bucket form).
const (
	emrfsPrefix       = "fs.s3."
	emrfsBucketPrefix = "fs.s3.bucket."

	pSSEEnabled        = "enableServerSideEncryption"
	pSSEKMSKeyID       = "serverSideEncryption.kms.keyId"
	pSSEKMSContext     = "serverSideEncryption.kms.customEncryptionContext"
	pCSEEnabled        = "cse.enabled"
	pCSEProvider       = "cse.encryptionMaterialsProvider"
	pCSEProviderURI    = "cse.encryptionMaterialsProvider.uri"
	pCSEKMSKeyID       = "cse.kms.keyId"
	pCSEKMSRegion      = "cse.kms.region"
	pCSEMatDesc        = "cse.materialsDescription.enabled"
	pCSEStorageMode    = "cse.cryptoStorageMode"
	pCSEV2             = "cse.encryptionV2.enabled"
	pCSECryptoMode     = "cse.cryptoMode"
	pCSEDeleteInstr    = "cse.cryptoStorageMode.deleteInstructionFiles.enabled"
	pCSEUnencryptedLen = "multipart.cse.add.unencrypted.length"

	// Credentials (read by NewRoleResolver; global only).
	pRoleMapping       = "authorization.roleMapping"
	pSTSEndpoint       = "sts.endpoint"
	pSTSDuration       = "sts.sessionDurationSeconds"
	pCustomCredentials = "customAWSCredentialsProvider"
)

// Hadoop S3A (core-site) property names, relative to "fs.s3a." (and to
// "fs.s3a.bucket.NAME."); each has its current and its deprecated name.
const (
	s3aPrefix       = "fs.s3a."
	s3aBucketPrefix = "fs.s3a.bucket."

	aAlgorithm     = "encryption.algorithm"
	aAlgorithmOld  = "server-side-encryption-algorithm"
	aKey           = "encryption.key"
	aKeyOld        = "server-side-encryption.key"
	aContext       = "encryption.context"
	aCSERegion     = "encryption.cse.kms.region"
	aCSECompat     = "encryption.cse.v1.compatibility.enabled"
	aCSEKeyring    = "encryption.cse.custom.keyring.class.name"
	aCSEKeyringURI = "cse.customKeyringProvider.uri"
)

// emrfsRests and s3aRests list every property this package reads, so that
// per-bucket forms can be told apart from bucket names that contain dots.
var (
	emrfsRests = []string{pSSEEnabled, pSSEKMSKeyID, pSSEKMSContext, pCSEEnabled, pCSEProvider,
		pCSEProviderURI, pCSEKMSKeyID, pCSEKMSRegion, pCSEMatDesc, pCSEStorageMode, pCSEV2,
		pCSECryptoMode, pCSEDeleteInstr, pCSEUnencryptedLen}
	s3aRests = []string{aAlgorithm, aAlgorithmOld, aKey, aKeyOld, aContext, aCSERegion,
		aCSECompat, aCSEKeyring, aCSEKeyringURI}
)

// KMSMaterialsProvider is the EMRFS class name of the KMS encryption
// materials provider; CSE.Provider holds it for CSE-KMS from any source.
const KMSMaterialsProvider = "com.amazon.ws.emr.hadoop.fs.cse.KMSEncryptionMaterialsProvider"

// Java v1 crypto modes accepted by fs.s3.cse.cryptoMode (CSE.CryptoMode).
// This package always writes AES-GCM; the mode decides what is read (see
// Options.CSEPolicy).
const (
	// CryptoModeEncryptionOnly is the EMRFS default (EMRFS writes AES-CBC
	// in it). Reading follows Options.CSEPolicy alone.
	CryptoModeEncryptionOnly = "EncryptionOnly"
	// CryptoModeAuthenticatedEncryption makes partial reads of GCM objects
	// ranged (AES-CTR, unauthenticated) GETs, as the Java v1 client does in
	// this mode, even under the default policy. S3A buckets report this
	// mode without that effect.
	CryptoModeAuthenticatedEncryption = "AuthenticatedEncryption"
	// CryptoModeStrictAuthenticatedEncryption reads authenticated content
	// only, whatever Options.CSEPolicy allows: no CBC objects, no ranged
	// reads.
	CryptoModeStrictAuthenticatedEncryption = "StrictAuthenticatedEncryption"
)

// bucketNameRE is the bucket-name check EMRFS applies.
var bucketNameRE = regexp.MustCompile(`^[a-zA-Z0-9.\-_]{1,255}$`)

var (
	kmsARNRE   = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[A-Za-z0-9-]{1,128}|alias/[A-Za-z0-9/_-]{1,256})$`)
	kmsAliasRE = regexp.MustCompile(`^alias/[A-Za-z0-9/_-]{1,256}$`)
	kmsIDRE    = regexp.MustCompile(`^[A-Za-z0-9-]{1,128}$`)
)

// checkKMSKeyID validates a KMS key reference: a key ARN or alias ARN, an
// alias name (alias/NAME) or a key id.
func checkKMSKeyID(bucket, property, v string) error {
	switch {
	case strings.HasPrefix(v, "arn:"):
		if kmsARNRE.MatchString(v) {
			return nil
		}
		return newConfigError(bucket, property, v, "malformed KMS key ARN",
			"use arn:aws:kms:REGION:ACCOUNT(12 digits):key/KEY-ID or arn:aws:kms:REGION:ACCOUNT:alias/NAME")
	case strings.HasPrefix(v, "alias/"):
		if kmsAliasRE.MatchString(v) {
			return nil
		}
	case kmsIDRE.MatchString(v):
		return nil
	}
	return newConfigError(bucket, property, v, "not a KMS key id, ARN or alias",
		"use a key id (1234abcd-12ab-34cd-56ef-1234567890ab), alias/NAME, or a key or alias ARN")
}

// parseBool parses a Hadoop boolean ("true"/"false", any case, blank =
// def).
func parseBool(bucket, property, v string, def bool) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return def, newConfigError(bucket, property, v, "not a boolean", "set true or false")
}

// decodeSSECKey decodes an SSE-C key given as base64 of 32 bytes.
func decodeSSECKey(bucket, property, v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	fix := "set it to the base64 encoding of a random 256-bit key (e.g. the output of `openssl rand -base64 32`)"
	if v == "" {
		return nil, newConfigError(bucket, property, "", "SSE-C needs a key", fix)
	}
	key, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, newConfigError(bucket, property, v, "SSE-C key is not valid base64", fix)
	}
	if len(key) != 32 {
		return nil, newConfigError(bucket, property, v, fmt.Sprintf("SSE-C key is %d bytes, want 32 (AES-256)", len(key)), fix)
	}
	return key, nil
}

// splitBucketProperty splits a per-bucket property name
// "PREFIXBUCKET.REST" into its bucket and REST for the known rests; ok is
// false for other names.
func splitBucketProperty(name, prefix string, rests []string) (bucket, rest string, ok bool) {
	if !strings.HasPrefix(name, prefix) {
		return "", "", false
	}
	tail := name[len(prefix):]
	best := ""
	for _, r := range rests {
		if strings.HasSuffix(tail, "."+r) && len(r) > len(best) {
			best = r
		}
	}
	if best == "" {
		return "", "", false
	}
	bucket = tail[:len(tail)-len(best)-1]
	if bucket == "" {
		return "", "", false
	}
	return bucket, best, true
}
