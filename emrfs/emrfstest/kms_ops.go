package emrfstest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // RSAES_OAEP_SHA_1 is a KMS algorithm
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"maps"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/emrs3/emrs3/emrfs/emrfstest/internal/kmsblob"
)

// kmsRequest is the union of the request fields of the emulated operations.
type kmsRequest struct {
	KeyId                          string
	KeySpec                        string
	KeyUsage                       string
	CustomerMasterKeySpec          string
	Description                    string
	AliasName                      string
	TargetKeyId                    string
	NumberOfBytes                  *int
	EncryptionContext              map[string]string
	EncryptionAlgorithm            string
	Plaintext                      []byte
	CiphertextBlob                 []byte
	SourceKeyId                    string
	SourceEncryptionContext        map[string]string
	SourceEncryptionAlgorithm      string
	DestinationKeyId               string
	DestinationEncryptionContext   map[string]string
	DestinationEncryptionAlgorithm string
	DryRun                         bool
	GrantTokens                    []string
}

type kmsCallCtx struct {
	caller caller
	call   *KMSCall
	// action and context are what the key policy is checked against:
	// "kms:"+operation and the request's encryption context, except for
	// the two halves of ReEncrypt.
	action  string
	context map[string]string
	// newKey is the key CreateKey made before taking the lock (RSA key
	// generation takes long enough to stall every other call).
	newKey    *kmsKey
	newKeyErr error
}

type kmsHandler func(k *KMS, cc *kmsCallCtx, req *kmsRequest) (any, error)

var kmsOps = map[string]kmsHandler{
	"CreateKey":                       (*KMS).opCreateKey,
	"CreateAlias":                     (*KMS).opCreateAlias,
	"DescribeKey":                     (*KMS).opDescribeKey,
	"EnableKey":                       (*KMS).opEnableKey,
	"DisableKey":                      (*KMS).opDisableKey,
	"GenerateDataKey":                 (*KMS).opGenerateDataKey,
	"GenerateDataKeyWithoutPlaintext": (*KMS).opGenerateDataKeyWithoutPlaintext,
	"Encrypt":                         (*KMS).opEncrypt,
	"Decrypt":                         (*KMS).opDecrypt,
	"ReEncrypt":                       (*KMS).opReEncrypt,
	"GetPublicKey":                    (*KMS).opGetPublicKey,
}

func (k *KMS) serve(w http.ResponseWriter, r *http.Request, c caller) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	call := KMSCall{Operation: op, Principal: c.arn}
	resp, err := func() (any, error) {
		if r.Method != http.MethodPost || !ok {
			return nil, kmsErr("UnknownOperationException", "KMS requests are POST with X-Amz-Target: TrentService.<Operation>")
		}
		h, ok := kmsOps[op]
		if !ok {
			return nil, kmsErr("UnknownOperationException", "operation %q is not emulated", op)
		}
		var req kmsRequest
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, kmsErr("ValidationException", "reading request: %v", err)
		}
		if len(body) > 0 {
			if err := json.Unmarshal(body, &req); err != nil {
				return nil, kmsErr("SerializationException", "request body is not valid JSON: %v", err)
			}
		}
		cc := &kmsCallCtx{caller: c, call: &call, action: "kms:" + op, context: req.EncryptionContext}
		if op == "GenerateDataKey" || op == "GenerateDataKeyWithoutPlaintext" {
			call.KeySpec = req.KeySpec
		}
		if op == "CreateKey" {
			spec := req.KeySpec
			if spec == "" {
				spec = req.CustomerMasterKeySpec
			}
			cc.newKey, cc.newKeyErr = newKMSKey(types.KeySpec(spec), types.KeyUsageType(req.KeyUsage), k.st.opts.Now())
		}
		call.EncryptionContext = maps.Clone(req.EncryptionContext)
		if op == "ReEncrypt" {
			call.EncryptionContext = maps.Clone(req.DestinationEncryptionContext)
			call.SourceEncryptionContext = maps.Clone(req.SourceEncryptionContext)
			if call.SourceEncryptionContext == nil {
				call.SourceEncryptionContext = map[string]string{}
			}
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.throttle > 0 {
			k.throttle--
			return nil, kmsErr("ThrottlingException", "rate exceeded (injected by KMS.ThrottleNext)")
		}
		if req.DryRun {
			return nil, kmsErr("DryRunOperationException", "the request would have succeeded")
		}
		return h(k, cc, &req)
	}()
	if err != nil {
		var ke *kmsError
		if !errors.As(err, &ke) {
			ke = &kmsError{code: "KMSInternalException", msg: err.Error()}
		}
		call.Err = ke.code
		k.record(call)
		status := http.StatusBadRequest
		if ke.code == "KMSInternalException" {
			status = http.StatusInternalServerError
		}
		writeKMSError(w, status, ke.code, ke.msg)
		return
	}
	k.record(call)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", requestID())
	_ = json.NewEncoder(w).Encode(resp)
}

func (k *KMS) record(c KMSCall) {
	c.Time = k.st.opts.Now()
	k.mu.Lock()
	k.audit = append(k.audit, c)
	k.mu.Unlock()
}

// use resolves ref for a cryptographic operation by cc's caller.
func (k *KMS) use(cc *kmsCallCtx, ref string, needEnabled bool) (*kmsKey, error) {
	key, err := k.resolveLocked(ref)
	if err != nil {
		return nil, err
	}
	cc.call.KeyID = key.id
	if !key.allowed(cc.caller, cc.action, cc.context) {
		if key.policy != nil {
			return nil, kmsErr("AccessDeniedException", "%s is not authorized to perform %s on key %s with this encryption context because no key policy statement allows it", cc.caller.arn, cc.action, key.arn())
		}
		return nil, kmsErr("AccessDeniedException", "%s is not authorized to use key %s", cc.caller.arn, key.arn())
	}
	if needEnabled && !key.enabled {
		return nil, kmsErr("DisabledException", "%s is disabled", key.arn())
	}
	return key, nil
}

type kmsKeyMetadata struct {
	AWSAccountId          string
	Arn                   string
	KeyId                 string
	CreationDate          float64
	Description           string
	Enabled               bool
	KeyState              types.KeyState
	KeyUsage              types.KeyUsageType
	KeySpec               types.KeySpec
	CustomerMasterKeySpec types.KeySpec
	EncryptionAlgorithms  []types.EncryptionAlgorithmSpec
	KeyManager            types.KeyManagerType
	Origin                types.OriginType
	MultiRegion           bool
}

func (key *kmsKey) metadata() kmsKeyMetadata {
	state := types.KeyStateEnabled
	if !key.enabled {
		state = types.KeyStateDisabled
	}
	return kmsKeyMetadata{
		AWSAccountId: Account, Arn: key.arn(), KeyId: key.id,
		CreationDate: float64(key.created.UnixMilli()) / 1000,
		Description:  key.description, Enabled: key.enabled, KeyState: state,
		KeyUsage: key.usage, KeySpec: key.spec, CustomerMasterKeySpec: key.spec,
		EncryptionAlgorithms: key.algorithms(),
		KeyManager:           types.KeyManagerTypeCustomer, Origin: types.OriginTypeAwsKms,
	}
}

func (key *kmsKey) algorithms() []types.EncryptionAlgorithmSpec {
	if key.rsa != nil {
		return []types.EncryptionAlgorithmSpec{types.EncryptionAlgorithmSpecRsaesOaepSha1, types.EncryptionAlgorithmSpecRsaesOaepSha256}
	}
	return []types.EncryptionAlgorithmSpec{types.EncryptionAlgorithmSpecSymmetricDefault}
}

func (k *KMS) opCreateKey(cc *kmsCallCtx, req *kmsRequest) (any, error) {
	key, err := cc.newKey, cc.newKeyErr
	if err != nil {
		return nil, kmsErr("ValidationException", "%v", err)
	}
	key.description = req.Description
	k.keys[key.id] = key
	cc.call.KeyID = key.id
	return map[string]any{"KeyMetadata": key.metadata()}, nil
}

func (k *KMS) opCreateAlias(cc *kmsCallCtx, req *kmsRequest) (any, error) {
	name := req.AliasName
	if !strings.HasPrefix(name, "alias/") || len(name) <= len("alias/") || strings.HasPrefix(name, "alias/aws/") {
		return nil, kmsErr("ValidationException", "AliasName %q must be alias/NAME and must not start with alias/aws/", name)
	}
	if _, ok := k.aliases[name]; ok {
		return nil, kmsErr("AlreadyExistsException", "alias %s already exists", name)
	}
	key, err := k.use(cc, req.TargetKeyId, false)
	if err != nil {
		return nil, err
	}
	k.aliases[name] = key.id
	return struct{}{}, nil
}

func (k *KMS) opDescribeKey(cc *kmsCallCtx, req *kmsRequest) (any, error) {
	key, err := k.use(cc, req.KeyId, false)
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyMetadata": key.metadata()}, nil
}

func (k *KMS) opEnableKey(cc *kmsCallCtx, req *kmsRequest) (any, error) {
	key, err := k.use(cc, req.KeyId, false)
	if err != nil {
		return nil, err
	}
	key.enabled = true
	return struct{}{}, nil
}

func (k *KMS) opDisableKey(cc *kmsCallCtx, req *kmsRequest) (any, error) {
	key, err := k.use(cc, req.KeyId, false)
	if err != nil {
		return nil, err
	}
	key.enabled = false
	return struct{}{}, nil
}

func (k *KMS) generateDataKey(cc *kmsCallCtx, req *kmsRequest) (key *kmsKey, plaintext, blob []byte, err error) {
	key, err = k.use(cc, req.KeyId, true)
	if err != nil {
		return nil, nil, nil, err
	}
	if key.rsa != nil {
		return nil, nil, nil, kmsErr("InvalidKeyUsageException", "%s is an asymmetric %s key; data keys need a SYMMETRIC_DEFAULT key", key.arn(), key.spec)
	}
	var n int
	switch {
	case req.NumberOfBytes != nil && req.KeySpec != "":
		return nil, nil, nil, kmsErr("ValidationException", "specify either KeySpec or NumberOfBytes, not both")
	case req.NumberOfBytes != nil:
		n = *req.NumberOfBytes
		if n < 1 || n > 1024 {
			return nil, nil, nil, kmsErr("ValidationException", "NumberOfBytes must be 1..1024")
		}
	case req.KeySpec == string(types.DataKeySpecAes256):
		n = 32
	case req.KeySpec == string(types.DataKeySpecAes128):
		n = 16
	default:
		return nil, nil, nil, kmsErr("ValidationException", "KeySpec must be AES_256 or AES_128, or set NumberOfBytes")
	}
	plaintext = make([]byte, n)
	if _, err := rand.Read(plaintext); err != nil {
		return nil, nil, nil, err
	}
	blob, err = kmsblob.Seal(key.secret, key.id, req.EncryptionContext, plaintext)
	return key, plaintext, blob, err
}

func (k *KMS) opGenerateDataKey(cc *kmsCallCtx, req *kmsRequest) (any, error) {
	key, pt, blob, err := k.generateDataKey(cc, req)
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyId": key.arn(), "Plaintext": pt, "CiphertextBlob": blob}, nil
}

func (k *KMS) opGenerateDataKeyWithoutPlaintext(cc *kmsCallCtx, req *kmsRequest) (any, error) {
	key, pt, blob, err := k.generateDataKey(cc, req)
	if err != nil {
		return nil, err
	}
	clear(pt)
	return map[string]any{"KeyId": key.arn(), "CiphertextBlob": blob}, nil
}

// encrypt seals plaintext under key with the requested algorithm.
func encrypt(key *kmsKey, alg string, ctx map[string]string, plaintext []byte) (blob []byte, algOut string, err error) {
	if len(plaintext) == 0 || len(plaintext) > 4096 {
		return nil, "", kmsErr("ValidationException", "Plaintext must be 1..4096 bytes")
	}
	if key.rsa == nil {
		if alg != "" && alg != string(types.EncryptionAlgorithmSpecSymmetricDefault) {
			return nil, "", kmsErr("InvalidKeyUsageException", "%s supports only SYMMETRIC_DEFAULT, not %s", key.arn(), alg)
		}
		blob, err = kmsblob.Seal(key.secret, key.id, ctx, plaintext)
		return blob, string(types.EncryptionAlgorithmSpecSymmetricDefault), err
	}
	h, err := oaepHash(key, alg, ctx)
	if err != nil {
		return nil, "", err
	}
	blob, err = rsa.EncryptOAEP(h, rand.Reader, &key.rsa.PublicKey, plaintext, nil)
	if err != nil {
		return nil, "", kmsErr("ValidationException", "plaintext too long for %s with %s", key.spec, alg)
	}
	return blob, alg, nil
}

func decrypt(key *kmsKey, alg string, ctx map[string]string, blob []byte) ([]byte, string, error) {
	if key.rsa == nil {
		if alg != "" && alg != string(types.EncryptionAlgorithmSpecSymmetricDefault) {
			return nil, "", kmsErr("InvalidKeyUsageException", "%s supports only SYMMETRIC_DEFAULT, not %s", key.arn(), alg)
		}
		pt, err := kmsblob.Open(key.secret, key.id, ctx, blob)
		if err != nil {
			return nil, "", kmsErr("InvalidCiphertextException", "the ciphertext does not match key %s and the encryption context", key.arn())
		}
		return pt, string(types.EncryptionAlgorithmSpecSymmetricDefault), nil
	}
	h, err := oaepHash(key, alg, ctx)
	if err != nil {
		return nil, "", err
	}
	pt, err := rsa.DecryptOAEP(h, nil, key.rsa, blob, nil)
	if err != nil {
		return nil, "", kmsErr("InvalidCiphertextException", "the ciphertext cannot be decrypted with %s under %s", key.arn(), alg)
	}
	return pt, alg, nil
}

func oaepHash(key *kmsKey, alg string, ctx map[string]string) (hash.Hash, error) {
	if len(ctx) > 0 {
		return nil, kmsErr("ValidationException", "asymmetric keys do not support an encryption context")
	}
	switch types.EncryptionAlgorithmSpec(alg) {
	case types.EncryptionAlgorithmSpecRsaesOaepSha1:
		return sha1.New(), nil
	case types.EncryptionAlgorithmSpecRsaesOaepSha256:
		return sha256.New(), nil
	}
	return nil, kmsErr("InvalidKeyUsageException", "%s is an RSA key; EncryptionAlgorithm must be RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256, not %q", key.arn(), alg)
}

func (k *KMS) opEncrypt(cc *kmsCallCtx, req *kmsRequest) (any, error) {
	key, err := k.use(cc, req.KeyId, true)
	if err != nil {
		return nil, err
	}
	blob, alg, err := encrypt(key, req.EncryptionAlgorithm, req.EncryptionContext, req.Plaintext)
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyId": key.arn(), "CiphertextBlob": blob, "EncryptionAlgorithm": alg}, nil
}

// source resolves the key of a ciphertext: from the blob for symmetric
// ciphertexts; ref is required for asymmetric ones and must match.
func (k *KMS) source(cc *kmsCallCtx, ref string, blob []byte) (*kmsKey, error) {
	if len(blob) == 0 {
		return nil, kmsErr("ValidationException", "CiphertextBlob is required")
	}
	blobID, idErr := kmsblob.KeyID(blob)
	if ref == "" {
		if idErr != nil {
			return nil, kmsErr("InvalidCiphertextException", "the ciphertext is not a KMS symmetric ciphertext; asymmetric ciphertexts need KeyId")
		}
		ref = blobID
	}
	key, err := k.use(cc, ref, true)
	if err != nil {
		if idErr == nil && ref == blobID {
			var ke *kmsError
			if errors.As(err, &ke) && ke.code == "NotFoundException" {
				return nil, kmsErr("InvalidCiphertextException", "the ciphertext refers to a key that does not exist")
			}
		}
		return nil, err
	}
	if key.rsa == nil && (idErr != nil || blobID != key.id) {
		return nil, kmsErr("IncorrectKeyException", "the ciphertext was not encrypted under %s", key.arn())
	}
	return key, nil
}

func (k *KMS) opDecrypt(cc *kmsCallCtx, req *kmsRequest) (any, error) {
	key, err := k.source(cc, req.KeyId, req.CiphertextBlob)
	if err != nil {
		return nil, err
	}
	pt, alg, err := decrypt(key, req.EncryptionAlgorithm, req.EncryptionContext, req.CiphertextBlob)
	if err != nil {
		return nil, err
	}
	return map[string]any{"KeyId": key.arn(), "Plaintext": pt, "EncryptionAlgorithm": alg}, nil
}

func (k *KMS) opReEncrypt(cc *kmsCallCtx, req *kmsRequest) (any, error) {
	cc.action, cc.context = "kms:ReEncryptFrom", req.SourceEncryptionContext
	src, err := k.source(cc, req.SourceKeyId, req.CiphertextBlob)
	if err != nil {
		return nil, err
	}
	cc.call.SourceKeyID = src.id
	pt, srcAlg, err := decrypt(src, req.SourceEncryptionAlgorithm, req.SourceEncryptionContext, req.CiphertextBlob)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	cc.action, cc.context = "kms:ReEncryptTo", req.DestinationEncryptionContext
	dst, err := k.use(cc, req.DestinationKeyId, true)
	if err != nil {
		return nil, err
	}
	blob, dstAlg, err := encrypt(dst, req.DestinationEncryptionAlgorithm, req.DestinationEncryptionContext, pt)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"CiphertextBlob": blob, "KeyId": dst.arn(), "SourceKeyId": src.arn(),
		"SourceEncryptionAlgorithm": srcAlg, "DestinationEncryptionAlgorithm": dstAlg,
	}, nil
}

func (k *KMS) opGetPublicKey(cc *kmsCallCtx, req *kmsRequest) (any, error) {
	key, err := k.use(cc, req.KeyId, true)
	if err != nil {
		return nil, err
	}
	if key.rsa == nil {
		return nil, kmsErr("UnsupportedOperationException", "%s is a symmetric key and has no public key", key.arn())
	}
	der, err := x509.MarshalPKIXPublicKey(&key.rsa.PublicKey)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"KeyId": key.arn(), "PublicKey": der, "KeySpec": key.spec, "KeyUsage": key.usage,
		"EncryptionAlgorithms": key.algorithms(),
	}, nil
}
