package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// app holds the global flags and, once connected, the client.
type app struct {
	io *stdio

	help       bool
	confs      listFlag
	secConf    string
	sets       listFlag
	embedded   bool
	region     string
	profile    string
	kmsProfile string
	endpoint   string
	pathStyle  string
	compatible bool
	quiet      bool
	progress   bool
	verbose    bool

	client *emrfs.Client
	stack  *emrfstest.Stack
	closer []func()
}

func (a *app) globalFlags(fs *flagSet) {
	// The current values are the defaults, so that the flags parsed before
	// the command survive the command's own flag set.
	fs.BoolVar(&a.help, "help", a.help, "show this help")
	fs.BoolVar(&a.help, "h", a.help, "show this help")
	fs.Var(&a.confs, "conf", "a Hadoop XML `FILE` (emrfs-site.xml, core-site.xml) or an EMR configurations JSON file; repeat it, later files win")
	fs.StringVar(&a.secConf, "security-configuration", a.secConf, "an EMR security configuration JSON `FILE` (its encryption settings win over --conf)")
	fs.Var(&a.sets, "set", "set one property, e.g. --set fs.s3.cse.enabled=true (`NAME=VALUE`; repeatable, wins over --conf)")
	fs.BoolVar(&a.embedded, "embedded", a.embedded, "use an in-process S3 + KMS with a seeded CSE-KMS bucket s3://demo/ (no AWS account; it lives as long as this command)")
	fs.StringVar(&a.region, "region", a.region, "AWS `REGION` (default: AWS_REGION or the profile's)")
	fs.StringVar(&a.profile, "profile", a.profile, "AWS shared-config `PROFILE` (default: AWS_PROFILE)")
	fs.StringVar(&a.kmsProfile, "kms-profile", a.kmsProfile, "AWS shared-config `PROFILE` for the KMS calls of client-side encryption, when KMS needs other credentials or another endpoint than S3 (default: as S3)")
	fs.StringVar(&a.endpoint, "endpoint", a.endpoint, "endpoint `URL` of S3, KMS and STS, e.g. MinIO (default: AWS, or AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 ...)")
	fs.StringVar(&a.pathStyle, "path-style", a.pathStyle, "path-style S3 addressing: true, false, or auto = true when an endpoint is set (`MODE`, default auto)")
	fs.BoolVar(&a.compatible, "emrfs-compatible", a.compatible, "read what an EMR cluster reads: legacy AES-CBC objects and ranged (unauthenticated) reads")
	fs.BoolVar(&a.quiet, "q", a.quiet, "quiet: no progress bar and no notes on stderr")
	fs.BoolVar(&a.quiet, "quiet", a.quiet, "same as -q")
	fs.BoolVar(&a.progress, "progress", a.progress, "draw the progress bar even when stderr is not a terminal")
	fs.BoolVar(&a.verbose, "v", a.verbose, "verbose: log retries, resumes and aborts (slog Debug) on stderr")
}

func (a *app) close() {
	for i := len(a.closer) - 1; i >= 0; i-- {
		a.closer[i]()
	}
}

// note prints an informational line on stderr unless -q.
func (a *app) note(format string, args ...any) {
	if !a.quiet {
		fmt.Fprintf(a.io.err, format+"\n", args...)
	}
}

// loadConfig reads --conf, --security-configuration and --set into cfg.
func (a *app) loadConfig(cfg *emrfs.Config) error {
	for _, path := range a.confs {
		data, err := os.ReadFile(path)
		if err != nil {
			return &configError{fmt.Errorf("--conf: %w", err)}
		}
		var c *emrfs.Config
		trimmed := bytes.TrimSpace(data)
		switch {
		case strings.HasSuffix(strings.ToLower(path), ".json") || bytes.HasPrefix(trimmed, []byte("[")) || bytes.HasPrefix(trimmed, []byte("{")):
			c, err = emrfs.LoadConfigurationsJSON(data)
		default:
			c, err = emrfs.LoadHadoopXML(bytes.NewReader(data))
		}
		if err != nil {
			return &configError{fmt.Errorf("--conf %s: %w (give a Hadoop XML file such as emrfs-site.xml, or an EMR configurations JSON array)", path, err)}
		}
		cfg.Merge(c)
	}
	if a.secConf != "" {
		data, err := os.ReadFile(a.secConf)
		if err != nil {
			return &configError{fmt.Errorf("--security-configuration: %w", err)}
		}
		if err := cfg.ApplySecurityConfiguration(data); err != nil {
			return &configError{fmt.Errorf("--security-configuration %s: %w", a.secConf, err)}
		}
	}
	for _, kv := range a.sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usagef("--set %q: want NAME=VALUE", kv)
		}
		cfg.Set(strings.TrimSpace(k), v)
	}
	if err := cfg.Validate(); err != nil {
		return &configError{err}
	}
	for _, w := range cfg.Warnings() {
		a.note("emrs3: warning: %s", w)
	}
	return nil
}

// configError is a configuration problem: exit code 6.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// connect builds the client the global flags describe.
func (a *app) connect(ctx context.Context) (*emrfs.Client, error) {
	if a.client != nil {
		return a.client, nil
	}
	cfg := emrfs.NewConfig()
	var awsCfg aws.Config
	var s3opts []func(*s3.Options)
	if a.embedded {
		st, err := startEmbedded(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("starting the embedded S3 + KMS: %w", err)
		}
		a.stack = st
		a.closer = append(a.closer, func() { st.Close() })
		awsCfg, s3opts = st.Config, []func(*s3.Options){st.S3Options}
	} else {
		var opts []func(*config.LoadOptions) error
		if a.region != "" {
			opts = append(opts, config.WithRegion(a.region))
		}
		if a.profile != "" {
			opts = append(opts, config.WithSharedConfigProfile(a.profile))
		}
		var err error
		if awsCfg, err = config.LoadDefaultConfig(ctx, opts...); err != nil {
			return nil, &configError{fmt.Errorf("loading the AWS configuration (AWS_PROFILE, AWS_REGION, ~/.aws/config): %w", err)}
		}
		if a.endpoint != "" {
			awsCfg.BaseEndpoint = aws.String(a.endpoint)
		}
		if awsCfg.Region == "" {
			return nil, &configError{errors.New("no AWS region: set AWS_REGION, --region, or a region in the profile")}
		}
		custom := a.endpoint != "" || os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
		switch a.pathStyle {
		case "true", "1":
			s3opts = append(s3opts, func(o *s3.Options) { o.UsePathStyle = true })
		case "auto", "":
			if custom {
				s3opts = append(s3opts, func(o *s3.Options) { o.UsePathStyle = true })
			}
		case "false", "0":
		default:
			return nil, usagef("--path-style %q: want true, false or auto", a.pathStyle)
		}
	}
	if err := a.loadConfig(cfg); err != nil {
		return nil, err
	}
	if !a.verbose {
		// The SDK logs notes of its own (e.g. about response checksums a
		// server did not send); -v shows them.
		awsCfg.Logger = logging.Nop{}
	}
	kmsCfg := awsCfg
	if a.kmsProfile != "" {
		var err error
		kmsCfg, err = config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile(a.kmsProfile))
		if err != nil {
			return nil, &configError{fmt.Errorf("--kms-profile %s: %w", a.kmsProfile, err)}
		}
		if !a.verbose {
			kmsCfg.Logger = logging.Nop{}
		}
		if kmsCfg.Region == "" {
			kmsCfg.Region = awsCfg.Region
		}
	}
	level := slog.LevelWarn
	if a.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(a.io.err, &slog.HandlerOptions{Level: level}))
	optFn := func(o *emrfs.Options) {
		o.KMS = kms.NewFromConfig(kmsCfg)
		o.Logger = logger
		if a.compatible {
			p := cse.EMRFSCompatible()
			o.CSEPolicy = &p
		}
	}
	s3c := s3.NewFromConfig(awsCfg, s3opts...)
	var c *emrfs.Client
	var err error
	if m, merr := cfg.RoleMappings(); merr == nil && len(m) > 0 {
		c, err = emrfs.NewWithRoleMappings(ctx, s3c, cfg, awsCfg, optFn)
	} else {
		c, err = emrfs.New(s3c, cfg, optFn)
	}
	if err != nil {
		return nil, &configError{err}
	}
	a.client = c
	a.closer = append(a.closer, func() { c.Close() })
	return c, nil
}

// fail prints err on stderr, with what to do about it, and returns the
// exit code of its kind.
func (a *app) fail(ctx context.Context, cmd string, err error) int {
	code, hint := classify(ctx, err)
	msg := "emrs3 " + cmd + ": " + err.Error()
	var pe *fs.PathError
	if (code == exitNotFound || code == exitDenied) && !a.verbose && errors.As(err, &pe) && isS3(pe.Path) {
		// The SDK's error chain (request ids, ...) is noise here; -v shows it.
		what := "not found"
		if code == exitDenied {
			what = "access denied"
		}
		msg = "emrs3 " + cmd + ": " + pe.Path + ": " + what + " (-v shows the full error)"
	}
	if hint != "" {
		msg += "\n  " + hint
	}
	fmt.Fprintln(a.io.err, msg)
	return code
}

// classify maps an error to an exit code and a hint.
func classify(ctx context.Context, err error) (int, string) {
	var (
		cfgErr  *configError
		pol     *cse.PolicyError
		ctxMis  *cse.ContextMismatchError
		apiErr  smithy.APIError
		pathErr *fs.PathError
	)
	switch {
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return exitInterrupt, "interrupted: nothing was left half-written (uploads are aborted, downloads removed)"
	case errors.As(err, &cfgErr), errors.Is(err, emrfs.ErrInvalidConfig), errors.Is(err, emrfs.ErrSyntax):
		return exitConfig, "configuration problem: check --conf, --security-configuration, --set and the AWS environment"
	case errors.Is(err, cse.ErrNotAuthentic), errors.As(err, &ctxMis):
		return exitIntegrity, "integrity failure: the object (or its envelope) was modified or is not what it claims; no plaintext was written"
	case errors.Is(err, fs.ErrNotExist):
		if errors.As(err, &pathErr) && !isS3(pathErr.Path) {
			return exitNotFound, "check the local path"
		}
		return exitNotFound, "check the bucket and key (`emrs3 ls s3://BUCKET/PREFIX/` lists what is there)"
	case errors.Is(err, fs.ErrPermission):
		return exitDenied, "check the credentials in use (AWS_PROFILE, role mappings) and the bucket and KMS key policies"
	case errors.As(err, &apiErr) && (strings.Contains(apiErr.ErrorCode(), "AccessDenied") || apiErr.ErrorCode() == "Forbidden"):
		return exitDenied, "check the credentials in use (AWS_PROFILE, role mappings) and the bucket and KMS key policies"
	case errors.Is(err, cse.ErrWrongKey):
		return exitError, "the object's data key is not protected by the configured key: \"emrs3 stat URI\" names the key it needs"
	case errors.As(err, &pol), errors.Is(err, emrfs.ErrNotEncrypted):
		return exitRefused, "refused by the read policy: --emrfs-compatible reads legacy objects as an EMR cluster does (unauthenticated), or check the bucket's CSE settings"
	case errors.As(err, &pathErr) && errors.Is(err, emrfs.ErrInvalidURI):
		return exitUsage, "URIs look like s3://bucket/key (s3a:// and s3n:// work too)"
	}
	return exitError, ""
}

// usageError prints err and the short usage, and returns exitUsage.
func (a *app) usageError(err error, cmd *command) int {
	if isHelp(err) {
		return exitOK
	}
	fmt.Fprintf(a.io.err, "emrs3: %v\n", err)
	if cmd != nil {
		fmt.Fprintf(a.io.err, "usage: emrs3 %s %s   (emrs3 %s --help)\n", cmd.name, cmd.args, cmd.name)
	} else {
		fmt.Fprintln(a.io.err, "usage: emrs3 [flags] COMMAND [args]   (emrs3 --help)")
	}
	return exitUsage
}

func (a *app) usage() string {
	var b strings.Builder
	b.WriteString(`emrs3 reads and writes S3 the way Amazon EMRFS does: client-side encrypted
(CSE-KMS) objects are decrypted and verified, SSE is applied, EMRFS
configuration (emrfs-site.xml, EMR configurations JSON, security
configuration) is honoured.

usage: emrs3 [flags] COMMAND [args]

commands:
`)
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-6s %-34s %s\n", c.name, c.args, c.short)
	}
	b.WriteString("\nflags (accepted before or after the command):\n")
	fs := newFlagSet("emrs3")
	(&app{}).globalFlags(fs)
	b.WriteString(fs.describe())
	b.WriteString(footer)
	return b.String()
}

func (a *app) commandUsage(c *command) string {
	fs := newFlagSet("emrs3 " + c.name)
	if c.flags != nil {
		c.flags(&app{}, fs)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "usage: emrs3 %s %s\n\n%s\n", c.name, c.args, strings.TrimSpace(c.long))
	if d := fs.describe(); d != "" {
		b.WriteString("\nflags:\n" + d)
	}
	b.WriteString("\nglobal flags: see emrs3 --help\n")
	b.WriteString(exitCodes)
	return b.String()
}

const exitCodes = `
exit codes:
  0  success; also when the reader of stdout stops early, as head does in
     "emrs3 cat URI | head" (the rest is not read, nothing is printed)
  1  other error (network, S3 or KMS failure, local I/O, a failed write to
     stdout such as a full disk)
  2  usage: unknown command or flag, bad URI, wrong number of arguments
  3  not found: no such object, prefix, bucket or local file
  4  access denied (S3, KMS or STS)
  5  integrity failure: an object or envelope was modified or is not authentic
     (cse.ErrNotAuthentic); no plaintext was written
  6  configuration problem (--conf, --security-configuration, --set, AWS config)
  7  refused by the read policy (legacy unauthenticated content, an object
     without envelope in a CSE bucket); see --emrfs-compatible
  130 interrupted (Ctrl-C); uploads are aborted, partial downloads removed
`

var footer = `
configuration: the AWS SDK's usual environment (AWS_PROFILE, AWS_REGION,
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3,
AWS_ENDPOINT_URL_KMS, ~/.aws/config) plus the EMRFS properties of --conf files,
--security-configuration and --set. Without any, buckets are read and written
without client-side encryption. Role mappings (fs.s3.authorization.roleMapping,
or the security configuration's) are applied.

--embedded runs an in-process S3 + KMS seeded with a CSE-KMS bucket s3://demo/;
it lives only as long as one command, so "emrs3 --embedded demo" walks through
every command in one go, and "emrs3 serve" keeps one running for other shells.
` + exitCodes + `
examples:
  emrs3 --embedded demo
  emrs3 --embedded stat s3://demo/sales/2026-q4.csv
  emrs3 --conf emrfs-site.xml ls -r s3://bucket/logs/
  emrs3 --conf emrfs-site.xml cat s3://bucket/logs/app.log | head
  emrs3 --conf emrfs-site.xml cp ./big.parquet s3://bucket/in/
  emrs3 --conf emrfs-site.xml cp -r s3://bucket/in/ ./local-dir/
  emrs3 --set fs.s3.cse.enabled=true --set fs.s3.cse.kms.keyId=alias/k \
        --set fs.s3.cse.encryptionMaterialsProvider=` + emrfs.KMSMaterialsProvider + ` \
        --set fs.s3.cse.encryptionV2.enabled=true \
        cp - s3://bucket/stdin.txt < notes.txt
`

// jsonOut writes v as indented JSON.
func jsonOut(a *app, v any) error {
	enc := json.NewEncoder(a.io.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// localPath cleans a local path argument.
func localPath(p string) string { return filepath.Clean(p) }
