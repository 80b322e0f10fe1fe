package emrfs

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func headInput(key string) *s3.HeadObjectInput {
	return &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)}
}

// TestRemove: in a bucket without client-side encryption Remove deletes
// the object only; "<key>.instruction" is a user object like any other.
func TestRemove(t *testing.T) {
	api := newTestS3(t)
	c := newTestClient(t, api)
	putRaw(t, api, "rm/obj", "data")
	putRaw(t, api, "rm/obj.instruction", "user data, not an envelope")
	putRaw(t, api, "rm/keep", "data")
	ctx := context.Background()
	if err := c.Remove(ctx, "s3://"+testBucket+"/rm/obj"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stat(ctx, "s3://"+testBucket+"/rm/obj"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("rm/obj after Remove: %v", err)
	}
	if got := string(readObject(t, c, "s3://"+testBucket+"/rm/obj.instruction")); got != "user data, not an envelope" {
		t.Errorf("rm/obj.instruction of a bucket without CSE after Remove of rm/obj = %q, want it untouched", got)
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

// TestRemoveInstructionFiles: in a CSE bucket in instruction-file mode,
// Remove deletes <key>.instruction only with
// fs.s3.cse.cryptoStorageMode.deleteInstructionFiles.enabled, as EMRFS.
func TestRemoveInstructionFiles(t *testing.T) {
	e := newCSEEnv(t)
	ctx := context.Background()
	for _, del := range []string{"", "false", "true"} {
		c := e.client(t, withProps(emrfsCSEInstruction, "fs.s3.cse.cryptoStorageMode.deleteInstructionFiles.enabled", del))
		key := "rmi/obj-" + del
		uri := "s3://" + testBucket + "/" + key
		writeObject(t, c, uri, []byte("secret"))
		if _, err := e.api.HeadObject(ctx, headInput(key+InstructionSuffix)); err != nil {
			t.Fatalf("deleteInstructionFiles=%q: no instruction file written: %v", del, err)
		}
		if err := c.Remove(ctx, uri); err != nil {
			t.Fatal(err)
		}
		if _, err := e.api.HeadObject(ctx, headInput(key)); err == nil {
			t.Errorf("deleteInstructionFiles=%q: object left after Remove", del)
		}
		_, err := e.api.HeadObject(ctx, headInput(key+InstructionSuffix))
		if gone := err != nil; gone != (del == "true") {
			t.Errorf("deleteInstructionFiles=%q: instruction file removed = %v (%v)", del, gone, err)
		}
		if _, err := c.Stat(ctx, uri); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("deleteInstructionFiles=%q: Stat after Remove = %v", del, err)
		}
	}
}
