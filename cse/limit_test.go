package cse

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/emrs3/emrs3/cse/internal/aesgcm"
)

// The GCM limit is 2^36-32 bytes of plaintext: 2^32-2 blocks counted from 2,
// so the last block uses counter 0xffffffff and a longer message would wrap
// the 32-bit counter. These tests reach the limit without allocating
// anything near it: they work on the size helpers, on ranges at the end of
// a maximal object, and on a multipart encryptor whose offset is set as if
// the earlier parts had been encrypted.

const maxPT = aesgcm.MaxPlaintext

// ctrAt is the GCM keystream applied at plaintext offset off (a multiple of
// 16), computed with crypto/cipher's CTR alone: counter IV ‖ uint32be(2+off/16).
func ctrAt(t *testing.T, key, iv []byte, off int64, data []byte) []byte {
	t.Helper()
	if off%16 != 0 {
		t.Fatalf("ctrAt: offset %d is not block aligned", off)
	}
	c := uint64(2) + uint64(off/16)
	if c > 0xffffffff {
		t.Fatalf("ctrAt: offset %d needs counter %#x, past 32 bits", off, c)
	}
	var ctr [16]byte
	copy(ctr[:], iv)
	binary.BigEndian.PutUint32(ctr[12:], uint32(c))
	block, _ := aes.NewCipher(key)
	out := make([]byte, len(data))
	cipher.NewCTR(block, ctr[:]).XORKeyStream(out, data)
	return out
}

func TestGCMLimitConstant(t *testing.T) {
	if maxPT != 1<<36-32 {
		t.Fatalf("MaxPlaintext = %d; NIST SP 800-38D allows 2^36-32 bytes", maxPT)
	}
}

func TestGCMSizesAtLimit(t *testing.T) {
	if n := gcmCiphertextSize(maxPT); n != maxPT+16 {
		t.Fatalf("gcmCiphertextSize(max) = %d", n)
	}
	if n, err := gcmPlaintextSize(maxPT + 16); err != nil || n != maxPT {
		t.Fatalf("gcmPlaintextSize of the largest object = %d, %v; want %d", n, err, int64(maxPT))
	}
	for _, n := range []int64{maxPT + 17, maxPT + 32, 1 << 40, 1<<63 - 1, 15, 0, -1} {
		if _, err := gcmPlaintextSize(n); !errors.Is(err, ErrNotAuthentic) {
			t.Fatalf("gcmPlaintextSize(%d) = %v; want ErrNotAuthentic", n, err)
		}
	}
}

func TestGCMRangeAtLimit(t *testing.T) {
	key, iv := testKey(60)
	size := int64(maxPT + 16)
	cases := []struct {
		off, n       int64
		fetchOff     int64
		fetchLen, pt int64
	}{
		{maxPT - 1, 10, maxPT - 16, 16, 1},        // clamped to the last byte
		{maxPT - 40, 40, maxPT - 48, 48, 40},      // the last three blocks
		{maxPT - 17, 1 << 20, maxPT - 32, 32, 17}, // across the last block boundary
		{maxPT - 16, 16, maxPT - 16, 16, 16},
	}
	for _, c := range cases {
		r, err := gcmRange(c.off, c.n, size)
		if err != nil {
			t.Fatal(err)
		}
		if r.Offset != c.fetchOff || r.Length != c.fetchLen || r.Size() != c.pt {
			t.Fatalf("gcmRange(%d, %d) = fetch %d+%d, %d bytes; want %d+%d, %d", c.off, c.n, r.Offset, r.Length, r.Size(), c.fetchOff, c.fetchLen, c.pt)
		}
		if r.Offset+r.Length > maxPT {
			t.Fatalf("range %s reaches into the tag", r.HTTPRange())
		}
		plain := randBytes(uint64(c.off), int(r.Length))
		rd, err := newRangeReader(bytes.NewReader(ctrAt(t, key, iv, r.Offset, plain)), key, iv, r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rd)
		skip := c.off - r.Offset
		if err != nil || !bytes.Equal(got, plain[skip:skip+c.pt]) {
			t.Fatalf("range [%d,+%d) at the end of a maximal object: got %x, %v; want %x", c.off, c.n, got, err, plain[skip:skip+c.pt])
		}
	}
	for _, off := range []int64{maxPT, maxPT + 1, 1 << 40} {
		if r, err := gcmRange(off, 1, size); err != nil || r.Length != 0 {
			t.Fatalf("gcmRange(%d) past the plaintext = %+v, %v; want an empty range", off, r, err)
		}
	}
	if _, err := gcmRange(0, 1, maxPT+17); !errors.Is(err, ErrNotAuthentic) {
		t.Fatalf("gcmRange on an object longer than GCM allows: %v", err)
	}
	// Offset and Length are exported: a range edited to reach past the
	// limit must be refused, not decrypted with a wrapped counter.
	r, _ := gcmRange(maxPT-16, 16, size)
	r.Length += 16
	if _, err := newRangeReader(bytes.NewReader(make([]byte, 32)), key, iv, r); !errors.Is(err, aesgcm.ErrTooLarge) {
		t.Fatalf("newRangeReader past the GCM limit: %v; want the limit error", err)
	}
}

// atOffset returns a multipart encryptor positioned as if off plaintext
// bytes had already been encrypted in earlier parts.
func atOffset(t *testing.T, key, iv []byte, off int64, opt func(*StreamOptions)) *MultipartEncryptor {
	t.Helper()
	m, err := newMultipartEncryptor(key, iv, nil, opt)
	if err != nil {
		t.Fatal(err)
	}
	m.off = off
	return m
}

func TestMultipartAtLimit(t *testing.T) {
	key, iv := testKey(61)
	for _, m := range []struct {
		name string
		opt  func(*StreamOptions)
	}{
		{"sequential", streamOpt(16, 1)},
		{"parallel", streamOpt(16, 3)},
		{"default", func(*StreamOptions) {}},
	} {
		// Parts that end exactly at the limit are encrypted with the
		// counters just below 2^32.
		for _, n := range []int64{16, 48, 160} {
			for _, last := range []bool{true, false} {
				e := atOffset(t, key, iv, maxPT-n, m.opt)
				pt := randBytes(uint64(n), int(n))
				got, err := e.EncryptPart(bytes.Clone(pt), last)
				if err != nil {
					t.Fatalf("%s: part of %d bytes ending at the limit: %v", m.name, n, err)
				}
				if want := ctrAt(t, key, iv, maxPT-n, pt); !bytes.Equal(got[:n], want) {
					t.Fatalf("%s: part of %d bytes ending at the limit: ciphertext is not AES-CTR at counter %#x", m.name, n, 2+(maxPT-n)/16)
				}
				if last != (len(got) == int(n)+16) || e.Size() != maxPT {
					t.Fatalf("%s: last=%v: %d bytes out, Size %d", m.name, last, len(got), e.Size())
				}
				if !last {
					// At the limit, only an empty last part (the tag) fits.
					if _, err := e.EncryptPart([]byte{1}, true); !errors.Is(err, aesgcm.ErrTooLarge) {
						t.Fatalf("%s: one byte past the limit: %v", m.name, err)
					}
					if tag, err := e.EncryptPart(nil, true); err != nil || len(tag) != 16 {
						t.Fatalf("%s: empty last part at the limit: %d bytes, %v", m.name, len(tag), err)
					}
				}
			}
		}
		// Parts that would cross the limit are refused before anything is
		// encrypted.
		for _, c := range []struct {
			off, n int64
			last   bool
		}{{maxPT - 32, 48, false}, {maxPT - 32, 33, true}, {maxPT, 16, false}, {maxPT - 16, 1 << 10, true}} {
			e := atOffset(t, key, iv, c.off, m.opt)
			part := randBytes(1, int(c.n))
			orig := bytes.Clone(part)
			if _, err := e.EncryptPart(part, c.last); !errors.Is(err, aesgcm.ErrTooLarge) {
				t.Fatalf("%s: %d bytes at offset max-%d: %v; want the limit error", m.name, c.n, maxPT-c.off, err)
			}
			if !bytes.Equal(part, orig) || e.Size() != c.off {
				t.Fatalf("%s: a refused part was changed or counted", m.name)
			}
		}
	}
}

func TestCBCSizesFarPastGCMLimit(t *testing.T) {
	// CBC has no such limit; its helpers must not overflow on objects far
	// larger than any GCM object.
	key, iv := cbcKey(62)
	pt := randBytes(2, 20) // one whole block, then 4 bytes and 12 of padding
	ct := cbcEncrypt(key, iv, pt)
	const size = 1 << 40 // an object whose last 32 bytes are ct
	n, err := cbcPlaintextSize(size, ct, key, iv)
	if err != nil || n != size-16+4 {
		t.Fatalf("cbcPlaintextSize(2^40) = %d, %v; want %d", n, err, size-16+4)
	}
	r, err := cbcRange(size-15, 100, size)
	if err != nil || r.Offset != size-32 || r.Length != 32 || r.Size() != 14 {
		t.Fatalf("cbcRange at the end of 2^40 bytes = %d+%d (%d), %v", r.Offset, r.Length, r.Size(), err)
	}
	rd, err := newRangeReader(bytes.NewReader(ct), key, iv, r)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(rd); err != nil || !bytes.Equal(got, pt[17:]) {
		t.Fatalf("last bytes of a 2^40-byte CBC object: %x, %v; want %x", got, err, pt[17:])
	}
}
