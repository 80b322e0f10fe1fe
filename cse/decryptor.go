package cse

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/emrs3/emrs3/cse/internal/envelope"
)

// Decryptor reads envelopes and recovers content keys. It is safe for
// concurrent use.
type Decryptor struct {
	p    MaterialsProvider
	opts Options
}

// NewDecryptor returns a Decryptor that unwraps data keys with p.
func NewDecryptor(p MaterialsProvider, optFns ...func(*Options)) *Decryptor {
	d := &Decryptor{p: p}
	for _, f := range optFns {
		if f == nil {
			continue
		}
		f(&d.opts)
	}
	d.opts.EncryptionContext = maps.Clone(d.opts.EncryptionContext)
	return d
}

// Policy returns the decryptor's policy: [Policy.CheckRange] says whether
// the Contents it recovers may be read by range.
func (d *Decryptor) Policy() Policy { return d.opts.Policy }

// Decrypt reads the envelope of an object, applies the policy and the
// downgrade and context checks, and recovers the content key. The caller
// must Wipe the Content when done.
//
// meta is the object's user metadata (keys with or without "x-amz-meta-",
// RFC 2047 values allowed). When meta holds no complete envelope, Decrypt
// calls instruction, if it is not nil, with the key of the object's
// instruction file (obj.Key + ".instruction") to fetch that file's body;
// instruction returns nil, nil when there is no such file, and any error
// it returns is returned as it is. Envelope keys that are both in meta and
// in the instruction file must agree.
//
// Only an object whose metadata holds no envelope key at all, and that has
// no instruction file, gives an error matching ErrNoEnvelope: the object is
// not client-side encrypted. A partial or damaged envelope matches
// ErrNotAuthentic, never ErrNoEnvelope.
//
// The downgrade check does not trust the wrap algorithm: whenever the stored
// description holds aws:x-amz-cek-alg it must equal the envelope's content
// algorithm, and a legacy kms envelope must not hold it at all (only
// kms+context writes it), so a kms+context envelope relabelled as kms, with
// or without a GCM→CBC swap, is refused as not authentic even when the
// Policy allows legacy modes.
//
// Errors that mean the object was modified or is not what it claims match
// ErrNotAuthentic (an *AuthenticationError: a damaged envelope, a
// downgrade, a V3 key commitment that does not match). The others do not:
// *PolicyError (a format the Policy refuses), *ContextMismatchError (the
// caller expects another context), *KeyError (ErrWrongKey), ErrNoEnvelope,
// or the error of the provider or of instruction.
func (d *Decryptor) Decrypt(ctx context.Context, meta map[string]string, instruction func(ctx context.Context, key string) ([]byte, error), obj ObjectInfo) (*Content, error) {
	var instr []byte
	if instruction != nil && needsInstructionFile(meta) {
		var err error
		if instr, err = instruction(ctx, obj.Key+InstructionSuffix); err != nil {
			return nil, err
		}
	}
	return d.decrypt(ctx, meta, instr, obj)
}

// decrypt is Decrypt with the instruction file's body (nil if none) in
// hand.
func (d *Decryptor) decrypt(ctx context.Context, meta map[string]string, instruction []byte, obj ObjectInfo) (*Content, error) {
	var instr map[string]string
	if instruction != nil {
		var err error
		if instr, err = envelope.ParseInstruction(instruction); err != nil {
			return nil, publicError(err)
		}
	}
	env, err := envelope.Parse(meta, instr)
	if err != nil {
		return nil, publicError(err)
	}
	if err := d.opts.Policy.checkEnvelope(env); err != nil {
		return nil, err
	}
	if err := checkDowngrade(env); err != nil {
		return nil, err
	}
	desc := env.MatDesc
	if env.WrapAlg == WrapKMSContext {
		stored := env.MatDesc
		if env.Version == 3 {
			stored = env.Context
		}
		want := cloneDesc(d.opts.EncryptionContext)
		maps.Copy(want, obj.EncryptionContext)
		if len(want) > 0 {
			if err := compareContext(want, stored); err != nil {
				return nil, err
			}
		}
		desc = stored
	}
	m, err := d.p.DecryptMaterials(ctx, DecryptionRequest{
		Bucket: obj.Bucket, Key: obj.Key,
		Version:          env.Version,
		ContentAlgorithm: env.CEKAlg,
		WrapAlgorithm:    env.WrapAlg,
		EncryptedKey:     env.EncryptedKey,
		Description:      cloneDesc(desc),
	})
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("cse: materials provider returned no materials")
	}
	defer m.Wipe()
	if len(m.Key) != envelope.DataKeySize {
		return nil, wrongKey(env.WrapAlg, "", fmt.Errorf("data key is %d bytes, want %d", len(m.Key), envelope.DataKeySize))
	}
	c := &Content{Algorithm: algorithmOf(env.CEKAlg), PlaintextSize: env.PlaintextSize, Version: env.Version, policy: d.opts.Policy}
	if env.Version == 3 {
		dek, commitment, err := envelope.DeriveV3(m.Key, env.MessageID)
		if err != nil {
			return nil, err
		}
		if subtle.ConstantTimeCompare(commitment, env.Commitment) != 1 {
			clear(dek)
			return nil, errCommitment
		}
		c.Key = dek
		c.IV = append([]byte(nil), envelope.V3ContentIV...)
		c.AAD = append([]byte(nil), envelope.V3ContentAAD...)
		return c, nil
	}
	c.Key = append([]byte(nil), m.Key...)
	c.IV = env.IV
	return c, nil
}

// checkDowngrade enforces the content-algorithm binding of the stored
// description (x-amz-matdesc, and in V3 also x-amz-m and x-amz-t):
//
//   - kms+context must store aws:x-amz-cek-alg equal to the envelope's
//     content algorithm (x-amz-cek-alg / x-amz-c);
//   - any other wrap that stores aws:x-amz-cek-alg must store the envelope's
//     content algorithm there as well, whatever the wrap says;
//   - the legacy kms wrap never stores it (EMRFS, Java v1 and s3crypto write
//     only kms_cmk_id and the caller's pairs), so a kms envelope that does is
//     a kms+context envelope relabelled to skip these checks, and is refused
//     even when the algorithms agree.
//
// The KMS context is authenticated by KMS, so an attacker who rewrites the
// envelope cannot drop or change aws:x-amz-cek-alg without the data key
// failing to decrypt; these checks make sure nobody can use it with another
// content algorithm or wrap either.
func checkDowngrade(env *envelope.Envelope) error {
	primary := env.MatDesc
	if env.Version == 3 && env.WrapAlg == WrapKMSContext {
		primary = env.Context
	}
	got, ok := primary[envelope.V3ContextCEKAlg]
	wrap := env.WrapAlg
	if env.Version == 1 {
		wrap = "V1"
	}
	switch {
	case env.WrapAlg == WrapKMSContext && got != env.CEKAlg:
		return downgradeError(got, env.CEKAlg, "")
	case ok && got != env.CEKAlg:
		return downgradeError(got, env.CEKAlg, wrap)
	case ok && env.WrapAlg == WrapKMS:
		return downgradeError(got, env.CEKAlg, wrap)
	}
	if env.Version == 3 {
		for _, m := range []map[string]string{env.MatDesc, env.Context} {
			if v, ok := m[envelope.V3ContextCEKAlg]; ok && v != env.CEKAlg {
				return downgradeError(v, env.CEKAlg, wrap)
			}
		}
	}
	return nil
}

// kmsKeyIDKey is the materials-description key of the KMS key id, which
// the legacy kms wrap stores and the Java v1 V2 client also puts in the
// kms+context context.
const kmsKeyIDKey = "kms_cmk_id"

// compareContext checks want against stored with the reserved keys and
// kms_cmk_id removed, as the AWS Java client (v3) does.
func compareContext(want, stored map[string]string) error {
	var diff []string
	for k, v := range want {
		if sv, ok := stored[k]; !ok || sv != v {
			diff = append(diff, k)
		}
	}
	for k := range stored {
		if strings.HasPrefix(strings.ToLower(k), envelope.ReservedPrefix) || k == kmsKeyIDKey {
			continue
		}
		if _, ok := want[k]; !ok {
			diff = append(diff, k)
		}
	}
	if len(diff) > 0 {
		slices.Sort(diff)
		return &ContextMismatchError{Keys: diff}
	}
	return nil
}
