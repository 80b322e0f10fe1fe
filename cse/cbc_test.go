package cse

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
)

func cbcEncrypt(key, iv, pt []byte) []byte {
	p := 16 - len(pt)%16
	buf := append(append([]byte(nil), pt...), bytes.Repeat([]byte{byte(p)}, p)...)
	block, _ := aes.NewCipher(key)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
	return buf
}

func cbcKey(seed uint64) (key, iv []byte) {
	key, _ = testKey(seed)
	return key, randBytes(seed+100, 16)
}

func TestCBCRoundTrip(t *testing.T) {
	key, iv := cbcKey(20)
	for _, m := range modes {
		for _, size := range testSizes {
			for _, pat := range readPattern {
				pt := randBytes(uint64(size), size)
				ct := cbcEncrypt(key, iv, pt)
				d, err := newCBCDecryptReader(iotest.HalfReader(bytes.NewReader(ct)), key, iv, m.opt)
				if err != nil {
					t.Fatal(err)
				}
				got, err := readAllWith(d, pat)
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("%s size=%d reads=%v: %v", m.name, size, pat, err)
				}
			}
		}
	}
}

// rawCBC encrypts data that is already block aligned, padding and all.
func rawCBC(key, iv, data []byte) []byte {
	out := append([]byte(nil), data...)
	block, _ := aes.NewCipher(key)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, out)
	return out
}

func TestCBCPaddingEdgeCases(t *testing.T) {
	key, iv := cbcKey(21)
	body := randBytes(3, 32)
	good := map[string]int{}
	bad := map[string][]byte{}
	for p := 1; p <= 16; p++ {
		blk := append(bytes.Repeat([]byte{0xAA}, 16-p), bytes.Repeat([]byte{byte(p)}, p)...)
		good[fmt.Sprintf("pad %d", p)] = p
		bad[fmt.Sprintf("pad %d, first pad byte wrong", p)] = append(append([]byte(nil), blk[:16-p]...), append([]byte{byte(p) ^ 0x40}, blk[17-p:]...)...)
	}
	bad["pad 0"] = append(bytes.Repeat([]byte{1}, 15), 0)
	bad["pad 17"] = bytes.Repeat([]byte{17}, 16)
	bad["pad 255"] = append(bytes.Repeat([]byte{0}, 15), 255)
	for name, p := range good {
		blk := append(bytes.Repeat([]byte{0xAA}, 16-p), bytes.Repeat([]byte{byte(p)}, p)...)
		ct := rawCBC(key, iv, append(append([]byte(nil), body...), blk...))
		for _, m := range modes {
			d, _ := newCBCDecryptReader(bytes.NewReader(ct), key, iv, m.opt)
			got, err := io.ReadAll(d)
			if err != nil || len(got) != 48-p {
				t.Fatalf("%s %s: got %d bytes, %v", name, m.name, len(got), err)
			}
		}
	}
	for name, blk := range bad {
		if len(blk) != 16 {
			t.Fatalf("%s: test block is %d bytes", name, len(blk))
		}
		ct := rawCBC(key, iv, append(append([]byte(nil), body...), blk...))
		for _, m := range modes {
			d, _ := newCBCDecryptReader(bytes.NewReader(ct), key, iv, m.opt)
			_, err := io.ReadAll(d)
			var ae *AuthenticationError
			if !errors.As(err, &ae) || ae.Reason != "decryption failed" {
				t.Fatalf("%s %s: got %v, want the one generic CBC error", name, m.name, err)
			}
		}
	}
	// Lengths that are not a positive multiple of 16.
	for _, n := range []int{0, 1, 15, 17, 31} {
		d, _ := newCBCDecryptReader(bytes.NewReader(make([]byte, n)), key, iv)
		if _, err := io.ReadAll(d); !errors.Is(err, ErrNotAuthentic) {
			t.Fatalf("length %d: got %v", n, err)
		}
	}
}

func TestCBCPlaintextSize(t *testing.T) {
	key, iv := cbcKey(22)
	for _, size := range []int{0, 1, 15, 16, 17, 31, 32, 33, 100} {
		ct := cbcEncrypt(key, iv, randBytes(1, size))
		n := int64(len(ct))
		tail := ct[max(0, len(ct)-32):]
		got, err := cbcPlaintextSize(n, tail, key, iv)
		if err != nil || got != int64(size) {
			t.Fatalf("size %d: got %d, %v", size, got, err)
		}
	}
	if _, err := cbcPlaintextSize(32, make([]byte, 16), key, iv); err == nil {
		t.Fatal("a short tail was accepted")
	}
}

func TestGCMPlaintextSize(t *testing.T) {
	if n, err := gcmPlaintextSize(16); n != 0 || err != nil {
		t.Fatalf("16: %d %v", n, err)
	}
	if n, err := gcmPlaintextSize(1016); n != 1000 || err != nil || gcmCiphertextSize(1000) != 1016 {
		t.Fatalf("1016: %d %v", n, err)
	}
	if _, err := gcmPlaintextSize(15); !errors.Is(err, ErrNotAuthentic) {
		t.Fatalf("15: %v", err)
	}
}
