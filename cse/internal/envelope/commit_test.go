package envelope

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"testing"
)

// hkdfRef is RFC 5869 written out with HMAC only, as an independent check
// of the stdlib-based DeriveV3.
func hkdfRef(h func() hash.Hash, ikm, salt, info []byte, n int) []byte {
	if salt == nil {
		salt = make([]byte, h().Size())
	}
	m := hmac.New(h, salt)
	m.Write(ikm)
	prk := m.Sum(nil)
	var out, t []byte
	for i := byte(1); len(out) < n; i++ {
		m := hmac.New(h, prk)
		m.Write(t)
		m.Write(info)
		m.Write([]byte{i})
		t = m.Sum(nil)
		out = append(out, t...)
	}
	return out[:n]
}

// RFC 5869 A.1 validates the reference implementation itself.
func TestHKDFReferenceRFC5869(t *testing.T) {
	ikm := bytes.Repeat([]byte{0x0b}, 22)
	salt, _ := hex.DecodeString("000102030405060708090a0b0c")
	info, _ := hex.DecodeString("f0f1f2f3f4f5f6f7f8f9")
	want := "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
	if got := hex.EncodeToString(hkdfRef(sha256.New, ikm, salt, info, 42)); got != want {
		t.Fatalf("reference HKDF = %s, want %s", got, want)
	}
}

func TestDeriveV3(t *testing.T) {
	for _, seed := range []byte{0, 1, 0x5a, 0xff} {
		dk := bytes.Repeat([]byte{seed}, 32)
		id := bytes.Repeat([]byte{seed ^ 0x33}, 28)
		dek, c, err := DeriveV3(dk, id)
		if err != nil {
			t.Fatal(err)
		}
		wantDEK := hkdfRef(sha512.New, dk, id, append([]byte{0x00, 0x73}, "DERIVEKEY"...), 32)
		wantC := hkdfRef(sha512.New, dk, id, append([]byte{0x00, 0x73}, "COMMITKEY"...), 28)
		if !bytes.Equal(dek, wantDEK) || !bytes.Equal(c, wantC) {
			t.Fatalf("seed %x: DeriveV3 = %x, %x; want %x, %x", seed, dek, c, wantDEK, wantC)
		}
		if bytes.Equal(dek[:28], c) {
			t.Fatal("DEK and commitment must differ")
		}
	}
	// Different message IDs give different keys and commitments.
	dk := bytes.Repeat([]byte{1}, 32)
	a1, c1, _ := DeriveV3(dk, bytes.Repeat([]byte{1}, 28))
	a2, c2, _ := DeriveV3(dk, bytes.Repeat([]byte{2}, 28))
	if bytes.Equal(a1, a2) || bytes.Equal(c1, c2) {
		t.Fatal("message ID does not affect derivation")
	}
	if _, _, err := DeriveV3(dk[:16], bytes.Repeat([]byte{1}, 28)); err == nil {
		t.Fatal("16-byte data key accepted")
	}
	if _, _, err := DeriveV3(dk, bytes.Repeat([]byte{1}, 12)); err == nil {
		t.Fatal("12-byte message ID accepted")
	}
}
