package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// demoBucket is the bucket --embedded seeds.
const demoBucket = "demo"

// demoProps are the EMRFS properties of the embedded stack: CSE-KMS, V2
// (AES-GCM, kms+context), as an EMR cluster with
// fs.s3.cse.encryptionV2.enabled writes. KEY is replaced by the key id.
var demoProps = [][2]string{
	{"fs.s3.cse.enabled", "true"},
	{"fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider},
	{"fs.s3.cse.kms.keyId", "KEY"},
	{"fs.s3.cse.encryptionV2.enabled", "true"},
}

// startEmbedded starts the in-process S3 + KMS + STS stack, creates a KMS
// key and the CSE-KMS bucket s3://demo/ with a few objects, and sets the
// demo properties in cfg.
func startEmbedded(ctx context.Context, cfg *emrfs.Config) (*emrfstest.Stack, error) {
	st, err := emrfstest.New(ctx)
	if err != nil {
		return nil, err
	}
	keyID := st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
	for _, p := range demoProps {
		v := p[1]
		if v == "KEY" {
			v = keyID
		}
		cfg.Set(p[0], v)
	}
	if err := seedDemo(ctx, st, cfg); err != nil {
		st.Close()
		return nil, fmt.Errorf("seeding s3://%s/: %w", demoBucket, err)
	}
	return st, nil
}

// seedDemo creates s3://demo/ and writes its objects with CSE-KMS: two
// small CSV files, a log of a few thousand lines, and one object whose
// envelope is in an instruction file.
func seedDemo(ctx context.Context, st *emrfstest.Stack, cfg *emrfs.Config) error {
	api := s3.NewFromConfig(st.Config, st.S3Options)
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(demoBucket)}); err != nil {
		return err
	}
	c, err := emrfs.New(api, cfg, func(o *emrfs.Options) { o.KMS = kms.NewFromConfig(st.Config) })
	if err != nil {
		return err
	}
	defer c.Close()
	var log strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&log, "2026-12-05T09:%02d:%02dZ INFO job=etl-nightly step=%d rows=%d\n", i/60%60, i%60, i, i*37%1000)
	}
	objects := []struct{ key, body string }{
		{"README.txt", "This bucket lives in emrs3's embedded S3 + KMS.\nEvery object is client-side encrypted (CSE-KMS, AES-GCM) as EMRFS writes it.\n"},
		{"sales/2026-q3.csv", "region,total\nemea,1200\namer,3400\napac,560\n"},
		{"sales/2026-q4.csv", "region,total\nemea,1500\namer,3900\napac,610\n"},
		{"logs/etl.log", log.String()},
	}
	for _, o := range objects {
		if err := writeString(ctx, c, "s3://"+demoBucket+"/"+o.key, o.body); err != nil {
			return err
		}
	}
	// One object with its envelope in <key>.instruction.
	icfg := emrfs.NewConfig()
	icfg.Merge(cfg)
	icfg.Set("fs.s3.cse.cryptoStorageMode", "InstructionFile")
	ic, err := emrfs.New(api, icfg, func(o *emrfs.Options) { o.KMS = kms.NewFromConfig(st.Config) })
	if err != nil {
		return err
	}
	defer ic.Close()
	return writeString(ctx, ic, "s3://"+demoBucket+"/instruction/orders.csv", "id,name\n1,ada\n2,grace\n")
}

func writeString(ctx context.Context, c *emrfs.Client, uri, body string) error {
	w, err := c.Create(ctx, uri)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, body); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

var cmdServe = &command{
	name:  "serve",
	args:  "[--dir DIR]",
	short: "run the embedded S3 + KMS until Ctrl-C, for other shells",
	long: `Starts the embedded S3 + KMS + STS stack on 127.0.0.1, seeds s3://demo/ as
--embedded does, writes an environment file and an emrfs-site.xml to DIR
(default: a new temporary directory, removed on exit), and waits for Ctrl-C.
In another shell:

  . DIR/env               # AWS_ENDPOINT_URL, the stack's throwaway credentials, AWS_REGION
  emrs3 --conf DIR/emrfs-site.xml ls -r s3://demo/

The credentials are the emulator's own, valid only for this stack; they are
written to the file (mode 0600), not printed.`,
	flags: func(a *app, fs *flagSet) {
		fs.StringVar(&serveDir, "dir", "", "where to write env and emrfs-site.xml (`DIR`)")
	},
	run: runServe,
}

var serveDir string

func runServe(ctx context.Context, a *app, args []string) error {
	if len(args) != 0 {
		return usagef("serve takes no arguments")
	}
	cfg := emrfs.NewConfig()
	st, err := startEmbedded(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	dir := serveDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "emrs3-serve-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	creds, err := st.Config.Credentials.Retrieve(ctx)
	if err != nil {
		return err
	}
	env := fmt.Sprintf("export AWS_ENDPOINT_URL=%s\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_REGION=%s\nunset AWS_SESSION_TOKEN AWS_PROFILE\n",
		st.URL, creds.AccessKeyID, creds.SecretAccessKey, st.Region)
	if err := os.WriteFile(filepath.Join(dir, "env"), []byte(env), 0o600); err != nil {
		return err
	}
	var xml strings.Builder
	xml.WriteString("<?xml version=\"1.0\"?>\n<configuration>\n")
	for _, p := range demoProps {
		v, _ := cfg.Get(p[0])
		fmt.Fprintf(&xml, "  <property><name>%s</name><value>%s</value></property>\n", p[0], v)
	}
	xml.WriteString("</configuration>\n")
	if err := os.WriteFile(filepath.Join(dir, "emrfs-site.xml"), []byte(xml.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(a.io.out, "embedded S3 + KMS on %s with s3://%s/ seeded; in another shell:\n\n  . %s\n  emrs3 --conf %s ls -r s3://%s/\n\nCtrl-C stops it.\n",
		st.URL, demoBucket, filepath.Join(dir, "env"), filepath.Join(dir, "emrfs-site.xml"), demoBucket)
	<-ctx.Done()
	return nil
}
