package emrfs

import (
	"context"
	"strconv"
	"sync"
	"testing"
)

// TestClientKeepsItsConfig: New takes a copy of the Config, so changing
// the caller's Config afterwards (properties, a security configuration, a
// Merge), or the Bucket an Options.Bucket hook kept, changes nothing in a
// live Client.
func TestClientKeepsItsConfig(t *testing.T) {
	api := newTestS3(t)
	cfg := NewConfig()
	cfg.Set("fs.s3.enableServerSideEncryption", "true")
	var kept *Bucket
	c, err := New(api, cfg, func(o *Options) {
		o.Bucket = func(b *Bucket) { kept = b }
	})
	if err != nil {
		t.Fatal(err)
	}
	uri := "s3://" + testBucket + "/k"
	check := func(when string) {
		t.Helper()
		_, b, err := c.target("stat", uri)
		if err != nil || b.SSE == nil || b.SSE.Kind != SSES3 || b.CSE != nil {
			t.Fatalf("%s: bucket settings %v, %v; want SSE-S3", when, b, err)
		}
	}
	writeObject(t, c, uri, []byte("data"))
	check("before")

	cfg.Set("fs.s3.enableServerSideEncryption", "false")
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", "alias/k")
	other := NewConfig()
	other.Set("fs.s3.bucket."+testBucket+".cse.enabled", "true")
	cfg.Merge(other)
	if err := cfg.ApplySecurityConfiguration([]byte(`{"EncryptionConfiguration":{"EnableAtRestEncryption":true,"AtRestEncryptionConfiguration":{"S3EncryptionConfiguration":{"EncryptionMode":"CSE-KMS","AwsKmsKey":"arn:aws:kms:us-east-1:111122223333:key/k1"}}}}`)); err != nil {
		t.Fatal(err)
	}
	kept.SSE, kept.CSE = nil, &CSE{Provider: "x"}
	check("after the caller changed its Config and the hook's Bucket")
	writeObject(t, c, uri, []byte("still SSE-S3, no KMS client needed"))
	if got := string(readObject(t, c, uri)); got != "still SSE-S3, no KMS client needed" {
		t.Fatalf("read %q", got)
	}
	if b, err := cfg.Bucket(testBucket); err != nil || b.CSE == nil {
		t.Fatalf("the caller's Config itself changed: %v, %v", b, err)
	}
}

// TestClientResolvesBucketOnce: a bucket's settings are resolved (and
// Options.Bucket called) once, however many operations, from however many
// goroutines, use the bucket; New resolves the buckets the configuration
// names, and the operations reuse that result.
func TestClientResolvesBucketOnce(t *testing.T) {
	api := newTestS3(t)
	cfg := NewConfig()
	cfg.Set("fs.s3a.bucket.named.encryption.algorithm", "SSE-S3")
	// A value that expands through many ${...} references: costly to
	// resolve, and resolved once.
	cfg.Set("fs.s3.enableServerSideEncryption", "${chain.0}")
	for i := range 15 {
		cfg.Set("chain."+strconv.Itoa(i), "${chain."+strconv.Itoa(i+1)+"}")
	}
	cfg.Set("chain.15", "true")
	var mu sync.Mutex
	calls := map[string]int{}
	c, err := New(api, cfg, func(o *Options) {
		o.Bucket = func(b *Bucket) {
			mu.Lock()
			calls[b.Name]++
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := c.resolved.Load(); n != 1 || calls["named"] != 1 {
		t.Fatalf("New: %d resolutions, hook calls %v; want the named bucket once", n, calls)
	}
	ctx := context.Background()
	uri := "s3://" + testBucket + "/dir/k"
	writeObject(t, c, uri, []byte("x"))
	readObject(t, c, uri)
	if _, err := c.Stat(ctx, uri); err != nil {
		t.Fatal(err)
	}
	for _, err := range c.List(ctx, "s3://"+testBucket+"/dir/") {
		if err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, b, err := c.target("stat", uri); err != nil || b.SSE == nil || b.SSE.Kind != SSES3 {
					t.Errorf("target: %v, %v", b, err)
					return
				}
				if _, _, err := c.target("stat", "s3://named/k"); err != nil {
					t.Errorf("target: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if n := c.resolved.Load(); n != 2 || calls[testBucket] != 1 || calls["named"] != 1 {
		t.Fatalf("%d resolutions, hook calls %v; want each bucket once", n, calls)
	}
	// An invalid bucket's error is kept too.
	bad := NewConfig()
	bad.Set("fs.s3.bucket.broken.cse.enabled", "yes")
	c, err = New(api, bad)
	if err != nil {
		t.Fatal(err)
	}
	before := c.resolved.Load()
	for range 3 {
		if _, _, err := c.target("open", "s3://broken/k"); err == nil {
			t.Fatal("invalid settings accepted")
		}
	}
	if n := c.resolved.Load() - before; n != 0 {
		t.Fatalf("the invalid bucket (resolved in New) was resolved %d more times", n)
	}
}

// BenchmarkTargetPathological: a configuration whose ${...} references
// expand to the 64 KiB limit costs its expansion in every Config.Bucket;
// the Client pays it once per bucket.
func BenchmarkTargetPathological(b *testing.B) {
	cfg := NewConfig()
	cfg.Set("fs.s3.enableServerSideEncryption", "${x.0}")
	for i := range 19 {
		cfg.Set("x."+strconv.Itoa(i), "${x."+strconv.Itoa(i+1)+"}${x."+strconv.Itoa(i+1)+"}")
	}
	cfg.Set("x.19", "true")
	for _, k := range []string{"cse.enabled", "cse.kms.keyId", "serverSideEncryption.kms.keyId", "cse.cryptoMode"} {
		cfg.Set("fs.s3."+k, "${x.0}")
	}
	c, err := New(nopS3{}, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Config.Bucket", func(b *testing.B) {
		for b.Loop() {
			_, _ = cfg.Bucket("data")
		}
	})
	b.Run("Client.target", func(b *testing.B) {
		for b.Loop() {
			_, _, _ = c.target("stat", "s3://data/k")
		}
	})
}
