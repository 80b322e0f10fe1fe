package emrfs_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/emrs3/emrs3/emrfs"
)

// Open with per-File options: report progress, and split a whole-object
// read into concurrent ranged GETs of 5 MiB, 4 at a time.
func ExampleOpenOptions() {
	api, stop := localS3()
	defer stop()
	ctx := context.Background()
	c, err := emrfs.New(api, emrfs.NewConfig())
	if err != nil {
		panic(err)
	}
	w, err := c.Create(ctx, "s3://data/report.csv")
	if err != nil {
		panic(err)
	}
	if _, err := io.WriteString(w, strings.Repeat("a,b,c\n", 1000)); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}

	var last int64
	f, err := c.Open(ctx, "s3://data/report.csv", func(o *emrfs.OpenOptions) {
		o.PartSize, o.Concurrency = 5<<20, 4
		o.Progress = func(done, total int64) { last = done }
	})
	if err != nil {
		panic(err)
	}
	defer f.Close()
	n, err := io.Copy(io.Discard, f)
	fmt.Println(n, err, last)
	// Output: 6000 <nil> 6000
}
