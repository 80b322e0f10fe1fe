package session

import (
	"regexp"
	"strings"
	"testing"
)

var stsName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

func TestName(t *testing.T) {
	tests := map[string]string{
		"user1":             "user1",
		"alice@EXAMPLE.COM": "alice@EXAMPLE.COM",
		"":                  Anonymous,
	}
	for in, want := range tests {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{"a", "hdfs/host.example.com@REALM", "a b", "a-b", "ä", strings.Repeat("x", 65), strings.Repeat("é", 100), "\x00"} {
		got := Name(in)
		if !stsName.MatchString(got) {
			t.Errorf("Name(%q) = %q is not a valid STS session name", in, got)
		}
		if got != Name(in) {
			t.Errorf("Name(%q) is not deterministic", in)
		}
	}
	if Name("a b") == Name("a-b") || Name("a/b") == Name("a b") {
		t.Error("distinct users share a session name")
	}
}

func FuzzName(f *testing.F) {
	f.Add("user1")
	f.Add("a b")
	f.Fuzz(func(t *testing.T, s string) {
		if got := Name(s); !stsName.MatchString(got) {
			t.Fatalf("Name(%q) = %q", s, got)
		}
	})
}
