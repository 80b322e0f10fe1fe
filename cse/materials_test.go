package cse

import (
	"context"
	"maps"
	"testing"

	"github.com/emrs3/emrs3/cse/internal/envelope"
)

// TestRawKeyringsStoreOwnDescription: the raw keyrings store exactly their
// own materials description, whatever description or encryption context the
// request carries (as Java v1's StaticEncryptionMaterialsProvider needs to
// find its key again), and what they write still reads back.
func TestRawKeyringsStoreOwnDescription(t *testing.T) {
	ctx := context.Background()
	own := map[string]string{"keyring": "k1"}
	aesK, err := NewAESKeyring(testKEK, own)
	if err != nil {
		t.Fatal(err)
	}
	rsaK, err := NewRSAKeyring(testRSA(t), own)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []MaterialsProvider{aesK, rsaK} {
		for _, v3 := range []bool{false, true} {
			enc := NewEncryptor(p, func(o *Options) {
				o.EncryptionContext = map[string]string{"JobflowId": "j-1"}
				if v3 {
					o.Policy.Commitment = RequireEncryptAllowDecrypt
				}
			})
			env, c, err := enc.Encrypt(ctx, ObjectInfo{EncryptionContext: map[string]string{"Path": "s3://b/k"}})
			if err != nil {
				t.Fatal(err)
			}
			c.Wipe()
			key := "x-amz-matdesc"
			if v3 {
				key = "x-amz-m"
			}
			got, err := envelope.ParseMatDesc(env.Metadata[key])
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, own) {
				t.Fatalf("%T (V3 %v): stored description %v, want the keyring's %v", p, v3, got, own)
			}
			c, err = NewDecryptor(p).Decrypt(ctx, env.Metadata, nil, ObjectInfo{})
			if err != nil {
				t.Fatal(err)
			}
			c.Wipe()
		}
	}
	// The keyring's description is its own copy.
	own["keyring"] = "changed"
	m, err := aesK.EncryptionMaterials(ctx, EncryptionRequest{ContentAlgorithm: envelope.AlgGCM})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Wipe()
	if m.Description["keyring"] != "k1" {
		t.Fatalf("description %v follows the caller's map", m.Description)
	}
}
