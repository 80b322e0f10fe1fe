//go:build unix

package emrfs_test

import (
	"context"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/emrs3/emrs3/emrfs"
)

// TestDiskEncryptionThroughput measures a 1 GiB authenticated read, which
// spools all but DecryptMemoryLimit (8 MiB) of the object, with the spool
// sealed under a customer KMS key and under the default random key,
// alternating (ABBA), EMRS3_DISK_BENCH_ROUNDS times each (default 3), on the
// emrfstest stack, and logs the medians and their ratio. Set
// EMRS3_DISK_BENCH=1 (and EMRS3_DISK_BENCH_MIB to change the size); run it
// alone and nice'd:
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
	rounds := 3
	if v := os.Getenv("EMRS3_DISK_BENCH_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("EMRS3_DISK_BENCH_ROUNDS=%q: want a positive number", v)
		}
		rounds = n
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
	// measure returns the read's throughput in MiB per second of wall
	// time and per second of the process's CPU time (user + system, the
	// stack's included); the latter is what a busy machine spoils least.
	measure := func(c *emrfs.Client) (wall, cpu float64) {
		f, err := c.Open(ctx, "s3://data/1gib")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		c0 := cpuTime(t)
		start := time.Now()
		n, err := io.Copy(io.Discard, f)
		d := time.Since(start)
		c1 := cpuTime(t)
		if err != nil || n != size {
			t.Fatalf("read %d bytes: %v", n, err)
		}
		mib := float64(size) / (1 << 20)
		return mib / d.Seconds(), mib / (c1 - c0).Seconds()
	}
	var rnd, cust, rndCPU, custCPU []float64
	for i := range rounds {
		// Which key goes first alternates, so that neither gains from
		// the other's leftovers (page cache, heap).
		for j := range 2 {
			if (i+j)%2 == 0 {
				w, c := measure(random)
				rnd, rndCPU = append(rnd, w), append(rndCPU, c)
			} else {
				w, c := measure(customer)
				cust, custCPU = append(cust, w), append(custCPU, c)
			}
		}
	}
	gdk := diskCalls(e.st, e.diskKey, "GenerateDataKey")
	if len(gdk) != 1 || !maps.Equal(gdk[0].EncryptionContext, appContext) || gdk[0].KeySpec != "AES_256" {
		t.Fatalf("GenerateDataKey calls %+v, want exactly one, AES_256, with %v", gdk, appContext)
	}
	t.Logf("%d MiB authenticated read, spooled past 8 MiB, %d rounds: random key %.0f MiB/s (%.0f MiB per CPU-second); customer key %.0f MiB/s (%.0f MiB per CPU-second)",
		size>>20, rounds, rnd, rndCPU, cust, custCPU)
	t.Logf("medians: random key %.0f MiB/s, customer key %.0f MiB/s, ratio %.3f; per CPU-second %.0f and %.0f MiB, ratio %.3f; GenerateDataKey calls on the disk key: %d",
		median(rnd), median(cust), median(cust)/median(rnd), median(rndCPU), median(custCPU), median(custCPU)/median(rndCPU), len(gdk))
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
