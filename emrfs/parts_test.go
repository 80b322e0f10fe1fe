package emrfs_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

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
			if gets := countReqs(reqs, "GET"); fault == "none" && gets != 5+1 {
				t.Errorf("%s: %d GETs, want 6 (5 parts and the last 1250 bytes)", name, gets)
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
