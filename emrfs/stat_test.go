package emrfs

import (
	"context"
	"errors"
	"io/fs"
	"testing"
)

func TestStat(t *testing.T) {
	api := newTestS3(t)
	c := newTestClient(t, api)
	writeObject(t, c, "s3://"+testBucket+"/d/sub/file.txt", []byte("hello"))
	tests := []struct {
		uri     string
		name    string
		dir     bool
		size    int64
		wantErr error
	}{
		{"s3://" + testBucket + "/d/sub/file.txt", "file.txt", false, 5, nil},
		{"s3a://" + testBucket + "/d/sub", "sub", true, 0, nil},
		{"s3://" + testBucket + "/d/", "d", true, 0, nil},
		{"s3://" + testBucket + "/", ".", true, 0, nil},
		{"s3://" + testBucket + "/d/sub/nope", "", false, 0, fs.ErrNotExist},
		{"s3://" + testBucket + "/d/su", "", false, 0, fs.ErrNotExist},
		{"gs://" + testBucket + "/x", "", false, 0, ErrInvalidURI},
	}
	for _, tc := range tests {
		fi, err := c.Stat(context.Background(), tc.uri)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Stat(%q) = %v, want %v", tc.uri, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Stat(%q): %v", tc.uri, err)
			continue
		}
		if fi.Name() != tc.name || fi.IsDir() != tc.dir || fi.Size() != tc.size || fi.Mode().IsDir() != tc.dir {
			t.Errorf("Stat(%q) = name %q dir %v size %d", tc.uri, fi.Name(), fi.IsDir(), fi.Size())
		}
		if !tc.dir && fi.ModTime().IsZero() {
			t.Errorf("Stat(%q): zero ModTime", tc.uri)
		}
	}
}
