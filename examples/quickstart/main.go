// Command quickstart writes and reads an SSE-KMS object and a CSE-KMS object
// the way an EMR cluster configured with emrfs-site properties would, and
// prints what it wrote: the server-side encryption S3 reports, the
// client-side envelope stored with the object, the first bytes of the stored
// ciphertext, and the plaintext read back.
//
// With no flags it runs on an embedded local S3 + KMS (the emrfstest stack),
// so it needs no AWS account:
//
//	go run ./examples/quickstart
//
// To run it against real AWS, with the usual AWS environment (credentials,
// profile, region):
//
//	go run ./examples/quickstart -aws -bucket my-bucket -kms-key alias/my-key [-region us-east-1] [-endpoint URL]
//
// It writes two objects under quickstart/ in the bucket and leaves them there.
package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
	"github.com/emrs3/emrs3/examples/internal/demo"
)

func main() {
	demo.Exit("quickstart", run(context.Background(), os.Args[1:], os.Stdout))
}

// target is where the program writes.
type target struct {
	awsCfg aws.Config
	s3opts []func(*s3.Options)
	bucket string
	keyID  string
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	useAWS := fs.Bool("aws", false, "use real AWS (the usual AWS environment) instead of the embedded S3 + KMS")
	bucket := fs.String("bucket", "", "bucket to write to (with -aws)")
	kmsKey := fs.String("kms-key", "", "KMS key id, ARN or alias for SSE-KMS and CSE-KMS (with -aws)")
	region := fs.String("region", "", "AWS region (with -aws; default from the environment)")
	endpoint := fs.String("endpoint", "", "S3 and KMS endpoint URL (with -aws; default AWS)")
	demo.SetUsage(fs, "[-aws -bucket B -kms-key K [-region R] [-endpoint URL]]", `
Writes and reads an SSE-KMS object and a CSE-KMS object as an EMR cluster
configured with emrfs-site properties would, and prints what S3 stores: the
server-side encryption, the client-side envelope, the first ciphertext bytes,
and the plaintext read back. Without flags it runs on an embedded S3 + KMS.`,
		"go run ./examples/quickstart                                    # embedded S3 + KMS, no AWS account",
		"go run ./examples/quickstart -aws -bucket my-bucket -kms-key alias/my-key")
	if err := demo.Parse(fs, args); err != nil {
		return err
	}
	var t target
	if *useAWS {
		if *bucket == "" || *kmsKey == "" {
			return errors.New("-aws needs -bucket and -kms-key")
		}
		var opts []func(*config.LoadOptions) error
		if *region != "" {
			opts = append(opts, config.WithRegion(*region))
		}
		cfg, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return fmt.Errorf("loading the AWS configuration: %w", err)
		}
		if *endpoint != "" {
			cfg.BaseEndpoint = endpoint
		}
		t = target{awsCfg: cfg, bucket: *bucket, keyID: *kmsKey}
	} else {
		stack, err := emrfstest.New(ctx)
		if err != nil {
			return err
		}
		defer stack.Close()
		fmt.Fprintf(stdout, "embedded S3 + KMS at %s\n", stack.URL)
		t = target{awsCfg: stack.Config, s3opts: []func(*s3.Options){stack.S3Options}, bucket: "quickstart", keyID: stack.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)}
		if _, err := s3.NewFromConfig(t.awsCfg, t.s3opts...).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(t.bucket)}); err != nil {
			return err
		}
	}
	if err := sseKMS(ctx, t, stdout); err != nil {
		return fmt.Errorf("SSE-KMS: %w", err)
	}
	if err := cseKMS(ctx, t, stdout); err != nil {
		return fmt.Errorf("CSE-KMS: %w", err)
	}
	fmt.Fprintln(stdout, "\nok: both objects read back as written")
	return nil
}

// sseKMS writes and reads an object with server-side encryption under the
// KMS key, configured as emrfs-site would.
func sseKMS(ctx context.Context, t target, stdout io.Writer) error {
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.enableServerSideEncryption", "true")
	cfg.Set("fs.s3.serverSideEncryption.kms.keyId", t.keyID)
	api := s3.NewFromConfig(t.awsCfg, t.s3opts...)
	c, err := emrfs.New(api, cfg)
	if err != nil {
		return err
	}
	uri := "s3://" + t.bucket + "/quickstart/sse-kms.txt"
	text := []byte("hello from emrs3, encrypted by S3 under a KMS key\n")
	if err := write(ctx, c, uri, text); err != nil {
		return err
	}
	head, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(t.bucket), Key: aws.String("quickstart/sse-kms.txt")})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n== SSE-KMS  %s\n", uri)
	fmt.Fprintf(stdout, "S3 reports: x-amz-server-side-encryption: %s\n", head.ServerSideEncryption)
	fmt.Fprintf(stdout, "            x-amz-server-side-encryption-aws-kms-key-id: %s\n", aws.ToString(head.SSEKMSKeyId))
	got, err := read(ctx, c, uri)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "read back:  %q\n", got)
	if !bytes.Equal(got, text) {
		return errors.New("read back differs from what was written")
	}
	return nil
}

// cseKMS writes and reads an object with client-side encryption (the V2
// envelope EMRFS writes with fs.s3.cse.encryptionV2.enabled) and shows what
// S3 stores.
func cseKMS(ctx context.Context, t target, stdout io.Writer) error {
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", t.keyID)
	cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
	api := s3.NewFromConfig(t.awsCfg, t.s3opts...)
	c, err := emrfs.New(api, cfg, func(o *emrfs.Options) { o.KMS = kms.NewFromConfig(t.awsCfg) })
	if err != nil {
		return err
	}
	key := "quickstart/cse-kms.txt"
	uri := "s3://" + t.bucket + "/" + key
	text := []byte("hello from emrs3, encrypted in this process before it left\n")
	if err := write(ctx, c, uri, text); err != nil {
		return err
	}
	// What S3 holds: the envelope in the metadata, ciphertext in the body.
	raw, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	body, err := io.ReadAll(raw.Body)
	raw.Body.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n== CSE-KMS  %s\n", uri)
	fmt.Fprintln(stdout, "envelope (object metadata):")
	names := make([]string, 0, len(raw.Metadata))
	for k := range raw.Metadata {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := raw.Metadata[k]
		if k == "x-amz-key-v2" && len(v) > 24 {
			v = v[:24] + "…"
		}
		fmt.Fprintf(stdout, "  x-amz-meta-%s: %s\n", k, v)
	}
	fmt.Fprintf(stdout, "stored body: %d bytes, starts %s…\n", len(body), hex.EncodeToString(body[:min(16, len(body))]))
	if bytes.Contains(body, []byte("hello")) {
		return errors.New("the stored body holds plaintext")
	}
	if raw.Metadata["x-amz-cek-alg"] != "AES/GCM/NoPadding" || raw.Metadata["x-amz-wrap-alg"] != "kms+context" {
		return fmt.Errorf("unexpected envelope: %v", raw.Metadata)
	}
	got, err := read(ctx, c, uri)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "read back:  %q\n", strings.TrimSpace(string(got)))
	if !bytes.Equal(got, text) {
		return errors.New("read back differs from what was written")
	}
	return nil
}

func write(ctx context.Context, c *emrfs.Client, uri string, data []byte) error {
	w, err := c.Create(ctx, uri)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

func read(ctx context.Context, c *emrfs.Client, uri string) ([]byte, error) {
	f, err := c.Open(ctx, uri)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
