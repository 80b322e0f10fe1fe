package emrfs_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// TestCSEConcurrentParts reads whole CSE objects as concurrent ranged
// GETs: Open sends one GET of the first part and no HEAD, every later GET
// is a part pinned with If-Match to the first response's ETag, the parts
// cover the object once, and the plaintext is right — authenticated and
// with delayed authentication, with parts cut mid-body or answered with a
// 500.
func TestCSEConcurrentParts(t *testing.T) {
	const part = 256 << 10
	for _, delayed := range []bool{false, true} {
		for _, fault := range []string{"none", "cut", "500"} {
			name := fmt.Sprintf("delayed=%v fault=%s", delayed, fault)
			st, c := cseStack(t, func(o *emrfs.Options) {
				o.ReadPartSize, o.ReadConcurrency, o.DelayedAuthentication = part, 3, delayed
			})
			ctx := context.Background()
			data := randomData(21, 5*part+1234)
			if err := put(t, c, ctx, "s3://data/obj", data); err != nil {
				t.Fatal(err)
			}
			stored := int64(len(data) + 16)
			n := len(st.S3.Requests())
			f, err := c.Open(ctx, "s3://data/obj")
			if err != nil {
				t.Fatal(err)
			}
			switch fault {
			case "cut":
				st.S3.BreakNextGets(2, 1000) // two part GETs cut mid-part
			case "500":
				st.S3.FailNextGets(2)
			}
			got, err := io.ReadAll(f)
			f.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%s: read %d bytes, %v", name, len(got), err)
			}
			reqs := st.S3.Requests()[n:]
			if heads := countReqs(reqs, "HEAD"); heads != 0 {
				t.Errorf("%s: %d HEADs, want none", name, heads)
			}
			var etag string
			covered := int64(0)
			for i, r := range reqs {
				if r.Method != "GET" {
					continue
				}
				var a, b int64
				if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &a, &b); err != nil {
					t.Fatalf("%s: GET without a range: %v", name, r.Header)
				}
				if i == 0 {
					if a != 0 || b != part-1 || r.Header.Get("If-Match") != "" {
						t.Errorf("%s: Open's GET: Range %q If-Match %q", name, r.Header.Get("Range"), r.Header.Get("If-Match"))
					}
					continue
				}
				if m := r.Header.Get("If-Match"); m == "" || (etag != "" && m != etag) {
					t.Errorf("%s: part GET with If-Match %q", name, m)
				} else {
					etag = m
				}
				covered += min(b, stored-1) - a + 1
			}
			if fault == "none" && covered != stored-part {
				t.Errorf("%s: part GETs asked for %d bytes, want %d", name, covered, stored-part)
			}
			if gets := countReqs(reqs, "GET"); fault == "none" && gets != 5 {
				t.Errorf("%s: %d GETs, want 5 (the last 1250 bytes ride with the fifth part)", name, gets)
			}
		}
	}
}

// TestCSEOpenRequestCount proves that opening and reading a small CSE
// object whose envelope is in its metadata costs one S3 request and at
// most one KMS request.
func TestCSEOpenRequestCount(t *testing.T) {
	st, c := cseStack(t)
	ctx := context.Background()
	data := randomData(22, 100_000)
	if err := put(t, c, ctx, "s3://data/small", data); err != nil {
		t.Fatal(err)
	}
	n, k := len(st.S3.Requests()), len(st.KMS.Audit())
	got, err := read(c, ctx, "s3://data/small")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read: %d bytes, %v", len(got), err)
	}
	reqs := st.S3.Requests()[n:]
	if len(reqs) != 1 || reqs[0].Method != "GET" {
		t.Errorf("S3 requests of an open and read: %v, want one GET", methods(reqs))
	}
	if kms := len(st.KMS.Audit()) - k; kms > 1 {
		t.Errorf("%d KMS requests, want at most 1", kms)
	}
}

func methods(reqs []emrfstest.S3Request) []string {
	var m []string
	for _, r := range reqs {
		m = append(m, r.Method+" "+r.Key)
	}
	return m
}

// TestCSEOpenPrefetches: under the default policy every read of a File
// reads the whole object, so Open starts the part GETs itself, while the
// content key is recovered, before any Read; the read then uses them (no
// part is fetched twice).
func TestCSEOpenPrefetches(t *testing.T) {
	const part = 256 << 10
	st, c := cseStack(t, func(o *emrfs.Options) { o.ReadPartSize, o.ReadConcurrency = part, 3 })
	ctx := context.Background()
	data := randomData(23, 5*part+100)
	if err := put(t, c, ctx, "s3://data/obj", data); err != nil {
		t.Fatal(err)
	}
	parts := make(chan struct{}, 16)
	st.S3.OnRequest(func(r emrfstest.S3Request, handled bool) {
		if !handled && r.Method == "GET" && r.Header.Get("If-Match") != "" {
			parts <- struct{}{}
		}
	})
	defer st.S3.OnRequest(nil)
	n := len(st.S3.Requests())
	f, err := c.Open(ctx, "s3://data/obj")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	select {
	case <-parts:
	case <-time.After(30 * time.Second):
		t.Fatal("no part GET within 30 s of Open, before any Read")
	}
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	if gets := countReqs(st.S3.Requests()[n:], "GET"); gets != 5 {
		t.Errorf("%d GETs, want 5 (Open's and 4 parts, the last with the tag)", gets)
	}
}

// TestCSEReopenSmallOneRequest: reading a small object again in the same
// Client costs one GET (no second round trip for the rest of the object,
// although its chunk table is cached) and no KMS call (the data key is).
func TestCSEReopenSmallOneRequest(t *testing.T) {
	st, c := cseStack(t)
	ctx := context.Background()
	data := randomData(24, 1<<20)
	if err := put(t, c, ctx, "s3://data/small", data); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		n, k := len(st.S3.Requests()), len(st.KMS.Audit())
		got, err := read(c, ctx, "s3://data/small")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read %d: %d bytes, %v", i, len(got), err)
		}
		if reqs := st.S3.Requests()[n:]; len(reqs) != 1 || reqs[0].Method != "GET" {
			t.Errorf("read %d: S3 requests %v, want one GET", i, methods(reqs))
		}
		if kms := len(st.KMS.Audit()) - k; i == 1 && kms != 0 {
			t.Errorf("read again: %d KMS requests, want none", kms)
		}
	}
}
