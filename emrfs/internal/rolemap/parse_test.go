package rolemap

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/emrs3/emrs3/authz"
)

// seedJSON is the RoleMappings array of the example security
// configuration of seed 003 (EMR Management Guide, "EMRFS Authorization
// for Data in Amazon S3"); emrfs reads the whole document.
const seedJSON = `[{ "Role": "arn:aws:iam::123456789101:role/allow_EMRFS_access_for_user1", "IdentifierType": "User", "Identifiers": [ "user1" ] },{ "Role": "arn:aws:iam::123456789101:role/allow_EMRFS_access_to_MyBuckets", "IdentifierType": "Prefix", "Identifiers": [ "s3://MyBucket/","s3://MyOtherBucket/" ] },{ "Role": "arn:aws:iam::123456789101:role/allow_EMRFS_access_for_AdminGroup", "IdentifierType": "Group", "Identifiers": [ "AdminGroup" ] }]`

var seedMappings = []authz.Mapping{
	{Role: "arn:aws:iam::123456789101:role/allow_EMRFS_access_for_user1", IdentifierType: authz.User, Identifiers: []string{"user1"}},
	{Role: "arn:aws:iam::123456789101:role/allow_EMRFS_access_to_MyBuckets", IdentifierType: authz.Prefix, Identifiers: []string{"s3://MyBucket/", "s3://MyOtherBucket/"}},
	{Role: "arn:aws:iam::123456789101:role/allow_EMRFS_access_for_AdminGroup", IdentifierType: authz.Group, Identifiers: []string{"AdminGroup"}},
}

func TestParseRoleMappingsSeed(t *testing.T) {
	got, err := ParseRoleMappings([]byte(seedJSON))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, seedMappings) {
		t.Fatalf("got %+v\nwant %+v", got, seedMappings)
	}
	if _, err := ParseRoleMappings([]byte(`[`)); err == nil {
		t.Fatal("broken JSON accepted")
	}
}

func TestParseRoleMappingProperty(t *testing.T) {
	const r1, r2 = "arn:aws:iam::123456789101:role/r1", "arn:aws-cn:iam::123456789101:role/path/r=2"
	tests := []struct {
		in   string
		want []authz.Mapping
	}{
		{"", nil},
		{"  ", nil},
		{r1 + "=u:user1", []authz.Mapping{{Role: r1, IdentifierType: authz.User, Identifiers: []string{"user1"}}}},
		{r1 + "=u:user1;user2, " + r2 + "=g:admins", []authz.Mapping{{Role: r1, IdentifierType: authz.User, Identifiers: []string{"user1", "user2"}}, {Role: r2, IdentifierType: authz.Group, Identifiers: []string{"admins"}}}},
		{r1 + "=p:s3://MyBucket/;s3a://other/dir/k=v/*", []authz.Mapping{{Role: r1, IdentifierType: authz.Prefix, Identifiers: []string{"s3://MyBucket/", "s3a://other/dir/k=v/*"}}}},
		{r2 + "=G:g1", []authz.Mapping{{Role: r2, IdentifierType: authz.Group, Identifiers: []string{"g1"}}}},
		// IAM role names may contain ",": a comma ends a mapping only
		// before "arn:".
		{"arn:aws:iam::123456789101:role/r,x=u:a,  " + r1 + "=g:b", []authz.Mapping{{Role: "arn:aws:iam::123456789101:role/r,x", IdentifierType: authz.User, Identifiers: []string{"a"}}, {Role: r1, IdentifierType: authz.Group, Identifiers: []string{"b"}}}},
		{"arn:aws:iam::123456789101:role/r,=p:s3://b/", []authz.Mapping{{Role: "arn:aws:iam::123456789101:role/r,", IdentifierType: authz.Prefix, Identifiers: []string{"s3://b/"}}}},
	}
	for _, tt := range tests {
		got, err := ParseRoleMappingProperty(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseErrorsNamePositionAndField(t *testing.T) {
	const ok = `{"Role": "arn:aws:iam::123456789101:role/r1", "IdentifierType": "User", "Identifiers": ["u"]}`
	const r1 = "arn:aws:iam::123456789101:role/r1"
	tests := []struct {
		name  string
		parse func() ([]authz.Mapping, error)
		index int
		field string
		msg   string
	}{
		{"bad arn", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[` + ok + `, {"Role": "arn:aws:iam::1234:role/r", "IdentifierType": "User", "Identifiers": ["u"]}]`))
		}, 1, "Role", "not an IAM role ARN"},
		{"user arn", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": "arn:aws:iam::123456789101:user/u", "IdentifierType": "User", "Identifiers": ["u"]}]`))
		}, 0, "Role", "not an IAM role ARN"},
		{"bad type", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[` + ok + `,` + ok + `, {"Role": "` + r1 + `", "IdentifierType": "Host", "Identifiers": ["u"]}]`))
		}, 2, "IdentifierType", "User, Group, Prefix"},
		{"missing type", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": "` + r1 + `", "Identifiers": ["u"]}]`))
		}, 0, "IdentifierType", "missing"},
		{"missing role", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"IdentifierType": "User", "Identifiers": ["u"]}]`))
		}, 0, "Role", "missing"},
		{"no identifiers", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": "` + r1 + `", "IdentifierType": "User", "Identifiers": []}]`))
		}, 0, "Identifiers", "no identifiers"},
		{"empty identifier", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": "` + r1 + `", "IdentifierType": "User", "Identifiers": ["a", " "]}]`))
		}, 0, "Identifiers[1]", "empty identifier"},
		{"bad bucket", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": "` + r1 + `", "IdentifierType": "Prefix", "Identifiers": ["s3://bad bucket/x"]}]`))
		}, 0, "Identifiers[0]", "bucket"},
		{"not s3", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": "` + r1 + `", "IdentifierType": "Prefix", "Identifiers": ["hdfs://nn/x"]}]`))
		}, 0, "Identifiers[0]", "s3://"},
		{"typo field", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": "` + r1 + `", "IdentifierType": "User", "Identifier": ["u"]}]`))
		}, 0, "Identifier", "unknown field"},
		{"role is a number", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[` + ok + `, {"Role": 5, "IdentifierType": "User", "Identifiers": ["u"]}]`))
		}, 1, "Role", "is a JSON number; want a string"},
		{"role is null", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": null, "IdentifierType": "User", "Identifiers": ["u"]}]`))
		}, 0, "Role", "is null; want a string"},
		{"type is an array", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": "` + r1 + `", "IdentifierType": ["User"], "Identifiers": ["u"]}]`))
		}, 0, "IdentifierType", "is a JSON array; want a string"},
		{"identifiers is a string", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": "` + r1 + `", "IdentifierType": "User", "Identifiers": "u"}]`))
		}, 0, "Identifiers", "is a string; want an array of strings"},
		{"identifiers is null", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": "` + r1 + `", "IdentifierType": "User", "Identifiers": null}]`))
		}, 0, "Identifiers", "is null; want an array of strings"},
		{"identifier is a number", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": "` + r1 + `", "IdentifierType": "User", "Identifiers": ["a", 7]}]`))
		}, 0, "Identifiers[1]", "is a JSON number; want a string"},
		{"not an object", func() ([]authz.Mapping, error) { return ParseRoleMappings([]byte(`[` + ok + `, "x"]`)) }, 1, "", "a string is not an object"},
		{"duplicate type", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": "` + r1 + `", "IdentifierType": "User", "IdentifierType": "Prefix", "Identifiers": ["s3://b/"]}]`))
		}, 0, "IdentifierType", "given twice"},
		{"duplicate role, other case", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": "` + r1 + `", "IdentifierType": "User", "Identifiers": ["u"], "role": "arn:aws:iam::123456789101:role/admin"}]`))
		}, 0, "Role", `as "Role" and "role"`},
		{"duplicate identifiers", func() ([]authz.Mapping, error) {
			return ParseRoleMappings([]byte(`[{"Role": "` + r1 + `", "IdentifierType": "User", "Identifiers": ["u"], "Identifiers": ["admin"]}]`))
		}, 0, "Identifiers", "given twice"},
		{"property invalid UTF-8", func() ([]authz.Mapping, error) { return ParseRoleMappingProperty(r1 + "=u:a;b\xff") }, 0, "Identifiers[1]", "not valid UTF-8"},
		{"property identifier with comma", func() ([]authz.Mapping, error) { return ParseRoleMappingProperty(r1 + "=u:a,b") }, 0, "Identifiers[0]", `"a,b" contains ","`},
		{"property bad type", func() ([]authz.Mapping, error) { return ParseRoleMappingProperty(r1 + "=u:a," + r1 + "=x:b") }, 1, "IdentifierType", "u|g|p"},
		{"property no ids", func() ([]authz.Mapping, error) { return ParseRoleMappingProperty(r1 + "=g:") }, 0, "Identifiers", "no identifiers"},
		{"property bad arn", func() ([]authz.Mapping, error) { return ParseRoleMappingProperty("r1=u:a") }, 0, "Role", "ARN"},
		{"property stray comma", func() ([]authz.Mapping, error) { return ParseRoleMappingProperty(r1 + "=u:a,") }, 1, "", "empty mapping"},
		{"property empty id", func() ([]authz.Mapping, error) { return ParseRoleMappingProperty(r1 + "=u:a;;b") }, 0, "Identifiers[1]", "empty"},
	}
	for _, tt := range tests {
		_, err := tt.parse()
		var me *authz.MappingError
		if !errors.As(err, &me) {
			t.Errorf("%s: error %v is not a *authz.MappingError", tt.name, err)
			continue
		}
		if !errors.Is(err, authz.ErrInvalidMapping) {
			t.Errorf("%s: error does not match ErrInvalidMapping", tt.name)
		}
		if me.Index != tt.index || me.Field != tt.field || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: got index %d field %q %q; want %d %q containing %q", tt.name, me.Index, me.Field, err, tt.index, tt.field, tt.msg)
		}
		if pos := fmt.Sprintf("role mapping #%d (index %d): ", tt.index+1, tt.index); !strings.Contains(err.Error(), pos) || strings.Contains(err.Error(), ": :") {
			t.Errorf("%s: %q does not say %q once, without empty segments", tt.name, err, pos)
		}
	}
}

func TestParseRoleMappingsRejectsNonArrays(t *testing.T) {
	for _, in := range []string{`{}`, `[]`, `null`, `[1]`, `[{"Role": 5}]`} {
		if _, err := ParseRoleMappings([]byte(in)); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
}
