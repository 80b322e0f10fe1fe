package cse

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestWriteTo checks the io.WriterTo paths that io.Copy takes against the
// same expectations as Read.
func TestWriteTo(t *testing.T) {
	key, iv := testKey(90)
	cbcIV := randBytes(90, 16)
	for _, m := range modes {
		for _, size := range testSizes {
			pt := randBytes(uint64(size), size)
			ct := stdSeal(key, iv, nil, pt)

			enc, _ := newGCMEncryptReader(bytes.NewReader(pt), key, iv, nil, m.opt)
			var got bytes.Buffer
			if _, err := io.Copy(&got, enc); err != nil || !bytes.Equal(got.Bytes(), ct) {
				t.Fatalf("%s size %d: encrypt WriteTo: %v", m.name, size, err)
			}
			for _, delayed := range []bool{false, true} {
				for _, limit := range []int64{0, -1} {
					opts := decOpts(m.opt, func(o *StreamOptions) {
						o.DelayedAuthentication, o.MemoryLimit, o.TempDir = delayed, limit, t.TempDir()
					})
					dec, _ := newGCMDecryptReader(bytes.NewReader(ct), key, iv, nil, opts...)
					got.Reset()
					if _, err := io.Copy(&got, dec); err != nil || !bytes.Equal(got.Bytes(), pt) {
						t.Fatalf("%s size %d delayed=%v: decrypt WriteTo: %v", m.name, size, delayed, err)
					}
					bad := append([]byte(nil), ct...)
					bad[len(bad)-1] ^= 1
					dec, _ = newGCMDecryptReader(bytes.NewReader(bad), key, iv, nil, opts...)
					got.Reset()
					_, err := io.Copy(&got, dec)
					if !errors.Is(err, ErrNotAuthentic) || (!delayed && got.Len() != 0) {
						t.Fatalf("%s size %d delayed=%v: tampered WriteTo: %d bytes, %v", m.name, size, delayed, got.Len(), err)
					}
				}
			}
			cbc, _ := newCBCDecryptReader(bytes.NewReader(cbcEncrypt(key, cbcIV, pt)), key, cbcIV, m.opt)
			got.Reset()
			if _, err := io.Copy(&got, cbc); err != nil || !bytes.Equal(got.Bytes(), pt) {
				t.Fatalf("%s size %d: CBC WriteTo: %v", m.name, size, err)
			}
		}
	}
}
