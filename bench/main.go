// Command bench measures emrs3 side by side with the official Amazon S3
// Encryption Client for Go v4, aws-sdk-go v1 s3crypto and plain (unencrypted)
// aws-sdk-go-v2 transfers — one GetObject / PutObject, and feature/s3/manager's
// Downloader and Uploader at emrs3's part size and concurrency — each
// operation in its own process, alternating implementations, against MinIO
// and the in-process test stack, on loopback or through a modelled network
// link (-link RTT,RATE: see internal/link). See README.md in this directory
// for the results and how to reproduce them.
//
// bench is its own module (so that its peers' dependencies stay out of the
// library's go.mod); run it from this directory (or with go -C bench run .):
//
//	go run . [-sizes 1MiB,64MiB,1GiB] [-runs 3] [-backends stack,minio] [-link 20ms,90MB/s]
//	go run . -quick     # a few minutes: the link model, MinIO, 1 MiB and 64 MiB, PUT and GET
//
// MinIO is taken from EMRS3_MINIO_ENDPOINT, EMRS3_MINIO_ACCESS_KEY and
// EMRS3_MINIO_SECRET_KEY when set (as .ci/services exports them), otherwise
// started from the minio binary on PATH or in $(go env GOPATH)/bin:
//
//	go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/emrs3/emrs3/bench/internal/link"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		if err := runWorker(os.Args[2:]); err != nil {
			log.Fatal(err)
		}
		return
	}
	sizes := flag.String("sizes", "1MiB,64MiB,1GiB", "object sizes")
	runs := flag.Int("runs", 3, "runs per measurement")
	backends := flag.String("backends", "stack,minio", "servers to measure against")
	impls := flag.String("impls", "emrs3,emrs3-delayed,s3crypto,s3ec-v4,plain,manager", "implementations")
	ops := flag.String("ops", "put,get,range,cbc", "operations: put, get, getwarm (a second GET of the object in the same client, timed alone: warm connections, emrs3's data key cached), range (last 64 KiB of the largest size), cbc (legacy CBC GETs)")
	roles := flag.Bool("roles", true, "also time role-mapping credential selection")
	linkFlag := flag.String("link", "", "model a network link between every client and the servers: RTT[,RATE per connection and direction], e.g. 20ms,90MB/s")
	quick := flag.Bool("quick", false, "a run of a few minutes: -link 20ms,90MB/s -sizes 1MiB,64MiB -runs 3 -backends minio -ops put,get -roles=false (flags given explicitly win)")
	flag.Parse()
	if *quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]string{"link": "20ms,90MB/s", "sizes": "1MiB,64MiB", "runs": "3", "backends": "minio", "ops": "put,get", "roles": "false"} {
			if !set[name] {
				flag.Set(name, v)
			}
		}
	}
	o := options{
		sizes:    parseSizes(*sizes),
		runs:     *runs,
		backends: strings.Split(*backends, ","),
		impls:    strings.Split(*impls, ","),
		ops:      map[string]bool{},
		roles:    *roles,
	}
	for _, op := range strings.Split(*ops, ",") {
		o.ops[strings.TrimSpace(op)] = true
	}
	if *linkFlag != "" {
		m, err := link.ParseModel(*linkFlag)
		if err != nil {
			log.Fatal(err)
		}
		o.model = &m
	}
	if err := run(context.Background(), o); err != nil {
		log.Fatal(err)
	}
}

func parseSizes(s string) []int64 {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		mult := int64(1)
		switch {
		case strings.HasSuffix(f, "GiB"):
			mult, f = 1<<30, strings.TrimSuffix(f, "GiB")
		case strings.HasSuffix(f, "MiB"):
			mult, f = 1<<20, strings.TrimSuffix(f, "MiB")
		case strings.HasSuffix(f, "KiB"):
			mult, f = 1<<10, strings.TrimSuffix(f, "KiB")
		}
		var n int64
		if _, err := fmt.Sscan(f, &n); err != nil {
			log.Fatalf("bad size %q", f)
		}
		out = append(out, n*mult)
	}
	return out
}

func sizeName(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dB", n)
}

// measure is one worker run.
type measure struct {
	result
	CPU    float64 // user+system seconds of the worker process
	MaxRSS int64   // bytes
}

// spawn runs one operation in a fresh worker process.
func spawn(ctx context.Context, e env, args ...string) (measure, error) {
	self, err := os.Executable()
	if err != nil {
		return measure{}, err
	}
	// Flush what earlier runs left dirty in the page cache (MinIO's
	// objects, spool files), so that no run pays for another's writeback.
	syscall.Sync()
	cmd := exec.CommandContext(ctx, self, append([]string{"worker"}, args...)...)
	cmd.Env = e.export()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return measure{}, fmt.Errorf("worker %v: %v: %s", args, err, stderr.String())
	}
	var m measure
	if err := json.Unmarshal(stdout.Bytes(), &m.result); err != nil {
		return measure{}, fmt.Errorf("worker %v: %v: %q", args, err, stdout.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	m.MaxRSS = m.PeakRSS
	return m, nil
}

// rotate returns impls starting at the r-th, so that no implementation
// always runs first.
func rotate(impls []string, r int) []string {
	r %= len(impls)
	return append(slices.Clone(impls[r:]), impls[:r]...)
}
