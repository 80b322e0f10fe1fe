package emrfs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/emrs3/emrs3/emrfs"
)

// localS3 starts an in-memory S3 server and returns a client for it; real
// programs use s3.NewFromConfig(awsCfg).
func localS3() (*s3.Client, func()) {
	ts := httptest.NewServer(gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	api := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
	})
	if _, err := api.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		panic(err)
	}
	return api, ts.Close
}

// Write an object, read part of it back, and list its directory.
func ExampleClient() {
	api, stop := localS3()
	defer stop()
	ctx := context.Background()

	c, err := emrfs.New(api, emrfs.NewConfig())
	if err != nil {
		panic(err)
	}
	w, err := c.Create(ctx, "s3://data/logs/2026/app.log")
	if err != nil {
		panic(err)
	}
	if _, err := io.WriteString(w, "line one\nline two\n"); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil { // the object appears only now
		panic(err)
	}

	f, err := c.Open(ctx, "s3a://data/logs/2026/app.log")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	buf := make([]byte, 8)
	if _, err := f.ReadAt(buf, 9); err != nil { // one ranged GET
		panic(err)
	}
	fmt.Printf("%q\n", buf)

	for fi, err := range c.List(ctx, "s3://data/logs/") {
		if err != nil {
			panic(err)
		}
		fmt.Println(fi.Name(), fi.IsDir())
	}

	_, err = c.Stat(ctx, "s3://data/logs/missing")
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	// Output:
	// "line two"
	// 2026 true
	// true
}

// Walk a prefix with the standard io/fs functions.
func ExampleClient_FS() {
	api, stop := localS3()
	defer stop()
	ctx := context.Background()
	c, err := emrfs.New(api, nil)
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"a.txt", "dir/b.txt", "dir/c.txt"} {
		w, err := c.Create(ctx, "s3://data/tree/"+name)
		if err != nil {
			panic(err)
		}
		if _, err := io.WriteString(w, "hello "+name); err != nil {
			panic(err)
		}
		if err := w.Close(); err != nil {
			panic(err)
		}
	}
	fsys := c.FS(ctx, "data", "tree")
	err = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fmt.Println(path, d.IsDir())
		return nil
	})
	if err != nil {
		panic(err)
	}
	b, err := fs.ReadFile(fsys, "dir/c.txt")
	fmt.Println(string(b), err)
	// Output:
	// . true
	// a.txt false
	// dir true
	// dir/b.txt false
	// dir/c.txt false
	// hello dir/c.txt <nil>
}
