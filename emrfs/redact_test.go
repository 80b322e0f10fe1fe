package emrfs

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/emrs3/emrs3/authz"
	"github.com/emrs3/emrs3/cse"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
	"github.com/emrs3/emrs3/internal/miniotest"
)

// The secrets the redaction test plants; none may appear in any formatted
// output, in any encoding.
var (
	plantedAESKey   = []byte("AESkeyMATERIAL-0123456789abcdefZ") // 32 printable bytes
	plantedDataKey  = []byte{0xd1, 0x7a, 0x9e, 0x03, 0x5c, 0xee, 0x41, 0x88, 0x0b, 0x6f, 0x27, 0x93, 0xc4, 0x1d, 0x70, 0xa5, 0x3e, 0xb9, 0x62, 0x04, 0xf1, 0x8d, 0x55, 0x2a, 0xc7, 0x19, 0x6e, 0xb3, 0x48, 0x9f, 0x01, 0xda}
	plantedSSECKey  = []byte("SSECcustomerKEY-0123456789abcdeZ")
	plantedSecret   = "wJalrXUtnFEMIplantedSECRETbPxRfiCYEXAMPLEKEY"
	plantedToken    = "plantedSESSIONtokenFwoGZXIvYXdzEJr"
	plantedPropKey  = "UHJvcGVydHlTZWNyZXRLZXkxMjM0NTY3ODkwYWJjZA=="
	plantedRSA      *rsa.PrivateKey
	plantedRSAOnce  sync.Once
	redactedFormats = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s", "%-8q", "% x"}
)

func rsaKey(t *testing.T) *rsa.PrivateKey {
	plantedRSAOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		plantedRSA = k
	})
	return plantedRSA
}

// secretForms returns each planted secret in the encodings formatted output
// could show it in.
func secretForms(t *testing.T) map[string]string {
	forms := map[string]string{}
	addBytes := func(name string, b []byte) {
		forms[name+" raw"] = string(b[:12])
		forms[name+" hex"] = hex.EncodeToString(b[:8])
		forms[name+" HEX"] = strings.ToUpper(hex.EncodeToString(b[:8]))
		forms[name+" spaced hex"] = fmt.Sprintf("% x", b[:6])
		forms[name+" base64"] = base64.StdEncoding.EncodeToString(b)[:16]
		forms[name+" base64url"] = base64.URLEncoding.EncodeToString(b)[:16]
		forms[name+" decimal"] = strings.Trim(fmt.Sprint(b[:6]), "[]")
		forms[name+" Go bytes"] = strings.TrimPrefix(strings.TrimSuffix(fmt.Sprintf("%#v", b[:4]), "}"), "[]byte{")
		forms[name+" quoted"] = strings.Trim(fmt.Sprintf("%q", string(b[:8])), `"`)
	}
	addBytes("AES key", plantedAESKey)
	addBytes("data key", plantedDataKey)
	addBytes("SSE-C key", plantedSSECKey)
	priv := rsaKey(t)
	addBytes("RSA D", priv.D.Bytes())
	addBytes("RSA P", priv.Primes[0].Bytes())
	forms["RSA D decimal"] = priv.D.String()[:24]
	forms["secret access key"] = plantedSecret[10:30]
	forms["secret access key hex"] = hex.EncodeToString([]byte(plantedSecret[10:20]))
	forms["session token"] = plantedToken[7:25]
	forms["property key"] = plantedPropKey[:20]
	return forms
}

type fakeKMS struct{}

func (fakeKMS) GenerateDataKey(context.Context, *kms.GenerateDataKeyInput, ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	return nil, fmt.Errorf("unused")
}
func (fakeKMS) Decrypt(context.Context, *kms.DecryptInput, ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	return nil, fmt.Errorf("unused")
}
func (fakeKMS) DescribeKey(context.Context, *kms.DescribeKeyInput, ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	return nil, fmt.Errorf("unused")
}

// redactionSubjects returns a value of every exported type of cse, emrfs,
// authz and emrfstest, each holding the planted secrets wherever it can
// hold any. Interface and function types with nothing to print are listed
// in redactionNothingToPrint instead.
func redactionSubjects(t *testing.T) map[string]any {
	ctx := context.Background()
	static := credentials.NewStaticCredentialsProvider("AKIAPLANTED", plantedSecret, plantedToken)
	awsCfg := aws.Config{Region: "us-east-1", Credentials: static}
	aesRing, err := cse.NewAESKeyring(plantedAESKey, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	rsaRing, err := cse.NewRSAKeyring(rsaKey(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	content := &cse.Content{Algorithm: cse.AlgGCM, Key: slices.Clone(plantedDataKey), IV: make([]byte, 12), PlaintextSize: 3, Version: 2}
	materials := &cse.Materials{Key: slices.Clone(plantedDataKey), Encrypted: []byte{1, 2}, WrapAlgorithm: cse.WrapAESGCM}
	keyMaterial := &cse.KeyMaterial{Symmetric: slices.Clone(plantedAESKey), RSA: rsaKey(t)}
	kmsProv := cse.NewKMSProvider(fakeKMS{}, "alias/k", func(o *cse.KMSOptions) { o.EncryptionContext = map[string]string{"a": "b"} })
	enc := cse.NewEncryptor(aesRing)
	dec := cse.NewDecryptor(aesRing)
	env, encContent, err := enc.Encrypt(ctx, cse.ObjectInfo{Bucket: "b", Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	mpe, err := content.NewMultipartEncryptor()
	if err != nil {
		t.Fatal(err)
	}
	reg := &Providers{}
	reg.RegisterMaterials("m", func(context.Context, ProviderConfig) (cse.MaterialsProvider, error) { return nil, nil })

	// emrfs: a client over the stack with SSE-C, and one with CSE.
	api, st := newTestStack(t)
	ssec, err := NewSSEC(plantedSSECKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := NewConfig()
	cfg.Set("fs.s3a.encryption.algorithm", "SSE-C")
	cfg.Set("fs.s3a.encryption.key", "${my.ssec}")
	cfg.Set("my.ssec", base64.StdEncoding.EncodeToString(plantedSSECKey))
	cfg.Set("fs.s3a.secret.key", plantedSecret)
	cfg.Set("custom.prop", "${fs.s3a.secret.key}")
	cfg.Set("fs.s3a.session.token", plantedToken)
	cfg.Set("fs.s3.cse.custom.password", plantedPropKey)
	bucket, err := cfg.Bucket(testBucket)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{KMS: fakeKMS{}, MaterialsProviders: map[string]cse.MaterialsProvider{"aes": aesRing, "rsa": rsaRing},
		Credentials: func(context.Context, string, string, string) (aws.CredentialsProvider, error) { return static, nil }}
	client, err := New(api, cfg, func(o *Options) {
		*o = opts
		o.Credentials = func(context.Context, string, string, string) (aws.CredentialsProvider, error) {
			return st.Config.Credentials, nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	w, err := client.Create(ctx, "s3://"+testBucket+"/redact")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w2, err := client.Create(ctx, "s3://"+testBucket+"/redact-open")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w2.Close() })
	f, err := client.Open(ctx, "s3://"+testBucket+"/redact")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, err := client.Stat(ctx, "s3://"+testBucket+"/redact")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := ParseURI("s3://" + testBucket + "/k")

	// authz
	mappings := []authz.Mapping{{Role: "arn:aws:iam::111122223333:role/r", IdentifierType: authz.User, Identifiers: []string{"u"}}}
	resolver, err := authz.New(sts.NewFromConfig(awsCfg), mappings, func(o *authz.Options) { o.Default = static })
	if err != nil {
		t.Fatal(err)
	}
	side := authz.Side{Decision: authz.Decision{Index: -1}, Credentials: static}

	return map[string]any{
		// cse
		"cse.Keyring":              aesRing,
		"cse.Keyring(RSA)":         rsaRing,
		"cse.Content":              content,
		"cse.Content(encrypt)":     encContent,
		"cse.Materials":            materials,
		"cse.KeyMaterial":          keyMaterial,
		"cse.EncryptionRequest":    &cse.EncryptionRequest{Bucket: "b", Key: "k", Description: map[string]string{"a": "b"}},
		"cse.DecryptionRequest":    &cse.DecryptionRequest{Bucket: "b", Key: "k", EncryptedKey: []byte{1}},
		"cse.Options":              &cse.Options{EncryptionContext: map[string]string{"a": "b"}},
		"cse.Encryptor":            enc,
		"cse.Decryptor":            dec,
		"cse.Envelope":             env,
		"cse.ObjectInfo":           &cse.ObjectInfo{Bucket: "b", Key: "k"},
		"cse.MultipartEncryptor":   mpe,
		"cse.Range":                cse.Range{},
		"cse.CommitmentPolicy":     cse.CommitmentPolicy(0),
		"cse.Policy":               &cse.Policy{},
		"cse.StreamOptions":        &cse.StreamOptions{},
		"cse.KMSOptions":           &cse.KMSOptions{EncryptionContext: map[string]string{"a": "b"}},
		"cse.KMSProvider":          kmsProv,
		"cse.KMSError":             &cse.KMSError{KeyID: "k", Kind: cse.KMSUnsuitableKey, Err: fmt.Errorf("KeySpec")},
		"cse.KeyError":             &cse.KeyError{WrapAlgorithm: "AES/GCM"},
		"cse.PolicyError":          &cse.PolicyError{},
		"cse.ContextMismatchError": &cse.ContextMismatchError{},
		"cse.AuthenticationError":  &cse.AuthenticationError{},
		"cse.ContextError":         &cse.ContextError{},
		"cse.Algorithm":            cse.AlgGCM,
		// emrfs
		"emrfs.SSE":            ssec,
		"emrfs.FailedKey":      FailedKey{Key: "object/key", Code: "AccessDenied"},               // an object key, no secret
		"emrfs.EnvelopeInfo":   &EnvelopeInfo{MaterialsDescription: map[string]string{"k": "v"}}, // no key material
		"emrfs.SSEKind":        SSEC,
		"emrfs.Config":         cfg,
		"emrfs.Bucket":         bucket,
		"emrfs.CSE":            &CSE{Provider: KMSMaterialsProvider},
		"emrfs.ConfigError":    newConfigError("b", "fs.s3a.encryption.key", plantedPropKey, "p", "f"),
		"emrfs.Options":        &opts,
		"emrfs.Client":         client,
		"emrfs.Writer":         w2,
		"emrfs.File":           f,
		"emrfs.FileInfo":       fi,
		"emrfs.ListOptions":    &ListOptions{},
		"emrfs.CopyOptions":    &CopyOptions{},
		"emrfs.OpenOptions":    &OpenOptions{},
		"emrfs.CreateOptions":  &CreateOptions{},
		"emrfs.Location":       loc,
		"emrfs.ProgressFunc":   ProgressFunc(func(int64, int64) {}),
		"emrfs.Providers":      reg,
		"emrfs.ProviderConfig": ProviderConfig{Bucket: "b", Get: cfg.Get, KMS: fakeKMS{}, AWS: awsCfg},
		"emrfs.RoleOptions":    &RoleOptions{Providers: reg},
		"emrfstest.Stack":      st,
		"emrfstest.Options":    &emrfstest.Options{},
		"emrfstest.S3":         st.S3,
		"emrfstest.KMS":        st.KMS,
		"emrfstest.STS":        st.STS,
		"emrfstest.S3Request":  emrfstest.S3Request{},
		"emrfstest.KMSCall":    emrfstest.KMSCall{},
		"emrfstest.STSCall":    emrfstest.STSCall{AccessKeyID: "ASIA"},
		"miniotest.Backend":    &miniotest.Backend{},
		"authz.Resolver":       resolver,
		"authz.Options": &authz.Options{Default: static, Custom: func(context.Context, authz.Identity, string) (aws.CredentialsProvider, bool, error) {
			return static, true, nil
		}},
		"authz.Side":              side,
		"authz.Pair":              authz.Pair{Src: side, Dst: side},
		"authz.Decision":          authz.Decision{Role: "r"},
		"authz.Identity":          authz.Identity{User: "u"},
		"authz.Mapping":           mappings[0],
		"authz.MappingError":      &authz.MappingError{},
		"authz.AssumeRoleError":   &authz.AssumeRoleError{Role: "r"},
		"authz.GroupCacheOptions": &authz.GroupCacheOptions{},
		"authz.OSGroups":          authz.OSGroups{},
		"authz.IdentifierType":    authz.User,
	}
}

// redactionNothingToPrint are the exported types that are interfaces or
// functions: no value of their own holds a secret.
var redactionNothingToPrint = map[string]bool{
	"cse.MaterialsProvider": true, "cse.ProviderFunc": true, "cse.KMSAPI": true,
	"authz.AssumeRoleAPI": true, "authz.CustomFunc": true, "authz.GroupResolver": true,
	"authz.GroupResolverFunc": true,
	"emrfs.S3API":             true, "emrfs.MaterialsFactory": true, "emrfs.CredentialsFactory": true,
}

// TestNoSecretUnderAnyVerb formats every exported type of cse, emrfs,
// authz and emrfstest, alone and inside a struct, a slice and a map, under
// every verb, and looks for the planted secrets in every encoding.
func TestNoSecretUnderAnyVerb(t *testing.T) {
	forms := secretForms(t)
	subjects := redactionSubjects(t)
	check := func(name, format, out string) {
		t.Helper()
		for what, form := range forms {
			if strings.Contains(out, form) {
				t.Errorf("%s under %s prints the %s (%q):\n%s", name, format, what, form, out)
			}
		}
	}
	for name, v := range subjects {
		vals := map[string]any{"": v}
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Pointer && !rv.IsNil() && !strings.Contains(name, "Resolver") && !strings.Contains(name, "Registry") &&
			!strings.HasPrefix(name, "emrfstest.") && name != "emrfs.Client" && name != "emrfs.Writer" && name != "emrfs.File" &&
			name != "cse.MultipartEncryptor" {
			vals["value "] = rv.Elem().Interface()
		}
		for how, val := range vals {
			typed := reflect.New(reflect.StructOf([]reflect.StructField{{Name: "V", Type: reflect.TypeOf(val)}})).Elem()
			typed.Field(0).Set(reflect.ValueOf(val))
			wrapped := map[string]any{
				how + "alone":        val,
				how + "in struct":    typed.Interface(),
				how + "in any field": struct{ V any }{val},
				how + "in slice":     []any{val},
				how + "in map":       map[string]any{"k": val},
			}
			for where, w := range wrapped {
				for _, format := range redactedFormats {
					check(name+" "+where, format, fmt.Sprintf(format, w))
				}
			}
		}
	}
	// Held by unexported fields, where fmt prints with reflection and calls
	// no method: the secret must sit behind a pointer.
	aes := subjects["cse.Keyring"].(*cse.Keyring)
	ssec := subjects["emrfs.SSE"].(*SSE)
	for _, format := range redactedFormats {
		check("unexported Keyring", format, fmt.Sprintf(format, struct{ k cse.Keyring }{*aes}))
		check("unexported SSE", format, fmt.Sprintf(format, struct{ s SSE }{*ssec}))
		check("unexported Resolver", format, fmt.Sprintf(format, struct{ r *authz.Resolver }{subjects["authz.Resolver"].(*authz.Resolver)}))
	}
	// Config.String and errors too.
	check("Config.String", "String", subjects["emrfs.Config"].(*Config).String())
	if _, err := subjects["emrfs.Config"].(*Config).Bucket("other"); err != nil {
		check("Config.Bucket error", "Error", err.Error())
	}
}

// TestRedactionListComplete fails when an exported struct type whose field
// names suggest key material or credentials is missing from
// redactionSubjects, so that a new type cannot skip the test above.
func TestRedactionListComplete(t *testing.T) {
	suggests := regexp.MustCompile(`(?i)^(key|kek|cek|symmetric|rsa|priv.*|.*secret.*|.*credential.*|.*password.*|.*token.*|customer.*|default|opts|config|provider.*|materials.*)$`)
	listed := map[string]bool{}
	for name := range redactionSubjects(t) {
		listed[strings.TrimSuffix(name, "(encrypt)")] = true
	}
	dirs := map[string]string{"cse": "../cse", "emrfs": ".", "emrfstest": "emrfstest", "miniotest": "../internal/miniotest", "authz": "../authz"}
	for pkg, dir := range dirs {
		fset := token.NewFileSet()
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range file.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.TYPE {
					continue
				}
				for _, s := range gd.Specs {
					ts := s.(*ast.TypeSpec)
					if !ts.Name.IsExported() {
						continue
					}
					name := pkg + "." + ts.Name.Name
					switch tt := ts.Type.(type) {
					case *ast.StructType:
						for _, fld := range tt.Fields.List {
							names := fld.Names
							if len(names) == 0 { // embedded
								names = []*ast.Ident{{Name: fmt.Sprint(fld.Type)}}
							}
							for _, n := range names {
								if suggests.MatchString(n.Name) && !listed[name] {
									t.Errorf("%s (%s) has field %s, which may hold key material or credentials: add it to redactionSubjects with the secrets planted", name, fset.Position(ts.Pos()), n.Name)
								}
							}
						}
					case *ast.InterfaceType, *ast.FuncType:
						if !listed[name] && !redactionNothingToPrint[name] {
							t.Errorf("%s: add it to redactionNothingToPrint or redactionSubjects", name)
						}
					}
				}
			}
		}
	}
}
