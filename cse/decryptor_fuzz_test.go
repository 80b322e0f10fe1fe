package cse

import (
	"context"
	"encoding/json"
	"testing"
)

// FuzzDecrypt feeds arbitrary metadata and instruction files to a Decryptor
// with every legacy mode on: it must never panic, and whatever it accepts
// must be a usable content description.
func FuzzDecrypt(f *testing.F) {
	aesK, _ := NewAESKeyring(testKEK, nil)
	for _, fn := range []func(*Options){
		nil,
		func(o *Options) { o.InstructionFile = true },
		func(o *Options) { o.Policy.Commitment = RequireEncryptAllowDecrypt },
		func(o *Options) { o.Policy.Commitment = RequireEncryptAllowDecrypt; o.InstructionFile = true },
	} {
		env, c, err := NewEncryptor(aesK, fn).Encrypt(context.Background(), ObjectInfo{PlaintextSize: 5})
		if err != nil {
			f.Fatal(err)
		}
		c.Wipe()
		meta, _ := json.Marshal(env.Metadata)
		f.Add(meta, env.Instruction)
	}
	f.Add([]byte(`{"x-amz-key":"AAAA","x-amz-iv":"AAAAAAAAAAAAAAAAAAAAAA=="}`), []byte(nil))
	d := NewDecryptor(aesK, func(o *Options) { o.Policy = EMRFSCompatible() })
	f.Fuzz(func(t *testing.T, metaJSON, instr []byte) {
		var meta map[string]string
		if json.Unmarshal(metaJSON, &meta) != nil {
			return
		}
		c, err := d.decrypt(context.Background(), meta, instr, ObjectInfo{})
		if err != nil {
			return
		}
		defer c.Wipe()
		if len(c.Key) != 32 || (c.Algorithm == AlgCBC) != (len(c.IV) == 16) || c.Algorithm == 0 {
			t.Fatalf("accepted content %+v", c)
		}
	})
}
