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

func ExampleValidate() {
	// emrfs reads mappings from EMR configuration (the security
	// configuration's RoleMappings, fs.s3.authorization.roleMapping);
	// programs may build them in Go.
	mappings := []authz.Mapping{
		{Role: "arn:aws:iam::123456789101:role/analysts", IdentifierType: authz.Group, Identifiers: []string{"analysts", "data-science"}},
		{Role: "arn:aws:iam::123456789101:role/raw", IdentifierType: authz.Prefix, Identifiers: []string{"s3a://raw-data/*"}},
	}
	fmt.Println(authz.Validate(mappings))
	mappings = append(mappings, authz.Mapping{Role: "arn:aws:iam::123456789101:role/r", IdentifierType: authz.Prefix, Identifiers: []string{"s3://bad bucket/"}})
	fmt.Println(authz.Validate(mappings))
	// Output:
	// <nil>
	// authz: role mapping #3 (index 2): Identifiers[0]: prefix "s3://bad bucket/": bucket "bad bucket" must match [a-zA-Z0-9.-_]{1,255}: not a valid s3://, s3a:// or s3n:// location
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
	// The mappings of the RoleMappings array of an EMR security
	// configuration (emrfs.Config.RoleMappings reads them).
	mappings := []authz.Mapping{
		{Role: "arn:aws:iam::123456789101:role/r1", IdentifierType: authz.User, Identifiers: []string{"user1"}},
		{Role: "arn:aws:iam::123456789101:role/r2", IdentifierType: authz.Prefix, Identifiers: []string{"s3://MyBucket/"}},
		{Role: "arn:aws:iam::123456789101:role/r3", IdentifierType: authz.Group, Identifiers: []string{"AdminGroup"}},
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
