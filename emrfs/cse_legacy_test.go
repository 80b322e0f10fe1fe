package emrfs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// newClient returns a client of st configured with props (name, value, ...).
func newClient(t *testing.T, st *emrfstest.Stack, kv []string, optFns ...func(*emrfs.Options)) *emrfs.Client {
	t.Helper()
	cfg := emrfs.NewConfig()
	for i := 0; i+1 < len(kv); i += 2 {
		cfg.Set(kv[i], kv[i+1])
	}
	c, err := emrfs.New(s3.NewFromConfig(st.Config, st.S3Options), cfg, append([]func(*emrfs.Options){func(o *emrfs.Options) {
		o.KMS = kms.NewFromConfig(st.Config)
		o.TempDir = t.TempDir()
	}}, optFns...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func withPolicy(p cse.Policy) func(*emrfs.Options) {
	return func(o *emrfs.Options) { o.CSEPolicy = &p }
}

// readHead opens uri and reads its first n bytes with ReadAt.
func readHead(c *emrfs.Client, uri string, n int) ([]byte, error) {
	f, err := c.Open(context.Background(), uri)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := make([]byte, n)
	_, err = f.ReadAt(p, 0)
	return p, err
}

// TestCSECryptoModes: what fs.s3.cse.cryptoMode does to reads. A GCM object
// whose last block was modified tells a ranged partial read (the head comes
// back, unverified) from an authenticated one (cse.ErrNotAuthentic); a CBC
// object of the s3crypto V1 client tells whether unauthenticated content is
// read at all.
func TestCSECryptoModes(t *testing.T) {
	st, writer, keyID := cseStackKey(t)
	ctx := context.Background()
	api := s3.NewFromConfig(st.Config, st.S3Options)
	data := randomData(3, 100_000)
	if err := put(t, writer, ctx, "s3://data/gcm", data); err != nil {
		t.Fatal(err)
	}
	tamper(t, api, "data", "gcm", func(b []byte) { b[len(b)-20] ^= 1 })
	v1Put(t, st, keyID, "data", "cbc", data, true)

	emrfsProps := func(mode string) []string {
		kv := []string{
			"fs.s3.cse.enabled", "true",
			"fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider,
			"fs.s3.cse.kms.keyId", keyID,
		}
		if mode != "" {
			kv = append(kv, "fs.s3.cse.cryptoMode", mode)
		}
		return kv
	}
	s3aProps := []string{"fs.s3a.encryption.algorithm", "CSE-KMS", "fs.s3a.encryption.key", keyID}
	compat := cse.EMRFSCompatible()
	for _, tc := range []struct {
		name      string
		props     []string
		policy    *cse.Policy
		rangedGCM bool // the head of the tampered GCM object is returned
		readsCBC  bool
	}{
		{"default", emrfsProps(""), nil, false, false},
		{"EncryptionOnly", emrfsProps("EncryptionOnly"), nil, false, false},
		{"AuthenticatedEncryption", emrfsProps("AuthenticatedEncryption"), nil, true, false},
		{"StrictAuthenticatedEncryption", emrfsProps("StrictAuthenticatedEncryption"), nil, false, false},
		{"EMRFSCompatible", emrfsProps(""), &compat, true, true},
		{"EMRFSCompatible+AuthenticatedEncryption", emrfsProps("AuthenticatedEncryption"), &compat, true, true},
		{"EMRFSCompatible+StrictAuthenticatedEncryption", emrfsProps("StrictAuthenticatedEncryption"), &compat, false, false},
		{"S3A", s3aProps, nil, false, false},
	} {
		var opts []func(*emrfs.Options)
		if tc.policy != nil {
			opts = append(opts, withPolicy(*tc.policy))
		}
		c := newClient(t, st, tc.props, opts...)
		head, err := readHead(c, "s3://data/gcm", 100)
		switch {
		case tc.rangedGCM && (err != nil || !bytes.Equal(head, data[:100])):
			t.Errorf("%s: ranged ReadAt of the head = %v, want the head (unauthenticated)", tc.name, err)
		case !tc.rangedGCM && !errors.Is(err, cse.ErrNotAuthentic):
			t.Errorf("%s: ReadAt of the head = %v, want cse.ErrNotAuthentic (authenticated partial read)", tc.name, err)
		}
		if _, err := read(c, ctx, "s3://data/gcm"); !errors.Is(err, cse.ErrNotAuthentic) {
			t.Errorf("%s: whole read of the tampered object = %v, want cse.ErrNotAuthentic", tc.name, err)
		}
		got, err := read(c, ctx, "s3://data/cbc")
		var pe *cse.PolicyError
		switch {
		case tc.readsCBC && (err != nil || !bytes.Equal(got, data)):
			t.Errorf("%s: CBC object: %v", tc.name, err)
		case !tc.readsCBC && !errors.As(err, &pe):
			t.Errorf("%s: CBC object = %v, want a *cse.PolicyError", tc.name, err)
		case !tc.readsCBC && strings.Contains(tc.name, "Strict") && !strings.Contains(err.Error(), "StrictAuthenticatedEncryption"):
			t.Errorf("%s: the error does not name the crypto mode: %v", tc.name, err)
		}
	}
}

// TestCSECompatibilityV1: with fs.s3a.encryption.cse.v1.compatibility.enabled
// an S3A CSE-KMS bucket reads what S3A reads — objects of the V1 encryption
// client (legacy kms wrap; AES-CBC or AES-GCM) — as well as unencrypted
// ones; without it they are refused with a *cse.PolicyError naming the
// option.
func TestCSECompatibilityV1(t *testing.T) {
	st, _, keyID := cseStackKey(t)
	ctx := context.Background()
	data := randomData(4, 70_001)
	v1Put(t, st, keyID, "data", "v1-cbc", data, true)
	v1Put(t, st, keyID, "data", "v1-gcm", data, false)
	api := s3.NewFromConfig(st.Config, st.S3Options)
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("plain"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	props := []string{"fs.s3a.encryption.algorithm", "CSE-KMS", "fs.s3a.encryption.key", keyID}
	strict := newClient(t, st, props)
	compat := newClient(t, st, append(props, "fs.s3a.encryption.cse.v1.compatibility.enabled", "true"))
	for _, key := range []string{"v1-cbc", "v1-gcm", "plain"} {
		uri := "s3://data/" + key
		_, err := read(strict, ctx, uri)
		var pe *cse.PolicyError
		if key == "plain" {
			if !errors.Is(err, emrfs.ErrNotEncrypted) {
				t.Errorf("%s without compatibility = %v, want emrfs.ErrNotEncrypted", key, err)
			}
		} else if !errors.As(err, &pe) || !strings.Contains(err.Error(), "fs.s3a.encryption.cse.v1.compatibility.enabled") {
			t.Errorf("%s without compatibility = %v, want a *cse.PolicyError naming the option", key, err)
		}
		got, err := read(compat, ctx, uri)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s with compatibility: %d bytes, %v", key, len(got), err)
		}
		fi, err := compat.Stat(ctx, uri)
		if err != nil || fi.Size() != int64(len(data)) {
			t.Errorf("%s with compatibility: Stat = %v, %v", key, fi, err)
		}
		// Partial reads are authenticated where possible: not ranged.
		p := make([]byte, 1000)
		f, err := compat.Open(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.ReadAt(p, 5000); err != nil || !bytes.Equal(p, data[5000:6000]) {
			t.Errorf("%s with compatibility: ReadAt: %v", key, err)
		}
		f.Close()
	}
	// A V1 CBC object whose padding was modified fails: flipping the last
	// byte of the block before the last flips the padding byte (15 for
	// 70,001 bytes) to 0xf0, which no padding has.
	tamper(t, api, "data", "v1-cbc", func(b []byte) { b[len(b)-17] ^= 0xff })
	if _, err := read(compat, ctx, "s3://data/v1-cbc"); !errors.Is(err, cse.ErrNotAuthentic) {
		t.Errorf("CBC object with a broken padding = %v, want cse.ErrNotAuthentic", err)
	}
}

// ranges returns the Range headers of the GETs of bucket/key logged since
// the log was reset, and checks that each carries If-Match.
func ranges(t *testing.T, st *emrfstest.Stack, key string) []string {
	t.Helper()
	var out []string
	for _, r := range st.S3.Requests() {
		if r.Method == "GET" && r.Key == key {
			if r.Header.Get("If-Match") == "" {
				t.Errorf("GET %s (%s) without If-Match", key, r.Header.Get("Range"))
			}
			out = append(out, r.Header.Get("Range"))
		}
	}
	return out
}

// TestCSERangedResume: the server cuts GETs of CSE objects mid-body several
// times, 33 KB apart: ranged reads (cse.EMRFSCompatible) of GCM objects
// (AES-CTR) and of CBC objects (written by aws-sdk-go v1 s3crypto's V1
// client) resume the ciphertext range from the byte reached, pinned to the
// ETag, without a byte lost or duplicated, and so do whole reads and the
// tail read that finds a CBC object's plaintext size.
func TestCSERangedResume(t *testing.T) {
	st, writer, keyID := cseStackKey(t)
	ctx := context.Background()
	api := s3.NewFromConfig(st.Config, st.S3Options)
	data := randomData(11, 300_001)
	if err := put(t, writer, ctx, "s3://data/gcm", data); err != nil {
		t.Fatal(err)
	}
	v1Put(t, st, keyID, "data", "cbc", data, true)
	// Without x-amz-unencrypted-content-length the size of a CBC object
	// comes from its last two blocks.
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("cbc")})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(out.Body)
	out.Body.Close()
	delete(out.Metadata, "x-amz-unencrypted-content-length")
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("cbc-nolen"),
		Body: bytes.NewReader(raw), Metadata: out.Metadata}); err != nil {
		t.Fatal(err)
	}

	c := newClient(t, st, []string{
		"fs.s3.cse.enabled", "true",
		"fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider,
		"fs.s3.cse.kms.keyId", keyID,
	}, withPolicy(cse.EMRFSCompatible()))
	const cut = 33_333
	for _, key := range []string{"gcm", "cbc", "cbc-nolen"} {
		uri := "s3://data/" + key
		st.S3.ResetRequests()
		st.S3.BreakNextGets(1, 10) // the tail GET of cbc-nolen, else the first read
		f, err := c.Open(ctx, uri)
		if err != nil {
			t.Fatalf("%s: Open: %v", key, err)
		}
		if f.Size() != int64(len(data)) {
			t.Errorf("%s: size %d, want %d", key, f.Size(), len(data))
		}
		st.S3.BreakNextGets(0, 0)

		// ReadAt of a slice: one ranged GET, cut four times.
		st.S3.ResetRequests()
		st.S3.BreakNextGets(4, cut)
		p := make([]byte, 200_000)
		if n, err := f.ReadAt(p, 50_000); err != nil || n != len(p) || !bytes.Equal(p, data[50_000:250_000]) {
			t.Fatalf("%s: ReadAt under 4 cuts: %d, %v (equal %v)", key, n, err, bytes.Equal(p, data[50_000:250_000]))
		}
		rs := ranges(t, st, key)
		if len(rs) != 5 {
			t.Errorf("%s: ranged GETs %q, want 5 (4 cut, each resumed)", key, rs)
		}
		for i := 1; i < len(rs); i++ {
			var a0, a1, b0, b1 int64
			if _, err := fmt.Sscanf(rs[i-1], "bytes=%d-%d", &a0, &a1); err != nil {
				t.Fatalf("%s: Range %q", key, rs[i-1])
			}
			if _, err := fmt.Sscanf(rs[i], "bytes=%d-%d", &b0, &b1); err != nil {
				t.Fatalf("%s: Range %q", key, rs[i])
			}
			if b0 != a0+cut || b1 != a1 {
				t.Errorf("%s: GET %d resumes at %q after %q, want from the byte the cut reached", key, i, rs[i], rs[i-1])
			}
		}

		// Seek and Read to the end: ranged, resumed.
		st.S3.BreakNextGets(3, cut)
		if _, err := f.Seek(123_457, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if rest, err := io.ReadAll(f); err != nil || !bytes.Equal(rest, data[123_457:]) {
			t.Errorf("%s: Seek+ReadAll under 3 cuts: %d bytes, %v", key, len(rest), err)
		}
		f.Close()

		// The whole object, authenticated for GCM, resumed.
		st.S3.BreakNextGets(4, cut)
		if got, err := read(c, ctx, uri); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: whole read under 4 cuts: %d bytes, %v", key, len(got), err)
		}
		st.S3.BreakNextGets(0, 0)

		// Stat: from the envelope, or the tail of a CBC object (cut once).
		st.S3.BreakNextGets(1, 7)
		fi, err := c.Stat(ctx, uri)
		if err != nil || fi.Size() != int64(len(data)) {
			t.Errorf("%s: Stat under a cut: %v, %v", key, fi, err)
		}
		st.S3.BreakNextGets(0, 0)
	}
}
