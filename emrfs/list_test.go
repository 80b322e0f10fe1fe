package emrfs

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func putRaw(tb testing.TB, api *s3.Client, key, body string) {
	tb.Helper()
	_, err := api.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String(key), Body: stringsReader(body),
	})
	if err != nil {
		tb.Fatalf("PutObject %s: %v", key, err)
	}
}

func TestList(t *testing.T) {
	api := newTestS3(t)
	c := newTestClient(t, api)
	for _, k := range []string{"l/a", "l/b", "l/b.instruction", "l/c/d", "l/c/e/f", "l/g_$folder$", "l/", "l/z", "lz"} {
		putRaw(t, api, k, "x"+k)
	}
	type entry struct {
		name string
		dir  bool
		size int64
	}
	tests := []struct {
		uri      string
		opt      func(*ListOptions)
		want     []entry
		wantKeys []string
	}{
		{"s3://" + testBucket + "/l/", nil, []entry{{"a", false, 4}, {"b", false, 4}, {"c", true, 0}, {"z", false, 4}}, nil},
		{"s3://" + testBucket + "/l/", func(o *ListOptions) { o.PageSize = 1 }, []entry{{"a", false, 4}, {"b", false, 4}, {"c", true, 0}, {"z", false, 4}}, nil},
		{"s3://" + testBucket + "/l/c/", func(o *ListOptions) { o.Recursive = true }, []entry{{"d", false, 6}, {"f", false, 8}}, nil},
		{"s3a://" + testBucket + "/l", nil, []entry{{"l", true, 0}, {"lz", false, 3}}, nil},
		{"s3://" + testBucket + "/nothing/", nil, nil, nil},
	}
	for _, tc := range tests {
		var opts []func(*ListOptions)
		if tc.opt != nil {
			opts = append(opts, tc.opt)
		}
		var got []entry
		for fi, err := range c.List(context.Background(), tc.uri, opts...) {
			if err != nil {
				t.Fatalf("List(%q): %v", tc.uri, err)
			}
			got = append(got, entry{fi.Name(), fi.IsDir(), fi.Size()})
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %v, want %v", tc.uri, got, tc.want)
		}
	}
	// Early stop.
	n := 0
	for range c.List(context.Background(), "s3://"+testBucket+"/l/", func(o *ListOptions) { o.PageSize = 1 }) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("break after %d entries", n)
	}
	for _, err := range c.List(context.Background(), "s3://no-such-bucket/") {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("List on missing bucket: %v, want fs.ErrNotExist", err)
		}
	}
	for _, err := range c.List(context.Background(), "ftp://x/") {
		if !errors.Is(err, ErrInvalidURI) {
			t.Errorf("List on bad URI: %v", err)
		}
	}
}
