package emrfstest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs/emrfstest/internal/sigv4"
)

// Fixed identity of the emulated AWS partition.
const (
	// Region is the only region the stack accepts in credential scopes.
	Region = "us-east-1"
	// Account is the AWS account id of every emulated resource.
	Account = "111122223333"
	// AdminARN is the principal of Stack.Config. It has full access to S3
	// and to every KMS key.
	AdminARN = "arn:aws:iam::" + Account + ":user/admin"
)

// Options configure a Stack.
type Options struct {
	// Now is the clock used for signature skew checks and credential
	// expiry. Nil means time.Now.
	Now func() time.Time
	// TLS serves HTTPS with a self-signed certificate instead of HTTP.
	// Config and HTTPClient trust it. Over HTTPS the aws-sdk-go-v2 S3
	// client sends aws-chunked bodies with trailing checksums.
	TLS bool
}

// Stack is a running S3 + KMS + STS emulator on one loopback endpoint.
type Stack struct {
	// URL is the endpoint, http://127.0.0.1:port (https:// with
	// Options.TLS).
	URL string
	// Region is always "us-east-1".
	Region string
	// Config holds the admin principal's static credentials, the region and
	// BaseEndpoint = URL. Its retryer keeps the SDK's standard attempts but
	// caps backoff at 20ms and never runs out of retry tokens, so retry
	// tests stay fast.
	Config aws.Config

	S3  *S3
	KMS *KMS
	STS *STS

	// HTTPClient is the client Config uses; with Options.TLS it trusts the
	// stack's certificate. Pass it to other SDKs (aws-sdk-go v1).
	HTTPClient *http.Client

	opts     Options
	srv      *httptest.Server
	verifier *sigv4.Verifier

	mu    sync.Mutex
	creds map[string]identity // by access key id
	users map[string]bool     // user names
}

// identity is a registered credential and the principal it stands for.
type identity struct {
	cred sigv4.Credential
	// arn is the principal used for authorization: a user ARN, or the role
	// ARN for assumed-role credentials.
	arn string
	// session is the assumed-role session ARN ("" for users).
	session string
}

// Start starts a stack for a test; it is closed by tb.Cleanup.
func Start(tb testing.TB, optFns ...func(*Options)) *Stack {
	tb.Helper()
	s, err := New(context.Background(), optFns...)
	if err != nil {
		tb.Fatalf("emrfstest: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("emrfstest: close: %v", err)
		}
	})
	return s
}

// New starts a stack listening on 127.0.0.1 and returns once it accepts
// connections. Call Close to stop it.
func New(ctx context.Context, optFns ...func(*Options)) (*Stack, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("emrfstest: %w", err)
	}
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Stack{
		Region: Region,
		opts:   o,
		creds:  map[string]identity{},
		users:  map[string]bool{},
	}
	s.verifier = &sigv4.Verifier{Region: Region, Now: o.Now, Lookup: s.lookup}
	s.KMS = newKMS(s)
	s.S3 = newS3(s)
	s.STS = newSTS(s)
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	if o.TLS {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	s.URL = s.srv.URL
	s.HTTPClient = s.srv.Client()
	admin := s.register(AdminARN, "", "AKIA", time.Time{})
	s.Config = s.ConfigFor(admin)
	return s, nil
}

// Close stops the server, waiting for requests in flight.
func (s *Stack) Close() error {
	s.srv.Close()
	return nil
}

// S3Options configures an aws-sdk-go-v2 S3 client for the stack:
// path-style addressing against URL. Use it as
// s3.NewFromConfig(st.Config, st.S3Options).
func (s *Stack) S3Options(o *s3.Options) {
	o.UsePathStyle = true
	o.BaseEndpoint = aws.String(s.URL)
	o.Region = Region
}

// AddUser registers an IAM user arn:aws:iam::111122223333:user/NAME and
// returns its new static credentials. It panics if the name is invalid or
// already used.
func (s *Stack) AddUser(name string) aws.Credentials {
	if name == "" || strings.ContainsAny(name, "/: ") {
		panic(fmt.Sprintf("emrfstest: AddUser(%q): user names must be non-empty without '/', ':' or spaces", name))
	}
	arn := UserARN(name)
	s.mu.Lock()
	dup := s.users[name] || arn == AdminARN
	s.users[name] = true
	s.mu.Unlock()
	if dup {
		panic(fmt.Sprintf("emrfstest: AddUser(%q): user already exists", name))
	}
	return s.register(arn, "", "AKIA", time.Time{})
}

// UserARN returns the ARN of the IAM user NAME in the stack's account.
func UserARN(name string) string { return "arn:aws:iam::" + Account + ":user/" + name }

// ConfigFor returns a copy of Config that signs with creds.
func (s *Stack) ConfigFor(creds aws.Credentials) aws.Config {
	cfg := aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		HTTPClient:   s.HTTPClient,
		Credentials:  credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxBackoff = 20 * time.Millisecond
				o.RateLimiter = ratelimit.None
			})
		},
	}
	return cfg
}

// register creates credentials for principal arn.
func (s *Stack) register(arn, session, prefix string, expires time.Time) aws.Credentials {
	c := aws.Credentials{
		AccessKeyID:     prefix + randomString(16, upperAlnum),
		SecretAccessKey: randomString(40, base64Chars),
		Source:          "emrfstest",
	}
	if prefix == "ASIA" {
		c.SessionToken = randomString(120, base64Chars)
		c.CanExpire = true
		c.Expires = expires
	}
	s.mu.Lock()
	s.creds[c.AccessKeyID] = identity{
		cred: sigv4.Credential{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Expires: expires},
		arn:  arn, session: session,
	}
	s.mu.Unlock()
	return c
}

func (s *Stack) lookup(akid string) (sigv4.Credential, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.creds[akid]
	return id.cred, ok
}

func (s *Stack) identity(akid string) identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creds[akid]
}

const (
	upperAlnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	hexChars    = "0123456789abcdef"
)

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func requestID() string { return randomString(16, hexChars) }
