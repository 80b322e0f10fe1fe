package emrfs

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/emrs3/emrs3/emrfs/internal/encctx"
)

// Bucket is the resolved encryption of one bucket: at most one of SSE and
// CSE is non-nil; both nil means objects are written unencrypted (the
// bucket's default encryption, if any, still applies on the S3 side).
type Bucket struct {
	// Name is the bucket name.
	Name string
	// SSE is the server-side encryption, nil for none.
	SSE *SSE
	// CSE is the client-side encryption, nil for none.
	CSE *CSE
}

// String describes the bucket's encryption without key material.
func (b *Bucket) String() string {
	switch {
	case b.CSE != nil:
		return fmt.Sprintf("bucket %s: CSE %s", b.Name, b.CSE)
	case b.SSE != nil:
		return fmt.Sprintf("bucket %s: SSE %s", b.Name, b.SSE)
	}
	return fmt.Sprintf("bucket %s: no encryption", b.Name)
}

// CSE is the client-side (envelope) encryption of one bucket, as EMRFS or
// S3A would apply it.
type CSE struct {
	// Provider names the encryption materials provider:
	// KMSMaterialsProvider for CSE-KMS, else the Java class name (or, in Go,
	// the name a provider was registered under) from
	// fs.s3.cse.encryptionMaterialsProvider, an EMR security configuration's
	// EncryptionKeyProviderClass, or S3A's
	// fs.s3a.encryption.cse.custom.keyring.class.name.
	Provider string
	// ProviderURI is where the Java provider's JAR lives
	// (fs.s3.cse.encryptionMaterialsProvider.uri, S3Object); informational
	// in Go.
	ProviderURI string
	// KMSKeyID is the KMS key for CSE-KMS.
	KMSKeyID string
	// KMSRegion is the region the KMS calls of this bucket go to
	// (fs.s3.cse.kms.region, fs.s3a.encryption.cse.kms.region); empty
	// means the region of Options.KMS.
	KMSRegion string
	// KMSAnyKey lets the KMS materials provider of a CSE-KMS bucket
	// decrypt data keys under whatever KMS key the object names, instead
	// of only under KMSKeyID (cse.KMSOptions.AnyKey). Set it to keep
	// reading objects written before fs.s3.cse.kms.keyId (or
	// fs.s3a.encryption.key) was changed to a new key; new objects are
	// still written under KMSKeyID. Leave it off to be sure of the key
	// that protects what is read. No EMRFS or S3A property sets it: Go
	// callers may, with Options.Bucket.
	KMSAnyKey bool
	// KMSSkipKeyCheck turns off the kms:DescribeKey check the KMS
	// materials provider makes once per key before its first data key
	// (cse.KMSOptions.SkipKeyCheck), for roles without that permission
	// (EMRFS never calls DescribeKey). No property sets it: Go callers
	// may, with Options.Bucket.
	KMSSkipKeyCheck bool
	// EncryptionContext is an extra KMS encryption context for CSE-KMS data
	// keys. No EMRFS property sets it: Go callers may, with
	// Options.Bucket.
	EncryptionContext map[string]string
	// InstructionFile stores the envelope in "<key>.instruction" instead of
	// the object's metadata (fs.s3.cse.cryptoStorageMode=InstructionFile).
	InstructionFile bool
	// DeleteInstructionFiles removes "<key>.instruction" with its object.
	DeleteInstructionFiles bool
	// CryptoMode is the Java v1 crypto mode (fs.s3.cse.cryptoMode):
	// CryptoModeEncryptionOnly (the EMRFS default),
	// CryptoModeAuthenticatedEncryption (partial reads of GCM objects are
	// ranged, unauthenticated) or CryptoModeStrictAuthenticatedEncryption
	// (authenticated content only). S3A settings report
	// AuthenticatedEncryption, without enabling ranged reads. See
	// Options.CSEPolicy.
	CryptoMode string
	// V2 writes AES-GCM with the kms+context key wrap
	// (fs.s3.cse.encryptionV2.enabled; always true for S3A).
	V2 bool
	// Compatibility reads what S3A reads with
	// fs.s3a.encryption.cse.v1.compatibility.enabled: objects that are not
	// client-side encrypted, and, under the default policy, the objects of
	// the V1 encryption clients and EMRFS — legacy key wraps (kms, V1 raw
	// key encryption) and unauthenticated AES-CBC content. It does not make
	// partial reads ranged.
	Compatibility bool
	// MaterialsDescriptionEnabled hands the object's S3 URI ("Path", and
	// "DstPath" on rename/copy) and the cluster id ("JobflowId", from
	// Options.JobflowID) to the provider in the materials description
	// (fs.s3.cse.materialsDescription.enabled).
	MaterialsDescriptionEnabled bool
	// MaterialsDescription holds extra entries for the materials
	// description handed to the provider. No property sets it: Go callers
	// may, with Options.Bucket.
	MaterialsDescription map[string]string
	// AddUnencryptedLength adds x-amz-unencrypted-content-length after a
	// multipart upload (fs.s3.multipart.cse.add.unencrypted.length).
	AddUnencryptedLength bool
	// S3A is true when the encryption came from fs.s3a.* settings: S3A
	// semantics apply (no instruction files; listings report the ciphertext
	// size minus 16; multipart parts serial and multiples of 16).
	S3A bool
}

// IsKMS reports whether c uses the KMS materials provider.
func (c *CSE) IsKMS() bool { return c != nil && c.Provider == KMSMaterialsProvider }

// String describes c (it holds no key material).
func (c *CSE) String() string {
	if c == nil {
		return "none"
	}
	var parts []string
	if c.IsKMS() {
		parts = append(parts, "CSE-KMS key="+c.KMSKeyID)
		if c.KMSRegion != "" {
			parts = append(parts, "region="+c.KMSRegion)
		}
	} else {
		parts = append(parts, "CSE-Custom provider="+c.Provider)
	}
	storage := "ObjectMetadata"
	if c.InstructionFile {
		storage = "InstructionFile"
	}
	parts = append(parts, "storage="+storage, "mode="+c.CryptoMode, fmt.Sprintf("v2=%t", c.V2))
	if c.Compatibility {
		parts = append(parts, "compatibility=true")
	}
	if c.S3A {
		parts = append(parts, "s3a=true")
	}
	return strings.Join(parts, " ")
}

// Bucket resolves the encryption of the named bucket (see Config for the
// precedence). A configuration problem returns an error joining one
// *ConfigError per problem (errors.Is(err, ErrInvalidConfig)).
func (c *Config) Bucket(name string) (*Bucket, error) {
	if !bucketNameRE.MatchString(name) {
		return nil, newConfigError(name, "bucket name", name, "not a valid bucket name", "use the bucket's name, without s3:// or a key")
	}
	r := c.resolve(name)
	if len(r.errs) > 0 {
		return nil, errors.Join(r.errs...)
	}
	return r.bucket, nil
}

// Validate checks the global settings and every bucket named by a
// per-bucket property or a security-configuration override, and the disk
// encryption (Config.DiskEncryption), and returns all problems joined (nil
// when there are none). Each is a *ConfigError that names the property and
// says what to set.
//
// A property name in the encryption and authorization namespaces
// (fs.s3.cse.*, fs.s3.serverSideEncryption.*, fs.s3.authorization.*,
// fs.s3a.encryption.* and their per-bucket forms fs.s3.bucket.NAME.… and
// fs.s3a.bucket.NAME.…) that this package does not read is an error when a
// known name is close to it, naming that name ("unknown property
// fs.s3.cse.enable; did you mean fs.s3.cse.enabled?"), and so is a near
// miss of a security property elsewhere (fs.s3.enableServerSideEncription)
// and the per-bucket form of a property read only globally: a typo must
// not leave data unencrypted. Bucket, and so every operation on the
// buckets it applies to, fails with the same error. An unknown name far
// from every known one (a custom provider's own setting) is a warning.
func (c *Config) Validate() error {
	global := c.resolve("")
	errs := slices.Clone(global.errs)
	seen := map[string]bool{}
	for _, e := range global.errs {
		seen[e.Error()] = true
	}
	for _, b := range c.namedBuckets() {
		for _, e := range c.resolve(b).errs {
			var ce *ConfigError
			if errors.As(e, &ce) {
				g := *ce
				g.Bucket = ""
				if seen[g.Error()] {
					continue // the global problem, already reported
				}
			}
			errs = append(errs, e)
		}
	}
	if _, err := c.DiskEncryption(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Warnings returns problems that do not stop the configuration from being
// used: final properties that a later resource tried to override, fs.s3.*
// and fs.s3a.* settings that disagree, deprecated and current S3A names set
// to different values, emrfs-site encryption overridden by a security
// configuration, settings that have no effect, and unknown names in the
// encryption and authorization namespaces that are not near misses of a
// known name (see Validate).
func (c *Config) Warnings() []string {
	w := slices.Clone(c.warnings)
	seen := map[string]bool{}
	for _, s := range w {
		seen[s] = true
	}
	add := func(list []string) {
		for _, s := range list {
			if !seen[s] {
				seen[s] = true
				w = append(w, s)
			}
		}
	}
	add(c.resolve("").warns)
	for _, b := range c.namedBuckets() {
		add(c.resolve(b).warns)
	}
	return w
}

// namedBuckets returns, sorted, the buckets named by per-bucket properties
// (unknown ones in the security namespaces included) and
// security-configuration overrides.
func (c *Config) namedBuckets() []string {
	set := map[string]bool{}
	for _, k := range c.props.Keys() {
		if b, _, ok := splitBucketProperty(k, emrfsBucketPrefix, emrfsRests); ok {
			set[b] = true
		}
		if b, _, ok := splitBucketProperty(k, s3aBucketPrefix, s3aRests); ok {
			set[b] = true
		}
	}
	if c.sec != nil {
		for _, b := range c.sec.order {
			set[b] = true
		}
	}
	for _, p := range c.unknownNames() {
		if p.bucket != "" {
			set[p.bucket] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// resolution is the outcome of resolving one scope ("" = global).
type resolution struct {
	c      *Config
	bucket *Bucket
	name   string
	errs   []error
	warns  []string
	// got caches the expanded properties of this resolution, so that each
	// is expanded (and a failed expansion reported) once.
	got map[string]gotValue
}

type gotValue struct {
	v  string
	ok bool
}

// get returns a property's expanded value; a failed ${...} expansion is
// reported (once) and the property then counts as unset.
func (r *resolution) get(p string) (string, bool) {
	if g, hit := r.got[p]; hit {
		return g.v, g.ok
	}
	if r.got == nil {
		r.got = map[string]gotValue{}
	}
	v, ok, err := r.c.props.GetChecked(p)
	if err != nil {
		if len(v) > 200 {
			v = v[:200] + "..."
		}
		r.fail(p, v, err.Error(), "make the ${name} references of this property end in plain values, without cycles")
		v, ok = "", false
	}
	r.got[p] = gotValue{v, ok}
	return v, ok
}

func (r *resolution) fail(property, value, problem, fix string) {
	r.errs = append(r.errs, newConfigError(r.name, property, value, problem, fix))
}

func (r *resolution) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if r.name != "" {
		msg = "bucket " + r.name + ": " + msg
	}
	r.warns = append(r.warns, msg)
}

// emrfs looks up fs.s3.bucket.NAME.rest, then fs.s3.rest.
func (r *resolution) emrfs(rest string) (value, property string) {
	if r.name != "" {
		p := emrfsBucketPrefix + r.name + "." + rest
		if v, ok := r.get(p); ok {
			return strings.TrimSpace(v), p
		}
	}
	p := emrfsPrefix + rest
	v, _ := r.get(p)
	return strings.TrimSpace(v), p
}

// s3a looks up fs.s3a.bucket.NAME.rest, then the bucket's deprecated name,
// then fs.s3a.rest, then the deprecated global name; it warns when a
// current and a deprecated name at the same level disagree.
func (r *resolution) s3a(rest, old string) (value, property string) {
	var levels []string
	if r.name != "" {
		levels = append(levels, s3aBucketPrefix+r.name+".")
	}
	levels = append(levels, s3aPrefix)
	for _, l := range levels {
		v, ok := r.get(l + rest)
		if old != "" {
			if ov, ook := r.get(l + old); ook {
				if ok && strings.TrimSpace(ov) != strings.TrimSpace(v) {
					r.warn("%s and its deprecated name %s disagree; using %s", l+rest, l+old, l+rest)
				}
				if !ok {
					return strings.TrimSpace(ov), l + old
				}
			}
		}
		if ok {
			return strings.TrimSpace(v), l + rest
		}
	}
	return "", s3aPrefix + rest
}

// atLevelOf names the property rest (under family prefix global or
// per-bucket prefix bucketPrefix) at the same level as the property that
// turned encryption on, so that "set X" points where the user configures
// this bucket.
func (r *resolution) atLevelOf(on, global, bucketPrefix, rest, found string) string {
	if r.name == "" || found != global+rest {
		return found // set somewhere: name where it was found
	}
	if strings.HasPrefix(on, bucketPrefix+r.name+".") {
		return bucketPrefix + r.name + "." + rest
	}
	return found
}

func (r *resolution) boolProp(value, property string) bool {
	b, err := parseBool(r.name, property, value, false)
	if err != nil {
		r.errs = append(r.errs, err)
	}
	return b
}

func (r *resolution) kmsKey(value, property string) bool {
	if err := checkKMSKeyID(r.name, property, value); err != nil {
		r.errs = append(r.errs, err)
		return false
	}
	return true
}

// choice is the encryption one family of settings asks for.
type choice struct {
	sse      *SSE
	cse      *CSE
	property string // the property that turned it on
}

func (ch choice) on() bool { return ch.sse != nil || ch.cse != nil }

func (ch choice) String() string {
	if ch.cse != nil {
		return "CSE " + ch.cse.Provider
	}
	return "SSE " + ch.sse.String()
}

func (c *Config) resolve(name string) *resolution {
	r := &resolution{c: c, name: name, bucket: &Bucket{Name: name}}

	before := len(r.errs)
	emrfs := r.emrfsChoice()
	s3a := r.s3aChoice()
	chosen := emrfs
	switch {
	case emrfs.on() && s3a.on():
		if (emrfs.sse != nil) != (s3a.sse != nil) {
			r.fail(s3a.property, "", fmt.Sprintf("%s turns on %s but %s turns on %s; SSE and CSE are mutually exclusive", emrfs.property, emrfs, s3a.property, s3a),
				"turn one of them off")
		} else if emrfs.String() != s3a.String() {
			r.warn("%s (%s) and %s (%s) disagree; using the fs.s3.* setting", emrfs.property, emrfs, s3a.property, s3a)
		}
	case s3a.on():
		chosen = s3a
	}

	if se := c.sec.forBucket(name); se != nil {
		if chosen.on() {
			r.warn("the security configuration (%s) overrides %s", se.field, chosen.property)
		}
		// The security configuration replaces the emrfs-site / core-site
		// choice of encryption, as on a cluster: problems in that choice
		// no longer stop the bucket from being used.
		for _, e := range r.errs[before:] {
			r.warn("ignored because the security configuration decides the encryption: %v", e)
		}
		r.errs = r.errs[:before]
		chosen = r.securityChoice(se)
	}
	if chosen.cse != nil {
		r.cseCommon(chosen.cse)
	}
	r.bucket.SSE, r.bucket.CSE = chosen.sse, chosen.cse
	r.reportNames()
	r.unexpandValues()
	return r
}

// unexpandValues shows a faulty value as written (${name} references
// unexpanded) so that an error never prints what a reference expanded to,
// which might be another property's key material.
func (r *resolution) unexpandValues() {
	for _, e := range r.errs {
		var ce *ConfigError
		if !errors.As(e, &ce) || ce.Value == redacted {
			continue
		}
		if raw, ok := r.c.props.Raw(ce.Property); ok && strings.Contains(raw, "${") {
			ce.Value = raw
		}
	}
}

// emrfsChoice reads fs.s3.* encryption.
func (r *resolution) emrfsChoice() choice {
	sseV, sseProp := r.emrfs(pSSEEnabled)
	cseV, cseProp := r.emrfs(pCSEEnabled)
	sseOn := r.boolProp(sseV, sseProp)
	cseOn := r.boolProp(cseV, cseProp)
	var ch choice
	if sseOn && cseOn {
		r.fail(cseProp, "true", "SSE ("+sseProp+") and CSE are both on; they are mutually exclusive",
			"set "+sseProp+"=false or "+cseProp+"=false")
		return ch
	}
	key, keyProp := r.emrfs(pSSEKMSKeyID)
	ctxV, ctxProp := r.emrfs(pSSEKMSContext)
	if sseOn {
		ch.property = sseProp
		ch.sse = &SSE{Kind: SSES3}
		if key != "" {
			r.kmsKey(key, keyProp)
			ch.sse = &SSE{Kind: SSEKMS, KMSKeyID: key}
			ch.sse.Context = r.context(ctxV, ctxProp)
		} else if ctxV != "" {
			r.warn("%s has no effect without %s (SSE-S3 takes no encryption context)", ctxProp, keyProp)
		}
		return ch
	}
	if key != "" && !cseOn {
		r.warn("%s has no effect while %s is not true", keyProp, sseProp)
	}
	if !cseOn {
		return ch
	}
	ch.property = cseProp
	provider, providerProp := r.emrfs(pCSEProvider)
	if provider == "" {
		providerProp = r.atLevelOf(cseProp, emrfsPrefix, emrfsBucketPrefix, pCSEProvider, providerProp)
	}
	if provider == "" {
		r.fail(providerProp, "", "EncryptionMaterialsProvider is not specified using "+emrfsPrefix+pCSEProvider,
			"set it to "+KMSMaterialsProvider+" for CSE-KMS, or to the name of a registered custom provider")
		return ch
	}
	uri, _ := r.emrfs(pCSEProviderURI)
	ch.cse = &CSE{Provider: provider, ProviderURI: uri}
	if provider == KMSMaterialsProvider {
		keyID, keyIDProp := r.emrfs(pCSEKMSKeyID)
		if keyID == "" {
			keyIDProp = r.atLevelOf(cseProp, emrfsPrefix, emrfsBucketPrefix, pCSEKMSKeyID, keyIDProp)
			r.fail(keyIDProp, "", emrfsPrefix+pCSEKMSKeyID+" cannot be empty",
				"set it to the KMS key id, ARN or alias that protects the data keys")
		} else {
			r.kmsKey(keyID, keyIDProp)
		}
		ch.cse.KMSKeyID = keyID
	}
	return ch
}

// s3aChoice reads fs.s3a.* encryption.
func (r *resolution) s3aChoice() choice {
	alg, algProp := r.s3a(aAlgorithm, aAlgorithmOld)
	key, keyProp := r.s3a(aKey, aKeyOld)
	if key == "" {
		keyProp = r.atLevelOf(algProp, s3aPrefix, s3aBucketPrefix, aKey, keyProp)
	}
	ch := choice{property: algProp}
	kmsCtx := func() map[string]string {
		v, p := r.s3a(aContext, "")
		return r.context(v, p)
	}
	switch strings.ToUpper(alg) {
	case "":
		if v, p := r.s3a(aContext, ""); v != "" {
			r.warn("%s has no effect while %s is blank", p, algProp)
		}
	case "AES256", "SSE-S3":
		if key != "" {
			r.fail(keyProp, key, "a key is set but "+algProp+" is "+alg+" (SSE-S3 uses S3-managed keys)",
				"remove "+keyProp+", or set "+algProp+" to SSE-KMS to use that KMS key")
		}
		ch.sse = &SSE{Kind: SSES3}
	case "SSE-KMS", "DSSE-KMS":
		kind := SSEKMS
		if strings.EqualFold(alg, "DSSE-KMS") {
			kind = DSSEKMS
		}
		if key != "" {
			r.kmsKey(key, keyProp)
		}
		ch.sse = &SSE{Kind: kind, KMSKeyID: key, Context: kmsCtx()}
	case "SSE-C":
		raw, err := decodeSSECKey(r.name, keyProp, key)
		if err != nil {
			r.errs = append(r.errs, err)
			return choice{}
		}
		ch.sse, _ = NewSSEC(raw)
		clear(raw)
	case "CSE-KMS":
		if key == "" {
			r.fail(keyProp, "", "CSE-KMS needs a KMS key", "set "+keyProp+" to the KMS key id, ARN or alias that protects the data keys")
		} else {
			r.kmsKey(key, keyProp)
		}
		ch.cse = &CSE{Provider: KMSMaterialsProvider, KMSKeyID: key, S3A: true}
	case "CSE-CUSTOM":
		class, classProp := r.s3a(aCSEKeyring, "")
		if class == "" {
			classProp = r.atLevelOf(algProp, s3aPrefix, s3aBucketPrefix, aCSEKeyring, classProp)
			r.fail(classProp, "", "CSE-CUSTOM needs a keyring provider", "set "+classProp+" to the provider's class name (in Go, the name it was registered under)")
		}
		uri, _ := r.s3a(aCSEKeyringURI, "")
		ch.cse = &CSE{Provider: class, ProviderURI: uri, S3A: true}
	default:
		r.fail(algProp, alg, "Unknown encryption algorithm "+alg,
			"set AES256 (or SSE-S3), SSE-KMS, DSSE-KMS, SSE-C, CSE-KMS or CSE-CUSTOM, or leave it blank for none")
	}
	return ch
}

// securityChoice turns a security-configuration encryption into SSE or CSE.
func (r *resolution) securityChoice(se *secEncryption) choice {
	ch := choice{property: se.field}
	switch se.mode {
	case secSSES3:
		ch.sse = &SSE{Kind: SSES3}
	case secSSEKMS:
		ch.sse = &SSE{Kind: SSEKMS, KMSKeyID: se.kmsKey}
		ch.sse.Context = r.context(r.emrfs(pSSEKMSContext))
	case secCSEKMS:
		ch.cse = &CSE{Provider: KMSMaterialsProvider, KMSKeyID: se.kmsKey}
	case secCSECustom:
		ch.cse = &CSE{Provider: se.providerClass, ProviderURI: se.s3Object}
	}
	return ch
}

// cseCommon fills the CSE settings that do not depend on who turned CSE on.
func (r *resolution) cseCommon(c *CSE) {
	if v, _ := r.emrfs(pCSEKMSRegion); v != "" {
		c.KMSRegion = v
	} else if v, _ := r.s3a(aCSERegion, ""); v != "" {
		c.KMSRegion = v
	}
	switch v, p := r.emrfs(pCSEStorageMode); strings.ToLower(v) {
	case "", "objectmetadata":
	case "instructionfile":
		if c.S3A {
			r.warn("%s=InstructionFile is ignored for S3A client-side encryption (S3A has no instruction files)", p)
		} else {
			c.InstructionFile = true
		}
	default:
		r.fail(p, v, "unknown crypto storage mode", "set ObjectMetadata or InstructionFile")
	}
	c.DeleteInstructionFiles = r.boolProp(r.emrfs(pCSEDeleteInstr))
	c.V2 = r.boolProp(r.emrfs(pCSEV2)) || c.S3A
	c.CryptoMode = CryptoModeEncryptionOnly
	if c.S3A {
		c.CryptoMode = CryptoModeAuthenticatedEncryption
	}
	switch v, p := r.emrfs(pCSECryptoMode); strings.ToLower(v) {
	case "":
	case strings.ToLower(CryptoModeEncryptionOnly):
		c.CryptoMode = CryptoModeEncryptionOnly
	case strings.ToLower(CryptoModeAuthenticatedEncryption):
		c.CryptoMode = CryptoModeAuthenticatedEncryption
	case strings.ToLower(CryptoModeStrictAuthenticatedEncryption):
		c.CryptoMode = CryptoModeStrictAuthenticatedEncryption
	default:
		r.fail(p, v, "unknown crypto mode", "set EncryptionOnly, AuthenticatedEncryption or StrictAuthenticatedEncryption")
	}
	c.MaterialsDescriptionEnabled = r.boolProp(r.emrfs(pCSEMatDesc))
	c.AddUnencryptedLength = r.boolProp(r.emrfs(pCSEUnencryptedLen))
	c.Compatibility = r.boolProp(r.s3a(aCSECompat, ""))
}

func (r *resolution) context(value, property string) map[string]string {
	m, err := encctx.Parse(value)
	if err != nil {
		r.fail(property, value, "malformed encryption context: "+err.Error(), "write it as k1=v1,k2=v2 (or k1:v1,k2:v2, or a JSON object); quote keys and values that hold ',' or '\"'")
		return nil
	}
	return m
}
