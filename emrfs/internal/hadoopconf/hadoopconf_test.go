package hadoopconf

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const doc = `<?xml version="1.0"?>
<?xml-stylesheet type="text/xsl" href="configuration.xsl"?>
<configuration>
  <property>
    <name> fs.s3.enableServerSideEncryption </name>
    <value>true</value>
    <description>SSE on</description>
  </property>
  <property><name>fs.s3.serverSideEncryption.kms.keyId</name><value>${key.base}/abc</value><final>true</final></property>
  <property><name>fs.s3.serverSideEncryption.kms.keyId</name><value>other</value></property>
  <property name="key.base" value="arn:aws:kms:us-east-1:123456789012:key"/>
  <property><name>empty</name><value></value></property>
  <property><name>novalue</name></property>
  <property><value>orphan</value></property>
  <unknown><x/></unknown>
</configuration>`
	c, warnings, err := Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, want string
		ok        bool
	}{
		{"fs.s3.enableServerSideEncryption", "true", true},
		{"fs.s3.serverSideEncryption.kms.keyId", "arn:aws:kms:us-east-1:123456789012:key/abc", true},
		{"key.base", "arn:aws:kms:us-east-1:123456789012:key", true},
		{"empty", "", true},
		{"novalue", "", false},
	}
	for _, tt := range tests {
		got, ok := c.Get(tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
	if !c.Final("fs.s3.serverSideEncryption.kms.keyId") {
		t.Error("final flag lost")
	}
	if raw, _ := c.Raw("fs.s3.serverSideEncryption.kms.keyId"); raw != "${key.base}/abc" {
		t.Errorf("Raw = %q", raw)
	}
	if len(warnings) != 2 {
		t.Errorf("warnings = %q, want the ignored final override and the nameless property", warnings)
	}
	if c.Len() != 4 || strings.Join(c.Keys(), ",") != "empty,fs.s3.enableServerSideEncryption,fs.s3.serverSideEncryption.kms.keyId,key.base" {
		t.Errorf("Keys = %q", c.Keys())
	}
}

func TestParseErrors(t *testing.T) {
	for _, doc := range []string{
		"",
		"<configuration>",
		"<properties></properties>",
		"<configuration><property><name>a</name></configuration>",
		`<configuration xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="x.xml"/></configuration>`,
	} {
		if _, _, err := Parse(strings.NewReader(doc)); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) error = %v, want ErrSyntax", doc, err)
		}
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{
		"a":    "A",
		"b":    "${a}${a}",
		"self": "${self}",
		"grow": "${grow}${grow}",
	}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"${a}", "A"},
		{"x${b}y", "xAAy"},
		{"${missing}", "${missing}"},
		{"${a${a}}", "${aA}"},
		{"${ a}", "${ a}"},
		{"${}", "${}"},
		{"${a", "${a"},
		{"$${a}", "$A"},
		{"${self}", "${self}"},
	}
	for _, tt := range tests {
		if got := Expand(tt.in, lookup); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Expand("${grow}", lookup); len(got) > MaxExpandedSize {
		t.Errorf("self-doubling reference grew to %d bytes", len(got))
	}
}

func TestMergeFinal(t *testing.T) {
	a := New()
	a.Set("k", "1")
	a.SetFinal("k")
	a.Set("m", "1")
	b := New()
	b.Set("k", "2")
	b.Set("m", "2")
	b.Set("n", "2")
	b.SetFinal("n")
	w := a.Merge(b)
	if v, _ := a.Get("k"); v != "1" {
		t.Errorf("final k overridden: %q", v)
	}
	if v, _ := a.Get("m"); v != "2" {
		t.Errorf("m = %q, want later value 2", v)
	}
	if !a.Final("n") {
		t.Error("final flag of merged resource lost")
	}
	if len(w) != 1 || !strings.Contains(w[0], "k is final") {
		t.Errorf("warnings = %q", w)
	}
	cl := a.Clone()
	cl.Unset("k")
	if _, ok := a.Get("k"); !ok {
		t.Error("Clone shares state")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`<configuration><property><name>a</name><value>${b}</value><final>true</final></property><property name="b" value="x"/></configuration>`)
	f.Add(`<configuration><property><name>a</name><value>${a}${a}</value></property></configuration>`)
	f.Add(`<configuration/>`)
	f.Fuzz(func(t *testing.T, doc string) {
		c, _, err := Parse(strings.NewReader(doc))
		if err != nil {
			return
		}
		for _, k := range c.Keys() {
			if _, ok := c.Get(k); !ok {
				t.Fatalf("key %q listed but not found", k)
			}
		}
	})
}

func TestExpandCheckedErrors(t *testing.T) {
	vars := map[string]string{"self": "${self}", "grow": "${grow}${grow}", "big": strings.Repeat("b", 50000), "two": "${big}${big}"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	for in, want := range map[string]string{"${self}": "after 20 rounds", "${grow}": "more than 1024 references", "${two}": "longer than"} {
		got, err := ExpandChecked(in, lookup)
		if !errors.Is(err, ErrExpansion) || !strings.Contains(err.Error(), want) || got != in {
			t.Errorf("ExpandChecked(%q) = %.20q, %v; want the input back and an error saying %q", in, got, err, want)
		}
	}
}
