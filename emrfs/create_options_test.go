package emrfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// TestCreateOptionsAttributes checks on the wire that every request that
// writes an object — single PUT, CreateMultipartUpload, and the CopyObject
// that adds the unencrypted length — carries the CreateOptions attributes.
func TestCreateOptionsAttributes(t *testing.T) {
	e := newCommitEnv(t)
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	opts := func(o *CreateOptions) {
		o.ContentType = "text/csv"
		o.StorageClass = "STANDARD_IA"
		o.Tags = map[string]string{"team": "etl", "stage": "raw data"}
		o.CacheControl = "max-age=60"
		o.ContentEncoding = "gzip"
		o.ContentDisposition = `attachment; filename="a.csv"`
		o.ContentLanguage = "de"
		o.Expires = expires
	}
	want := map[string]string{
		"Content-Type":        "text/csv",
		"X-Amz-Storage-Class": "STANDARD_IA",
		"Cache-Control":       "max-age=60",
		"Content-Encoding":    "gzip",
		"Content-Disposition": `attachment; filename="a.csv"`,
		"Content-Language":    "de",
		"Expires":             expires.Format(http.TimeFormat),
	}
	for _, tc := range []struct {
		bucket string
		size   int
		ops    []string
	}{
		{testBucket, 100, []string{"PutObject"}},
		{testBucket, MinPartSize + 100, []string{"CreateMultipartUpload"}},
		{cseMetaBucket, 100, []string{"PutObject"}},
		{cseInstrBucket, MinPartSize + 100, []string{"CreateMultipartUpload", "CopyObject"}},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.bucket, tc.size), func(t *testing.T) {
			e.st.S3.ResetRequests()
			uri := fmt.Sprintf("s3://%s/attrs/%d", tc.bucket, tc.size)
			data := randomBytes(tc.size, 7)
			if err := create(context.Background(), e.c, uri, data, opts); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, r := range e.st.S3.Requests() {
				if r.Key != "attrs/"+strconv.Itoa(tc.size) {
					continue
				}
				op := r.Op()
				seen[op] = true
				switch op {
				case "PutObject", "CreateMultipartUpload", "CopyObject":
				default:
					continue
				}
				for h, v := range want {
					if got := r.Header.Get(h); got != v {
						t.Errorf("%s: %s = %q, want %q", op, h, got, v)
					}
				}
				if op != "CopyObject" {
					if got := r.Header.Get("X-Amz-Tagging"); got != "stage=raw+data&team=etl" {
						t.Errorf("%s: x-amz-tagging = %q", op, got)
					}
				} else if d := r.Header.Get("X-Amz-Tagging-Directive"); d != "" && d != "COPY" {
					t.Errorf("CopyObject: tagging directive %q drops the tags", d)
				}
			}
			for _, op := range tc.ops {
				if !seen[op] {
					t.Errorf("no %s request", op)
				}
			}
			head, err := e.api.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(tc.bucket), Key: aws.String("attrs/" + strconv.Itoa(tc.size))})
			if err != nil {
				t.Fatal(err)
			}
			if head.StorageClass != "STANDARD_IA" || aws.ToString(head.ContentEncoding) != "gzip" {
				t.Errorf("stored storage class %q, content encoding %q", head.StorageClass, aws.ToString(head.ContentEncoding))
			}
			if got := contentOf(t, e.c, uri); !bytes.Equal(got, data) {
				t.Error("content differs")
			}
		})
	}
}

func TestCreateOptionsInvalid(t *testing.T) {
	e := newCommitEnv(t)
	for name, fn := range map[string]func(*CreateOptions){
		"IfAbsent+IfMatch":   func(o *CreateOptions) { o.IfAbsent, o.IfMatch = true, `"x"` },
		"PartSize too small": func(o *CreateOptions) { o.PartSize = MinPartSize - 1 },
		"PartSize too large": func(o *CreateOptions) { o.PartSize = maxPartSize + 1 },
		"Concurrency":        func(o *CreateOptions) { o.Concurrency = -1 },
	} {
		if _, err := e.c.Create(context.Background(), "s3://"+testBucket+"/x", fn); err == nil {
			t.Errorf("%s: Create accepted it", name)
		}
	}
}

// TestCreatePartSizeOverride: CreateOptions.PartSize and Concurrency
// apply to one Writer.
func TestCreatePartSizeOverride(t *testing.T) {
	e := newCommitEnv(t)
	e.st.S3.ResetRequests()
	data := randomBytes(2*(MinPartSize+1024), 8)
	uri := "s3://" + testBucket + "/partsize"
	if err := create(context.Background(), e.c, uri, data, func(o *CreateOptions) { o.PartSize, o.Concurrency = MinPartSize+1024, 1 }); err != nil {
		t.Fatal(err)
	}
	parts := 0
	for _, r := range e.st.S3.Requests() {
		if r.Op() == "UploadPart" {
			parts++
		}
	}
	if parts != 2 {
		t.Errorf("%d parts, want 2 of the overriding part size", parts)
	}
	if !bytes.Equal(contentOf(t, e.c, uri), data) {
		t.Error("content differs")
	}
}

// TestCreateIfAbsent: create-if-absent through PutObject and
// CompleteMultipartUpload, a lost race (fs.ErrExist, the other object left
// alone), a race of writers (exactly one wins), a retry after a lost
// response (the retry's 412 is the write's own object: success), and
// If-Match.
func TestCreateIfAbsent(t *testing.T) {
	e := newCommitEnv(t)
	ctx := context.Background()
	ifAbsent := func(o *CreateOptions) { o.IfAbsent = true }
	buckets := []string{testBucket, cseMetaBucket}
	if raceEnabled {
		buckets = buckets[:1] // the race detector makes each case slow
	}
	for _, bucket := range buckets {
		for _, size := range []int{100, MinPartSize + 100} {
			t.Run(fmt.Sprintf("%s/%d", bucket, size), func(t *testing.T) {
				uri := fmt.Sprintf("s3://%s/ifabsent/%d", bucket, size)
				first := randomBytes(size, 9)
				if err := create(ctx, e.c, uri, first, ifAbsent); err != nil {
					t.Fatalf("create-if-absent of a new key: %v", err)
				}
				err := create(ctx, e.c, uri, randomBytes(size, 10), ifAbsent)
				if !errors.Is(err, fs.ErrExist) {
					t.Fatalf("create-if-absent of an existing key = %v, want fs.ErrExist", err)
				}
				if !bytes.Equal(contentOf(t, e.c, uri), first) {
					t.Fatal("the existing object was replaced")
				}

				// A lost response: the SDK's retry meets this write's own
				// object and gets 412, which is success.
				lost := uri + "-lost"
				data := randomBytes(size, 11)
				e.st.S3.LoseResponses(1, isOp("PutObject", "CompleteMultipartUpload"))
				err = create(ctx, e.c, lost, data, ifAbsent)
				e.st.S3.LoseResponses(0, nil)
				if err != nil {
					t.Fatalf("create-if-absent whose first response was lost: %v", err)
				}
				if !bytes.Equal(contentOf(t, e.c, lost), data) {
					t.Fatal("content differs")
				}

				// If-Match: the ETag seen wins; a stale one fails.
				fi, err := e.c.Stat(ctx, uri)
				if err != nil {
					t.Fatal(err)
				}
				next := randomBytes(size, 12)
				if err := create(ctx, e.c, uri, next, func(o *CreateOptions) { o.IfMatch = fi.ETag() }); err != nil {
					t.Fatalf("If-Match on the current ETag: %v", err)
				}
				err = create(ctx, e.c, uri, first, func(o *CreateOptions) { o.IfMatch = fi.ETag() })
				if !errors.Is(err, ErrPreconditionFailed) {
					t.Fatalf("If-Match on a stale ETag = %v, want ErrPreconditionFailed", err)
				}
				if !bytes.Equal(contentOf(t, e.c, uri), next) {
					t.Fatal("a stale If-Match replaced the object")
				}
			})
		}
	}
	t.Run("race", func(t *testing.T) {
		const writers = 8
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for i := range writers {
			wg.Go(func() {
				errs[i] = create(ctx, e.c, "s3://"+testBucket+"/ifabsent/race", []byte(strconv.Itoa(i)), ifAbsent)
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("writers %d and %d both created the object", winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, fs.ErrExist):
				t.Errorf("writer %d: %v, want fs.ErrExist", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no writer created the object")
		}
		if got := string(contentOf(t, e.c, "s3://"+testBucket+"/ifabsent/race")); got != strconv.Itoa(winner) {
			t.Errorf("object = %q, want the winner's %d", got, winner)
		}
	})
	t.Run("copy", func(t *testing.T) {
		src, dst := "s3://"+testBucket+"/ifabsent/csrc", "s3://"+testBucket+"/ifabsent/cdst"
		if err := create(ctx, e.c, src, []byte("src")); err != nil {
			t.Fatal(err)
		}
		copyIfAbsent := func(o *CopyOptions) { o.IfAbsent = true }
		if err := e.c.Copy(ctx, src, dst, copyIfAbsent); err != nil {
			t.Fatal(err)
		}
		if err := e.c.Copy(ctx, "s3://"+testBucket+"/ifabsent/100", dst, copyIfAbsent); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("Copy IfAbsent onto an existing key = %v, want fs.ErrExist", err)
		}
		if string(contentOf(t, e.c, dst)) != "src" {
			t.Fatal("the existing object was replaced")
		}
	})
	if n := openUploads(t, e.api, testBucket); n != 0 {
		t.Errorf("%d multipart uploads left", n)
	}
}

// TestWriteChecksums shows on the wire that the SDK's default CRC32 goes
// with every ciphertext upload (PutObject and UploadPart), over HTTP (as
// a header) and HTTPS (as an aws-chunked trailer), and that the stack
// verifies it.
func TestWriteChecksums(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			st := emrfstest.Start(t, func(o *emrfstest.Options) { o.TLS = tls })
			c := newCommitEnvOn(t, s3.NewFromConfig(st.Config, st.S3Options), st).c
			for _, size := range []int{100, MinPartSize + 100} {
				if err := create(context.Background(), c, fmt.Sprintf("s3://%s/crc/%d", cseMetaBucket, size), randomBytes(size, 13)); err != nil {
					t.Fatal(err)
				}
			}
			var checked int
			for _, r := range st.S3.Requests() {
				op := r.Op()
				if op != "PutObject" && op != "UploadPart" {
					continue
				}
				crc := r.Header.Get("X-Amz-Checksum-Crc32") != "" || r.Header.Get("X-Amz-Trailer") == "x-amz-checksum-crc32"
				if !crc || r.Status != http.StatusOK {
					t.Errorf("%s %s: status %d, x-amz-checksum-crc32 %q, x-amz-trailer %q", op, r.Key, r.Status, r.Header.Get("X-Amz-Checksum-Crc32"), r.Header.Get("X-Amz-Trailer"))
				}
				checked++
			}
			if checked < 3 {
				t.Errorf("%d uploads checked, want a PutObject and two UploadParts", checked)
			}
		})
	}
}

// TestEmptyCSEObjectLength: an empty CSE object records
// x-amz-unencrypted-content-length: 0, as the official clients write it.
func TestEmptyCSEObjectLength(t *testing.T) {
	e := newCommitEnv(t)
	for _, b := range []string{cseMetaBucket, cseInstrBucket} {
		uri := "s3://" + b + "/empty"
		if err := create(context.Background(), e.c, uri, nil); err != nil {
			t.Fatal(err)
		}
		head, err := e.api.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("empty")})
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := head.Metadata[metaUnencryptedLength]; !ok || got != "0" {
			t.Errorf("%s: x-amz-unencrypted-content-length = %q (present %v), want 0", b, got, ok)
		}
		if got := contentOf(t, e.c, uri); len(got) != 0 {
			t.Errorf("%s: read %d bytes", b, len(got))
		}
	}
	// A non-empty object keeps its real length.
	if err := create(context.Background(), e.c, "s3://"+cseMetaBucket+"/one", []byte("x")); err != nil {
		t.Fatal(err)
	}
	head, err := e.api.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(cseMetaBucket), Key: aws.String("one")})
	if err != nil {
		t.Fatal(err)
	}
	if got := head.Metadata[metaUnencryptedLength]; got != "1" {
		t.Errorf("x-amz-unencrypted-content-length = %q, want 1", got)
	}
}

// TestIfUnchanged: a write or copy conditioned on what the key held when
// it started fails, leaving the other writer's object, when someone wrote
// in between; succeeds otherwise, also when a lost response makes the
// SDK retry into its own object.
func TestIfUnchanged(t *testing.T) {
	e := newCommitEnv(t)
	ctx := context.Background()
	unchanged := func(o *CreateOptions) { o.IfUnchanged = true }
	for _, size := range []int{100, MinPartSize + 100} {
		for _, existing := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/existing=%v", size, existing), func(t *testing.T) {
				uri := fmt.Sprintf("s3://%s/unchanged/%d-%v", cseMetaBucket, size, existing)
				if existing {
					if err := create(ctx, e.c, uri, []byte("old")); err != nil {
						t.Fatal(err)
					}
				}
				w, err := e.c.Create(ctx, uri, unchanged)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Write(randomBytes(size, 19)); err != nil {
					t.Fatal(err)
				}
				if err := create(ctx, e.c, uri, []byte("other")); err != nil { // another writer
					t.Fatal(err)
				}
				err = w.Close()
				want := ErrPreconditionFailed
				if !existing {
					want = fs.ErrExist
				}
				if !errors.Is(err, want) {
					t.Fatalf("Close after another write = %v, want %v", err, want)
				}
				if got := contentOf(t, e.c, uri); string(got) != "other" {
					t.Fatalf("object = %d bytes, want the other writer's", len(got))
				}
				data := randomBytes(size, 20)
				e.st.S3.LoseResponses(1, isOp("PutObject", "CompleteMultipartUpload"))
				err = create(ctx, e.c, uri, data, unchanged)
				e.st.S3.LoseResponses(0, nil)
				if err != nil {
					t.Fatalf("IfUnchanged write with a lost response: %v", err)
				}
				if !bytes.Equal(contentOf(t, e.c, uri), data) {
					t.Fatal("content differs")
				}
			})
		}
	}
	t.Run("copy", func(t *testing.T) {
		src, dst := "s3://"+testBucket+"/unchanged/src", "s3://"+testBucket+"/unchanged/dst"
		if err := create(ctx, e.c, src, []byte("src")); err != nil {
			t.Fatal(err)
		}
		if err := create(ctx, e.c, dst, []byte("old")); err != nil {
			t.Fatal(err)
		}
		// Another writer replaces dst right after Copy has looked at it.
		var once sync.Once
		e.st.S3.OnRequest(func(r emrfstest.S3Request, handled bool) {
			if handled && r.Op() == "HeadObject" && r.Key == "unchanged/dst" {
				once.Do(func() {
					if err := create(ctx, e.c, dst, []byte("other")); err != nil {
						t.Error(err)
					}
				})
			}
		})
		err := e.c.Copy(ctx, src, dst, func(o *CopyOptions) { o.IfUnchanged = true })
		e.st.S3.OnRequest(nil)
		if !errors.Is(err, ErrPreconditionFailed) {
			t.Fatalf("Copy after another write = %v, want ErrPreconditionFailed", err)
		}
		if got := string(contentOf(t, e.c, dst)); got != "other" {
			t.Fatalf("dst = %q, want the other writer's", got)
		}
		if err := e.c.Copy(ctx, src, dst, func(o *CopyOptions) { o.IfUnchanged = true }); err != nil {
			t.Fatal(err)
		}
		if got := string(contentOf(t, e.c, dst)); got != "src" {
			t.Fatalf("dst = %q", got)
		}
	})
}

// TestChecksumsDefaultConfig: with the checksum settings
// config.LoadDefaultConfig gives (when supported, both ways), ciphertext
// uploads carry CRC32 and GETs ask for the stored checksum.
func TestChecksumsDefaultConfig(t *testing.T) {
	st := emrfstest.Start(t)
	cfg := st.Config.Copy()
	cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
	api := s3.NewFromConfig(cfg, st.S3Options)
	if _, err := api.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatal(err)
	}
	e := newCommitEnvOn(t, api, st)
	data := randomBytes(1000, 21)
	uri := "s3://" + cseMetaBucket + "/crc-default"
	if err := create(context.Background(), e.c, uri, data); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(contentOf(t, e.c, uri), data) {
		t.Fatal("content differs")
	}
	var puts, gets int
	for _, r := range st.S3.Requests() {
		switch r.Op() {
		case "PutObject":
			puts++
			if r.Header.Get("X-Amz-Checksum-Crc32") == "" && r.Header.Get("X-Amz-Trailer") == "" {
				t.Errorf("PutObject without a checksum: %v", r.Header)
			}
		case "GetObject":
			// Open reads in ranged part GETs (as manager.Downloader does);
			// each still asks for the stored checksum. S3 returns a
			// full-object checksum only to a GET of the whole object, so
			// on a ranged GET the SDK has nothing to validate and the
			// content's authentication (GCM) is the check; s3ec's
			// whole-object GetObject shows the SDK's validation
			// (s3ec.TestChecksums).
			gets++
			if r.Header.Get("X-Amz-Checksum-Mode") != "ENABLED" {
				t.Errorf("GetObject without x-amz-checksum-mode: ENABLED")
			}
		}
	}
	if puts == 0 || gets == 0 {
		t.Errorf("%d PutObject and %d GetObject requests seen", puts, gets)
	}
}
