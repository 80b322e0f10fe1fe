package cse

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
)

// The known-answer files are described in testdata/README.md. Every vector
// is first checked against crypto/cipher, so a vector copied wrongly fails
// loudly instead of testing nothing.

type hexVector map[string]string

func (v hexVector) b(t *testing.T, k string) []byte {
	t.Helper()
	b, err := hex.DecodeString(v[k])
	if err != nil {
		t.Fatalf("%s.%s: %v", v["name"], k, err)
	}
	return b
}

func loadVectors(t *testing.T, file string) []hexVector {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Sources map[string]string
		Vectors []hexVector
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatalf("%s: no vectors", file)
	}
	for _, v := range f.Vectors {
		if v["source"] == "" || f.Sources[v["source"]] == "" {
			t.Fatalf("%s: vector %q does not name a source listed in the file", file, v["name"])
		}
	}
	return f.Vectors
}

// vectorModes are the streaming configurations every known-answer vector
// goes through. The chunks are small so that the longer vectors (up to 257
// bytes) span many chunks: the multi-chunk CTR offsets, the partial hashes
// combined with powers of H and the spool all run, not only the one-chunk
// fast path.
var vectorModes = []struct {
	name        string
	chunk, conc int
}{
	{name: "seq/16", chunk: 16, conc: 1},
	{name: "seq/48", chunk: 48, conc: 1},
	{name: "par3/16", chunk: 16, conc: 3},
	{name: "par2/64", chunk: 64, conc: 2},
}

func streamOpt(chunk, conc int) func(*StreamOptions) {
	return func(o *StreamOptions) { o.ChunkSize, o.Concurrency = chunk, conc }
}

// decryptVariants are the three ways to decrypt a GCM stream: authenticate
// before release with the message held in memory or spooled to disk (a
// limit of one byte spools any message of more than one chunk), and delayed
// authentication.
var decryptVariants = []struct {
	name    string
	limit   int64
	delayed bool
}{
	{"memory", 0, false},
	{"spool", 1, false},
	{"delayed", 0, true},
}

func TestGCMKnownAnswers(t *testing.T) {
	counts := map[string]int{}
	for _, v := range loadVectors(t, "testdata/gcm_vectors.json") {
		counts[v["source"]+"/"+v["result"]]++
		t.Run(v["name"], func(t *testing.T) {
			key, iv, aad, ct, tag := v.b(t, "key"), v.b(t, "iv"), v.b(t, "aad"), v.b(t, "ct"), v.b(t, "tag")
			msg := append(append([]byte(nil), ct...), tag...)
			block, err := aes.NewCipher(key)
			if err != nil {
				t.Fatal(err)
			}
			g, err := cipher.NewGCM(block)
			if err != nil {
				t.Fatal(err)
			}
			switch v["result"] {
			case "valid":
				pt := v.b(t, "pt")
				if got := g.Seal(nil, iv, pt, aad); !bytes.Equal(got, msg) {
					t.Fatalf("the vector disagrees with crypto/cipher Seal: %x", got)
				}
				checkGCMVectorValid(t, key, iv, aad, pt, msg)
			case "invalid":
				if _, err := g.Open(nil, iv, msg, aad); err == nil {
					t.Fatal("crypto/cipher accepts a vector marked invalid")
				}
				checkGCMVectorInvalid(t, key, iv, aad, msg)
			default:
				t.Fatalf("unknown result %q", v["result"])
			}
		})
	}
	// Guard against a file that silently lost its NIST or Wycheproof part.
	for _, k := range []string{"cavp-gcmEncryptExtIV256/valid", "cavp-gcmDecrypt256/valid", "cavp-gcmDecrypt256/invalid", "wycheproof/valid", "wycheproof/invalid"} {
		if counts[k] == 0 {
			t.Errorf("testdata/gcm_vectors.json has no %s vectors", k)
		}
	}
}

func checkGCMVectorValid(t *testing.T, key, iv, aad, pt, msg []byte) {
	t.Helper()
	for _, m := range vectorModes {
		opt := streamOpt(m.chunk, m.conc)
		r, err := newGCMEncryptReader(bytes.NewReader(pt), key, iv, aad, opt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAllWith(r, []int{7, 16, 33})
		r.Close()
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%s encrypt reader: got %x, %v; want %x", m.name, got, err, msg)
		}

		var buf bytes.Buffer
		w, err := newGCMEncryptWriter(&buf, key, iv, aad, opt)
		if err != nil {
			t.Fatal(err)
		}
		for rest := pt; len(rest) > 0; rest = rest[min(len(rest), 13):] {
			if _, err := w.Write(rest[:min(len(rest), 13)]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil || !bytes.Equal(buf.Bytes(), msg) {
			t.Fatalf("%s encrypt writer: got %x, %v; want %x", m.name, buf.Bytes(), err, msg)
		}

		// Multipart: 16-byte parts, the last one carrying the rest and the tag.
		mp, err := newMultipartEncryptor(key, iv, aad, opt)
		if err != nil {
			t.Fatal(err)
		}
		var parts []byte
		for off := 0; ; off += 16 {
			last := off+16 >= len(pt)
			part, err := mp.EncryptPart(append([]byte(nil), pt[off:min(off+16, len(pt))]...), last)
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, part...)
			if last {
				break
			}
		}
		if !bytes.Equal(parts, msg) {
			t.Fatalf("%s multipart: got %x, want %x", m.name, parts, msg)
		}

		for _, d := range decryptVariants {
			dir := t.TempDir()
			r, err := newGCMDecryptReader(bytes.NewReader(msg), key, iv, aad, func(o *StreamOptions) {
				o.ChunkSize, o.Concurrency = m.chunk, m.conc
				o.MemoryLimit, o.DelayedAuthentication, o.TempDir = d.limit, d.delayed, dir
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAllWith(r, []int{5, 16, 64})
			r.Close()
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("%s decrypt %s: got %x, %v; want %x", m.name, d.name, got, err, pt)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Fatalf("%s decrypt %s: %d files left in TempDir after Close", m.name, d.name, len(ents))
			}
		}
	}
}

func checkGCMVectorInvalid(t *testing.T, key, iv, aad, msg []byte) {
	t.Helper()
	for _, m := range vectorModes {
		for _, d := range decryptVariants {
			dir := t.TempDir()
			r, err := newGCMDecryptReader(bytes.NewReader(msg), key, iv, aad, func(o *StreamOptions) {
				o.ChunkSize, o.Concurrency = m.chunk, m.conc
				o.MemoryLimit, o.DelayedAuthentication, o.TempDir = d.limit, d.delayed, dir
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			var ae *AuthenticationError
			if !errors.Is(err, ErrNotAuthentic) || !errors.As(err, &ae) {
				t.Fatalf("%s decrypt %s: got %v, want an *AuthenticationError", m.name, d.name, err)
			}
			if !d.delayed && len(got) != 0 {
				t.Fatalf("%s decrypt %s: %d plaintext bytes released from a message that is not authentic", m.name, d.name, len(got))
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Fatalf("%s decrypt %s: %d files left in TempDir after the failure", m.name, d.name, len(ents))
			}
			r.Close()
		}
	}
}

func TestCBCKnownAnswers(t *testing.T) {
	for _, v := range loadVectors(t, "testdata/cbc_vectors.json") {
		t.Run(v["name"], func(t *testing.T) {
			key, iv, pt, ct := v.b(t, "key"), v.b(t, "iv"), v.b(t, "pt"), v.b(t, "ct")
			block, err := aes.NewCipher(key)
			if err != nil {
				t.Fatal(err)
			}
			if len(pt)%16 != 0 || len(ct) != len(pt) {
				t.Fatalf("vector of %d plaintext and %d ciphertext bytes: the CBC vectors are whole blocks", len(pt), len(ct))
			}
			enc := make([]byte, len(pt))
			cipher.NewCBCEncrypter(block, iv).CryptBlocks(enc, pt)
			if !bytes.Equal(enc, ct) {
				t.Fatal("the vector disagrees with crypto/cipher's CBC encrypter")
			}
			// PKCS#7 adds a full block of 0x10 to block-aligned plaintext: its
			// ciphertext is E(K, 0x10… ⊕ last ciphertext block).
			pad := bytes.Repeat([]byte{16}, 16)
			cipher.NewCBCEncrypter(block, ct[len(ct)-16:]).CryptBlocks(pad, pad)
			full := append(append([]byte(nil), ct...), pad...)
			for _, m := range vectorModes {
				d, err := newCBCDecryptReader(bytes.NewReader(full), key, iv, streamOpt(m.chunk, m.conc))
				if err != nil {
					t.Fatal(err)
				}
				got, err := readAllWith(d, []int{5, 16, 64})
				d.Close()
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("%s: got %x, %v", m.name, got, err)
				}
			}
			n, err := cbcPlaintextSize(int64(len(full)), full[len(full)-32:], key, iv)
			if err != nil || n != int64(len(pt)) {
				t.Fatalf("cbcPlaintextSize = %d, %v; want %d", n, err, len(pt))
			}
			// Every range of up to two blocks, by steps of 7 bytes.
			for off := int64(0); off <= int64(len(pt)); off += 7 {
				for _, n := range []int64{1, 16, 33} {
					r, err := cbcRange(off, n, int64(len(full)))
					if err != nil {
						t.Fatal(err)
					}
					checkRange(t, fmt.Sprintf("cbc range [%d,+%d)", off, n), full, pt, key, iv, r, off, n)
				}
			}
		})
	}
}
