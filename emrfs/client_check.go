package emrfs

import (
	"errors"
)

// checkClients reports the buckets whose settings need a client or
// provider that Options does not give, so that New fails instead of the
// first Create or Open. It looks at the global settings (the buckets no
// per-bucket property names) and at every bucket named by a per-bucket
// property or a security-configuration override, after Options.Bucket for
// the named ones. Scopes whose settings are invalid are left to the
// operations, which report the configuration error.
func (c *Client) checkClients() error {
	var errs []error
	if r := c.cfg.resolve(""); len(r.errs) == 0 {
		if err := c.checkBucket("", r.bucket.CSE, false); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range c.cfg.namedBuckets() {
		b, byHook, err := c.bucket(name)
		if err != nil {
			continue // the operations report it (Client.target)
		}
		if err := c.checkBucket(name, b.CSE, byHook); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkBucket checks one scope's CSE settings s; byHook says Options.Bucket
// set them.
func (c *Client) checkBucket(name string, s *CSE, byHook bool) error {
	if s == nil {
		return nil
	}
	if _, ok := c.opts.MaterialsProviders[s.Provider]; ok {
		return nil
	}
	property, value := c.cseSource(name, s, byHook)
	needKMS := func() error {
		if c.opts.KMS != nil {
			return nil
		}
		return newConfigError(name, property, value, "the bucket uses CSE-KMS but Options.KMS is nil",
			"set Options.KMS (kms.NewFromConfig(awsCfg)), or Options.MaterialsProviders["+s.Provider+"]")
	}
	if s.IsKMS() {
		return needKMS()
	}
	if !c.opts.Providers.orDefault().hasMaterials(s.Provider) {
		return newConfigError(name, property, value, "the bucket's CSE materials provider "+s.Provider+" is not in Options.MaterialsProviders nor registered in Options.Providers",
			"set Options.MaterialsProviders["+s.Provider+"], or register a factory under that name with Providers.RegisterMaterials")
	}
	return nil
}

// cseSource names the setting that turned CSE on for scope name (""
// for the global settings), and its value, for messages.
func (c *Client) cseSource(name string, s *CSE, byHook bool) (property, value string) {
	if byHook {
		return "Options.Bucket", ""
	}
	if se := c.cfg.sec.forBucket(name); se != nil {
		return se.field + ".EncryptionMode", se.mode
	}
	r := &resolution{c: c.cfg, name: name}
	if s.S3A {
		v, p := r.s3a(aAlgorithm, aAlgorithmOld)
		return p, v
	}
	v, p := r.emrfs(pCSEEnabled)
	return p, v
}
