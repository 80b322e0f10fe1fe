package emrfs

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		in      string
		want    Location
		wantErr bool
	}{
		{"s3://b/k", Location{"s3", "b", "k"}, false},
		{"s3a://b/dir/k.txt", Location{"s3a", "b", "dir/k.txt"}, false},
		{"s3n://b/dir/", Location{"s3n", "b", "dir/"}, false},
		{"S3://b/k", Location{"s3", "b", "k"}, false},
		{"s3://b", Location{"s3", "b", ""}, false},
		{"s3://b/", Location{"s3", "b", ""}, false},
		{"s3://b/a?b#c", Location{"s3", "b", "a?b#c"}, false},
		{"s3:///k", Location{}, true},
		{"https://b/k", Location{}, true},
		{"b/k", Location{}, true},
		{"s3://user@b/k", Location{}, true},
	}
	for _, tc := range tests {
		got, err := ParseURI(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseURI(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidURI) {
				t.Errorf("ParseURI(%q) error %v is not ErrInvalidURI", tc.in, err)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("ParseURI(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"s3://b/k", "s3a://b/", "s3n://b/a/b/c", "s3://", "x://y/z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		loc, err := ParseURI(s)
		if err != nil {
			return
		}
		if loc.Bucket == "" || strings.Contains(loc.Bucket, "/") {
			t.Fatalf("ParseURI(%q) = bad bucket %q", s, loc.Bucket)
		}
		again, err := ParseURI(loc.String())
		if err != nil || again != loc {
			t.Fatalf("round trip of %q: %+v -> %q -> %+v, %v", s, loc, loc.String(), again, err)
		}
	})
}
