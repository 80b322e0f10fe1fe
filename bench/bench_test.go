package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"testing"
	"time"

	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/emrs3/emrs3/bench/internal/link"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// TestImplsThroughLink puts and gets objects with every implementation
// through the link-shaping proxies in front of the test stack's S3 and KMS,
// and checks that what comes back is what was sent and that the traffic
// went through the proxies.
func TestImplsThroughLink(t *testing.T) {
	// As the workers are started (env.export): a CA bundle setting would
	// make aws-sdk-go v1 replace the counting transport.
	t.Setenv("AWS_CA_BUNDLE", "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack, err := emrfstest.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	creds, err := stack.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := env{
		S3Endpoint: stack.URL, S3Access: creds.AccessKeyID, S3Secret: creds.SecretAccessKey,
		KMSEndpoint: stack.URL, KMSAccess: creds.AccessKeyID, KMSSecret: creds.SecretAccessKey,
		KMSKey: stack.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault), Bucket: "bench", Region: stack.Region,
	}
	stop, err := shape(&e, link.Model{RTT: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for _, ep := range []string{e.S3Endpoint, e.KMSEndpoint} {
		if ep == stack.URL {
			t.Fatalf("endpoint %q is not a proxy in front of %s", ep, stack.URL)
		}
	}
	if err := createBucket(ctx, e); err != nil {
		t.Fatal(err)
	}
	// 1 MiB + 3 is one PUT for every client; 9 MiB is two parts for emrs3
	// and the Uploader, and two ranged GETs for the Downloader.
	sizes := map[string][]int64{"emrs3": {1<<20 + 3, 9 << 20}, "manager": {1<<20 + 3, 9 << 20}}
	for _, name := range []string{"emrs3", "emrs3-delayed", "s3crypto", "s3ec-v4", "plain", "manager"} {
		if sizes[name] == nil {
			sizes[name] = []int64{1<<20 + 3}
		}
		for _, size := range sizes[name] {
			t.Run(fmt.Sprintf("%s/%d", name, size), func(t *testing.T) {
				cnt := &counting{}
				im, err := newImpl(name, e, newHTTPClient(cnt), false, false)
				if err != nil {
					t.Fatal(err)
				}
				key := fmt.Sprintf("t/%s/%d", name, size)
				if err := im.put(ctx, key, &pattern{n: size}, size); err != nil {
					t.Fatalf("put: %v", err)
				}
				h := sha256.New()
				n, err := im.get(ctx, key, h)
				if err != nil {
					t.Fatalf("get: %v", err)
				}
				want := sha256.New()
				io.Copy(want, &pattern{n: size})
				if n != size || string(h.Sum(nil)) != string(want.Sum(nil)) {
					t.Errorf("got %d bytes back (sha256 %x), want %d (%x)", n, h.Sum(nil), size, want.Sum(nil))
				}
				if cnt.out.Load() < size || cnt.in.Load() < size {
					t.Errorf("HTTP bodies: %d bytes out, %d in; want at least %d each way", cnt.out.Load(), cnt.in.Load(), size)
				}
			})
		}
	}
}
