package main

// These tests build the emrs3 binary and run it as a user would. The
// binary cannot share the test's in-process stack, so each test starts the
// emrfstest S3 + KMS stack (it listens on 127.0.0.1) and points the binary
// at it through the AWS SDK's own environment: AWS_ENDPOINT_URL (S3 and KMS
// share the stack's endpoint), the stack's admin credentials in
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_REGION, and an
// emrfs-site.xml given with --conf. Against MinIO (EMRS3_MINIO_ENDPOINT, as
// .ci/services exports it) S3 and KMS need different credentials: the
// binary's --kms-profile names a shared-config profile for KMS.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
	"github.com/emrs3/emrs3/internal/miniotest"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds emrs3 once per test process (go build, as a user's go
// install would) and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "emrs3-bin-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "emrs3")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// toolEnv is a stack with a CSE-KMS bucket "data" and the environment that
// points the binary at it.
type toolEnv struct {
	t     *testing.T
	st    *emrfstest.Stack
	dir   string
	conf  string // emrfs-site.xml with CSE-KMS
	keyID string
	vars  []string
}

const cseSiteXML = `<?xml version="1.0"?>
<configuration>
  <property><name>fs.s3.cse.enabled</name><value>true</value></property>
  <property><name>fs.s3.cse.encryptionMaterialsProvider</name><value>com.amazon.ws.emr.hadoop.fs.cse.KMSEncryptionMaterialsProvider</value></property>
  <property><name>fs.s3.cse.kms.keyId</name><value>%s</value></property>
  <property><name>fs.s3.cse.encryptionV2.enabled</name><value>true</value></property>
</configuration>
`

// baseVars is an environment with no AWS settings from the machine.
func baseVars(dir string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"TMPDIR=" + dir,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

func newToolEnv(t *testing.T) *toolEnv {
	t.Helper()
	st := emrfstest.Start(t)
	ctx := context.Background()
	if _, err := s3.NewFromConfig(st.Config, st.S3Options).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	creds, err := st.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := &toolEnv{t: t, st: st, dir: t.TempDir(), keyID: st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)}
	e.conf = filepath.Join(e.dir, "emrfs-site.xml")
	if err := os.WriteFile(e.conf, fmt.Appendf(nil, cseSiteXML, e.keyID), 0o600); err != nil {
		t.Fatal(err)
	}
	e.vars = append(baseVars(e.dir),
		"AWS_REGION="+st.Region,
		"AWS_ENDPOINT_URL="+st.URL,
		"AWS_ACCESS_KEY_ID="+creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
	)
	return e
}

// client is an in-process emrfs client with the same configuration as the
// binary's --conf, to check what the binary wrote and to prepare objects.
func (e *toolEnv) client() *emrfs.Client {
	e.t.Helper()
	f, err := os.Open(e.conf)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	cfg, err := emrfs.LoadHadoopXML(f)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := emrfs.New(s3.NewFromConfig(e.st.Config, e.st.S3Options), cfg, func(o *emrfs.Options) {
		o.KMS = kms.NewFromConfig(e.st.Config)
		o.TempDir = e.t.TempDir()
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs the binary with args and stdin, bounded by a deadline.
func (e *toolEnv) run(stdin io.Reader, args ...string) result {
	e.t.Helper()
	return runTool(e.t, e.vars, stdin, args...)
}

func runTool(t *testing.T, vars []string, stdin io.Reader, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = vars
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("emrs3 %s: %v", strings.Join(args, " "), err)
	}
	return result{out.String(), errb.String(), code}
}

func (r result) must(t *testing.T, args ...string) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("emrs3 %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func randomFile(t *testing.T, path string, n int) []byte {
	t.Helper()
	data := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestToolRoundTrip: a new user copies a file up with a progress bar,
// lists it with its plaintext size, copies it back, pipes through stdin and
// stdout, inspects the envelope, copies trees both ways and removes one.
func TestToolRoundTrip(t *testing.T) {
	e := newToolEnv(t)
	conf := []string{"--conf", e.conf}
	big := filepath.Join(e.dir, "big.bin")
	data := randomFile(t, big, 7<<20+5) // two parts

	args := append(conf, "cp", "--progress", big, "s3://data/in/")
	r := e.run(nil, args...).must(t, args...)
	if !strings.Contains(r.stderr, "100.0%") || !strings.Contains(r.stderr, "copied "+big+" to s3://data/in/big.bin") {
		t.Errorf("cp stderr:\n%s", r.stderr)
	}
	// What the binary wrote is a CSE-KMS object the library reads.
	c := e.client()
	info, err := c.Envelope(context.Background(), "s3://data/in/big.bin")
	if err != nil || !info.Encrypted || info.WrapAlgorithm != "kms+context" {
		t.Fatalf("uploaded object: %+v, %v", info, err)
	}

	args = append(conf, "ls", "-r", "s3://data/")
	r = e.run(nil, args...).must(t, args...)
	if !regexp.MustCompile(`(?m)^\s*7340037  \S+ \S+  s3://data/in/big\.bin$`).MatchString(r.stdout) {
		t.Errorf("ls -r: want the plaintext size 7340037:\n%s", r.stdout)
	}

	back := filepath.Join(e.dir, "back", "big.bin")
	args = append(conf, "cp", "s3://data/in/big.bin", back)
	e.run(nil, args...).must(t, args...)
	if got, err := os.ReadFile(back); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes (%v), want the %d uploaded", len(got), err, len(data))
	}
	if leftovers, _ := filepath.Glob(filepath.Join(e.dir, "back", ".big.bin.emrs3-*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	args = append(conf, "cp", "-", "s3://data/in/notes.txt")
	e.run(strings.NewReader("from stdin\n"), args...).must(t, args...)
	args = append(conf, "cp", "s3://data/in/notes.txt", "-")
	if r = e.run(nil, args...).must(t, args...); r.stdout != "from stdin\n" {
		t.Errorf("cp to stdout: %q", r.stdout)
	}
	args = append(conf, "cat", "s3://data/in/notes.txt", "s3://data/in/notes.txt")
	if r = e.run(nil, args...).must(t, args...); r.stdout != "from stdin\nfrom stdin\n" {
		t.Errorf("cat: %q", r.stdout)
	}

	args = append(conf, "stat", "s3://data/in/notes.txt")
	r = e.run(nil, args...).must(t, args...)
	for _, want := range []string{
		"11 bytes plaintext, 27 stored",
		"envelope format V2",
		"in the object's metadata",
		"AES-256-GCM (AES/GCM/NoPadding), authenticated",
		"kms+context",
		"key/" + e.keyID + " (KMS decrypted the data key)",
		"aws:x-amz-cek-alg=AES/GCM/NoPadding",
		"key commitment: no",
		"instruction file: no",
	} {
		if !strings.Contains(squash(r.stdout), want) {
			t.Errorf("stat: no %q in\n%s", want, r.stdout)
		}
	}
	args = append(conf, "stat", "--json", "--no-kms", "s3://data/in/notes.txt")
	r = e.run(nil, args...).must(t, args...)
	var ji emrfs.EnvelopeInfo
	if err := json.Unmarshal([]byte(r.stdout), &ji); err != nil || ji.Format != 2 || ji.PlaintextSize != 11 || ji.Unwrapped {
		t.Errorf("stat --json: %+v, %v\n%s", ji, err, r.stdout)
	}

	tree := filepath.Join(e.dir, "tree")
	args = append(conf, "cp", "-r", "s3://data/in/", tree)
	e.run(nil, args...).must(t, args...)
	if got, err := os.ReadFile(filepath.Join(tree, "notes.txt")); err != nil || string(got) != "from stdin\n" {
		t.Fatalf("cp -r down: %q, %v", got, err)
	}
	args = append(conf, "cp", "-r", tree, "s3://data/again/")
	e.run(nil, args...).must(t, args...)
	args = append(conf, "ls", "s3://data/again/")
	if r = e.run(nil, args...).must(t, args...); !strings.Contains(r.stdout, "s3://data/again/big.bin") || !strings.Contains(r.stdout, "s3://data/again/notes.txt") {
		t.Errorf("cp -r up, ls:\n%s", r.stdout)
	}
	args = append(conf, "cp", "s3://data/again/notes.txt", "s3://data/copied.txt")
	e.run(nil, args...).must(t, args...)
	args = append(conf, "cat", "s3://data/copied.txt")
	if r = e.run(nil, args...).must(t, args...); r.stdout != "from stdin\n" {
		t.Errorf("cp s3→s3, cat: %q", r.stdout)
	}
	args = append(conf, "rm", "-r", "-q", "s3://data/again/")
	e.run(nil, args...).must(t, args...)
	if r = e.run(nil, append(conf, "ls", "s3://data/again/")...); r.code != exitNotFound {
		t.Errorf("ls after rm -r: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Piped (no --progress, stderr not a terminal): no bar.
	args = append(conf, "cp", big, "s3://data/quiet.bin")
	if r = e.run(nil, args...).must(t, args...); strings.Contains(r.stderr, "%") {
		t.Errorf("progress drawn on a pipe:\n%s", r.stderr)
	}
}

// squash collapses runs of spaces, so that checks ignore column widths.
func squash(s string) string { return regexp.MustCompile(` +`).ReplaceAllString(s, " ") }

// TestToolCatHead: "emrs3 cat URI | head -1" prints the first line and
// exits 0 without a message, although head closes the pipe while cat is
// still writing; a stdout that fails otherwise (a full disk) is exit 1.
func TestToolCatHead(t *testing.T) {
	e := newToolEnv(t)
	c := e.client()
	w, err := c.Create(context.Background(), "s3://data/log.txt")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, longLog())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if line := catHead(t, e.vars, "--conf", e.conf, "cat", "s3://data/log.txt"); line != "line 0\n" {
		t.Errorf("first line %q", line)
	}
	if line := catHead(t, e.vars, "--conf", e.conf, "ls", "-r", "--stored", "s3://data/"); !strings.Contains(line, "s3://data/log.txt") {
		t.Errorf("ls | head: first line %q", line)
	}
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	cmd := exec.Command(binary(t), "--conf", e.conf, "cat", "s3://data/log.txt")
	cmd.Env = e.vars
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = full, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitError || !strings.Contains(errb.String(), "writing to stdout") {
		t.Errorf("cat > /dev/full: %v, want exit %d naming stdout\n%s", err, exitError, errb.String())
	}
}

// longLog is a text object larger than a pipe's buffer (64 KiB), so that
// a reader closing the pipe early finds the writer still writing.
func longLog() string {
	var log strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&log, "line %d\n", i)
	}
	return log.String()
}

// catHead runs the binary with args, reads the first line of its stdout
// and closes the pipe, as head does, and checks that it then exits 0
// without a message on stderr. It returns the line.
func catHead(t *testing.T, vars []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = vars
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, rerr := bufio.NewReader(out).ReadString('\n')
	out.Close() // as head does after its first line
	if err := cmd.Wait(); err != nil || errb.Len() > 0 {
		t.Errorf("emrs3 %s | head -1: %v, want exit 0 and nothing on stderr:\n%s", strings.Join(args, " "), err, errb.String())
	}
	if rerr != nil {
		t.Errorf("emrs3 %s | head -1: reading the first line: %v", strings.Join(args, " "), rerr)
	}
	return line
}

// TestToolExitCodes: every documented exit code a script relies on, and an
// error message that names what to fix.
func TestToolExitCodes(t *testing.T) {
	e := newToolEnv(t)
	ctx := context.Background()
	c := e.client()
	for _, k := range []string{"ok.txt", "tampered.txt"} {
		w, err := c.Create(ctx, "s3://data/"+k)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "secret payload, sixteen+ bytes\n")
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Flip one ciphertext byte, keeping the envelope.
	api := s3.NewFromConfig(e.st.Config, e.st.S3Options)
	obj, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("tampered.txt")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	body[3] ^= 1
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("tampered.txt"), Body: bytes.NewReader(body), Metadata: obj.Metadata}); err != nil {
		t.Fatal(err)
	}
	// An object under a key only the admin may use, read by another user.
	adminKey := e.st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault, emrfstest.AdminARN)
	cfg := emrfs.NewConfig()
	cfg.Set("fs.s3.cse.enabled", "true")
	cfg.Set("fs.s3.cse.encryptionMaterialsProvider", emrfs.KMSMaterialsProvider)
	cfg.Set("fs.s3.cse.kms.keyId", adminKey)
	cfg.Set("fs.s3.cse.encryptionV2.enabled", "true")
	ac, err := emrfs.New(api, cfg, func(o *emrfs.Options) { o.KMS = kms.NewFromConfig(e.st.Config) })
	if err != nil {
		t.Fatal(err)
	}
	w, err := ac.Create(ctx, "s3://data/admin-only.txt")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "for the admin\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	adminConf := filepath.Join(e.dir, "admin-key.xml")
	if err := os.WriteFile(adminConf, fmt.Appendf(nil, cseSiteXML, adminKey), 0o600); err != nil {
		t.Fatal(err)
	}
	user := e.st.AddUser("analyst")
	userVars := append(baseVars(e.dir), "AWS_REGION="+e.st.Region, "AWS_ENDPOINT_URL="+e.st.URL,
		"AWS_ACCESS_KEY_ID="+user.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+user.SecretAccessKey)
	badConf := filepath.Join(e.dir, "bad.xml")
	os.WriteFile(badConf, []byte("<configuration><property><name>x"), 0o600)

	for _, tc := range []struct {
		name   string
		vars   []string
		args   []string
		code   int
		stderr string
	}{
		{"ok", nil, []string{"--conf", e.conf, "cat", "s3://data/ok.txt"}, exitOK, ""},
		{"unknown command", nil, []string{"bogus"}, exitUsage, `unknown command "bogus"`},
		{"unknown flag", nil, []string{"ls", "--bogus", "s3://data/"}, exitUsage, "flag provided but not defined: -bogus"},
		{"no args", nil, []string{"cat"}, exitUsage, "cat needs an s3:// URI"},
		{"not a URI", nil, []string{"cat", "/etc/hosts"}, exitUsage, `"/etc/hosts" is not an S3 URI`},
		{"local to local", nil, []string{"cp", "a", "b"}, exitUsage, "one of SRC and DST must be an s3:// URI"},
		{"missing object", nil, []string{"--conf", e.conf, "cat", "s3://data/missing.txt"}, exitNotFound, "s3://data/missing.txt: not found"},
		{"missing prefix", nil, []string{"--conf", e.conf, "ls", "s3://data/nothing/"}, exitNotFound, "not found"},
		{"missing bucket", nil, []string{"--conf", e.conf, "ls", "s3://no-such-bucket/"}, exitNotFound, "not found"},
		{"missing local file", nil, []string{"--conf", e.conf, "cp", filepath.Join(e.dir, "nope"), "s3://data/x"}, exitNotFound, "check the local path"},
		{"rm missing", nil, []string{"--conf", e.conf, "rm", "s3://data/missing.txt"}, exitNotFound, "not found"},
		{"rm -f missing", nil, []string{"--conf", e.conf, "rm", "-f", "s3://data/missing.txt"}, exitOK, ""},
		{"tampered", nil, []string{"--conf", e.conf, "cat", "s3://data/tampered.txt"}, exitIntegrity, "integrity failure"},
		{"KMS denied", userVars, []string{"--conf", adminConf, "cat", "s3://data/admin-only.txt"}, exitDenied, "check the credentials"},
		{"other key", nil, []string{"--conf", e.conf, "cat", "s3://data/admin-only.txt"}, exitError, "emrs3 stat URI"},
		{"bad conf", nil, []string{"--conf", badConf, "ls", "s3://data/"}, exitConfig, "--conf " + badConf},
		{"missing conf", nil, []string{"--conf", filepath.Join(e.dir, "none.xml"), "ls", "s3://data/"}, exitConfig, "--conf"},
		{"bad --set", nil, []string{"--set", "novalue", "ls", "s3://data/"}, exitUsage, "want NAME=VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := tc.vars
			if vars == nil {
				vars = e.vars
			}
			r := runTool(t, vars, nil, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("emrs3 %s: exit %d, want %d with %q on stderr\nstderr:\n%s", strings.Join(tc.args, " "), r.code, tc.code, tc.stderr, r.stderr)
			}
			if tc.code == exitIntegrity && r.stdout != "" {
				t.Errorf("plaintext of a tampered object written: %q", r.stdout)
			}
		})
	}

	// An object without envelope in a CSE bucket is refused by policy.
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("plain.txt"), Body: strings.NewReader("plain\n")}); err != nil {
		t.Fatal(err)
	}
	if r := e.run(nil, "--conf", e.conf, "cat", "s3://data/plain.txt"); r.code != exitRefused || !strings.Contains(r.stderr, "--emrfs-compatible") {
		t.Errorf("object without envelope: exit %d\n%s", r.code, r.stderr)
	}
}

// TestToolConfigSources: the configuration a cluster has, in each form the
// tool reads: an EMR configurations JSON file (--conf), a security
// configuration (--security-configuration, which decides the encryption
// over --conf) and --set; each writes a CSE-KMS object that the
// emrfs-site.xml configuration reads back.
func TestToolConfigSources(t *testing.T) {
	e := newToolEnv(t)
	configurations := filepath.Join(e.dir, "configurations.json")
	os.WriteFile(configurations, fmt.Appendf(nil, `[{"Classification": "emrfs-site", "Properties": {
	  "fs.s3.cse.enabled": "true",
	  "fs.s3.cse.encryptionMaterialsProvider": "com.amazon.ws.emr.hadoop.fs.cse.KMSEncryptionMaterialsProvider",
	  "fs.s3.cse.kms.keyId": %q,
	  "fs.s3.cse.encryptionV2.enabled": "true"}}]`, e.keyID), 0o600)
	security := filepath.Join(e.dir, "security.json")
	os.WriteFile(security, fmt.Appendf(nil, `{"EncryptionConfiguration": {"EnableInTransitEncryption": false, "EnableAtRestEncryption": true,
	  "AtRestEncryptionConfiguration": {"S3EncryptionConfiguration": {"EncryptionMode": "CSE-KMS", "AwsKmsKey": %q}}}}`, e.keyID), 0o600)
	sseSite := filepath.Join(e.dir, "sse-site.xml")
	os.WriteFile(sseSite, []byte(`<configuration><property><name>fs.s3.enableServerSideEncryption</name><value>true</value></property></configuration>`), 0o600)
	for _, tc := range []struct {
		name   string
		config []string
	}{
		{"configurations JSON", []string{"--conf", configurations}},
		{"security configuration", []string{"--conf", sseSite, "--security-configuration", security, "--set", "fs.s3.cse.encryptionV2.enabled=true"}},
		{"set", []string{"--set", "fs.s3.cse.enabled=true", "--set", "fs.s3.cse.encryptionMaterialsProvider=" + emrfs.KMSMaterialsProvider,
			"--set", "fs.s3.cse.kms.keyId=" + e.keyID, "--set", "fs.s3.cse.encryptionV2.enabled=true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uri := "s3://data/" + strings.ReplaceAll(tc.name, " ", "-") + ".txt"
			args := append(append([]string{}, tc.config...), "cp", "-", uri)
			e.run(strings.NewReader(tc.name+"\n"), args...).must(t, args...)
			args = append(append([]string{}, tc.config...), "stat", "--json", uri)
			r := e.run(nil, args...).must(t, args...)
			var info emrfs.EnvelopeInfo
			if err := json.Unmarshal([]byte(r.stdout), &info); err != nil || !info.Encrypted || info.WrapAlgorithm != "kms+context" || !info.Unwrapped {
				t.Errorf("stat: %+v, %v\n%s", info, err, r.stdout)
			}
			args = []string{"--conf", e.conf, "cat", uri}
			if r := e.run(nil, args...).must(t, args...); r.stdout != tc.name+"\n" {
				t.Errorf("cat: %q", r.stdout)
			}
		})
	}
}

// TestToolInterrupt: Ctrl-C during an upload from stdin aborts the
// multipart upload (nothing appears) and exits 130.
func TestToolInterrupt(t *testing.T) {
	e := newToolEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), "--conf", e.conf, "cp", "-", "s3://data/interrupted.bin")
	cmd.Env = e.vars
	var errb bytes.Buffer
	cmd.Stderr = &errb
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// More than one part, so that a multipart upload is under way; stdin
	// stays open, as a producer still writing.
	if _, err := in.Write(make([]byte, emrfs.DefaultPartSize+1<<20)); err != nil {
		t.Fatal(err)
	}
	started := func() bool {
		for _, r := range e.st.S3.Requests() {
			if r.Method == "PUT" && r.Key == "interrupted.bin" && r.Query.Has("partNumber") && r.Status == 200 {
				return true
			}
		}
		return false
	}
	for !started() {
		select {
		case <-ctx.Done():
			t.Fatalf("no part uploaded before the deadline\n%s", errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	werr := cmd.Wait()
	in.Close()
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.ExitCode() != exitInterrupt {
		t.Fatalf("interrupted cp: %v, want exit %d\n%s", werr, exitInterrupt, errb.String())
	}
	aborted := false
	for _, r := range e.st.S3.Requests() {
		if r.Method == "DELETE" && r.Key == "interrupted.bin" && r.Query.Has("uploadId") {
			aborted = true
		}
	}
	if !aborted {
		t.Error("no AbortMultipartUpload after the interrupt")
	}
	if r := e.run(nil, "--conf", e.conf, "ls", "s3://data/interrupted.bin"); r.code != exitNotFound {
		t.Errorf("an object appeared after the interrupt: exit %d\n%s", r.code, r.stdout)
	}
}

// TestToolHelp: --help and COMMAND --help are the reference: every command,
// every flag and the exit codes.
func TestToolHelp(t *testing.T) {
	r := runTool(t, baseVars(t.TempDir()), nil, "--help")
	if r.code != 0 {
		t.Fatalf("--help: exit %d", r.code)
	}
	for _, want := range []string{"ls ", "cat ", "cp ", "stat ", "rm ", "demo", "serve", "--conf FILE", "--security-configuration FILE", "--embedded", "--kms-profile", "-q", "--progress", "exit codes:", "5  integrity failure", "AWS_ENDPOINT_URL_S3"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	for _, cmd := range []string{"ls", "cat", "cp", "stat", "rm", "demo", "serve"} {
		r := runTool(t, baseVars(t.TempDir()), nil, cmd, "--help")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "usage: emrs3 "+cmd) || !strings.Contains(r.stdout, "exit codes:") {
			t.Errorf("%s --help: exit %d\n%s", cmd, r.code, r.stdout)
		}
	}
	if r := runTool(t, baseVars(t.TempDir()), nil); r.code != exitUsage || !strings.Contains(r.stdout, "usage: emrs3") {
		t.Errorf("no arguments: exit %d", r.code)
	}
}

// TestToolEmbedded: --embedded works without AWS: the demo walks through
// every command, and a single command sees the seeded bucket.
func TestToolEmbedded(t *testing.T) {
	vars := baseVars(t.TempDir())
	r := runTool(t, vars, nil, "--embedded", "demo").must(t, "demo")
	for _, want := range []string{"s3://demo/sales/2026-q4.csv", "region,total", "kms+context", "in an instruction file", "removed everything under s3://demo/copies/"} {
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("demo lacks %q:\n%s\n%s", want, r.stdout, r.stderr)
		}
	}
	r = runTool(t, vars, nil, "stat", "--embedded", "s3://demo/instruction/orders.csv").must(t, "stat")
	if !strings.Contains(squash(r.stdout), "instruction file: yes") {
		t.Errorf("stat --embedded:\n%s", r.stdout)
	}
	// The new user's four commands, one each, on the embedded stack.
	r = runTool(t, vars, nil, "--embedded", "ls", "-r", "s3://demo/").must(t, "ls")
	if !regexp.MustCompile(`(?m)^\s*42  \S+ \S+  s3://demo/sales/2026-q4\.csv$`).MatchString(r.stdout) {
		t.Errorf("ls -r --embedded: want the plaintext size 42:\n%s", r.stdout)
	}
	if line := catHead(t, vars, "--embedded", "cat", "s3://demo/logs/etl.log"); !strings.HasPrefix(line, "2026-12-05T09:00:00Z INFO job=etl-nightly step=0") {
		t.Errorf("cat | head --embedded: %q", line)
	}
	dir := t.TempDir()
	r = runTool(t, vars, nil, "--embedded", "cp", "--progress", "s3://demo/logs/etl.log", dir+"/").must(t, "cp")
	if p := progressLines(r.stderr); len(p) == 0 || p[len(p)-1] != 100 {
		t.Errorf("cp --progress --embedded: progress %v\n%s", p, r.stderr)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "etl.log")); err != nil || !strings.HasPrefix(string(got), "2026-12-05T09:00:00Z") {
		t.Errorf("cp --embedded wrote %d bytes, %v", len(got), err)
	}
	r = runTool(t, vars, nil, "--embedded", "stat", "s3://demo/sales/2026-q4.csv").must(t, "stat")
	for _, want := range []string{"42 bytes plaintext", "envelope format V2", "kms+context", "(KMS decrypted the data key)", "instruction file: no"} {
		if !strings.Contains(squash(r.stdout), want) {
			t.Errorf("stat --embedded: no %q in\n%s", want, r.stdout)
		}
	}
}

// TestToolServe: "emrs3 serve" keeps an embedded stack for other
// commands, which find it through the env file and emrfs-site.xml it
// writes; Ctrl-C stops it.
func TestToolServe(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), "serve", "--dir", dir)
	cmd.Env = baseVars(dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	envFile, conf := filepath.Join(dir, "env"), filepath.Join(dir, "emrfs-site.xml")
	for {
		if _, err := os.Stat(conf); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("serve wrote no %s before the deadline\n%s", conf, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if st, err := os.Stat(envFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("env file: %v, %v", st, err)
	}
	data, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	vars := baseVars(t.TempDir())
	for _, line := range strings.Split(string(data), "\n") {
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			vars = append(vars, kv)
		}
	}
	args := []string{"--conf", conf, "cat", "s3://demo/sales/2026-q3.csv"}
	if r := runTool(t, vars, nil, args...).must(t, args...); !strings.HasPrefix(r.stdout, "region,total\n") {
		t.Errorf("cat through serve: %q", r.stdout)
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after Ctrl-C: %v\n%s", err, out.String())
	}
}

// progressLines returns the percentages of the progress lines in stderr.
func progressLines(stderr string) []float64 {
	var out []float64
	for _, m := range regexp.MustCompile(`\]\s+([0-9.]+)%`).FindAllStringSubmatch(stderr, -1) {
		f, _ := strconv.ParseFloat(m[1], 64)
		out = append(out, f)
	}
	return out
}

// TestToolProgressFromCallbacks: the bar is driven by the bytes S3
// acknowledged (upload) and delivered (download), through the emrfs
// CreateOptions.Progress and OpenOptions.Progress callbacks, so a
// multi-part copy shows values below 100% before it ends at 100%.
func TestToolProgressFromCallbacks(t *testing.T) {
	e := newToolEnv(t)
	big := filepath.Join(e.dir, "big.bin")
	randomFile(t, big, 13<<20)
	args := []string{"--conf", e.conf, "cp", "--progress", big, "s3://data/big.bin"}
	r := e.run(nil, args...).must(t, args...)
	if p := progressLines(r.stderr); len(p) < 2 || p[0] >= 100 || p[len(p)-1] != 100 {
		t.Errorf("upload progress %v:\n%s", p, r.stderr)
	}
	args = []string{"--conf", e.conf, "cp", "--progress", "s3://data/big.bin", filepath.Join(e.dir, "down.bin")}
	r = e.run(nil, args...).must(t, args...)
	if p := progressLines(r.stderr); len(p) < 2 || p[0] >= 100 || p[len(p)-1] != 100 {
		t.Errorf("download progress %v:\n%s", p, r.stderr)
	}
	args = []string{"--conf", e.conf, "cp", "--progress", "s3://data/big.bin", "s3://data/copy.bin"}
	r = e.run(nil, args...).must(t, args...)
	if p := progressLines(r.stderr); len(p) == 0 || p[len(p)-1] != 100 {
		t.Errorf("S3 to S3 copy progress %v:\n%s", p, r.stderr)
	}
}

// TestToolMinIO runs the new user's commands against MinIO (S3) with the
// stack's KMS, when .ci/services has started MinIO: cp with a progress
// bar both ways, ls, cat and cat | head, stat, an S3 to S3 copy, rm -r.
func TestToolMinIO(t *testing.T) {
	b, ok := miniotest.MinIO()
	if !ok {
		t.Skip("EMRS3_MINIO_ENDPOINT not set (.ci/services starts MinIO)")
	}
	st := emrfstest.Start(t)
	ctx := context.Background()
	bucket := fmt.Sprintf("emrs3-tool-%d", time.Now().UnixNano())
	api := s3.NewFromConfig(b.Config, b.S3Options)
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	minioCreds, err := b.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stackCreds, err := st.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyID := st.KMS.CreateKey(kmstypes.KeySpecSymmetricDefault)
	conf := filepath.Join(dir, "emrfs-site.xml")
	os.WriteFile(conf, fmt.Appendf(nil, cseSiteXML, keyID), 0o600)
	// S3 (MinIO) from the default profile, KMS (the stack) from "kms".
	os.WriteFile(filepath.Join(dir, "aws-config"), fmt.Appendf(nil, "[default]\nregion = us-east-1\n\n[profile kms]\nregion = us-east-1\nendpoint_url = %s\n", st.URL), 0o600)
	os.WriteFile(filepath.Join(dir, "aws-credentials"), fmt.Appendf(nil, "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n[kms]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
		minioCreds.AccessKeyID, minioCreds.SecretAccessKey, stackCreds.AccessKeyID, stackCreds.SecretAccessKey), 0o600)
	vars := append(baseVars(dir), "AWS_ENDPOINT_URL_S3="+aws.ToString(b.Config.BaseEndpoint))
	base := []string{"--conf", conf, "--kms-profile", "kms"}

	src := filepath.Join(dir, "big.bin")
	data := randomFile(t, src, 7<<20+3)
	uri := "s3://" + bucket + "/in/big.bin"
	args := append(base, "cp", "--progress", src, uri)
	r := runTool(t, vars, nil, args...).must(t, args...)
	if !strings.Contains(r.stderr, "100.0%") {
		t.Errorf("cp: no final progress:\n%s", r.stderr)
	}
	args = append(base, "ls", "-r", "s3://"+bucket+"/")
	if r = runTool(t, vars, nil, args...).must(t, args...); !strings.Contains(r.stdout, strconv.Itoa(len(data))+"  ") {
		t.Errorf("ls: want plaintext size %d:\n%s", len(data), r.stdout)
	}
	args = append(base, "cat", uri)
	if r = runTool(t, vars, nil, args...).must(t, args...); r.stdout != string(data) {
		t.Errorf("cat: %d bytes, want %d", len(r.stdout), len(data))
	}
	args = append(base, "stat", uri)
	if r = runTool(t, vars, nil, args...).must(t, args...); !strings.Contains(r.stdout, "kms+context") || !strings.Contains(r.stdout, keyID) {
		t.Errorf("stat:\n%s", r.stdout)
	}
	logURI := "s3://" + bucket + "/in/log.txt"
	args = append(base, "cp", "-", logURI)
	runTool(t, vars, strings.NewReader(longLog()), args...).must(t, args...)
	if line := catHead(t, vars, append(base, "cat", logURI)...); line != "line 0\n" {
		t.Errorf("cat | head: %q", line)
	}
	down := filepath.Join(dir, "down.bin")
	args = append(base, "cp", "--progress", uri, down)
	r = runTool(t, vars, nil, args...).must(t, args...)
	if p := progressLines(r.stderr); len(p) < 2 || p[len(p)-1] != 100 {
		t.Errorf("download progress %v:\n%s", p, r.stderr)
	}
	if got, err := os.ReadFile(down); err != nil || !bytes.Equal(got, data) {
		t.Errorf("downloaded %d bytes, %v; want the %d uploaded", len(got), err, len(data))
	}
	args = append(base, "cp", uri, "s3://"+bucket+"/copies/big.bin")
	runTool(t, vars, nil, args...).must(t, args...)
	args = append(base, "cat", "s3://"+bucket+"/copies/big.bin")
	if r = runTool(t, vars, nil, args...).must(t, args...); r.stdout != string(data) {
		t.Errorf("cat of the S3 to S3 copy: %d bytes, want %d", len(r.stdout), len(data))
	}
	// The object on MinIO is ciphertext: a plain read gets no plaintext.
	raw, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("in/big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(raw.Body)
	raw.Body.Close()
	if bytes.Equal(got[:len(data)], data) {
		t.Error("the object on MinIO is plaintext")
	}
	args = append(base, "rm", "-r", "-q", "s3://"+bucket+"/")
	runTool(t, vars, nil, args...).must(t, args...)
	api.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
}
