package envelope

import (
	"mime"
	"testing"
)

// TestNonASCIIMatDesc: a non-ASCII materials description is stored as
// ASCII JSON that parses back to itself.
func TestNonASCIIMatDesc(t *testing.T) {
	md := map[string]string{"projet": "données d’été", "名前": "値 ✓", "emoji": "🔑", "plain": "a\"b"}
	js := MarshalMatDesc(md)
	for i := 0; i < len(js); i++ {
		if js[i] < 0x20 || js[i] > 0x7e {
			t.Fatalf("MarshalMatDesc = %q: byte %#x is not printable ASCII", js, js[i])
		}
	}
	got, err := ParseMatDesc(js)
	if err != nil || len(got) != len(md) {
		t.Fatalf("ParseMatDesc(%q) = %v, %v", js, got, err)
	}
	for k, v := range md {
		if got[k] != v {
			t.Fatalf("%q: got %q, want %q", k, got[k], v)
		}
	}
	if js := MarshalMatDesc(map[string]string{"a": "b"}); js != `{"a":"b"}` {
		t.Fatalf("ASCII description changed: %s", js)
	}
}

// TestNormalizeNonASCII: RFC 2047 values are decoded whether the UTF-8 was
// encoded once (MinIO, emrs3 before) or twice (S3, for a raw UTF-8 value).
func TestNormalizeNonASCII(t *testing.T) {
	const want = `{"projet":"données d’été","名前":"値"}`
	latin1 := []rune{}
	for _, b := range []byte(want) {
		latin1 = append(latin1, rune(b))
	}
	for name, v := range map[string]string{
		"once (MinIO)": mime.BEncoding.Encode("UTF-8", want),
		"twice (S3)":   mime.BEncoding.Encode("UTF-8", string(latin1)),
		"Q encoding":   mime.QEncoding.Encode("UTF-8", want),
	} {
		m, err := Normalize(map[string]string{"x-amz-meta-x-amz-matdesc": v})
		if err != nil || m["x-amz-matdesc"] != want {
			t.Errorf("%s: %q, %v", name, m["x-amz-matdesc"], err)
		}
	}
	// Latin-1 text encoded once stays as it is.
	for _, s := range []string{"é", "données", "Zürich", "plain"} {
		if got := undoS3DoubleEncoding(s); got != s {
			t.Errorf("undoS3DoubleEncoding(%q) = %q", s, got)
		}
	}
}
