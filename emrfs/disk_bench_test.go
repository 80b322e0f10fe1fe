package emrfs_test

import (
	"context"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/emrs3/emrs3/emrfs"
)

// TestDiskEncryptionThroughput measures a 1 GiB authenticated read, which
// spools all but DecryptMemoryLimit (8 MiB) of the object, with the spool
// sealed under a customer KMS key and under the default random key, twice
// each, alternating, on the emrfstest stack. Set EMRS3_DISK_BENCH=1 (and
// EMRS3_DISK_BENCH_MIB to change the size); run it alone and nice'd:
//
//	EMRS3_DISK_BENCH=1 nice go test -count=1 -run TestDiskEncryptionThroughput -v ./emrfs/
func TestDiskEncryptionThroughput(t *testing.T) {
	if os.Getenv("EMRS3_DISK_BENCH") != "1" {
		t.Skip("set EMRS3_DISK_BENCH=1 to measure 1 GiB spooled reads")
	}
	size := int64(1 << 30)
	if v := os.Getenv("EMRS3_DISK_BENCH_MIB"); v != "" {
		mib, err := strconv.Atoi(v)
		if err != nil || mib <= 0 {
			t.Fatalf("EMRS3_DISK_BENCH_MIB=%q: want a positive number", v)
		}
		size = int64(mib) << 20
	}
	e := newDiskEnv(t)
	ctx := context.Background()
	opts := func(o *emrfs.Options) { o.DecryptMemoryLimit = 0; o.PartSize = 16 << 20 }
	customer := e.client(t, opts)
	random := e.client(t, opts, func(o *emrfs.Options) { o.DiskEncryption = &emrfs.DiskEncryption{} })

	w, err := customer.Create(ctx, "s3://data/1gib")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, io.LimitReader(rand.NewChaCha8([32]byte{7}), size)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	measure := func(c *emrfs.Client) float64 {
		f, err := c.Open(ctx, "s3://data/1gib")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		start := time.Now()
		n, err := io.Copy(io.Discard, f)
		d := time.Since(start)
		if err != nil || n != size {
			t.Fatalf("read %d bytes: %v", n, err)
		}
		return float64(size) / (1 << 20) / d.Seconds()
	}
	var rnd, cust []float64
	for range 2 {
		rnd = append(rnd, measure(random))
		cust = append(cust, measure(customer))
	}
	gdk := diskCalls(e.st, e.diskKey, "GenerateDataKey")
	if len(gdk) != 1 || !maps.Equal(gdk[0].EncryptionContext, appContext) || gdk[0].KeySpec != "AES_256" {
		t.Fatalf("GenerateDataKey calls %+v, want exactly one, AES_256, with %v", gdk, appContext)
	}
	t.Logf("%d MiB authenticated read, spooled past 8 MiB: random key %.0f, %.0f MiB/s; customer key %.0f, %.0f MiB/s; GenerateDataKey calls: %d",
		size>>20, rnd[0], rnd[1], cust[0], cust[1], len(gdk))
}
