package cse

import "github.com/emrs3/emrs3/cse/internal/envelope"

// CommitmentPolicy decides whether the key-committing format V3 is written
// and whether objects without key commitment are read.
type CommitmentPolicy int

const (
	// ForbidEncryptAllowDecrypt writes V2 (readable by EMRFS and every
	// client since 2020) and reads V1, V2 and V3. The default.
	ForbidEncryptAllowDecrypt CommitmentPolicy = iota
	// RequireEncryptAllowDecrypt writes V3 and reads V1, V2 and V3. Only
	// S3EC Java/Go v4 and newer read what it writes; EMRFS does not.
	RequireEncryptAllowDecrypt
	// RequireEncryptRequireDecrypt writes V3 and reads only V3.
	RequireEncryptRequireDecrypt
)

// String returns the AWS name of the policy.
func (c CommitmentPolicy) String() string {
	switch c {
	case ForbidEncryptAllowDecrypt:
		return "FORBID_ENCRYPT_ALLOW_DECRYPT"
	case RequireEncryptAllowDecrypt:
		return "REQUIRE_ENCRYPT_ALLOW_DECRYPT"
	case RequireEncryptRequireDecrypt:
		return "REQUIRE_ENCRYPT_REQUIRE_DECRYPT"
	}
	return "CommitmentPolicy(invalid)"
}

// Policy is what the Decryptor (and, for Commitment, the Encryptor)
// accepts. The zero value is the safe default of the AWS clients: no legacy
// unauthenticated content, no ranged reads, no legacy wrapping, V2 written,
// V3 read.
//
// EMRFS's crypto modes (fs.s3.cse.cryptoMode) are policies:
//
//   - StrictAuthenticatedEncryption: LegacyUnauthenticated and
//     UnauthenticatedRanges false — only GCM content is read, and partial
//     reads authenticate the whole object;
//   - AuthenticatedEncryption: UnauthenticatedRanges — partial reads of GCM
//     content are ranged and unauthenticated; CBC content (and its ranges)
//     only with LegacyUnauthenticated as well;
//   - EncryptionOnly, EMRFS's default: LegacyUnauthenticated and
//     UnauthenticatedRanges, with LegacyWrapping for its default kms wrap:
//     [EMRFSCompatible].
type Policy struct {
	// LegacyUnauthenticated allows unauthenticated content: CBC objects
	// (V1, and V2 as EMRFS writes by default with
	// fs.s3.cse.cryptoMode=EncryptionOnly), read whole. Together with
	// UnauthenticatedRanges it is enableLegacyUnauthenticatedModes of the
	// Java client.
	LegacyUnauthenticated bool
	// UnauthenticatedRanges allows partial reads to fetch and decrypt only
	// the bytes of a range ([Content.Range]), which cannot be
	// authenticated: of GCM and key-committing content, and of CBC content
	// when LegacyUnauthenticated allows CBC. Without it a partial read must
	// authenticate the whole object first.
	UnauthenticatedRanges bool
	// LegacyWrapping allows the legacy key wraps: kms (no aws:x-amz-cek-alg
	// binding; EMRFS's default), AESWrap, RSA/ECB/OAEPWithSHA-256AndMGF1Padding
	// and V1's raw AES/ECB and RSA/PKCS1. Like enableLegacyWrappingAlgorithms.
	LegacyWrapping bool
	// Commitment is the key-commitment policy.
	Commitment CommitmentPolicy
}

// EMRFSCompatible returns the policy an EMRFS cluster reads with (crypto
// mode EncryptionOnly): legacy CBC content, ranged reads and legacy wraps
// allowed, V2 written.
func EMRFSCompatible() Policy {
	return Policy{LegacyUnauthenticated: true, UnauthenticatedRanges: true, LegacyWrapping: true}
}

// CheckRange returns a *PolicyError unless the policy allows a ranged
// (unauthenticated) read of content with algorithm a: UnauthenticatedRanges
// for every algorithm, and LegacyUnauthenticated as well for CBC.
func (p Policy) CheckRange(a Algorithm) error {
	what := "a ranged (unauthenticated) read of " + a.String() + " content"
	var missing []string
	if !p.UnauthenticatedRanges {
		missing = append(missing, "Policy.UnauthenticatedRanges")
	}
	if a == AlgCBC && !p.LegacyUnauthenticated {
		missing = append(missing, "Policy.LegacyUnauthenticated")
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return &PolicyError{Option: missing[0], What: what}
	}
	return &PolicyError{Option: missing[0], Options: missing, What: what}
}

func (p Policy) checkEnvelope(e *envelope.Envelope) error {
	if p.Commitment == RequireEncryptRequireDecrypt && e.Version != 3 {
		return &PolicyError{Option: "Policy.Commitment (RequireEncryptAllowDecrypt)",
			What: "reading an object without key commitment (format V" + itoa(e.Version) + ")"}
	}
	// Every option the object needs is named at once (EMRFS's default
	// object needs both), the first one in Option.
	var pe *PolicyError
	refuse := func(option, what string) {
		if pe == nil {
			pe = &PolicyError{Option: option, What: what}
			return
		}
		if pe.Options == nil {
			pe.Options = []string{pe.Option}
		}
		pe.Options = append(pe.Options, option)
		pe.What += " with " + what
	}
	if e.CEKAlg == envelope.AlgCBC && !p.LegacyUnauthenticated {
		refuse("Policy.LegacyUnauthenticated", "legacy unauthenticated content AES/CBC/PKCS5Padding")
	}
	if isLegacyWrap(e.WrapAlg) && !p.LegacyWrapping {
		name := e.WrapAlg
		if name == WrapV1 {
			name = "V1 raw key encryption (AES/ECB or RSA/PKCS1)"
		}
		refuse("Policy.LegacyWrapping", "legacy key wrap "+name)
	}
	if pe != nil {
		return pe
	}
	return nil
}

func isLegacyWrap(w string) bool {
	switch w {
	case WrapKMS, WrapAESWrap, WrapRSAOAEPSHA256, WrapV1:
		return true
	}
	return false
}

func itoa(n int) string { return string(rune('0' + n%10)) }
