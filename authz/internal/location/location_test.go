package location

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Location
		ok   bool
	}{
		{"s3://b/k/x", Location{"b", "k/x"}, true},
		{"s3a://b", Location{"b", ""}, true},
		{"S3N://b.c_d-e/", Location{"b.c_d-e", ""}, true},
		{"s3://b//k", Location{"b", "/k"}, true},
		{"http://b/k", Location{}, false},
		{"s3:/b/k", Location{}, false},
		{"s3:///k", Location{}, false},
		{"s3://b c/k", Location{}, false},
		{"b/k", Location{}, false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v", tt.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q): error %v is not ErrSyntax", tt.in, err)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	tests := []struct {
		in   string
		want Prefix
		ok   bool
	}{
		{"s3://data", Prefix{"data", "", true}, true},
		{"s3://data*", Prefix{"data", "", true}, true},
		{"s3a://data/", Prefix{"data", "", false}, true},
		{"s3n://data/dir/*", Prefix{"data", "dir/", false}, true},
		{" s3://data/d ", Prefix{"data", "d", false}, true},
		{"s3://*", Prefix{}, false},
		{"s3://", Prefix{}, false},
		{"gs://data/", Prefix{}, false},
	}
	for _, tt := range tests {
		got, err := ParsePrefix(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParsePrefix(%q) = %+v, %v", tt.in, got, err)
		}
	}
	if s := (Prefix{"data", "", true}).String(); s != "s3://data" {
		t.Errorf("String = %q", s)
	}
}

func TestValidBucket(t *testing.T) {
	long := make([]byte, 256)
	for i := range long {
		long[i] = 'a'
	}
	for b, want := range map[string]bool{"a": true, "My.Bucket_1-2": true, "": false, "a/b": false, "a*": false, string(long[:255]): true, string(long): false} {
		if got := ValidBucket(b); got != want {
			t.Errorf("ValidBucket(%q) = %v", b, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"s3://b/k", "s3a://b", "s3n://B.c/x/*", "http://x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(s)
		if err != nil {
			return
		}
		if !ValidBucket(l.Bucket) {
			t.Fatalf("Parse(%q) accepted bucket %q", s, l.Bucket)
		}
		l2, err := Parse(l.String())
		if err != nil || l2 != l {
			t.Fatalf("round trip of %q: %+v, %v", s, l2, err)
		}
		if p, err := ParsePrefix(s); err == nil && !p.Match(l) && p.Key == "" && !p.BucketOnly {
			t.Fatalf("prefix %q does not match its own bucket location", s)
		}
	})
}
