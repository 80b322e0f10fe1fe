package keywrap

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func testRSA(t testing.TB) *rsa.PrivateKey {
	rsaOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		rsaKey = k
	})
	return rsaKey
}

// RFC 3394 section 4.6: wrap 256 bits of key data with a 256-bit KEK.
func TestAESKeyWrapRFC3394(t *testing.T) {
	kek := unhex(t, "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
	key := unhex(t, "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F")
	want := unhex(t, "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21")
	got, err := AESKeyWrap(kek, key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("wrap = %x, want %x", got, want)
	}
	back, err := AESKeyUnwrap(kek, got)
	if err != nil || !bytes.Equal(back, key) {
		t.Fatalf("unwrap = %x, %v", back, err)
	}
	got[3] ^= 1
	if _, err := AESKeyUnwrap(kek, got); !errors.Is(err, ErrUnwrap) {
		t.Fatalf("tampered unwrap err = %v, want ErrUnwrap", err)
	}
}

func TestRoundTrips(t *testing.T) {
	kek := bytes.Repeat([]byte{7}, 32)
	other := bytes.Repeat([]byte{8}, 32)
	cek := bytes.Repeat([]byte{0x42}, 32)
	priv := testRSA(t)
	priv2, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		wrap   func() ([]byte, error)
		unwrap func([]byte) ([]byte, error)
		wrong  func([]byte) ([]byte, error)
	}{
		{"AES/GCM",
			func() ([]byte, error) { return AESGCMWrap(nil, kek, cek, []byte("AES/GCM/NoPadding")) },
			func(b []byte) ([]byte, error) { return AESGCMUnwrap(kek, b, []byte("AES/GCM/NoPadding")) },
			func(b []byte) ([]byte, error) { return AESGCMUnwrap(kek, b, []byte("AES/CBC/PKCS5Padding")) }},
		{"AES/GCM wrong key",
			func() ([]byte, error) { return AESGCMWrap(nil, kek, cek, nil) },
			func(b []byte) ([]byte, error) { return AESGCMUnwrap(kek, b, nil) },
			func(b []byte) ([]byte, error) { return AESGCMUnwrap(other, b, nil) }},
		{"RSA-OAEP-SHA1",
			func() ([]byte, error) { return RSAOAEPSHA1Wrap(nil, &priv.PublicKey, cek, "AES/GCM/NoPadding") },
			func(b []byte) ([]byte, error) { return RSAOAEPSHA1Unwrap(priv, b, "AES/GCM/NoPadding") },
			func(b []byte) ([]byte, error) { return RSAOAEPSHA1Unwrap(priv, b, "AES/CBC/PKCS5Padding") }},
		{"RSA-OAEP-SHA1 wrong key",
			func() ([]byte, error) { return RSAOAEPSHA1Wrap(nil, &priv.PublicKey, cek, "115") },
			func(b []byte) ([]byte, error) { return RSAOAEPSHA1Unwrap(priv, b, "115") },
			func(b []byte) ([]byte, error) { return RSAOAEPSHA1Unwrap(priv2, b, "115") }},
		{"RSA OAEP-SHA256",
			func() ([]byte, error) { return RSAOAEPSHA256Wrap(nil, &priv.PublicKey, cek) },
			func(b []byte) ([]byte, error) { return RSAOAEPSHA256Unwrap(priv, b) },
			func(b []byte) ([]byte, error) { return RSAOAEPSHA256Unwrap(priv2, b) }},
		{"AESWrap",
			func() ([]byte, error) { return AESKeyWrap(kek, cek) },
			func(b []byte) ([]byte, error) { return AESKeyUnwrap(kek, b) },
			func(b []byte) ([]byte, error) { return AESKeyUnwrap(other, b) }},
		{"V1 AES/ECB",
			func() ([]byte, error) { return AESECBEncrypt(kek, cek) },
			func(b []byte) ([]byte, error) { return AESECBDecrypt(kek, b) },
			func(b []byte) ([]byte, error) { return AESECBDecrypt(other, b) }},
		{"V1 RSA/PKCS1",
			func() ([]byte, error) { return RSAPKCS1Encrypt(nil, &priv.PublicKey, cek) },
			func(b []byte) ([]byte, error) { return RSAPKCS1Decrypt(priv, b) },
			func(b []byte) ([]byte, error) { return RSAPKCS1Decrypt(priv2, b) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := tt.wrap()
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(w, cek) {
				t.Fatal("wrapped value contains the plaintext key")
			}
			got, err := tt.unwrap(w)
			if err != nil || !bytes.Equal(got, cek) {
				t.Fatalf("unwrap = %x, %v", got, err)
			}
			if got, err := tt.wrong(w); !errors.Is(err, ErrUnwrap) || got != nil {
				t.Fatalf("wrong unwrap = %x, %v; want nil, ErrUnwrap", got, err)
			}
			short := w[:len(w)-1]
			if _, err := tt.unwrap(short); err == nil {
				t.Fatal("truncated value unwrapped")
			}
		})
	}
}

func TestAESGCMWrapLayout(t *testing.T) {
	kek := bytes.Repeat([]byte{1}, 32)
	cek := bytes.Repeat([]byte{2}, 32)
	w, err := AESGCMWrap(bytes.NewReader(bytes.Repeat([]byte{9}, 12)), kek, cek, []byte("AES/GCM/NoPadding"))
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 12+32+16 || !bytes.Equal(w[:12], bytes.Repeat([]byte{9}, 12)) {
		t.Fatalf("layout: len %d, iv %x", len(w), w[:12])
	}
}

// TestRSAOAEPSHA1UnwrapErrorKeepsKeySecret: a pseudo-key whose length byte
// is too small leaves data-key bytes where the algorithm name should be; the
// error must say the binding is wrong without echoing them.
func TestRSAOAEPSHA1UnwrapErrorKeepsKeySecret(t *testing.T) {
	priv := testRSA(t)
	secret := []byte("SECRET-KEY-BYTES-0123456789abcdef")
	pseudo := append([]byte{1}, secret...) // claims a 1-byte key
	pseudo = append(pseudo, "AES/GCM/NoPadding"...)
	wrapped, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &priv.PublicKey, pseudo, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = RSAOAEPSHA1Unwrap(priv, wrapped, "AES/GCM/NoPadding")
	if !errors.Is(err, ErrUnwrap) {
		t.Fatalf("err = %v, want ErrUnwrap", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "SECRET") || strings.Contains(msg, "0123456789") || strings.Contains(msg, hex.EncodeToString(secret[:4])) {
		t.Fatalf("error echoes decrypted bytes: %s", msg)
	}
	if !strings.Contains(msg, "different content algorithm") || !strings.Contains(msg, `"AES/GCM/NoPadding"`) {
		t.Fatalf("error does not explain the binding: %s", msg)
	}
}
