package emrfsblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	gcaws "gocloud.dev/aws"
	"gocloud.dev/blob"

	"github.com/emrs3/emrs3/emrfs"
)

// Scheme is the URL scheme this package registers its URLOpener under on
// blob.DefaultURLMux: "emrfs://bucket?...".
const Scheme = "emrfs"

func init() {
	blob.DefaultURLMux().RegisterBucket(Scheme, new(URLOpener))
}

// URLOpener opens "emrfs://bucket?..." URLs; see the package
// documentation for the query parameters.
type URLOpener struct {
	// Client, when set, opens every bucket with this client; the URL then
	// takes no query parameters (blob.URLMux handles "prefix").
	Client *emrfs.Client

	// ClientOptions adjust the emrfs.Options of the clients the opener
	// builds when Client is nil (for example Options.Credentials or
	// Options.CSEPolicy). Options.KMS is set to a KMS client of the same
	// AWS configuration before they run.
	ClientOptions []func(*emrfs.Options)
}

// URL query parameters of the opener (the others go to
// gocloud.dev/aws.V2ConfigFromURLParams).
const (
	paramConfig        = "config"
	paramSecurity      = "security_configuration"
	paramUsePathStyle  = "use_path_style"
	readConfigMaxBytes = 16 << 20
)

// OpenBucketURL opens the bucket named by u's host.
func (o *URLOpener) OpenBucketURL(ctx context.Context, u *url.URL) (*blob.Bucket, error) {
	q := u.Query()
	if o.Client != nil {
		if len(q) > 0 {
			return nil, fmt.Errorf("emrfsblob: open bucket %v: URLOpener.Client is set, so the URL takes no query parameters", u)
		}
		return OpenBucket(o.Client, u.Host)
	}
	cfg := emrfs.NewConfig()
	for _, path := range q[paramConfig] {
		c, err := loadConfig(path)
		if err != nil {
			return nil, fmt.Errorf("emrfsblob: open bucket %v: %w", u, err)
		}
		cfg.Merge(c)
	}
	q.Del(paramConfig)
	if path := q.Get(paramSecurity); path != "" {
		data, err := readFile(path)
		if err == nil {
			err = cfg.ApplySecurityConfiguration(data)
		}
		if err != nil {
			return nil, fmt.Errorf("emrfsblob: open bucket %v: %s=%s: %w", u, paramSecurity, path, err)
		}
	}
	q.Del(paramSecurity)
	pathStyle := false
	if v := q.Get(paramUsePathStyle); v != "" {
		var err error
		if pathStyle, err = strconv.ParseBool(v); err != nil {
			return nil, fmt.Errorf("emrfsblob: open bucket %v: invalid %s: %w", u, paramUsePathStyle, err)
		}
	}
	q.Del(paramUsePathStyle)
	awsCfg, err := gcaws.V2ConfigFromURLParams(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("emrfsblob: open bucket %v: %w", u, err)
	}
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
	fns := append([]func(*emrfs.Options){func(eo *emrfs.Options) { eo.KMS = kms.NewFromConfig(awsCfg) }}, o.ClientOptions...)
	c, err := emrfs.New(s3c, cfg, fns...)
	if err != nil {
		return nil, fmt.Errorf("emrfsblob: open bucket %v: %w", u, err)
	}
	return OpenBucket(c, u.Host)
}

// loadConfig reads a Hadoop XML resource, or EMR configurations JSON when
// the name ends in ".json".
func loadConfig(path string) (*emrfs.Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", paramConfig, path, err)
	}
	var c *emrfs.Config
	if strings.HasSuffix(strings.ToLower(path), ".json") {
		c, err = emrfs.LoadConfigurationsJSON(data)
	} else {
		c, err = emrfs.LoadHadoopXML(strings.NewReader(string(data)))
	}
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", paramConfig, path, err)
	}
	return c, nil
}

// readFile reads a configuration file of at most 16 MiB.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, readConfigMaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > readConfigMaxBytes {
		return nil, errors.New("larger than 16 MiB")
	}
	return data, nil
}
