package emrfs_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs"
)

// A custom CSE materials provider, named by its EMRFS class name in
// fs.s3.cse.encryptionMaterialsProvider, is built by the factory
// registered under that name from the bucket's configuration.
func ExampleProviders_RegisterMaterials() {
	api, stop := localS3()
	defer stop()
	ctx := context.Background()

	providers := &emrfs.Providers{} // or emrfs.DefaultProviders
	providers.RegisterMaterials("com.example.KeyringProvider", func(_ context.Context, pc emrfs.ProviderConfig) (cse.MaterialsProvider, error) {
		v, _ := pc.Get("example.kek.base64") // the provider's own setting
		kek, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(kek) != 32 {
			return nil, errors.New("example.kek.base64 must be the base64 of a 32-byte key")
		}
		return cse.NewAESKeyring(kek, map[string]string{"bucket": pc.Bucket})
	})

	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", "com.example.KeyringProvider")
	cfg.Set("example.kek.base64", base64.StdEncoding.EncodeToString(make([]byte, 32))) // a real key comes from a secret store
	c, err := emrfs.New(api, cfg, func(o *emrfs.Options) { o.Providers = providers })
	if err != nil {
		panic(err)
	}
	w, err := c.Create(ctx, "s3://data/secret.txt")
	if err != nil {
		panic(err)
	}
	if _, err := io.WriteString(w, "hello"); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	f, err := c.Open(ctx, "s3://data/secret.txt")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	fmt.Printf("%s %v\n", b, err)

	// A name nobody registered fails New, naming what to do.
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", "com.example.Missing")
	_, err = emrfs.New(api, cfg, func(o *emrfs.Options) { o.Providers = providers })
	fmt.Println(errors.Is(err, emrfs.ErrInvalidConfig))
	// Output:
	// hello <nil>
	// true
}
