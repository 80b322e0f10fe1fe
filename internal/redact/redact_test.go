package redact

import (
	"fmt"
	"strings"
	"testing"
)

func TestKeyAndTextNeverPrint(t *testing.T) {
	k := NewKey([]byte("0123456789abcdef"))
	s := NewText("s3cr3t-value")
	holder := struct {
		k Key
		s Text
		p *Key
	}{k, s, &k}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%p", "%08.3s"} {
		out := fmt.Sprintf(verb+" "+verb+" "+verb, k, s, holder)
		if strings.Contains(out, "0123456789") || strings.Contains(out, "30313233") || strings.Contains(out, "s3cr3t") || strings.Contains(out, "48 49 50") {
			t.Errorf("%s printed a secret: %s", verb, out)
		}
	}
	if string(k.Bytes()) != "0123456789abcdef" || s.Value() != "s3cr3t-value" || k.Len() != 16 {
		t.Fatal("Key or Text lost its value")
	}
	k.Wipe()
	if string(k.Bytes()) != strings.Repeat("\x00", 16) {
		t.Fatal("Wipe did not clear the key")
	}
	var zero Key
	if zero.Bytes() != nil || zero.Len() != 0 {
		t.Fatal("zero Key not empty")
	}
}

func TestSecretProperty(t *testing.T) {
	for name, want := range map[string]bool{
		"fs.s3a.encryption.key": true, "fs.s3a.secret.key": true, "fs.s3a.session.token": true,
		"fs.s3a.bucket.b.server-side-encryption.key": true, "fs.s3.cse.enabled": false, "fs.s3.cse.kms.keyId": false,
	} {
		if got := SecretProperty(name); got != want {
			t.Errorf("SecretProperty(%q) = %t, want %t", name, got, want)
		}
	}
}
