package emrfs_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/emrs3/emrs3/authz"
	"github.com/emrs3/emrs3/emrfs"
	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// TestRoleMappingsCopySameRoleUnderSessionPressure: with MaxSessions 1 and
// two roles in use at once, every same-role copy stays a server-side
// CopyObject: its source and destination get the one provider of their
// session even while the other role's requests evict it. (Without the
// reuse of evicted sessions still in use, some copies were streamed.)
func TestRoleMappingsCopySameRoleUnderSessionPressure(t *testing.T) {
	ctx := context.Background()
	st := emrfstest.Start(t)
	admin := s3.NewFromConfig(st.Config, st.S3Options)
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	clusterCfg := st.ConfigFor(st.AddUser(clusterUser))
	st.S3.Restrict(clusterARN)
	st.STS.CreateRole(roleUser1, clusterARN)
	st.STS.CreateRole(roleShared, clusterARN)
	st.S3.Grant(roleUser1, "data", "user1/", true)
	st.S3.Grant(roleShared, "data", "shared/", true)
	mappings := []authz.Mapping{
		{Role: roleUser1, IdentifierType: authz.Prefix, Identifiers: []string{"s3://data/user1/"}},
		{Role: roleShared, IdentifierType: authz.Prefix, Identifiers: []string{"s3://data/shared/"}},
	}
	res, err := authz.New(sts.NewFromConfig(clusterCfg), mappings, func(o *authz.Options) {
		o.DenyUnmapped = true
		o.MaxSessions = 1
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := emrfs.New(s3.NewFromConfig(clusterCfg, st.S3Options), nil, emrfs.WithRoleMappings(res))
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte{7}, 10_000)
	for _, prefix := range []string{"user1", "shared"} {
		if err := put(t, c, ctx, "s3://data/"+prefix+"/src", data); err != nil {
			t.Fatal(err)
		}
	}
	st.S3.ResetRequests()
	const copies = 20
	var wg sync.WaitGroup
	for _, prefix := range []string{"user1", "shared"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range copies {
				if err := c.Copy(ctx, "s3://data/"+prefix+"/src", fmt.Sprintf("s3://data/%s/dst%d", prefix, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	copied := 0
	for _, r := range st.S3.Requests() {
		if r.Method == "GET" && (r.Key == "user1/src" || r.Key == "shared/src") {
			t.Fatalf("a same-role copy under session pressure was streamed: GET %s", r.Key)
		}
		if r.Method == "PUT" && r.Header.Get("X-Amz-Copy-Source") != "" {
			copied++
		}
	}
	if copied != 2*copies {
		t.Errorf("%d server-side copies, want %d", copied, 2*copies)
	}
}
