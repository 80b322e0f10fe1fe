package emrfs

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func TestRemove(t *testing.T) {
	api := newTestS3(t)
	c := newTestClient(t, api)
	putRaw(t, api, "rm/obj", "data")
	putRaw(t, api, "rm/obj.instruction", "{}")
	putRaw(t, api, "rm/keep", "data")
	ctx := context.Background()
	if err := c.Remove(ctx, "s3://"+testBucket+"/rm/obj"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"rm/obj", "rm/obj.instruction"} {
		if _, err := c.Stat(ctx, "s3://"+testBucket+"/"+k); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s after Remove: %v", k, err)
		}
	}
	if _, err := c.Stat(ctx, "s3://"+testBucket+"/rm/keep"); err != nil {
		t.Errorf("unrelated key removed: %v", err)
	}
	if err := c.Remove(ctx, "s3://"+testBucket+"/rm/missing"); err != nil {
		t.Errorf("Remove of a missing key: %v", err)
	}
	if err := c.Remove(ctx, "s3://"+testBucket+"/rm/"); err == nil {
		t.Error("Remove of a directory succeeded")
	}
}
