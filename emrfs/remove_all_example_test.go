package emrfs_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs"
)

// Remove a table's directory: every key under it, in DeleteObjects
// batches of up to 1000 keys.
func ExampleClient_RemoveAll() {
	api, stop := localS3()
	defer stop()
	ctx := context.Background()
	for _, k := range []string{"tables/t1/part-0", "tables/t1/part-1", "tables/t1_$folder$", "tables/t10/part-0"} {
		if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			panic(err)
		}
	}
	c, err := emrfs.New(api, emrfs.NewConfig())
	if err != nil {
		panic(err)
	}
	// Without a trailing slash: the directory t1, its marker
	// t1_$folder$ and any object named t1 — but not t10.
	if err := c.RemoveAll(ctx, "s3://data/tables/t1"); err != nil {
		panic(err)
	}
	for fi, err := range c.List(ctx, "s3://data/", func(o *emrfs.ListOptions) { o.Recursive = true }) {
		if err != nil {
			panic(err)
		}
		fmt.Println(fi.URI())
	}
	// Output:
	// s3://data/tables/t10/part-0
}
