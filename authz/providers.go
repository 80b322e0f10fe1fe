package authz

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// CustomFunc is a custom credentials provider, the Go form of an EMRFS
// fs.s3.customAWSCredentialsProvider class. It is consulted before the role
// mappings for every request: when it returns ok, its provider signs the
// request; when it returns an error, the request fails; otherwise the
// mappings decide. uri is the request's location (s3://bucket/key).
type CustomFunc func(ctx context.Context, id Identity, uri string) (p aws.CredentialsProvider, ok bool, err error)

// ProviderConfig is what a [ProviderFactory] builds a custom credentials
// provider from, like the Hadoop Configuration an EMRFS provider class gets
// through Configurable.setConf.
type ProviderConfig struct {
	// Get reads a configuration property (emrfs-site, core-site), for
	// example the provider's own settings.
	Get func(name string) (string, bool)
	// AWS is the aws.Config given to [NewFromProperties].
	AWS aws.Config
}

// ProviderFactory builds a custom credentials provider from configuration.
type ProviderFactory func(ctx context.Context, cfg ProviderConfig) (CustomFunc, error)

// ProviderRegistry maps the names that fs.s3.customAWSCredentialsProvider
// may hold (an EMRFS class name, or any name a program chooses) to
// factories. The zero value is an empty registry ready to use; it is safe
// for concurrent use.
type ProviderRegistry struct {
	mu sync.RWMutex
	m  map[string]ProviderFactory
}

// DefaultProviders is the registry [NewFromProperties] consults when
// PropertiesOptions.Providers is nil. Programs register their custom
// providers in it at start-up, as database/sql drivers do.
var DefaultProviders = &ProviderRegistry{}

// Register adds or replaces the factory for name. Names are
// case-sensitive, like Java class names. It panics if f is nil.
func (r *ProviderRegistry) Register(name string, f ProviderFactory) {
	if f == nil {
		panic("authz: ProviderRegistry.Register of a nil factory for " + name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]ProviderFactory{}
	}
	r.m[strings.TrimSpace(name)] = f
}

// Names returns the registered names, sorted.
func (r *ProviderRegistry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.m))
	for k := range r.m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ErrUnknownProvider is wrapped by the error of [ProviderRegistry.New] for a
// name that is not registered.
var ErrUnknownProvider = errors.New("authz: unknown custom credentials provider")

// New builds the provider registered under name. A factory that returns
// neither a provider nor an error is an error.
func (r *ProviderRegistry) New(ctx context.Context, name string, cfg ProviderConfig) (CustomFunc, error) {
	name = strings.TrimSpace(name)
	r.mu.RLock()
	f, ok := r.m[name]
	r.mu.RUnlock()
	if !ok {
		known := "none"
		if names := r.Names(); len(names) > 0 {
			known = strings.Join(names, ", ")
		}
		return nil, fmt.Errorf("%w %q (registered: %s); register it with ProviderRegistry.Register", ErrUnknownProvider, name, known)
	}
	c, err := f(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("authz: custom credentials provider %q: %w", name, err)
	}
	if c == nil {
		return nil, fmt.Errorf("authz: custom credentials provider %q: the factory returned no provider", name)
	}
	return c, nil
}
