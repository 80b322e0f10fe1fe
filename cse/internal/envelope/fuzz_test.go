package envelope

import (
	"encoding/json"
	"reflect"
	"testing"
)

func FuzzParseMetadata(f *testing.F) {
	add := func(m map[string]string) {
		b, _ := json.Marshal(m)
		f.Add(b)
	}
	add(v2GCMMeta())
	add(v3Meta())
	add(map[string]string{"x-amz-key": b64s(key32), "x-amz-iv": b64s(iv16)})
	add(with(v2GCMMeta(), "x-amz-matdesc", "=?UTF-8?B?e30=?="))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m map[string]string
		if json.Unmarshal(b, &m) != nil {
			return
		}
		e, err := Parse(m, nil)
		if err != nil {
			return
		}
		md, err := e.Metadata()
		if err != nil {
			t.Fatalf("parsed envelope does not serialize: %v", err)
		}
		again, err := Parse(md, nil)
		if err != nil {
			t.Fatalf("re-parse: %v (from %v)", err, md)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, e)
		}
	})
}

func FuzzParseInstruction(f *testing.F) {
	f.Add([]byte(`{"x-amz-key-v2":"` + b64s(key32) + `","x-amz-iv":"` + b64s(iv12) + `","x-amz-tag-len":128,"x-amz-cek-alg":"AES/GCM/NoPadding","x-amz-wrap-alg":"kms"}`))
	f.Add([]byte(`{"x-amz-3":"` + b64s(key32) + `","x-amz-w":"02","x-amz-m":{"a":"b"}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		instr, err := ParseInstruction(b)
		if err != nil {
			return
		}
		e, err := Parse(map[string]string{"x-amz-unencrypted-content-length": "5"}, instr)
		if err != nil {
			return
		}
		obj, body, err := e.Split()
		if err != nil {
			t.Fatal(err)
		}
		instr2, err := ParseInstruction(body)
		if err != nil {
			t.Fatalf("own instruction file does not parse: %v", err)
		}
		again, err := Parse(obj, instr2)
		if err != nil || !reflect.DeepEqual(again, e) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, e)
		}
	})
}

func FuzzParseMatDesc(f *testing.F) {
	for _, s := range []string{"", "{}", `{"kms_cmk_id":"alias/x"}`, `{"a":"\u00e9"}`, `{"a":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		md, err := ParseMatDesc(s)
		if err != nil {
			return
		}
		again, err := ParseMatDesc(MarshalMatDesc(md))
		if err != nil || !reflect.DeepEqual(again, md) {
			t.Fatalf("round trip of %q: %v, %v", s, again, err)
		}
	})
}
