package cse

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"os"
	"testing"
)

// FuzzGCMDecryptSpool drives the authenticate-before-release decrypter with
// a memory limit smaller than the message, so that every message of more
// than one chunk goes through the encrypted spool file, with additional
// data, and compares it with crypto/cipher's Open. When seal is set the
// input is a plaintext sealed first, so that valid messages are common;
// otherwise it is taken as ciphertext and tag as it is.
func FuzzGCMDecryptSpool(f *testing.F) {
	key, iv := testKey(53)
	block, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(block)
	f.Add([]byte("hello, spool"), []byte{0x00, 0x73}, true, uint8(0), uint16(1), uint8(0))
	f.Add(randBytes(1, 200), []byte("context"), true, uint8(1), uint16(50), uint8(2))
	f.Add(randBytes(2, 1000), []byte{}, true, uint8(3), uint16(999), uint8(1))
	f.Add(g.Seal(nil, iv, randBytes(3, 100), []byte("aad")), []byte("aad"), false, uint8(2), uint16(7), uint8(1))
	f.Add(g.Seal(nil, iv, randBytes(4, 100), []byte("aad")), []byte("other"), false, uint8(0), uint16(3), uint8(2))
	f.Add([]byte{}, []byte{}, false, uint8(0), uint16(0), uint8(0))
	f.Fuzz(func(t *testing.T, data, aad []byte, seal bool, chunkSel uint8, limitSel uint16, concSel uint8) {
		ct := data
		if seal {
			ct = g.Seal(nil, iv, data, aad)
		}
		chunk := 16 * (1 + int(chunkSel%8))
		limit := int64(1) // 0 < limit < plaintext size whenever the plaintext has 2 bytes or more
		if n := int64(len(ct)) - 16; n > 1 {
			limit = 1 + int64(limitSel)%(n-1)
		}
		dir := t.TempDir()
		r, err := newGCMDecryptReader(bytes.NewReader(ct), key, iv, aad, func(o *StreamOptions) {
			o.ChunkSize, o.Concurrency = chunk, 1+int(concSel%3)
			o.MemoryLimit, o.TempDir = limit, dir
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAllWith(r, []int{1 + int(chunkSel)%17, 64})
		want, werr := g.Open(nil, iv, ct, aad)
		if (err == nil) != (werr == nil) {
			t.Fatalf("stream error %v, crypto/cipher error %v", err, werr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatal("plaintext differs from crypto/cipher Open")
		}
		if err != nil {
			if !errors.Is(err, ErrNotAuthentic) {
				t.Fatalf("error %v is not ErrNotAuthentic", err)
			}
			if len(got) != 0 {
				t.Fatalf("%d plaintext bytes released before authentication", len(got))
			}
		}
		r.Close()
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("%d files left in TempDir after Close", len(ents))
		}
	})
}

// FuzzCBCPlaintextSize checks cbcPlaintextSize, which reads only the tail
// of an object, against decrypting the whole object and removing its
// PKCS#7 padding. extra puts that many blocks in front of the tail, as in a
// larger object. When encrypt is set the input is a plaintext encrypted
// first, so that valid padding is common.
func FuzzCBCPlaintextSize(f *testing.F) {
	key, iv := cbcKey(54)
	block, _ := aes.NewCipher(key)
	f.Add([]byte("legacy EMRFS object"), true, uint32(0))
	f.Add([]byte{}, true, uint32(3))
	f.Add(make([]byte, 16), false, uint32(0))
	f.Add(randBytes(5, 48), false, uint32(1<<20))
	f.Add(randBytes(6, 33), true, uint32(1<<31))
	f.Fuzz(func(t *testing.T, data []byte, encrypt bool, extra uint32) {
		ct := data
		if encrypt {
			ct = cbcEncrypt(key, iv, data)
		}
		n := int64(len(ct))
		if n < 16 || n%16 != 0 {
			tail := ct[max(0, len(ct)-32):]
			if _, err := cbcPlaintextSize(n, tail, key, iv); !errors.Is(err, ErrNotAuthentic) {
				t.Fatalf("length %d: %v; want ErrNotAuthentic", n, err)
			}
			return
		}
		// Reference: decrypt everything, then apply the padding rule.
		plain := make([]byte, len(ct))
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
		p := int(plain[len(plain)-1])
		ok := p >= 1 && p <= 16 && bytes.Equal(plain[len(plain)-p:], bytes.Repeat([]byte{byte(p)}, p))
		want := n - int64(p)
		if encrypt && (!ok || want != int64(len(data))) {
			t.Fatalf("reference: %d bytes encrypted, padding ok=%v size %d", len(data), ok, want)
		}

		tail := ct[len(ct)-min(len(ct), 32):]
		got, err := cbcPlaintextSize(n, tail, key, iv)
		if ok != (err == nil) || (ok && got != want) {
			t.Fatalf("size %d: cbcPlaintextSize = %d, %v; reference %d, valid=%v", n, got, err, want, ok)
		}
		if !ok && !errors.Is(err, ErrNotAuthentic) {
			t.Fatalf("bad padding reported as %v; want ErrNotAuthentic", err)
		}

		// The same tail at the end of a larger object: a one-block object's
		// predecessor is the IV.
		big := n + 16*int64(extra)
		if big > n {
			tail32 := tail
			if len(tail32) == 16 {
				tail32 = append(bytes.Clone(iv), ct...)
			}
			got, err := cbcPlaintextSize(big, tail32, key, iv)
			if ok != (err == nil) || (ok && got != want+16*int64(extra)) {
				t.Fatalf("size %d: cbcPlaintextSize = %d, %v; reference %d, valid=%v", big, got, err, want+16*int64(extra), ok)
			}
		}

		// A tail of the wrong length is refused.
		if _, err := cbcPlaintextSize(n, tail[1:], key, iv); err == nil {
			t.Fatalf("size %d: a %d-byte tail was accepted", n, len(tail)-1)
		}
	})
}
