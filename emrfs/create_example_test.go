package emrfs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// Create an object only if its key is free, as commit protocols do, with
// object attributes and progress; then tell the possible outcomes of
// Close apart.
func ExampleClient_Create_ifAbsent() {
	st, err := emrfstest.New(context.Background())
	if err != nil {
		panic(err)
	}
	defer st.Close()
	api := s3.NewFromConfig(st.Config, st.S3Options)
	ctx := context.Background()
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		panic(err)
	}
	c, err := emrfs.New(api, nil)
	if err != nil {
		panic(err)
	}
	commit := func(body string) error {
		w, err := c.Create(ctx, "s3://data/table/_SUCCESS", func(o *emrfs.CreateOptions) {
			o.IfAbsent = true
			o.ContentType = "text/plain"
			o.StorageClass = "STANDARD_IA"
			o.Tags = map[string]string{"job": "nightly"}
			o.Progress = func(done, total int64) { fmt.Printf("%s: %d of %d bytes acknowledged\n", body, done, total) }
		})
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, strings.NewReader(body)); err != nil {
			return err
		}
		return w.Close()
	}
	fmt.Println(commit("first"))
	err = commit("second")
	var ce *emrfs.CommitError
	switch {
	case errors.Is(err, fs.ErrExist):
		fmt.Println("another writer was first")
	case errors.Is(err, emrfs.ErrCommitUnknown):
		fmt.Println("unknown: check the object")
	case errors.As(err, &ce) && ce.Committed:
		fmt.Println("visible but incomplete")
	case err != nil:
		fmt.Println("not written:", err)
	}
	// Output:
	// first: 5 of 5 bytes acknowledged
	// <nil>
	// another writer was first
}
