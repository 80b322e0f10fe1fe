// Package demo sets up the S3 access the example programs share: the
// embedded local S3 + KMS stack, or real AWS from the usual environment, and
// an emrfs client with CSE-KMS or SSE-KMS configured as emrfs-site would.
package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// Flags are the connection flags of every example.
type Flags struct {
	Embedded bool
	Bucket   string
	KMSKey   string
	Region   string
	Endpoint string
	SSE      bool
}

// Register adds the flags to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.BoolVar(&f.Embedded, "embedded", false, "run against an embedded local S3 + KMS (no AWS account)")
	fs.StringVar(&f.Bucket, "bucket", "", "bucket (default: \"demo\" with -embedded)")
	fs.StringVar(&f.KMSKey, "kms-key", "", "KMS key id, ARN or alias (created with -embedded)")
	fs.StringVar(&f.Region, "region", "", "AWS region (default from the environment)")
	fs.StringVar(&f.Endpoint, "endpoint", "", "S3 and KMS endpoint URL (default AWS)")
	fs.BoolVar(&f.SSE, "sse", false, "use SSE-KMS instead of client-side encryption (CSE-KMS)")
}

// Env is a connected client.
type Env struct {
	Client *emrfs.Client
	S3     *s3.Client
	Bucket string
	Stack  *emrfstest.Stack // nil unless embedded
	close  func()
}

// Close stops the embedded stack, if any.
func (e *Env) Close() {
	if e.close != nil {
		e.close()
	}
}

// Connect builds the client the flags describe.
func Connect(ctx context.Context, f Flags) (*Env, error) {
	env := &Env{Bucket: f.Bucket}
	var awsCfg aws.Config
	var s3opts []func(*s3.Options)
	keyID := f.KMSKey
	if f.Embedded {
		st, err := emrfstest.New(ctx)
		if err != nil {
			return nil, err
		}
		env.Stack, env.close = st, func() { st.Close() }
		awsCfg, s3opts = st.Config, []func(*s3.Options){st.S3Options}
		if keyID == "" {
			keyID = st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
		}
		if env.Bucket == "" {
			env.Bucket = "demo"
		}
		if _, err := s3.NewFromConfig(awsCfg, s3opts...).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(env.Bucket)}); err != nil {
			env.Close()
			return nil, err
		}
	} else {
		if env.Bucket == "" || keyID == "" {
			return nil, errors.New("-bucket and -kms-key are required (or use -embedded)")
		}
		var opts []func(*config.LoadOptions) error
		if f.Region != "" {
			opts = append(opts, config.WithRegion(f.Region))
		}
		var err error
		if awsCfg, err = config.LoadDefaultConfig(ctx, opts...); err != nil {
			return nil, fmt.Errorf("loading the AWS configuration: %w", err)
		}
		if f.Endpoint != "" {
			awsCfg.BaseEndpoint = aws.String(f.Endpoint)
		}
	}
	cfg := emrfs.NewConfig()
	if f.SSE {
		cfg.Set("fs.s3.enableServerSideEncryption", "true")
		cfg.Set("fs.s3.serverSideEncryption.kms.keyId", keyID)
	} else {
		cfg.Set("fs.s3.cse.enabled", "true")
		cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
		cfg.Set("fs.s3.cse.kms.keyId", keyID)
		cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
	}
	env.S3 = s3.NewFromConfig(awsCfg, s3opts...)
	c, err := emrfs.New(env.S3, cfg, func(o *emrfs.Options) { o.KMS = kms.NewFromConfig(awsCfg) })
	if err != nil {
		env.Close()
		return nil, err
	}
	env.Client = c
	return env, nil
}
