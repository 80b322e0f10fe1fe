package authz

import (
	"context"
	"errors"
	"testing"

	"github.com/emrs3/emrs3/authz/internal/location"
)

// seedMappings are the role mappings of the example security
// configuration of seed 003 (EMR Management Guide, "EMRFS Authorization
// for Data in Amazon S3"); emrfs reads the document itself.
var seedMappings = []Mapping{
	{Role: "arn:aws:iam::123456789101:role/allow_EMRFS_access_for_user1", IdentifierType: User, Identifiers: []string{"user1"}},
	{Role: "arn:aws:iam::123456789101:role/allow_EMRFS_access_to_MyBuckets", IdentifierType: Prefix, Identifiers: []string{"s3://MyBucket/", "s3://MyOtherBucket/"}},
	{Role: "arn:aws:iam::123456789101:role/allow_EMRFS_access_for_AdminGroup", IdentifierType: Group, Identifiers: []string{"AdminGroup"}},
}

func mustCompile(t testing.TB, m []Mapping) []compiled {
	t.Helper()
	c, err := compile(m)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type staticGroups map[string][]string

func (g staticGroups) Groups(_ context.Context, u string) ([]string, error) { return g[u], nil }

func TestEvaluateSeedExamples(t *testing.T) {
	c := mustCompile(t, seedMappings)
	groups := staticGroups{"admin1": {"users", "AdminGroup"}, "user1": {"AdminGroup"}}
	tests := []struct {
		name  string
		id    *Identity
		uri   string
		index int
		ident string
	}{
		{"user by name", &Identity{User: "user1"}, "s3://any/x", 0, "user1"},
		{"user by name wins over group", &Identity{User: "user1", Groups: []string{"AdminGroup"}}, "s3://any/x", 0, "user1"},
		{"user by name wins over prefix", &Identity{User: "user1"}, "s3://MyBucket/mydir", 0, "user1"},
		{"prefix mybucket/mydir", &Identity{User: "bob"}, "s3://MyBucket/mydir", 1, "s3://MyBucket/"},
		{"prefix yetanotherdir", &Identity{User: "bob"}, "s3://MyBucket/yetanotherdir/f", 1, "s3://MyBucket/"},
		{"second prefix", &Identity{User: "bob"}, "s3://MyOtherBucket/a", 1, "s3://MyOtherBucket/"},
		{"prefix s3a", &Identity{User: "bob"}, "s3a://MyBucket/a", 1, "s3://MyBucket/"},
		{"prefix s3n", &Identity{User: "bob"}, "S3N://MyBucket/a", 1, "s3://MyBucket/"},
		{"prefix wins over group", &Identity{User: "admin1"}, "s3://MyBucket/a", 1, "s3://MyBucket/"},
		{"group resolved", &Identity{User: "admin1"}, "s3://elsewhere/a", 2, "AdminGroup"},
		{"group given", &Identity{User: "carol", Groups: []string{"x", "AdminGroup"}}, "s3://elsewhere/a", 2, "AdminGroup"},
		{"given empty groups are not resolved", &Identity{User: "admin1", Groups: []string{}}, "s3://elsewhere/a", -1, ""},
		{"bucket case matters", &Identity{User: "bob"}, "s3://mybucket/a", -1, ""},
		{"similar bucket", &Identity{User: "bob"}, "s3://MyBucket2/a", -1, ""},
		{"no identity, prefix", nil, "s3://MyBucket/a", 1, "s3://MyBucket/"},
		{"no identity, no match", nil, "s3://other/a", -1, ""},
		{"unmapped user", &Identity{User: "dave"}, "s3://other/a", -1, ""},
	}
	for _, tt := range tests {
		loc, err := location.Parse(tt.uri)
		if err != nil {
			t.Fatal(err)
		}
		var id Identity
		if tt.id != nil {
			id = *tt.id
		}
		d, err := evaluate(context.Background(), c, groups, id, tt.id != nil, loc)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if d.Index != tt.index || d.Identifier != tt.ident {
			t.Errorf("%s: got mapping %d (%q), want %d (%q): %s", tt.name, d.Index, d.Identifier, tt.index, tt.ident, d.Reason)
		}
		if d.Index >= 0 && (d.Role != seedMappings[d.Index].Role || d.IdentifierType != seedMappings[d.Index].IdentifierType || d.Reason == "") {
			t.Errorf("%s: decision %+v does not describe mapping %d", tt.name, d, d.Index)
		}
	}
}

func TestEvaluatePrefixRules(t *testing.T) {
	const role = "arn:aws:iam::123456789101:role/r"
	tests := []struct {
		prefix, uri string
		match       bool
	}{
		{"s3://data", "s3://data/x", true},
		{"s3://data", "s3://data", true},
		{"s3://data", "s3://data-private/x", false},
		{"s3://data", "s3://dat/x", false},
		{"s3://data*", "s3://data/x", true},
		{"s3://data*", "s3://data-private/x", false},
		{"s3://data/", "s3://data/x", true},
		{"s3://data/", "s3://data-private/x", false},
		{"s3a://data/dir/", "s3://data/dir/f", true},
		{"s3n://data/dir/", "s3a://data/dir/f", true},
		{"s3://data/dir/", "s3://data/dir2/f", false},
		{"s3://data/dir/", "s3://data/di", false},
		{"s3://data/dir*", "s3://data/dir2/f", true},
		{"s3://data/dir", "s3://data/dir/f", true},
		{"s3://data/dir/*", "s3://data/dir/f", true},
		{"s3://data/dir/*", "s3://data/dirx", false},
		{"s3://data/user1/", "s3://data/admin/x", false},
	}
	for _, tt := range tests {
		c := mustCompile(t, []Mapping{{Role: role, IdentifierType: Prefix, Identifiers: []string{tt.prefix}}})
		loc, err := location.Parse(tt.uri)
		if err != nil {
			t.Fatal(err)
		}
		d, err := evaluate(context.Background(), c, nil, Identity{}, false, loc)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Index == 0; got != tt.match {
			t.Errorf("prefix %s, uri %s: match %v, want %v", tt.prefix, tt.uri, got, tt.match)
		}
	}
}

func TestEvaluateGroupResolverFailureFailsClosed(t *testing.T) {
	c := mustCompile(t, seedMappings)
	boom := errors.New("directory down")
	g := GroupResolverFunc(func(context.Context, string) ([]string, error) { return nil, boom })
	loc, _ := location.Parse("s3://elsewhere/a")
	_, err := evaluate(context.Background(), c, g, Identity{User: "bob"}, true, loc)
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the resolver error", err)
	}
	// The resolver is not consulted when an earlier mapping matches.
	loc, _ = location.Parse("s3://MyBucket/a")
	if d, err := evaluate(context.Background(), c, g, Identity{User: "bob"}, true, loc); err != nil || d.Index != 1 {
		t.Fatalf("got %+v, %v; want mapping 1", d, err)
	}
}
