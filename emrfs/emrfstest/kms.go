package emrfstest

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/emrs3/emrs3/emrfs/emrfstest/internal/kmsblob"
)

// KMS is the AWS KMS emulator of a Stack (AWS JSON 1.1,
// X-Amz-Target: TrentService.Operation).
//
// Supported operations: CreateKey, CreateAlias, DescribeKey, EnableKey,
// DisableKey, GenerateDataKey, GenerateDataKeyWithoutPlaintext, Encrypt,
// Decrypt, ReEncrypt and GetPublicKey. Keys are addressed by id, key ARN,
// alias/NAME or alias ARN.
//
// Access follows the principals given to CreateKey or, once set, a key
// policy (SetKeyPolicy) whose statements may condition on
// kms:EncryptionContext:<key>. Audit returns every call, allowed or not,
// with its principal, key, encryption context and data key spec, as
// CloudTrail records them.
type KMS struct {
	st *Stack

	mu       sync.Mutex
	keys     map[string]*kmsKey // by key id
	aliases  map[string]string  // alias/NAME -> key id
	audit    []KMSCall
	throttle int
}

// KMSCall is one request the KMS emulator answered.
type KMSCall struct {
	// Operation is the TrentService operation name, e.g. "Decrypt".
	Operation string
	// KeyID is the resolved key id ("" when no key was resolved).
	KeyID string
	// Principal is the caller: a user ARN, or the role ARN for
	// assumed-role credentials.
	Principal string
	// EncryptionContext is the context the call carried (for ReEncrypt,
	// the destination context).
	EncryptionContext map[string]string
	// SourceEncryptionContext is, for ReEncrypt, the context the source
	// ciphertext was decrypted with (CloudTrail records both); nil for
	// other operations.
	SourceEncryptionContext map[string]string
	// SourceKeyID is, for ReEncrypt, the resolved key of the source
	// ciphertext ("" when it was not resolved, and for other operations);
	// KeyID is then the destination key.
	SourceKeyID string
	// KeySpec is the data key spec a GenerateDataKey call asked for
	// ("AES_256"), as CloudTrail records it; "" for other operations.
	KeySpec string
	// Err is the error code returned, "" on success.
	Err string
	// Time is when the call was answered, by the stack's clock.
	Time time.Time
}

type kmsKey struct {
	id          string
	spec        types.KeySpec
	usage       types.KeyUsageType
	enabled     bool
	secret      []byte // symmetric keys
	rsa         *rsa.PrivateKey
	principals  []string             // empty: anyone registered on the stack
	policy      []KeyPolicyStatement // nil: principals decide
	created     time.Time
	description string
}

func (k *kmsKey) arn() string { return kmsKeyARN(k.id) }

func kmsKeyARN(id string) string { return "arn:aws:kms:" + Region + ":" + Account + ":key/" + id }

func newKMS(st *Stack) *KMS {
	return &KMS{st: st, keys: map[string]*kmsKey{}, aliases: map[string]string{}}
}

// CreateKey creates an enabled key and returns its id. spec is
// SYMMETRIC_DEFAULT (or "") for an AES-256 ENCRYPT_DECRYPT key, or
// RSA_2048, RSA_3072 or RSA_4096 for an RSA ENCRYPT_DECRYPT key.
//
// With no principals, anyone registered on the stack may use the key.
// Otherwise only the admin and the listed principals — user ARNs, role
// ARNs (matching every session of the role) or assumed-role session ARNs
// — may use it; others get AccessDeniedException. It panics on an
// unsupported spec.
func (k *KMS) CreateKey(spec types.KeySpec, principals ...string) (keyID string) {
	key, err := newKMSKey(spec, types.KeyUsageTypeEncryptDecrypt, k.st.opts.Now())
	if err != nil {
		panic("emrfstest: KMS.CreateKey: " + err.Error())
	}
	for _, p := range principals {
		if p != "" {
			key.principals = append(key.principals, p)
		}
	}
	k.mu.Lock()
	k.keys[key.id] = key
	k.mu.Unlock()
	return key.id
}

// KeyARN returns the ARN of key id.
func (k *KMS) KeyARN(keyID string) string { return kmsKeyARN(keyID) }

// CreateAlias points alias (with or without the "alias/" prefix) at a key;
// it panics if the key does not exist.
func (k *KMS) CreateAlias(alias, keyID string) {
	if !strings.HasPrefix(alias, "alias/") {
		alias = "alias/" + alias
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	key, err := k.resolveLocked(keyID)
	if err != nil {
		panic("emrfstest: KMS.CreateAlias: " + err.Error())
	}
	k.aliases[alias] = key.id
}

// SetEnabled enables or disables a key; it panics if the key does not exist.
func (k *KMS) SetEnabled(keyID string, enabled bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key, err := k.resolveLocked(keyID)
	if err != nil {
		panic("emrfstest: KMS.SetEnabled: " + err.Error())
	}
	key.enabled = enabled
}

// Audit returns a copy of every call answered so far, oldest first.
func (k *KMS) Audit() []KMSCall {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]KMSCall, len(k.audit))
	for i, c := range k.audit {
		c.EncryptionContext = maps.Clone(c.EncryptionContext)
		c.SourceEncryptionContext = maps.Clone(c.SourceEncryptionContext)
		out[i] = c
	}
	return out
}

// ThrottleNext makes the next n calls fail with ThrottlingException (HTTP
// 400), which the SDKs retry.
func (k *KMS) ThrottleNext(n int) {
	k.mu.Lock()
	k.throttle = n
	k.mu.Unlock()
}

func newKMSKey(spec types.KeySpec, usage types.KeyUsageType, now time.Time) (*kmsKey, error) {
	if spec == "" {
		spec = types.KeySpecSymmetricDefault
	}
	if usage == "" {
		usage = types.KeyUsageTypeEncryptDecrypt
	}
	if usage != types.KeyUsageTypeEncryptDecrypt {
		return nil, fmt.Errorf("key usage %s is not emulated; use ENCRYPT_DECRYPT", usage)
	}
	key := &kmsKey{id: newKeyID(), spec: spec, usage: usage, enabled: true, created: now}
	switch spec {
	case types.KeySpecSymmetricDefault:
		key.secret = make([]byte, kmsblob.SecretSize)
		if _, err := rand.Read(key.secret); err != nil {
			return nil, err
		}
	case types.KeySpecRsa2048, types.KeySpecRsa3072, types.KeySpecRsa4096:
		bits := map[types.KeySpec]int{types.KeySpecRsa2048: 2048, types.KeySpecRsa3072: 3072, types.KeySpecRsa4096: 4096}[spec]
		priv, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, err
		}
		key.rsa = priv
	default:
		return nil, fmt.Errorf("key spec %q is not emulated; use SYMMETRIC_DEFAULT or RSA_2048/3072/4096", spec)
	}
	return key, nil
}

func newKeyID() string {
	s := randomString(32, hexChars)
	return s[:8] + "-" + s[8:12] + "-4" + s[13:16] + "-a" + s[17:20] + "-" + s[20:]
}

// kmsError is an error in the KMS JSON error shape.
type kmsError struct {
	code string
	msg  string
}

func (e *kmsError) Error() string { return e.code + ": " + e.msg }

func kmsErr(code, format string, args ...any) *kmsError {
	return &kmsError{code: code, msg: fmt.Sprintf(format, args...)}
}

// resolveLocked finds a key by id, key ARN, alias name or alias ARN.
func (k *KMS) resolveLocked(ref string) (*kmsKey, error) {
	if ref == "" {
		return nil, kmsErr("ValidationException", "KeyId is required")
	}
	id := ref
	const arnPrefix = "arn:aws:kms:" + Region + ":" + Account + ":"
	if rest, ok := strings.CutPrefix(ref, arnPrefix); ok {
		id = rest
	} else if strings.HasPrefix(ref, "arn:") {
		return nil, kmsErr("NotFoundException", "key %q is not in region %s of account %s", ref, Region, Account)
	}
	if strings.HasPrefix(id, "alias/") {
		target, ok := k.aliases[id]
		if !ok {
			return nil, kmsErr("NotFoundException", "alias %s is not found", ref)
		}
		id = target
	} else {
		id = strings.TrimPrefix(id, "key/")
	}
	key, ok := k.keys[id]
	if !ok {
		return nil, kmsErr("NotFoundException", "key %q does not exist", ref)
	}
	return key, nil
}

// KeyPolicyStatement is one Allow statement of a key policy (see
// KMS.SetKeyPolicy).
type KeyPolicyStatement struct {
	// Principals are the user ARNs, role ARNs (every session of the role)
	// or assumed-role session ARNs the statement applies to; empty means
	// every principal registered on the stack.
	Principals []string
	// Actions are the allowed operations as IAM actions: "kms:Decrypt",
	// "kms:GenerateDataKey", "kms:DescribeKey", ...; a trailing "*"
	// matches any suffix ("kms:GenerateDataKey*", "kms:*"). ReEncrypt is
	// "kms:ReEncryptFrom" on the source key and "kms:ReEncryptTo" on the
	// destination.
	Actions []string
	// EncryptionContext holds StringEquals conditions on
	// kms:EncryptionContext:<key>: the request's encryption context must
	// hold every pair, with this exact value. A request without an
	// encryption context (DescribeKey) never meets a statement with
	// conditions, as in AWS.
	EncryptionContext map[string]string
}

// SetKeyPolicy replaces the access rules of a key with a key policy of
// Allow statements: a call other than by the admin is allowed only when a
// statement matches its principal, its action and its encryption context;
// otherwise it fails with AccessDeniedException (and is audited with the
// context it carried). It replaces the principals given to CreateKey. No
// statements at all denies everyone but the admin. It panics if the key
// does not exist.
func (k *KMS) SetKeyPolicy(keyID string, statements ...KeyPolicyStatement) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key, err := k.resolveLocked(keyID)
	if err != nil {
		panic("emrfstest: KMS.SetKeyPolicy: " + err.Error())
	}
	key.policy = make([]KeyPolicyStatement, 0, len(statements))
	for _, st := range statements {
		st.Principals = slices.Clone(st.Principals)
		st.Actions = slices.Clone(st.Actions)
		st.EncryptionContext = maps.Clone(st.EncryptionContext)
		key.policy = append(key.policy, st)
	}
}

// allowed reports whether c may call action on key with the encryption
// context ec.
func (key *kmsKey) allowed(c caller, action string, ec map[string]string) bool {
	if c.isAdmin() {
		return true
	}
	if key.policy != nil {
		for _, st := range key.policy {
			if st.allows(c, action, ec) {
				return true
			}
		}
		return false
	}
	return len(key.principals) == 0 || c.matches(key.principals)
}

func (c caller) matches(principals []string) bool {
	return slices.Contains(principals, c.arn) || (c.session != "" && slices.Contains(principals, c.session))
}

func (st *KeyPolicyStatement) allows(c caller, action string, ec map[string]string) bool {
	if len(st.Principals) > 0 && !c.matches(st.Principals) {
		return false
	}
	if !slices.ContainsFunc(st.Actions, func(a string) bool {
		if p, ok := strings.CutSuffix(a, "*"); ok {
			return strings.HasPrefix(action, p)
		}
		return a == action
	}) {
		return false
	}
	for k, v := range st.EncryptionContext {
		if got, ok := ec[k]; !ok || got != v {
			return false
		}
	}
	return true
}
