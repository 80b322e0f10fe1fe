package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// errUnsupported marks an operation an implementation cannot do.
var errUnsupported = errors.New("unsupported")

// impl is one way of putting and getting objects.
type impl interface {
	put(ctx context.Context, key string, body io.ReadSeeker, size int64) error
	get(ctx context.Context, key string, w io.Writer) (int64, error)
	// rangeTail reads the last n plaintext bytes of an object of size bytes.
	rangeTail(ctx context.Context, key string, size, n int64, w io.Writer) (int64, error)
}

// env is what a worker process is told about the servers.
type env struct {
	S3Endpoint, S3Access, S3Secret    string
	KMSEndpoint, KMSAccess, KMSSecret string
	KMSKey, Bucket, Region            string
}

func (e env) export() []string {
	b, _ := json.Marshal(e)
	var out []string
	for _, kv := range os.Environ() {
		// The servers are plain HTTP on loopback; a CA bundle setting
		// would make aws-sdk-go v1 replace the counting transport.
		if !strings.HasPrefix(kv, "AWS_CA_BUNDLE=") {
			out = append(out, kv)
		}
	}
	return append(out, "EMRS3_BENCH_ENV="+string(b))
}

func loadEnv() (env, error) {
	var e env
	err := json.Unmarshal([]byte(os.Getenv("EMRS3_BENCH_ENV")), &e)
	return e, err
}

// result is what a worker prints.
type result struct {
	Seconds  float64 `json:"seconds"`
	Bytes    int64   `json:"bytes"`     // plaintext bytes moved
	BytesIn  int64   `json:"bytes_in"`  // HTTP response body bytes
	BytesOut int64   `json:"bytes_out"` // HTTP request body bytes
	PeakRSS  int64   `json:"peak_rss"`  // VmHWM of the worker process, bytes
	Error    string  `json:"error,omitempty"`
}

// peakRSS reads the process's resident-set high-water mark. (The rusage of
// a child is no good: os/exec starts children with vfork, so their
// ru_maxrss counts the parent's memory.)
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb * 1024
		}
	}
	return 0
}

// counting counts HTTP body bytes in both directions.
type counting struct {
	next    http.RoundTripper
	in, out atomic.Int64
	// log, when not nil (EMRS3_BENCH_HTTPLOG=DIR), gets one line per
	// response once its body ends: start since epoch, time to headers,
	// time to the body's end, status, method, host, URI, body bytes.
	log   io.Writer
	epoch time.Time
}

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.ContentLength > 0 {
		c.out.Add(r.ContentLength)
	}
	t0 := time.Now()
	resp, err := c.next.RoundTrip(r)
	if err == nil {
		cb := &countBody{ReadCloser: resp.Body, n: &c.in}
		if c.log != nil {
			cb.log = func(n int64, end time.Time) {
				fmt.Fprintf(c.log, "%8.1fms %8.1fms %8.1fms %3d %-6s %s %s %d\n",
					ms(t0.Sub(c.epoch)), ms(time.Since(t0)), ms(end.Sub(t0)), resp.StatusCode,
					r.Method, r.URL.Host, r.URL.RequestURI(), n)
			}
			cb.head = time.Since(t0)
		}
		resp.Body = cb
	}
	return resp, err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type countBody struct {
	io.ReadCloser
	n    *atomic.Int64
	got  int64
	head time.Duration
	log  func(n int64, end time.Time) // set with EMRS3_BENCH_HTTPLOG
	once sync.Once
}

func (b *countBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	b.got += int64(n)
	if err != nil && b.log != nil {
		b.once.Do(func() { b.log(b.got, time.Now()) })
	}
	return n, err
}

func (b *countBody) Close() error {
	if b.log != nil {
		b.once.Do(func() { b.log(b.got, time.Now()) })
	}
	return b.ReadCloser.Close()
}

func newHTTPClient(c *counting) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	c.next = t
	return &http.Client{Transport: c}
}

// newImpl returns the implementation called name. legacy opts emrs3 in to
// unauthenticated legacy reads; cbc makes s3crypto write CBC objects.
func newImpl(name string, e env, hc *http.Client, legacy, cbc bool) (impl, error) {
	switch name {
	case "plain":
		return newPlain(e, hc)
	case "manager":
		return newManager(e, hc)
	case "s3ec-v4":
		return newS3ECV4(e, hc)
	case "s3crypto":
		return newS3Crypto(e, hc, cbc)
	case "emrs3":
		return newEmrs3(e, hc, legacy, false)
	case "emrs3-delayed":
		return newEmrs3(e, hc, legacy, true)
	case "bound-gcm":
		return newBound(e, hc, false)
	case "bound-spool":
		return newBound(e, hc, true)
	}
	return nil, fmt.Errorf("unknown impl %q", name)
}

// runWorker performs one operation and prints its result as JSON.
func runWorker(args []string) error {
	fs := flag.NewFlagSet("worker", flag.ExitOnError)
	name := fs.String("impl", "", "emrs3, emrs3-delayed, s3crypto, s3ec-v4, plain or manager")
	op := fs.String("op", "", "put, get, getwarm, range or put-cbc")
	key := fs.String("key", "", "object key")
	size := fs.Int64("size", 0, "object size")
	tail := fs.Int64("tail", 64<<10, "bytes read by op=range")
	legacy := fs.Bool("legacy", false, "emrs3: opt in to unauthenticated legacy reads (CBC objects, ranged GCM)")
	fs.Parse(args)
	e, err := loadEnv()
	if err != nil {
		return fmt.Errorf("worker: EMRS3_BENCH_ENV: %w", err)
	}
	ctx := context.Background()
	cnt := &counting{}
	hc := newHTTPClient(cnt)
	im, err := newImpl(*name, e, hc, *legacy, *op == "put-cbc")
	if err != nil {
		return err
	}
	if dir := os.Getenv("EMRS3_BENCH_CPUPROFILE"); dir != "" {
		// One CPU profile per worker: <dir>/<impl>-<op>-<object key>.prof.
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%s-%s.prof", *name, *op, strings.ReplaceAll(*key, "/", "_"))))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if dir := os.Getenv("EMRS3_BENCH_HTTPLOG"); dir != "" {
		// One HTTP timeline per worker: <dir>/<impl>-<op>-<object key>.log.
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%s-%s.log", *name, *op, strings.ReplaceAll(*key, "/", "_"))))
		if err != nil {
			return err
		}
		defer f.Close()
		cnt.log = &lockedWriter{w: f}
		cnt.epoch = time.Now()
	}
	if *op == "getwarm" {
		// The same GET once, untimed, in the same client: what is timed
		// below is a second open and read, with warm connections and (for
		// emrs3) the data key in the Client's cache.
		if _, err := im.get(ctx, *key, io.Discard); err != nil {
			return err
		}
		cnt.in.Store(0)
		cnt.out.Store(0)
	}
	var res result
	start := time.Now()
	if cnt.log != nil {
		fmt.Fprintf(cnt.log, "%8.1fms timed operation starts\n", ms(start.Sub(cnt.epoch)))
	}
	switch *op {
	case "put", "put-cbc":
		err = im.put(ctx, *key, &pattern{n: *size}, *size)
		res.Bytes = *size
	case "get", "getwarm":
		res.Bytes, err = im.get(ctx, *key, io.Discard)
	case "range":
		res.Bytes, err = im.rangeTail(ctx, *key, *size, *tail, io.Discard)
	default:
		err = fmt.Errorf("unknown op %q", *op)
	}
	res.Seconds = time.Since(start).Seconds()
	res.BytesIn, res.BytesOut = cnt.in.Load(), cnt.out.Load()
	res.PeakRSS = peakRSS()
	if err != nil {
		res.Error = err.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// pattern is a generated, seekable body that is never held in memory.
type pattern struct{ off, n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		x := p.off + int64(i)
		b[i] = byte(x ^ x>>8 ^ x>>16)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func (p *pattern) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += p.off
	case io.SeekEnd:
		off += p.n
	}
	if off < 0 {
		return 0, errors.New("pattern: negative seek")
	}
	p.off = off
	return off, nil
}

// lockedWriter serializes writes from concurrent responses.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
