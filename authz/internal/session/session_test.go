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
		"svc_etl.prod":      "svc_etl.prod",
		"":                  Anonymous,
	}
	for in, want := range tests {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
	derived := regexp.MustCompile(`^[\w+=,.@-]{1,47}-[0-9a-f]{16}$`)
	for _, in := range []string{"a", "hdfs/host.example.com@REALM", "a b", "a-b", "ä", strings.Repeat("x", 65), strings.Repeat("é", 100), "\x00", "hadoop-user", Anonymous} {
		got := Name(in)
		if !stsName.MatchString(got) || !derived.MatchString(got) {
			t.Errorf("Name(%q) = %q is not a valid derived STS session name", in, got)
		}
		if got != Name(in) {
			t.Errorf("Name(%q) is not deterministic", in)
		}
	}
	if got := Name("hdfs/host@REALM"); !strings.HasPrefix(got, "hdfs-host@REALM-") {
		t.Errorf("Name(hdfs/host@REALM) = %q does not keep the readable part", got)
	}
}

// TestNameCollisions: user names that look like derived names, or like the
// anonymous session, do not share a session name with anyone.
func TestNameCollisions(t *testing.T) {
	users := []string{"", Anonymous, "a b", "a-b", "a/b", "a_b", "ab", "user1", "user-1", "USER1", strings.Repeat("x", 64), strings.Repeat("x", 65), strings.Repeat("x", 66)}
	for _, u := range users[2:5] {
		users = append(users, Name(u)) // a user literally named like a derived name
	}
	seen := map[string]string{}
	for _, u := range users {
		n := Name(u)
		if prev, dup := seen[n]; dup {
			t.Errorf("users %q and %q share session name %q", prev, u, n)
		}
		seen[n] = u
	}
	for _, u := range users {
		if n := Name(u); n != u && Name(n) == n {
			t.Errorf("derived name %q of %q is a fixed point: a user of that name would share the session", n, u)
		}
	}
}

func FuzzName(f *testing.F) {
	f.Add("user1")
	f.Add("a b")
	f.Add(Anonymous)
	f.Fuzz(func(t *testing.T, s string) {
		got := Name(s)
		if !stsName.MatchString(got) {
			t.Fatalf("Name(%q) = %q", s, got)
		}
		if got != s && Name(got) == got {
			t.Fatalf("Name(%q) = %q, which a user of that name would also get", s, got)
		}
		if got == Anonymous && s != "" {
			t.Fatalf("Name(%q) is the anonymous session name", s)
		}
	})
}

func FuzzNameDistinct(f *testing.F) {
	f.Add("a b", "a-b")
	f.Add(Anonymous, "")
	f.Fuzz(func(t *testing.T, a, b string) {
		if a != b && Name(a) == Name(b) {
			t.Fatalf("%q and %q share session name %q", a, b, Name(a))
		}
	})
}
