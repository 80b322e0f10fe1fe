package cse

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestContentMethods: the sizes, ranges and streams of a Content choose
// the cipher of its algorithm.
func TestContentMethods(t *testing.T) {
	key, iv := cbcKey(7)
	pt := bytes.Repeat([]byte("0123456789abcdef!"), 100) // 1700 bytes
	cbc := &Content{Algorithm: AlgCBC, Key: key, IV: iv, policy: EMRFSCompatible()}
	ct := cbcEncrypt(key, iv, pt)
	if n, err := cbc.DecryptedSize(int64(len(ct)), ct[len(ct)-32:]); err != nil || n != int64(len(pt)) {
		t.Fatalf("CBC DecryptedSize = %d, %v; want %d", n, err, len(pt))
	}
	if n := cbc.EncryptedSize(int64(len(pt))); n != int64(len(ct)) {
		t.Fatalf("CBC EncryptedSize = %d, want %d", n, len(ct))
	}
	bad := bytes.Clone(ct[len(ct)-32:])
	bad[31] ^= 1
	if _, err := cbc.DecryptedSize(int64(len(ct)), bad); !errors.Is(err, ErrNotAuthentic) {
		t.Fatalf("CBC DecryptedSize of a bad padding = %v, want ErrNotAuthentic", err)
	}
	r, err := cbc.Range(1000, 50, int64(len(ct)))
	if err != nil {
		t.Fatal(err)
	}
	rr, err := cbc.NewRangeReader(bytes.NewReader(ct[r.Offset:r.Offset+r.Length]), r)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(rr); err != nil || !bytes.Equal(got, pt[1000:1050]) {
		t.Fatalf("CBC range = %q, %v", got, err)
	}
	if _, err := cbc.NewEncryptReader(bytes.NewReader(pt)); err == nil {
		t.Fatal("CBC content encrypts")
	}
	if _, err := cbc.NewMultipartEncryptor(); err == nil {
		t.Fatal("CBC content starts a multipart upload")
	}

	gcm := &Content{Algorithm: AlgGCM, Key: key, IV: iv[:12], policy: Policy{UnauthenticatedRanges: true}}
	er, err := gcm.NewEncryptReader(bytes.NewReader(pt))
	if err != nil {
		t.Fatal(err)
	}
	gct, _ := io.ReadAll(er)
	if n := gcm.EncryptedSize(int64(len(pt))); n != int64(len(gct)) {
		t.Fatalf("GCM EncryptedSize = %d, want %d", n, len(gct))
	}
	if n, err := gcm.DecryptedSize(int64(len(gct)), nil); err != nil || n != int64(len(pt)) {
		t.Fatalf("GCM DecryptedSize = %d, %v", n, err)
	}
	if _, err := gcm.DecryptedSize(15, nil); !errors.Is(err, ErrNotAuthentic) {
		t.Fatalf("GCM DecryptedSize(15) = %v, want ErrNotAuthentic", err)
	}
	// A Range is bound to its algorithm.
	if _, err := gcm.NewRangeReader(bytes.NewReader(ct[r.Offset:r.Offset+r.Length]), r); err == nil {
		t.Fatal("a CBC range read as GCM")
	}
	mp, err := gcm.NewMultipartEncryptor()
	if err != nil {
		t.Fatal(err)
	}
	part, err := mp.EncryptPart(bytes.Clone(pt), true)
	if err != nil || !bytes.Equal(part, gct) {
		t.Fatalf("multipart = %d bytes, %v; want the stream's %d", len(part), err, len(gct))
	}
}
