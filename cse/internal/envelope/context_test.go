package envelope

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseContext(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
	}{
		{"", map[string]string{}},
		{"  ", map[string]string{}},
		{"k1=v1,k2=v2", map[string]string{"k1": "v1", "k2": "v2"}},
		{" project = alpha , team=data ", map[string]string{"project": "alpha", "team": "data"}},
		{"k1:v1,k2:v2", map[string]string{"k1": "v1", "k2": "v2"}},
		{"k1:v1,,k2:v2,", map[string]string{"k1": "v1", "k2": "v2"}},
		{`"a:b":"c,d",e:f`, map[string]string{"a:b": "c,d", "e": "f"}},
		{`"q\"uote":"back\\slash"`, map[string]string{`q"uote`: `back\slash`}},
		{`url="s3://b/p=1",x=y`, map[string]string{"url": "s3://b/p=1", "x": "y"}},
		{"arn=arn:aws:iam::1:role/r", map[string]string{"arn": "arn:aws:iam::1:role/r"}},
		{"k=", map[string]string{"k": ""}},
		{`{"k1":"v1","k2":"v:2"}`, map[string]string{"k1": "v1", "k2": "v:2"}},
	}
	for _, tt := range tests {
		got, err := ParseContext(tt.in)
		if err != nil {
			t.Errorf("ParseContext(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseContext(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseContextErrors(t *testing.T) {
	for _, in := range []string{
		"k1", "k1=v1,k2", "=v", ":v", "k1=v1,k2:v2", "k1:v1,k2=v2", `"unterminated:v`, `k:"v`, `a"b:c`,
		"aws:x-amz-cek-alg=AES", `"AWS:foo":bar`, "k=1,k=2", `{"aws:k":"v"}`, `{"k":1}`, `"k" x:v`, `k:"v" x`, `"a\n":b`,
	} {
		m, err := ParseContext(in)
		var ce *ContextError
		if !errors.As(err, &ce) {
			t.Errorf("ParseContext(%q) = %v, %v; want *ContextError", in, m, err)
		}
	}
}

func FuzzParseContext(f *testing.F) {
	for _, s := range []string{"k1=v1,k2=v2", "k1:v1", `"a:b":"c,d"`, `{"k":"v"}`, `"\\"`, "aws:x=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseContext(s)
		if err != nil {
			return
		}
		// Whatever parses re-parses identically from its quoted ':' form.
		var b []byte
		for k, v := range m {
			if len(b) > 0 {
				b = append(b, ',')
			}
			b = appendQuoted(b, k)
			b = append(b, ':')
			b = appendQuoted(b, v)
		}
		again, err := ParseContext(string(b))
		if err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", b, s, err)
		}
		if len(m) > 0 && !reflect.DeepEqual(again, m) {
			t.Fatalf("re-parse of %q = %v, want %v", b, again, m)
		}
	})
}

func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
