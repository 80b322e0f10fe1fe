package interop

// Round trips with the official Amazon S3 Encryption Clients for Go, v3.2.0
// and v4.0.0, over the emrfstest S3 and SigV4-verifying KMS, in both
// directions. The official Go clients have only the KMS keyring (no raw AES
// or RSA keyrings), write the envelope to object metadata only and read
// instruction files; every mode they have that emrs3 supports is here.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	v3commitment "github.com/aws/amazon-s3-encryption-client-go/v3/commitment"
	v4commitment "github.com/aws/amazon-s3-encryption-client-go/v4/commitment"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/s3ec"
)

// Sizes of the round trips: empty, one byte, one GCM block ± 1, and
// larger than one part of an emrfs Writer (5 MiB), so that emrfs writes it
// with a multipart upload.
var sizes = []int{0, 1, 15, 17, 70_001, 6<<20 + 3}

var ec = map[string]string{"project": "alpha", "stage": "test"}

// TestOfficialWritesEmrs3Reads: objects written by the official v3 and v4
// clients in each of their write modes are read by emrfs.Client and by
// s3ec.Client, with the context checked; the s3ec default (commitment
// required) refuses the V2 ones before KMS is called.
func TestOfficialWritesEmrs3Reads(t *testing.T) {
	e := newStack(t, "official-writes")
	ctx := withEC(context.Background(), ec)
	writers := []struct {
		name string
		c    official
		v3   bool // format V3 (key commitment)
	}{
		{"v3 default (FORBID_ENCRYPT_ALLOW_DECRYPT, V2)", e.v3(t, v3commitment.FORBID_ENCRYPT_ALLOW_DECRYPT, false), false},
		{"v4 default (REQUIRE_ENCRYPT_REQUIRE_DECRYPT, V3)", e.v4(t, v4commitment.REQUIRE_ENCRYPT_REQUIRE_DECRYPT, false), true},
		{"v4 REQUIRE_ENCRYPT_ALLOW_DECRYPT (V3)", e.v4(t, v4commitment.REQUIRE_ENCRYPT_ALLOW_DECRYPT, false), true},
		{"v4 FORBID_ENCRYPT_ALLOW_DECRYPT (V2)", e.v4(t, v4commitment.FORBID_ENCRYPT_ALLOW_DECRYPT, false), false},
	}
	emrfsDefault := e.emrfs(t, cse.Policy{}, ec, false)
	emrfsRequire := e.emrfs(t, cse.Policy{Commitment: cse.RequireEncryptRequireDecrypt}, ec, false)
	s3ecDefault := e.s3ec(t)
	s3ecAllow := e.s3ec(t, func(o *s3ec.Options) { o.CommitmentPolicy = cse.RequireEncryptAllowDecrypt })
	s3ecForbid := e.s3ec(t, func(o *s3ec.Options) { o.CommitmentPolicy = cse.ForbidEncryptAllowDecrypt })
	for i, w := range writers {
		for _, size := range sizes {
			key := fmt.Sprintf("official/%d/%d", i, size)
			name := fmt.Sprintf("%s, %d bytes", w.name, size)
			pt := plaintext(size)
			if err := e.put(ctx, w.c, key, pt); err != nil {
				t.Fatalf("%s: official PutObject: %v", name, err)
			}
			readers := []struct {
				name string
				get  func() ([]byte, error)
			}{
				{"emrfs default policy", func() ([]byte, error) { return e.emrfsGet(emrfsDefault, key) }},
				{"s3ec RequireEncryptAllowDecrypt", func() ([]byte, error) { return e.get(ctx, s3ecAllow, key) }},
				{"s3ec ForbidEncryptAllowDecrypt", func() ([]byte, error) { return e.get(ctx, s3ecForbid, key) }},
			}
			if w.v3 {
				readers = append(readers,
					struct {
						name string
						get  func() ([]byte, error)
					}{"emrfs RequireEncryptRequireDecrypt", func() ([]byte, error) { return e.emrfsGet(emrfsRequire, key) }},
					struct {
						name string
						get  func() ([]byte, error)
					}{"s3ec default", func() ([]byte, error) { return e.get(ctx, s3ecDefault, key) }})
			}
			for _, r := range readers {
				got, err := r.get()
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("%s read by %s: %d bytes, %v", name, r.name, len(got), err)
				}
			}
			if !w.v3 {
				before := len(e.st.KMS.Audit())
				_, err := e.get(ctx, s3ecDefault, key)
				var ce *cse.AuthenticationError
				var pe *cse.PolicyError
				if !errors.As(err, &ce) && !errors.As(err, &pe) {
					t.Fatalf("%s read by s3ec default: %v, want a commitment refusal", name, err)
				}
				if _, err := e.emrfsGet(emrfsRequire, key); !errors.As(err, &ce) && !errors.As(err, &pe) {
					t.Fatalf("%s read by emrfs RequireEncryptRequireDecrypt: %v, want a commitment refusal", name, err)
				}
				if n := len(e.st.KMS.Audit()) - before; n != 0 {
					t.Fatalf("%s: the refusals called KMS %d times", name, n)
				}
			}
		}
	}
	// A reader that expects another context is refused before KMS is called.
	other := withEC(context.Background(), map[string]string{"project": "beta"})
	var me *cse.ContextMismatchError
	for i := range writers {
		key := fmt.Sprintf("official/%d/1", i)
		if _, err := e.get(other, s3ecForbid, key); !errors.As(err, &me) {
			t.Fatalf("%s with another context: %v, want *cse.ContextMismatchError", writers[i].name, err)
		}
		if _, err := e.emrfsGet(e.emrfs(t, cse.Policy{}, map[string]string{"project": "beta"}, false), key); !errors.As(err, &me) {
			t.Fatalf("%s with another context through emrfs: %v, want *cse.ContextMismatchError", writers[i].name, err)
		}
	}
}

// TestEmrs3WritesOfficialReads: objects written by emrfs.Client (V2 and V3;
// object metadata and instruction file; kms+context and the legacy kms
// wrap; single PUT and multipart) and by s3ec.Client in each of its modes
// are read by the official v3 and v4 clients in every commitment policy
// that reads them — and refused by those that must not.
func TestEmrs3WritesOfficialReads(t *testing.T) {
	e := newStack(t, "emrs3-writes")
	ctx := withEC(context.Background(), ec)
	instr := []string{"fs.s3.cse.cryptoStorageMode", "InstructionFile"}
	require := cse.Policy{Commitment: cse.RequireEncryptAllowDecrypt}
	type writer struct {
		name   string
		put    func(key string, pt []byte) error
		v3     bool // format V3
		legacy bool // legacy kms wrap: official readers need EnableLegacyWrappingAlgorithms
		instr  bool // the envelope is in an instruction file
		noEC   bool // written without the encryption context
	}
	emrfsWriter := func(name string, c *emrfs.Client, v3, legacy, instrFile bool) writer {
		return writer{name: name, put: func(key string, pt []byte) error { e.emrfsPut(t, c, key, pt); return nil }, v3: v3, legacy: legacy, instr: instrFile, noEC: legacy}
	}
	s3ecWriter := func(name string, c *s3ec.Client, v3, instrFile bool) writer {
		return writer{name: name, put: func(key string, pt []byte) error { return e.put(ctx, c, key, pt) }, v3: v3, instr: instrFile}
	}
	writers := []writer{
		emrfsWriter("emrfs V2 kms+context", e.emrfs(t, cse.Policy{}, ec, false), false, false, false),
		emrfsWriter("emrfs V2 kms+context, instruction file", e.emrfs(t, cse.Policy{}, ec, false, instr...), false, false, true),
		emrfsWriter("emrfs V2 legacy kms wrap (EMRFS without encryptionV2)", e.emrfs(t, cse.Policy{}, nil, true), false, true, false),
		emrfsWriter("emrfs V3 (RequireEncryptAllowDecrypt)", e.emrfs(t, require, ec, false), true, false, false),
		emrfsWriter("emrfs V3, instruction file", e.emrfs(t, require, ec, false, instr...), true, false, true),
		s3ecWriter("s3ec default (V3)", e.s3ec(t), true, false),
		s3ecWriter("s3ec ForbidEncryptAllowDecrypt (V2)", e.s3ec(t, func(o *s3ec.Options) { o.CommitmentPolicy = cse.ForbidEncryptAllowDecrypt }), false, false),
		s3ecWriter("s3ec instruction file (V3)", e.s3ec(t, func(o *s3ec.Options) { o.InstructionFile = true }), true, true),
		s3ecWriter("s3ec ForbidEncryptAllowDecrypt, instruction file (V2)", e.s3ec(t, func(o *s3ec.Options) {
			o.InstructionFile = true
			o.CommitmentPolicy = cse.ForbidEncryptAllowDecrypt
		}), false, true),
	}
	type reader struct {
		name   string
		c      official
		readV2 bool
	}
	readers := func(legacy bool) []reader {
		return []reader{
			{"v3 FORBID_ENCRYPT_ALLOW_DECRYPT", e.v3(t, v3commitment.FORBID_ENCRYPT_ALLOW_DECRYPT, legacy), true},
			{"v3 REQUIRE_ENCRYPT_ALLOW_DECRYPT", e.v3(t, v3commitment.REQUIRE_ENCRYPT_ALLOW_DECRYPT, legacy), true},
			{"v3 REQUIRE_ENCRYPT_REQUIRE_DECRYPT", e.v3(t, v3commitment.REQUIRE_ENCRYPT_REQUIRE_DECRYPT, legacy), false},
			{"v4 REQUIRE_ENCRYPT_REQUIRE_DECRYPT", e.v4(t, v4commitment.REQUIRE_ENCRYPT_REQUIRE_DECRYPT, legacy), false},
			{"v4 REQUIRE_ENCRYPT_ALLOW_DECRYPT", e.v4(t, v4commitment.REQUIRE_ENCRYPT_ALLOW_DECRYPT, legacy), true},
			{"v4 FORBID_ENCRYPT_ALLOW_DECRYPT", e.v4(t, v4commitment.FORBID_ENCRYPT_ALLOW_DECRYPT, legacy), true},
		}
	}
	modern, legacyReaders := readers(false), readers(true)
	for i, w := range writers {
		for _, size := range sizes {
			key := fmt.Sprintf("emrs3/%d/%d", i, size)
			name := fmt.Sprintf("%s, %d bytes", w.name, size)
			pt := plaintext(size)
			e.st.S3.ResetRequests()
			if err := w.put(key, pt); err != nil {
				t.Fatalf("%s: put: %v", name, err)
			}
			// emrfs uploads what is larger than a part (5 MiB) in parts.
			if multipart := uploads(e, key); multipart != (strings.HasPrefix(w.name, "emrfs") && size > 5<<20) {
				t.Fatalf("%s: multipart upload = %v", name, multipart)
			}
			rs := modern
			if w.legacy {
				rs = legacyReaders
				// Without EnableLegacyWrappingAlgorithms the kms wrap is refused.
				if _, err := e.get(context.Background(), modern[0].c, key); err == nil {
					t.Fatalf("%s: read by %s without legacy wrapping", name, modern[0].name)
				}
			}
			rctx := ctx
			if w.noEC {
				rctx = context.Background()
			}
			for _, r := range rs {
				got, err := e.get(rctx, r.c, key)
				switch {
				case !w.v3 && !r.readV2:
					if err == nil || !strings.Contains(err.Error(), "commitment") {
						t.Fatalf("%s read by %s: %v, want a commitment-policy refusal", name, r.name, err)
					}
				case err != nil || !bytes.Equal(got, pt):
					t.Fatalf("%s read by %s: %d bytes, %v", name, r.name, len(got), err)
				}
			}
		}
	}
	// The official readers check the context emrs3 stored.
	if _, err := e.get(withEC(context.Background(), map[string]string{"project": "beta"}), modern[4].c, "emrs3/0/1"); err == nil {
		t.Fatal("v4 read an emrs3 object with another encryption context")
	}
}

// uploads reports whether key was written with a multipart upload since
// the request log was reset.
func uploads(e *stackEnv, key string) bool {
	for _, r := range e.st.S3.Requests() {
		if r.Method == "POST" && r.Key == key && r.Query.Has("uploads") {
			return true
		}
	}
	return false
}
