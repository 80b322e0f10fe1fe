package cse

import (
	"bytes"
	"context"
	"sync"
	"testing"
)

// Encryptor, Decryptor and the providers are shared across goroutines.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	for _, pc := range testProviders(t) {
		t.Run(pc.name, func(t *testing.T) {
			enc := NewEncryptor(pc.p, func(o *Options) { o.LegacyKMSWrap = pc.legacyKM })
			dec := NewDecryptor(pc.p, func(o *Options) { o.Policy = pc.policy })
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					pt := bytes.Repeat([]byte{byte(g)}, 100+g)
					for i := 0; i < 5; i++ {
						env, c, err := enc.Encrypt(ctx, ObjectInfo{PlaintextSize: int64(len(pt))})
						if err != nil {
							errs <- err
							return
						}
						r, _ := c.NewEncryptReader(bytes.NewReader(pt))
						var ct bytes.Buffer
						_, _ = ct.ReadFrom(r)
						c.Wipe()
						c, err = dec.decrypt(ctx, env.Metadata, env.Instruction, ObjectInfo{})
						if err != nil {
							errs <- err
							return
						}
						got, err := envOpen(c, ct.Bytes())
						c.Wipe()
						if err != nil || !bytes.Equal(got, pt) {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal("concurrent round trip failed:", err)
			}
		})
	}
}
