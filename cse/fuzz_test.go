package cse

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"io"
	"testing"
)

func FuzzGCMDecrypt(f *testing.F) {
	key, iv := testKey(50)
	f.Add(stdSeal(key, iv, nil, []byte("hello, world")), uint8(1), false)
	f.Add(stdSeal(key, iv, nil, make([]byte, 200)), uint8(3), true)
	f.Add([]byte{}, uint8(0), false)
	block, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(block)
	f.Fuzz(func(t *testing.T, ct []byte, chunkSel uint8, delayed bool) {
		chunk := 16 * (1 + int(chunkSel%8))
		r, err := newGCMDecryptReader(bytes.NewReader(ct), key, iv, nil, func(o *StreamOptions) {
			o.ChunkSize, o.Concurrency, o.DelayedAuthentication = chunk, 1+int(chunkSel%3), delayed
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		want, werr := g.Open(nil, iv, ct, nil)
		if (err == nil) != (werr == nil) {
			t.Fatalf("stream error %v, stdlib error %v", err, werr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatal("plaintext differs from crypto/cipher Open")
		}
		if err != nil && !delayed && len(got) > 0 {
			t.Fatal("plaintext released before authentication")
		}
	})
}

func FuzzCBCDecrypt(f *testing.F) {
	key, iv := cbcKey(51)
	f.Add(cbcEncrypt(key, iv, []byte("legacy EMRFS object")), uint8(0))
	f.Add(make([]byte, 48), uint8(5))
	block, _ := aes.NewCipher(key)
	f.Fuzz(func(t *testing.T, ct []byte, chunkSel uint8) {
		chunk := 16 * (1 + int(chunkSel%8))
		r, _ := newCBCDecryptReader(bytes.NewReader(ct), key, iv, func(o *StreamOptions) {
			o.ChunkSize, o.Concurrency = chunk, 1+int(chunkSel%3)
		})
		got, err := io.ReadAll(r)
		// Reference: one-shot CBC and the padding rule.
		ok := len(ct) >= 16 && len(ct)%16 == 0
		var want []byte
		if ok {
			buf := append([]byte(nil), ct...)
			cipher.NewCBCDecrypter(block, iv).CryptBlocks(buf, buf)
			p := int(buf[len(buf)-1])
			ok = p >= 1 && p <= 16 && bytes.Equal(buf[len(buf)-p:], bytes.Repeat([]byte{byte(p)}, p))
			if ok {
				want = buf[:len(buf)-p]
			}
		}
		if ok != (err == nil) {
			t.Fatalf("error %v, reference ok=%v", err, ok)
		}
		if ok && !bytes.Equal(got, want) {
			t.Fatal("plaintext differs from the reference")
		}
	})
}

func FuzzRange(f *testing.F) {
	key, iv := testKey(52)
	cbcIV := randBytes(1, 16)
	f.Add(uint16(100), int64(3), int64(50))
	f.Add(uint16(0), int64(0), int64(1))
	f.Fuzz(func(t *testing.T, size uint16, off, n int64) {
		if off < 0 || n < 0 {
			if _, err := gcmRange(off, n, int64(size)+16); err == nil {
				t.Fatal("negative range accepted")
			}
			return
		}
		pt := randBytes(uint64(size), int(size%4096))
		ct := stdSeal(key, iv, nil, pt)
		r, err := gcmRange(off, n, int64(len(ct)))
		if err != nil {
			t.Fatal(err)
		}
		checkRange(t, "gcm", ct, pt, key, iv, r, off, n)
		cct := cbcEncrypt(key, cbcIV, pt)
		r, err = cbcRange(off, n, int64(len(cct)))
		if err != nil {
			t.Fatal(err)
		}
		checkRange(t, "cbc", cct, pt, key, cbcIV, r, off, n)
	})
}
