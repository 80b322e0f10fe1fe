package emrfs

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestListURLEncodedKeysRoundTrip lists keys that XML cannot carry
// (control characters, invalid UTF-8) and keys whose characters URL
// encoding must not confuse ('+', '%', spaces) on the emrfstest stack,
// page by page and by directory, and Stats every key List returns.
func TestListURLEncodedKeysRoundTrip(t *testing.T) {
	ctx := context.Background()
	api, st := newTestStack(t)
	c := newTestClient(t, api)
	keys := []string{
		"enc/ctl\x01key", "enc/bell\x07", "enc/tab\tkey", "enc/bad\xffutf8", "enc/bad\xc3(seq",
		"enc/plus+and space", "enc/percent%41%", "enc/dir\x02/inner", "enc/ünïcode", "enc/amp&lt;",
	}
	for _, k := range keys {
		if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(k), Body: bytes.NewReader([]byte(k))}); err != nil {
			t.Fatalf("PutObject %q: %v", k, err)
		}
	}
	st.S3.ResetRequests()
	var got []string
	for fi, err := range c.List(ctx, "s3://"+testBucket+"/enc/", func(o *ListOptions) { o.Recursive = true; o.PageSize = 3 }) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fi.URI())
		sfi, err := c.Stat(ctx, fi.URI())
		if err != nil {
			t.Errorf("Stat of listed %q: %v", fi.URI(), err)
			continue
		}
		if sfi.Size() != fi.Size() {
			t.Errorf("%q: Stat size %d, List size %d", fi.URI(), sfi.Size(), fi.Size())
		}
	}
	var want []string
	for _, k := range keys {
		want = append(want, "s3://"+testBucket+"/"+k)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("List returned\n%q\nwant\n%q", got, want)
	}
	asked := false
	for _, r := range st.S3.Requests() {
		if r.Query.Get("list-type") == "2" {
			asked = true
			if r.Query.Get("encoding-type") != "url" {
				t.Errorf("a listing without encoding-type=url: %v", r.Query)
			}
		}
	}
	if !asked {
		t.Error("no ListObjectsV2 request seen")
	}

	// One level deep: the common prefix with a control character decodes too.
	var dirs []string
	for fi, err := range c.List(ctx, "s3://"+testBucket+"/enc/") {
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir() {
			dirs = append(dirs, fi.URI())
			if _, err := c.Stat(ctx, fi.URI()); err != nil {
				t.Errorf("Stat of listed directory %q: %v", fi.URI(), err)
			}
		}
	}
	if !slices.Equal(dirs, []string{"s3://" + testBucket + "/enc/dir\x02/"}) {
		t.Errorf("directories %q", dirs)
	}
}

// TestListWithoutEncodingSupport: a server that ignores EncodingType
// (plain gofakes3) returns raw keys, which are not decoded again: a key
// with '%' and '+' survives.
func TestListWithoutEncodingSupport(t *testing.T) {
	ctx := context.Background()
	api := newGofakes3(t)
	c := newTestClient(t, api)
	const key = "raw/a%41+b c"
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: bytes.NewReader(nil)}); err != nil {
		t.Fatal(err)
	}
	for fi, err := range c.List(ctx, "s3://"+testBucket+"/raw/") {
		if err != nil {
			t.Fatal(err)
		}
		if fi.URI() != "s3://"+testBucket+"/"+key {
			t.Errorf("listed %q, want the key as stored", fi.URI())
		}
	}
}
