package main

import (
	"context"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
)

// emrs3Impl is this library: an emrfs.Client with CSE-KMS (V2, GCM,
// kms+context), configured with the properties an EMR cluster uses. By
// default a GET authenticates the whole object before releasing plaintext
// (holding 8 MiB in memory, spooling the rest to an encrypted temporary
// file); "emrs3-delayed" streams plaintext as it is decrypted and fails the
// last Read if the tag is wrong.
type emrs3Impl struct {
	c      *emrfs.Client
	bucket string
}

func newEmrs3(e env, hc *http.Client, legacy, delayed bool) (impl, error) {
	kmsClient := kms.New(kms.Options{
		Region:       e.Region,
		BaseEndpoint: aws.String(e.KMSEndpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(e.KMSAccess, e.KMSSecret, ""),
		HTTPClient:   hc,
	})
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", e.KMSKey)
	cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
	// Reading EMRFS's default CBC objects and ranged GCM reads are
	// unauthenticated legacy modes: an explicit opt-in (the crypto mode
	// and policy an EMR cluster reads with), used only for those
	// measurements. Otherwise the library's defaults: every read
	// authenticates before it releases plaintext.
	var policy *cse.Policy
	if legacy {
		cfg.Set("fs.s3.cse.cryptoMode", emrfs.CryptoModeAuthenticatedEncryption)
		p := cse.EMRFSCompatible()
		policy = &p
	}
	c, err := emrfs.New(s3Client(e, hc), cfg, func(o *emrfs.Options) {
		o.KMS = kmsClient
		o.CSEPolicy = policy
		o.DelayedAuthentication = delayed
		// The library's defaults, unless EMRS3_BENCH_PART_SIZE or
		// EMRS3_BENCH_CONCURRENCY say otherwise (the manager baselines
		// use the same).
		o.PartSize, o.Concurrency = transferShape()
	})
	if err != nil {
		return nil, err
	}
	return &emrs3Impl{c: c, bucket: e.Bucket}, nil
}

func (m *emrs3Impl) uri(key string) string { return "s3://" + m.bucket + "/" + key }

func (m *emrs3Impl) put(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	w, err := m.c.Create(ctx, m.uri(key))
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, struct{ io.Reader }{body}); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

func (m *emrs3Impl) get(ctx context.Context, key string, w io.Writer) (int64, error) {
	f, err := m.c.Open(ctx, m.uri(key))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(w, f)
}

func (m *emrs3Impl) rangeTail(ctx context.Context, key string, size, n int64, w io.Writer) (int64, error) {
	f, err := m.c.Open(ctx, m.uri(key))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, n)
	k, err := f.ReadAt(buf, size-n)
	if err != nil && k != int(n) {
		return int64(k), err
	}
	_, err = w.Write(buf[:k])
	return int64(k), err
}
