package authz_test

import (
	"fmt"

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
	// authz: role mapping 0: Identifiers[0]: prefix "s3://bad bucket/": bucket "bad bucket" must match [a-zA-Z0-9.-_]{1,255}: not a valid s3://, s3a:// or s3n:// location
}
