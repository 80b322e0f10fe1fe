package authz_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/emrs3/emrs3/authz"
)

func ExampleParseRoleMappingProperty() {
	mappings, err := authz.ParseRoleMappingProperty(
		"arn:aws:iam::123456789101:role/analysts=g:analysts;data-science," +
			"arn:aws:iam::123456789101:role/raw=p:s3a://raw-data/*")
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, m := range mappings {
		fmt.Println(i, m.Role, m.IdentifierType, m.Identifiers)
	}
	_, err = authz.ParseRoleMappingProperty("arn:aws:iam::123456789101:role/r=p:s3://bad bucket/")
	fmt.Println(err)
	// Output:
	// 0 arn:aws:iam::123456789101:role/analysts Group [analysts data-science]
	// 1 arn:aws:iam::123456789101:role/raw Prefix [s3a://raw-data/*]
	// authz: role mapping #1 (index 0): Identifiers[0]: prefix "s3://bad bucket/": bucket "bad bucket" must match [a-zA-Z0-9.-_]{1,255}: not a valid s3://, s3a:// or s3n:// location
}

// exampleSTS stands in for *sts.Client in the example.
type exampleSTS struct{}

func (exampleSTS) AssumeRole(_ context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	return &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{
		AccessKeyId: aws.String("ASIAEXAMPLE"), SecretAccessKey: aws.String("s"), SessionToken: aws.String("t"),
		Expiration: aws.Time(time.Now().Add(time.Hour)),
	}}, nil
}

func ExampleResolver_Resolve() {
	// The RoleMappings array of an EMR security configuration.
	mappings, err := authz.ParseRoleMappings([]byte(`[
	   {"Role": "arn:aws:iam::123456789101:role/r1", "IdentifierType": "User",   "Identifiers": ["user1"]},
	   {"Role": "arn:aws:iam::123456789101:role/r2", "IdentifierType": "Prefix", "Identifiers": ["s3://MyBucket/"]},
	   {"Role": "arn:aws:iam::123456789101:role/r3", "IdentifierType": "Group",  "Identifiers": ["AdminGroup"]}]`))
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := authz.New(exampleSTS{}, mappings, func(o *authz.Options) {
		o.Default = credentials.NewStaticCredentialsProvider("AKIAEXAMPLE", "s", "")
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, req := range []struct {
		id  authz.Identity
		uri string
	}{
		{authz.Identity{User: "user1"}, "s3://MyBucket/a"},
		{authz.Identity{User: "bob", Groups: []string{"AdminGroup"}}, "s3a://MyBucket/a"},
		{authz.Identity{User: "bob", Groups: []string{"AdminGroup"}}, "s3://data/a"},
		{authz.Identity{User: "eve", Groups: []string{}}, "s3://data/a"},
	} {
		d, _, err := r.Resolve(authz.WithIdentity(context.Background(), req.id), req.uri)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s %s: %d %q (%s)\n", req.id.User, req.uri, d.Index, d.Role, d.Reason)
	}
	// Output:
	// user1 s3://MyBucket/a: 0 "arn:aws:iam::123456789101:role/r1" (user "user1" is named by mapping 0)
	// bob s3a://MyBucket/a: 1 "arn:aws:iam::123456789101:role/r2" (location s3://MyBucket/a is under prefix s3://MyBucket/ of mapping 1)
	// bob s3://data/a: 2 "arn:aws:iam::123456789101:role/r3" (user "bob" is in group "AdminGroup" named by mapping 2)
	// eve s3://data/a: -1 "" (no role mapping matches; default credentials)
}
