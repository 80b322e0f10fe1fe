package cse

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// fakeKMS is a pure-logic Go fake of KMSAPI: ciphertext blobs are AES-GCM
// under a secret derived from the key id, with the canonical context as AAD,
// so a wrong key or context fails like real KMS.
type fakeKMS struct {
	mu        sync.Mutex
	keys      map[string]types.KeyMetadata
	describes map[string]int
	calls     []fakeCall
}

type fakeCall struct {
	Op      string
	KeyID   string
	Context map[string]string
}

func newFakeKMS(keyIDs ...string) *fakeKMS {
	f := &fakeKMS{keys: map[string]types.KeyMetadata{}, describes: map[string]int{}}
	for _, id := range keyIDs {
		f.keys[id] = types.KeyMetadata{KeyId: aws.String(id), KeyState: types.KeyStateEnabled,
			KeySpec: types.KeySpecSymmetricDefault, KeyUsage: types.KeyUsageTypeEncryptDecrypt}
	}
	return f
}

func (f *fakeKMS) aead(keyID string) cipher.AEAD {
	s := sha256.Sum256([]byte("fake-kms-master:" + keyID))
	b, _ := aes.NewCipher(s[:])
	g, _ := cipher.NewGCM(b)
	return g
}

func (f *fakeKMS) record(op, key string, ec map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fakeCall{op, key, ec})
}

func (f *fakeKMS) GenerateDataKey(_ context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	id := aws.ToString(in.KeyId)
	f.record("GenerateDataKey", id, in.EncryptionContext)
	md, ok := f.keys[id]
	if !ok {
		return nil, &types.NotFoundException{Message: aws.String("key " + id + " not found")}
	}
	if md.KeyState != types.KeyStateEnabled {
		return nil, &types.DisabledException{Message: aws.String("disabled")}
	}
	pt := make([]byte, 32)
	_, _ = rand.Read(pt)
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	var blob []byte
	blob = binary.BigEndian.AppendUint16(blob, uint16(len(id)))
	blob = append(blob, id...)
	blob = append(blob, nonce...)
	blob = f.aead(id).Seal(blob, nonce, pt, fakeContextAAD(in.EncryptionContext))
	return &kms.GenerateDataKeyOutput{KeyId: aws.String(id), Plaintext: pt, CiphertextBlob: blob}, nil
}

func (f *fakeKMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	f.record("Decrypt", aws.ToString(in.KeyId), in.EncryptionContext)
	b := in.CiphertextBlob
	bad := &types.InvalidCiphertextException{Message: aws.String("invalid ciphertext")}
	if len(b) < 2 {
		return nil, bad
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+n+12 {
		return nil, bad
	}
	id := string(b[2 : 2+n])
	if want := aws.ToString(in.KeyId); want != "" && want != id {
		return nil, &types.IncorrectKeyException{Message: aws.String("incorrect key")}
	}
	if _, ok := f.keys[id]; !ok {
		return nil, bad
	}
	pt, err := f.aead(id).Open(nil, b[2+n:2+n+12], b[2+n+12:], fakeContextAAD(in.EncryptionContext))
	if err != nil {
		return nil, bad
	}
	return &kms.DecryptOutput{KeyId: aws.String(id), Plaintext: pt}, nil
}

func (f *fakeKMS) DescribeKey(_ context.Context, in *kms.DescribeKeyInput, _ ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	id := aws.ToString(in.KeyId)
	f.mu.Lock()
	f.describes[id]++
	f.mu.Unlock()
	md, ok := f.keys[id]
	if !ok {
		return nil, &types.NotFoundException{Message: aws.String("key " + id + " not found")}
	}
	return &kms.DescribeKeyOutput{KeyMetadata: &md}, nil
}

func (f *fakeKMS) lastContext(op string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.calls) - 1; i >= 0; i-- {
		if f.calls[i].Op == op {
			return f.calls[i].Context
		}
	}
	return nil
}

func kmsGDK(key string, ec map[string]string) *kms.GenerateDataKeyInput {
	return &kms.GenerateDataKeyInput{KeyId: aws.String(key), KeySpec: types.DataKeySpecAes256, EncryptionContext: ec}
}

var errKMSDown = errors.New("kms unavailable")

type failingKMS struct{ *fakeKMS }

func (failingKMS) Decrypt(context.Context, *kms.DecryptInput, ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	return nil, errKMSDown
}

// fakeContextAAD is the fake's binding of an encryption context: its JSON
// with sorted keys and raw UTF-8 (what MarshalMatDesc wrote when the golden
// envelopes were made; it now escapes non-ASCII).
func fakeContextAAD(ec map[string]string) []byte {
	if ec == nil {
		ec = map[string]string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(ec)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
