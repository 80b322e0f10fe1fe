package encctx

import (
	"errors"
	"maps"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
	}{
		{"", nil},
		{"  ", nil},
		{",, ,", nil},
		{"{}", nil},
		{" { } ", nil},
		{"a=1,b=2", map[string]string{"a": "1", "b": "2"}},
		{" project = alpha , team=data ", map[string]string{"project": "alpha", "team": "data"}},
		{"key1:value1, key2:value2", map[string]string{"key1": "value1", "key2": "value2"}},
		{"k1:v1,,k2:v2,", map[string]string{"k1": "v1", "k2": "v2"}},
		{"path=s3://b/k", map[string]string{"path": "s3://b/k"}},
		{"arn=arn:aws:iam::1:role/r", map[string]string{"arn": "arn:aws:iam::1:role/r"}},
		{"source:arn:aws:emr-serverless:us-east-1:111122223333:/applications/app-1", map[string]string{"source": "arn:aws:emr-serverless:us-east-1:111122223333:/applications/app-1"}},
		{"k=dGVzdA==", map[string]string{"k": "dGVzdA=="}},
		// The four inputs on which the two former parsers disagreed.
		{`a="b,c"`, map[string]string{"a": "b,c"}},
		{"k=v=w", map[string]string{"k": "v=w"}},
		{"k:v=w", map[string]string{"k": "v=w"}},
		// ("aws:x=1" is refused: see TestParseErrors.)
		{`"k:v"=w`, map[string]string{"k:v": "w"}},
		{`"a:b":"c,d",e:f`, map[string]string{"a:b": "c,d", "e": "f"}},
		{`"q\"uote":"back\\slash"`, map[string]string{`q"uote`: `back\slash`}},
		{`url="s3://b/p=1",x=y`, map[string]string{"url": "s3://b/p=1", "x": "y"}},
		{"k=", map[string]string{"k": ""}},
		{`k=""`, map[string]string{"k": ""}},
		{`k=" padded "`, map[string]string{"k": " padded "}},
		{`{"x":"y"}`, map[string]string{"x": "y"}},
		{`{"k1":"v1","k2":"v:2"}`, map[string]string{"k1": "v1", "k2": "v:2"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !maps.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"plain", "k1", "k1=v1,k2", "=v", ":v", `""=v`,
		"k1=v1,k2:v2", "k1:v1,k2=v2", "x=1,a:b=2",
		`"unterminated:v`, `k:"v`, `a"b:c`, `k=a"b"`, `"k" x:v`, `k:"v" x`, `"a\n":b`, `"a\`,
		"aws:x=1", "aws:x-amz-cek-alg=AES", `"AWS:foo":bar`, "aws=1",
		"k=1,k=2", "k=1, k =2",
		`{"aws:k":"v"}`, `{"k":1}`, `{"k":null}`, `{"k":{"a":"b"}}`, `{"":"y"}`, `{"k":"1","k":"2"}`, `{"k":"v"} x`, `{"k":"v"`, `{`,
		"k=\xff",
	} {
		m, err := Parse(in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %v, %v; want an *Error", in, m, err)
		}
	}
}

// roundTrip checks that every accepted input, written back in each form,
// parses to the same map.
func roundTrip(t *testing.T, s string) {
	m, err := Parse(s)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Parse(%q): error %v is not an *Error", s, err)
		}
		return
	}
	if m != nil && len(m) == 0 {
		t.Fatalf("Parse(%q) = empty non-nil map", s)
	}
	forms := map[string]string{
		"k=v":  Format(m, '='),
		"k:v":  Format(m, ':'),
		"JSON": FormatJSON(m),
	}
	for name, f := range forms {
		again, err := Parse(f)
		if err != nil {
			t.Fatalf("Parse(%q) = %#v; its %s form %q does not parse: %v", s, m, name, f, err)
		}
		if !maps.Equal(again, m) {
			t.Fatalf("Parse(%q) = %#v; its %s form %q parses to %#v", s, m, name, f, again)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{"a=1", `"a,b":"c\"d"`, `{"k":" v ","x":"{"}`, `{"{k":"v"}`, "k=", `{"a=b":"c:d","e":""}`} {
		roundTrip(t, s)
	}
}

// FuzzParse checks the parser against itself: an accepted input, formatted
// in each form Parse reads (k=v, k:v, JSON), parses to the same map;
// anything else is an *Error, never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"k1=v1,k2=v2", "k1:v1", `"a:b":"c,d"`, `{"k":"v"}`, `"\\"`, "aws:x=1",
		`a="b,c"`, "k=v=w", "k:v=w", `{"a":"b","a":"c"}`, " , k = v ,", `"" : x`,
	} {
		f.Add(s)
	}
	f.Fuzz(roundTrip)
}
