package main

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/emrs3/emrs3/authz"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// measureRoles times role-mapping credential selection with a warm cache:
// the three mappings of the EMRFS documentation, a user matched by name, a
// user matched by group and a prefix match, with credentials from the STS
// emulator.
func measureRoles(ctx context.Context, w io.Writer, stack *emrfstest.Stack) error {
	const account = "111122223333"
	roles := []string{"analyst", "bucket-reader", "admin"}
	admin := stack.Config
	adminARN := emrfstest.AdminARN
	for _, r := range roles {
		stack.STS.CreateRole(fmt.Sprintf("arn:aws:iam::%s:role/%s", account, r), adminARN)
	}
	mappings := []authz.Mapping{
		{Role: "arn:aws:iam::" + account + ":role/analyst", IdentifierType: authz.User, Identifiers: []string{"user1"}},
		{Role: "arn:aws:iam::" + account + ":role/bucket-reader", IdentifierType: authz.Prefix, Identifiers: []string{"s3://shared/", "s3://logs/"}},
		{Role: "arn:aws:iam::" + account + ":role/admin", IdentifierType: authz.Group, Identifiers: []string{"AdminGroup"}},
	}
	res, err := authz.New(sts.NewFromConfig(admin), mappings, func(o *authz.Options) {
		o.Default = admin.Credentials
		o.Groups = authz.GroupResolverFunc(func(ctx context.Context, user string) ([]string, error) {
			if user == "admin1" {
				return []string{"AdminGroup"}, nil
			}
			return nil, nil
		})
	})
	if err != nil {
		return err
	}
	cases := []struct {
		name string
		id   authz.Identity
		uri  string
	}{
		{"user mapping", authz.Identity{User: "user1"}, "s3://data/user1/part-0000.parquet"},
		{"prefix mapping", authz.Identity{User: "user2"}, "s3://shared/x/part-0000.parquet"},
		{"group mapping", authz.Identity{User: "admin1"}, "s3://data/admin/part-0000.parquet"},
		{"no match (default)", authz.Identity{User: "user3"}, "s3://data/user3/part-0000.parquet"},
	}
	fmt.Fprintln(w, "\n| role mapping (warm cache) | ns/request | allocs/request |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, c := range cases {
		cctx := authz.WithIdentity(ctx, c.id)
		// Warm: assume the role once and fetch its credentials.
		_, p, err := res.Resolve(cctx, c.uri)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if _, err := p.Retrieve(cctx); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		r := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, p, err := res.Resolve(cctx, c.uri)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.Retrieve(cctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		fmt.Fprintf(w, "| %s | %d | %d |\n", c.name, r.NsPerOp(), r.AllocsPerOp())
	}
	return nil
}
