package emrfs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
)

// TestOpenVersionIDCSE: an older version of a CSE object (envelope in its
// metadata) opens with OpenOptions.VersionID and reads its own plaintext,
// every GET carrying the version id; in instruction-file mode, where the
// instruction file is not versioned with its object, an older version
// meets the current envelope and fails as not authentic, releasing
// nothing.
func TestOpenVersionIDCSE(t *testing.T) {
	for _, instr := range []bool{false, true} {
		var opts []func(*emrfs.Options)
		if instr {
			opts = append(opts, func(o *emrfs.Options) {
				o.Bucket = func(b *emrfs.Bucket) {
					if b.CSE != nil {
						b.CSE.InstructionFile = true
					}
				}
			})
		}
		st, c := cseStack(t, append(opts, func(o *emrfs.Options) { o.ReadPartSize = 256 << 10 })...)
		ctx := context.Background()
		api := s3.NewFromConfig(st.Config, st.S3Options)
		if _, err := api.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("data"),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatal(err)
		}
		write := func(data []byte) string {
			t.Helper()
			w, err := c.Create(ctx, "s3://data/o")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			head, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("data"), Key: aws.String("o")})
			if err != nil {
				t.Fatal(err)
			}
			return aws.ToString(head.VersionId)
		}
		v1 := randomData(43, 700_000)
		id1 := write(v1)
		v2 := randomData(44, 1000)
		id2 := write(v2)
		if id1 == "" || id1 == id2 {
			t.Fatalf("version ids %q and %q", id1, id2)
		}
		if instr {
			if _, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("data"), Key: aws.String("o" + emrfs.InstructionSuffix)}); err != nil {
				t.Fatalf("no instruction file: %v", err)
			}
		}

		n := len(st.S3.Requests())
		f, err := c.Open(ctx, "s3://data/o", func(o *emrfs.OpenOptions) { o.VersionID = id1 })
		var got []byte
		if err == nil {
			got, err = io.ReadAll(f)
			f.Close()
		}
		if instr {
			if !errors.Is(err, cse.ErrNotAuthentic) || len(got) != 0 {
				t.Errorf("instruction file: version %s with the current envelope: %d bytes, %v; want cse.ErrNotAuthentic and nothing released", id1, len(got), err)
			}
		} else if err != nil || !bytes.Equal(got, v1) {
			t.Fatalf("version %s: %d bytes, %v", id1, len(got), err)
		}
		for _, r := range st.S3.Requests()[n:] {
			if r.Method == "GET" && r.Key == "o" && r.Query.Get("versionId") != id1 {
				t.Errorf("GET %s without the version id (%v)", r.Header.Get("Range"), r.Query)
			}
		}
		if got := readAllURI(t, c, "s3://data/o", id2); !bytes.Equal(got, v2) {
			t.Errorf("instruction file %v: current version %s reads %d bytes", instr, id2, len(got))
		}
	}
}

func readAllURI(t *testing.T, c *emrfs.Client, uri, version string) []byte {
	t.Helper()
	f, err := c.Open(context.Background(), uri, func(o *emrfs.OpenOptions) { o.VersionID = version })
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
