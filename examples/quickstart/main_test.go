package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestQuickstartEmbedded(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), nil, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{
		"x-amz-server-side-encryption: aws:kms",
		"x-amz-meta-x-amz-key-v2:",
		"x-amz-meta-x-amz-wrap-alg: kms+context",
		"x-amz-meta-x-amz-cek-alg: AES/GCM/NoPadding",
		"x-amz-meta-x-amz-matdesc:",
		`read back:  "hello from emrs3, encrypted in this process before it left"`,
		"ok: both objects read back as written",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestQuickstartFlags(t *testing.T) {
	if err := run(context.Background(), []string{"-aws"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "-bucket") {
		t.Fatalf("-aws without -bucket: %v", err)
	}
}
