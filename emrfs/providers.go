package emrfs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/emrs3/emrs3/authz"
	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/internal/redact"
)

// Providers maps the names that EMRFS configuration gives to pluggable Java
// classes to Go factories: CSE encryption materials providers
// (fs.s3.cse.encryptionMaterialsProvider, a security configuration's
// EncryptionKeyProviderClass, fs.s3a.encryption.cse.custom.keyring.class.name)
// and custom AWS credentials providers (fs.s3.customAWSCredentialsProvider).
// A factory turns the configuration into a plain value for cse or authz.
// The zero value is an empty registry ready to use; it is safe for
// concurrent use. Names are case-sensitive, like Java class names.
//
// KMSMaterialsProvider needs no registration: a CSE-KMS bucket is served
// by cse.NewKMSProvider over Options.KMS.
type Providers struct {
	mu          sync.RWMutex
	materials   map[string]MaterialsFactory
	credentials map[string]CredentialsFactory
}

// DefaultProviders is the registry consulted when Options.Providers (or
// RoleOptions.Providers) is nil. Programs register their providers in it
// at start-up, as database/sql drivers do.
var DefaultProviders = &Providers{}

// ProviderConfig is what a factory builds a provider from, like the Hadoop
// Configuration an EMRFS provider class gets through
// Configurable.setConf.
type ProviderConfig struct {
	// Bucket is the bucket a materials provider is built for; "" for a
	// credentials provider.
	Bucket string
	// Get reads a configuration property with ${name} references
	// expanded, for example the provider's own settings. Never nil.
	Get func(name string) (string, bool)
	// KMS is the KMS client of the bucket's CSE calls (Options.KMS, sent
	// to the bucket's KMS region); nil for a credentials provider.
	KMS cse.KMSAPI
	// AWS is the aws.Config given to NewRoleResolver; zero for a materials
	// provider.
	AWS aws.Config
}

// MaterialsFactory builds a CSE encryption materials provider.
type MaterialsFactory func(ctx context.Context, cfg ProviderConfig) (cse.MaterialsProvider, error)

// CredentialsFactory builds a custom credentials provider (see
// authz.CustomFunc).
type CredentialsFactory func(ctx context.Context, cfg ProviderConfig) (authz.CustomFunc, error)

// ErrUnknownProvider is wrapped by the error for a provider name that is
// not registered.
var ErrUnknownProvider = errors.New("emrfs: unknown provider")

// RegisterMaterials adds or replaces the materials provider factory for
// name. It panics if f is nil.
func (r *Providers) RegisterMaterials(name string, f MaterialsFactory) {
	if f == nil {
		panic("emrfs: Providers.RegisterMaterials of a nil factory for " + name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.materials == nil {
		r.materials = map[string]MaterialsFactory{}
	}
	r.materials[strings.TrimSpace(name)] = f
}

// RegisterCredentials adds or replaces the credentials provider factory
// for name. It panics if f is nil.
func (r *Providers) RegisterCredentials(name string, f CredentialsFactory) {
	if f == nil {
		panic("emrfs: Providers.RegisterCredentials of a nil factory for " + name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.credentials == nil {
		r.credentials = map[string]CredentialsFactory{}
	}
	r.credentials[strings.TrimSpace(name)] = f
}

// MaterialsNames returns the names of the registered materials providers,
// sorted.
func (r *Providers) MaterialsNames() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return sortedKeys(r.materials)
}

// CredentialsNames returns the names of the registered credentials
// providers, sorted.
func (r *Providers) CredentialsNames() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return sortedKeys(r.credentials)
}

func (r *Providers) hasMaterials(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.materials[strings.TrimSpace(name)]
	return ok
}

// newMaterials builds the materials provider registered under name.
func (r *Providers) newMaterials(ctx context.Context, name string, cfg ProviderConfig) (cse.MaterialsProvider, error) {
	return build(ctx, r, func() map[string]MaterialsFactory { return r.materials }, "materials provider", "Providers.RegisterMaterials", name, cfg,
		func(p cse.MaterialsProvider) bool { return p == nil })
}

// newCredentials builds the credentials provider registered under name.
func (r *Providers) newCredentials(ctx context.Context, name string, cfg ProviderConfig) (authz.CustomFunc, error) {
	return build(ctx, r, func() map[string]CredentialsFactory { return r.credentials }, "custom credentials provider", "Providers.RegisterCredentials", name, cfg,
		func(c authz.CustomFunc) bool { return c == nil })
}

// build looks name up in the map factories returns (one of r's, read
// under r.mu) and calls the factory; kind names the provider in errors,
// register the method that adds one.
func build[T any, F ~func(context.Context, ProviderConfig) (T, error)](ctx context.Context, r *Providers, factories func() map[string]F,
	kind, register, name string, cfg ProviderConfig, isNil func(T) bool) (T, error) {
	var zero T
	name = strings.TrimSpace(name)
	r.mu.RLock()
	m := factories()
	f, ok := m[name]
	names := sortedKeys(m)
	r.mu.RUnlock()
	if !ok {
		return zero, fmt.Errorf("%w: no %s registered as %q (registered: %s); register one with %s",
			ErrUnknownProvider, kind, name, namesOrNone(names), register)
	}
	p, err := f(ctx, cfg)
	if err != nil {
		return zero, fmt.Errorf("%s %q: %w", kind, name, err)
	}
	if isNil(p) {
		return zero, fmt.Errorf("%s %q: the factory returned no provider", kind, name)
	}
	return p, nil
}

func namesOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func (r *Providers) orDefault() *Providers {
	if r == nil {
		return DefaultProviders
	}
	return r
}

// String describes the registry by its names.
func (r *Providers) String() string {
	if r == nil {
		return "emrfs.Providers(nil)"
	}
	return fmt.Sprintf("emrfs.Providers{Materials: [%s], Credentials: [%s]}",
		strings.Join(r.MaterialsNames(), ", "), strings.Join(r.CredentialsNames(), ", "))
}

// String describes the configuration without the credentials of its
// aws.Config.
func (c ProviderConfig) String() string {
	get, kms, creds := "nil", "nil", "nil"
	if c.Get != nil {
		get = "set"
	}
	if c.KMS != nil {
		kms = fmt.Sprintf("%T", c.KMS)
	}
	if c.AWS.Credentials != nil {
		creds = fmt.Sprintf("%T(%s)", c.AWS.Credentials, redact.Redacted)
	}
	return fmt.Sprintf("emrfs.ProviderConfig{Bucket: %q, Get: %s, KMS: %s, AWS: {Region: %q, Credentials: %s}}",
		c.Bucket, get, kms, c.AWS.Region, creds)
}

// GoString is String, so that %#v shows no credentials either.
func (c ProviderConfig) GoString() string { return c.String() }

// Format writes String under every verb.
func (c ProviderConfig) Format(f fmt.State, verb rune) {
	d := c.String()
	redact.Format(f, verb, d, d)
}
