package cse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// EMRFSKMSProvider is the Java class name of the EMRFS KMS materials
// provider, the value of fs.s3.cse.encryptionMaterialsProvider for CSE-KMS.
// The default registry maps it to the KMS provider.
const EMRFSKMSProvider = "com.amazon.ws.emr.hadoop.fs.cse.KMSEncryptionMaterialsProvider"

// ProviderConfig is what a ProviderFactory builds a provider from.
type ProviderConfig struct {
	// Properties are the configuration properties (emrfs-site, core-site),
	// e.g. fs.s3.cse.kms.keyId.
	Properties map[string]string
	// KMS is the KMS client for KMS-backed providers.
	KMS KMSAPI
}

// ProviderFactory builds a MaterialsProvider from configuration.
type ProviderFactory func(ctx context.Context, cfg ProviderConfig) (MaterialsProvider, error)

// Registry maps provider names (EMRFS class names, or any name a program
// chooses) to factories, so that configuration by name works. It is safe
// for concurrent use.
type Registry struct {
	mu sync.RWMutex
	m  map[string]ProviderFactory
}

// NewRegistry returns a registry holding the KMS provider under "kms" and
// EMRFSKMSProvider.
func NewRegistry() *Registry {
	r := &Registry{m: map[string]ProviderFactory{}}
	r.Register("kms", NewKMSProviderFromConfig)
	r.Register(EMRFSKMSProvider, NewKMSProviderFromConfig)
	return r
}

// Register adds or replaces the factory for name. Names are case-sensitive,
// like Java class names.
func (r *Registry) Register(name string, f ProviderFactory) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]ProviderFactory{}
	}
	r.m[name] = f
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for k := range r.m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// New builds the provider registered under name.
func (r *Registry) New(ctx context.Context, name string, cfg ProviderConfig) (MaterialsProvider, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, errors.New("cse: EncryptionMaterialsProvider is not specified using fs.s3.cse.encryptionMaterialsProvider")
	}
	r.mu.RLock()
	f, ok := r.m[name]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("cse: no materials provider registered as %q (registered: %s); register one with Registry.Register", name, strings.Join(r.Names(), ", "))
	}
	return f(ctx, cfg)
}

// NewKMSProviderFromConfig is the ProviderFactory of the KMS provider: the
// key comes from fs.s3.cse.kms.keyId (EMRFS) or fs.s3a.encryption.key (S3A).
// Like EMRFS (whose KMS Decrypt calls name no key), the provider decrypts
// objects written under any KMS key the caller may use (KMSOptions.AnyKey);
// new objects are written under the configured key.
func NewKMSProviderFromConfig(_ context.Context, cfg ProviderConfig) (MaterialsProvider, error) {
	key := strings.TrimSpace(cfg.Properties["fs.s3.cse.kms.keyId"])
	if key == "" {
		key = strings.TrimSpace(cfg.Properties["fs.s3a.encryption.key"])
	}
	if key == "" {
		return nil, errors.New("cse: fs.s3.cse.kms.keyId cannot be empty")
	}
	if cfg.KMS == nil {
		return nil, errors.New("cse: the KMS materials provider needs a KMS client (ProviderConfig.KMS)")
	}
	return NewKMSProvider(cfg.KMS, key, func(o *KMSOptions) { o.AnyKey = true }), nil
}
