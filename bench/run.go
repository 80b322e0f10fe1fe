package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/bench/internal/link"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

type row struct {
	backend, op, size, impl string
	ms                      []measure
	unsupported             bool
}

func run(ctx context.Context, o options) error {
	stack, err := emrfstest.New(ctx)
	if err != nil {
		return err
	}
	defer stack.Close()
	creds, err := stack.Config.Credentials.Retrieve(ctx)
	if err != nil {
		return err
	}
	keyID := stack.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
	var rows []*row
	load := loadavg()
	for _, b := range o.backends {
		e := env{
			S3Endpoint: stack.URL, S3Access: creds.AccessKeyID, S3Secret: creds.SecretAccessKey,
			KMSEndpoint: stack.URL, KMSAccess: creds.AccessKeyID, KMSSecret: creds.SecretAccessKey,
			KMSKey: keyID, Bucket: "bench", Region: stack.Region,
		}
		if b == "minio" {
			endpoint, access, secret, stop, err := minio(ctx)
			if err != nil {
				log.Printf("skipping MinIO: %v", err)
				continue
			}
			defer stop()
			e.S3Endpoint, e.S3Access, e.S3Secret = endpoint, access, secret
		}
		if o.model != nil {
			// Every client of the run reaches S3 and KMS through the
			// modelled link, one proxy per endpoint.
			stop, err := shape(&e, *o.model)
			if err != nil {
				return err
			}
			defer stop()
		}
		if err := createBucket(ctx, e); err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
		log.Printf("== %s (%s, KMS %s)", b, e.S3Endpoint, e.KMSEndpoint)
		rs, err := measureBackend(ctx, b, e, o)
		rows = append(rows, rs...)
		if err != nil {
			return err
		}
	}
	printTable(os.Stdout, rows, o, load+" → "+loadavg())
	if !o.roles {
		return nil
	}
	return measureRoles(ctx, os.Stdout, stack)
}

// shape puts a link-shaping proxy in front of e's S3 and KMS endpoints.
func shape(e *env, m link.Model) (stop func(), err error) {
	var proxies []*link.Proxy
	stop = func() {
		for _, p := range proxies {
			p.Close()
		}
	}
	for _, ep := range []*string{&e.S3Endpoint, &e.KMSEndpoint} {
		u, err := url.Parse(*ep)
		if err != nil {
			stop()
			return nil, err
		}
		p, err := link.Listen("127.0.0.1:0", u.Host, m)
		if err != nil {
			stop()
			return nil, err
		}
		proxies = append(proxies, p)
		u.Host = p.Addr()
		*ep = u.String()
	}
	return stop, nil
}

func createBucket(ctx context.Context, e env) error {
	c := s3Client(e, http.DefaultClient)
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(e.Bucket)})
	var owned interface{ ErrorCode() string }
	if errors.As(err, &owned) && strings.Contains(owned.ErrorCode(), "BucketAlready") {
		return nil
	}
	return err
}

// options are what a run measures.
type options struct {
	sizes    []int64
	runs     int
	backends []string
	impls    []string
	ops      map[string]bool // put, get, getwarm, range, cbc
	roles    bool
	model    *link.Model
}

func measureBackend(ctx context.Context, backend string, e env, o options) ([]*row, error) {
	var rows []*row
	get := func(op, size, impl string) *row {
		for _, r := range rows {
			if r.op == op && r.size == size && r.impl == impl {
				return r
			}
		}
		r := &row{backend: backend, op: op, size: size, impl: impl}
		rows = append(rows, r)
		return r
	}
	record := func(r *row, m measure, err error) error {
		if err != nil {
			return err
		}
		if m.Error != "" {
			if strings.Contains(m.Error, errUnsupported.Error()) {
				r.unsupported = true
				return nil
			}
			return fmt.Errorf("%s %s %s %s: %s", backend, r.op, r.size, r.impl, m.Error)
		}
		r.ms = append(r.ms, m)
		return nil
	}
	// Ranged reads: the implementations that read a range of an object
	// (or say they cannot); the manager baselines read whole objects.
	ranges := map[string]bool{"emrs3": true, "emrs3-delayed": true, "s3crypto": true, "plain": true}
	largest := o.sizes[len(o.sizes)-1]
	for _, size := range o.sizes {
		sn := sizeName(size)
		for run := range o.runs {
			for _, im := range rotate(o.impls, run) {
				key := fmt.Sprintf("%s/%s/%d", im, sn, run)
				log.Printf("%s put+get %s %s run %d", backend, sn, im, run+1)
				// The object is written even when only GETs are measured.
				m, err := spawn(ctx, e, "-impl", im, "-op", "put", "-key", key, "-size", fmt.Sprint(size))
				if o.ops["put"] || err != nil || m.Error != "" {
					if err := record(get("PUT", sn, im), m, err); err != nil {
						return rows, err
					}
				}
				if o.ops["get"] {
					m, err = spawn(ctx, e, "-impl", im, "-op", "get", "-key", key)
					if err := record(get("GET", sn, im), m, err); err != nil {
						return rows, err
					}
				}
				if o.ops["getwarm"] {
					m, err = spawn(ctx, e, "-impl", im, "-op", "getwarm", "-key", key)
					if err := record(get("GET again, same Client", sn, im), m, err); err != nil {
						return rows, err
					}
				}
				if o.ops["range"] && size == largest && ranges[im] {
					m, err = spawn(ctx, e, "-impl", im, "-op", "range", "-key", key, "-size", fmt.Sprint(size), "-legacy")
					if err := record(get("GET last 64 KiB", sn, im), m, err); err != nil {
						return rows, err
					}
				}
			}
		}
		if !o.ops["cbc"] {
			continue
		}
		// Legacy CBC objects (EMRFS's default CSE format), written by the
		// s3crypto V1 client and read by both decrypters.
		cbcKey := "cbc/" + sn
		if m, err := spawn(ctx, e, "-impl", "s3crypto", "-op", "put-cbc", "-key", cbcKey, "-size", fmt.Sprint(size)); err != nil || m.Error != "" {
			return rows, fmt.Errorf("writing a CBC object: %v %s", err, m.Error)
		}
		for run := range o.runs {
			for _, im := range rotate([]string{"emrs3", "s3crypto"}, run) {
				m, err := spawn(ctx, e, "-impl", im, "-op", "get", "-key", cbcKey, "-legacy")
				if err := record(get("GET CBC", sn, im), m, err); err != nil {
					return rows, err
				}
			}
		}
	}
	return rows, nil
}

// minio returns a MinIO server: the one in the environment, or one started
// here from the minio binary.
func minio(ctx context.Context) (endpoint, access, secret string, stop func(), err error) {
	if ep := os.Getenv("EMRS3_MINIO_ENDPOINT"); ep != "" {
		return ep, os.Getenv("EMRS3_MINIO_ACCESS_KEY"), os.Getenv("EMRS3_MINIO_SECRET_KEY"), func() {}, nil
	}
	bin, err := exec.LookPath("minio")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		bin = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "minio")
		if _, err := os.Stat(bin); err != nil {
			return "", "", "", nil, errors.New("no minio binary; install it with: go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", "", nil, err
	}
	addr := l.Addr().String()
	l.Close()
	dir, err := os.MkdirTemp("", "emrs3-bench-minio-*")
	if err != nil {
		return "", "", "", nil, err
	}
	access, secret = "benchadmin", "benchadmin-secret"
	cmd := exec.CommandContext(ctx, bin, "server", "--quiet", "--address", addr, dir)
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+access, "MINIO_ROOT_PASSWORD="+secret)
	if err := cmd.Start(); err != nil {
		return "", "", "", nil, err
	}
	stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.RemoveAll(dir)
	}
	endpoint = "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(endpoint + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 100 {
			stop()
			return "", "", "", nil, errors.New("minio did not become ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return endpoint, access, secret, stop, nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// loadavg is the machine's 1-minute load average, as a note on how busy
// it was.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// displayName names an implementation in the table: the manager baseline
// is the Uploader for PUT and the Downloader for GET.
func displayName(impl, op string) string {
	if impl != "manager" {
		return impl
	}
	if op == "PUT" {
		return "manager.Uploader"
	}
	return "manager.Downloader"
}

func printTable(w *os.File, rows []*row, o options, load string) {
	linkNote := "loopback"
	if o.model != nil {
		linkNote = "link model " + o.model.String() + " per connection and direction"
	}
	ps, conc := transferShape()
	shape := fmt.Sprintf("part size %d MiB, %d in flight (emrs3 and manager)", ps>>20, conc)
	if mps, mconc := managerShape(); mps != ps || mconc != conc {
		shape = fmt.Sprintf("part size %d MiB, %d in flight for emrs3; %d MiB, %d for manager", ps>>20, conc, mps>>20, mconc)
	}
	fmt.Fprintf(w, "\nmachine: %s/%s, %d CPUs, %s, load average %s; %s; %s; %d runs per cell, median (min–max)\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), load, linkNote, shape, o.runs)
	fmt.Fprintln(w, "| server | operation | size | implementation | MB/s | vs plain | vs manager | CPU s | peak RSS MiB | bytes fetched |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	rate := func(r *row) (med, lo, hi float64) {
		var xs []float64
		for _, m := range r.ms {
			xs = append(xs, float64(m.Bytes)/m.Seconds/1e6)
		}
		sort.Float64s(xs)
		return median(xs), xs[0], xs[len(xs)-1]
	}
	base := map[string]float64{}
	for _, r := range rows {
		if (r.impl == "plain" || r.impl == "manager") && len(r.ms) > 0 {
			base[r.impl+r.backend+r.op+r.size], _, _ = rate(r)
		}
	}
	for _, r := range rows {
		name := displayName(r.impl, r.op)
		if r.unsupported || len(r.ms) == 0 {
			fmt.Fprintf(w, "| %s | %s | %s | %s | unsupported | | | | | |\n", r.backend, r.op, r.size, name)
			continue
		}
		med, lo, hi := rate(r)
		var cpu, rss, in []float64
		for _, m := range r.ms {
			cpu = append(cpu, m.CPU)
			rss = append(rss, float64(m.MaxRSS)/(1<<20))
			in = append(in, float64(m.BytesIn))
		}
		ratio := func(impl string) string {
			if p := base[impl+r.backend+r.op+r.size]; p > 0 {
				return fmt.Sprintf("%.2f×", med/p)
			}
			return ""
		}
		fetched := ""
		if strings.Contains(r.op, "last") || strings.Contains(r.op, "again") {
			fetched = fmt.Sprintf("%.0f", median(in))
		}
		prec := "%.0f (%.0f–%.0f)"
		if med < 20 {
			prec = "%.1f (%.1f–%.1f)"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | "+prec+" | %s | %s | %.2f | %.0f | %s |\n",
			r.backend, r.op, r.size, name, med, lo, hi, ratio("plain"), ratio("manager"), median(cpu), median(rss), fetched)
	}
}
