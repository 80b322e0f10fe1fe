package cse

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"maps"

	"github.com/emrs3/emrs3/cse/internal/envelope"
)

// Encryptor creates the envelope and content key of new objects. It never
// writes CBC content. It is safe for concurrent use.
type Encryptor struct {
	p    MaterialsProvider
	opts Options
}

// NewEncryptor returns an Encryptor that takes data keys from p.
func NewEncryptor(p MaterialsProvider, optFns ...func(*Options)) *Encryptor {
	e := &Encryptor{p: p}
	for _, f := range optFns {
		if f == nil {
			continue
		}
		f(&e.opts)
	}
	e.opts.EncryptionContext = maps.Clone(e.opts.EncryptionContext)
	if e.opts.Rand == nil {
		e.opts.Rand = rand.Reader
	}
	return e
}

// Encrypt gets a data key for obj and returns the envelope to store and the
// Content to encrypt the body with ([Content.NewEncryptReader], or
// [Content.NewMultipartEncryptor] for a multipart upload). The caller must
// Wipe the Content when done.
func (e *Encryptor) Encrypt(ctx context.Context, obj ObjectInfo) (*Envelope, *Content, error) {
	v3 := e.opts.Policy.Commitment != ForbidEncryptAllowDecrypt
	if v3 && e.opts.LegacyKMSWrap {
		return nil, nil, fmt.Errorf("cse: LegacyKMSWrap writes format V2 and cannot be combined with a commitment policy that requires V3")
	}
	cekAlg := envelope.AlgGCM
	if v3 {
		cekAlg = envelope.AlgCommitting
	}
	desc := cloneDesc(e.opts.EncryptionContext)
	maps.Copy(desc, obj.EncryptionContext)
	req := EncryptionRequest{Bucket: obj.Bucket, Key: obj.Key, ContentAlgorithm: cekAlg, Description: desc}
	if e.opts.LegacyKMSWrap {
		req.WrapAlgorithm = WrapKMS
	}
	m, err := e.p.EncryptionMaterials(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	defer m.Wipe()
	if len(m.Key) != envelope.DataKeySize || len(m.Encrypted) == 0 {
		return nil, nil, fmt.Errorf("cse: materials provider returned a %d-byte data key and %d-byte encrypted key, want 32 and some", len(m.Key), len(m.Encrypted))
	}
	switch m.WrapAlgorithm {
	case WrapKMSContext, WrapAESGCM, WrapRSAOAEPSHA1:
	case WrapKMS:
		if !e.opts.LegacyKMSWrap {
			return nil, nil, fmt.Errorf("cse: materials provider chose the legacy kms wrap; set Options.LegacyKMSWrap to write it")
		}
	default:
		return nil, nil, fmt.Errorf("cse: materials provider chose wrap algorithm %q, which is never written (use kms+context, AES/GCM or RSA-OAEP-SHA1)", m.WrapAlgorithm)
	}
	if m.WrapAlgorithm == WrapKMSContext && m.Description[envelope.V3ContextCEKAlg] != cekAlg {
		return nil, nil, fmt.Errorf("cse: materials provider's kms+context description lacks aws:x-amz-cek-alg=%s", cekAlg)
	}
	env := &envelope.Envelope{
		EncryptedKey:  m.Encrypted,
		CEKAlg:        cekAlg,
		WrapAlg:       m.WrapAlgorithm,
		MatDesc:       cloneDesc(m.Description),
		Context:       map[string]string{},
		PlaintextSize: -1,
	}
	if obj.PlaintextSize > 0 {
		env.PlaintextSize = obj.PlaintextSize
	}
	c := &Content{PlaintextSize: env.PlaintextSize}
	if v3 {
		env.Version = 3
		env.TagBits = envelope.TagBits
		env.MessageID = make([]byte, envelope.MessageIDSize)
		if _, err := io.ReadFull(e.opts.Rand, env.MessageID); err != nil {
			return nil, nil, fmt.Errorf("cse: reading a message ID: %w", err)
		}
		dek, commitment, err := envelope.DeriveV3(m.Key, env.MessageID)
		if err != nil {
			return nil, nil, err
		}
		env.Commitment = commitment
		if m.WrapAlgorithm == WrapKMSContext {
			env.Context, env.MatDesc = env.MatDesc, map[string]string{}
		}
		c.Algorithm, c.Key, c.Version = AlgCommitting, dek, 3
		c.IV = append([]byte(nil), envelope.V3ContentIV...)
		c.AAD = append([]byte(nil), envelope.V3ContentAAD...)
	} else {
		env.Version = 2
		env.TagBits = envelope.TagBits
		env.IV = make([]byte, envelope.GCMIVSize)
		if _, err := io.ReadFull(e.opts.Rand, env.IV); err != nil {
			return nil, nil, fmt.Errorf("cse: reading an IV: %w", err)
		}
		c.Algorithm, c.Key, c.IV, c.Version = AlgGCM, append([]byte(nil), m.Key...), append([]byte(nil), env.IV...), 2
	}
	out := &Envelope{}
	if e.opts.InstructionFile {
		out.Metadata, out.Instruction, err = env.Split()
		out.InstructionKey = obj.Key + InstructionSuffix
		out.InstructionMetadata = map[string]string{instructionMarker: ""}
	} else {
		out.Metadata, err = env.Metadata()
	}
	if err != nil {
		c.Wipe()
		return nil, nil, err
	}
	return out, c, nil
}
