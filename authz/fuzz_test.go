package authz

import (
	"errors"
	"testing"
)

func checkParsed(t *testing.T, ms []Mapping, err error) {
	t.Helper()
	if err != nil {
		var me *MappingError
		if errors.As(err, &me) && me.Index < 0 {
			t.Fatalf("negative mapping index in %v", err)
		}
		return
	}
	if err := Validate(ms); err != nil {
		t.Fatalf("parser returned mappings that do not validate: %v", err)
	}
	if _, err := compile(ms); err != nil {
		t.Fatalf("parser returned mappings that do not compile: %v", err)
	}
}

func FuzzParseRoleMappingProperty(f *testing.F) {
	for _, s := range []string{
		"arn:aws:iam::123456789101:role/r1=u:user1;user2,arn:aws:iam::123456789101:role/r2=p:s3://b/",
		"arn:aws:iam::123456789101:role/r=1=g:g",
		"=u:", ",", "arn:aws:iam::123456789101:role/r1=p:s3://b*",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseRoleMappingProperty(s)
		checkParsed(t, ms, err)
	})
}

func FuzzParseSecurityConfiguration(f *testing.F) {
	f.Add([]byte(seedJSON))
	f.Add([]byte(`{"AuthorizationConfiguration":{"EmrFsConfiguration":{"RoleMappings":[]}}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := ParseSecurityConfiguration(data)
		checkParsed(t, ms, err)
		ms, err = ParseRoleMappings(data)
		checkParsed(t, ms, err)
	})
}
