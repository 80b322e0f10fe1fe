package emrfstest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/emrs3/emrs3/emrfs/emrfstest"
)

// Many goroutines signing with different assumed roles: every request is
// verified and attributed to its own role.
func TestConcurrentRoles(t *testing.T) {
	ctx := context.Background()
	st, admin := newS3(t)
	const roles, goroutines, perGoroutine = 5, 50, 20
	clients := make([]*s3.Client, roles)
	for i := range roles {
		user := fmt.Sprintf("user%d", i)
		role := emrfstest.RoleARN(fmt.Sprintf("role%d", i))
		st.STS.CreateRole(role, emrfstest.UserARN(user))
		st.S3.Grant(role, "bucket", user+"/", true)
		if _, err := admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(user + "/obj"), Body: strings.NewReader(user)}); err != nil {
			t.Fatal(err)
		}
		ucfg := st.ConfigFor(st.AddUser(user))
		cfg := ucfg.Copy()
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(ucfg), role))
		clients[i] = s3.NewFromConfig(cfg, st.S3Options)
	}
	st.S3.ResetRequests()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			i := g % roles
			for range perGoroutine {
				out, err := clients[i].GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(fmt.Sprintf("user%d/obj", i))})
				if err != nil {
					errs <- err
					return
				}
				out.Body.Close()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	reqs := st.S3.Requests()
	if len(reqs) != goroutines*perGoroutine {
		t.Fatalf("%d requests logged, want %d", len(reqs), goroutines*perGoroutine)
	}
	for _, r := range reqs {
		want := emrfstest.RoleARN("role" + strings.TrimSuffix(strings.TrimPrefix(r.Key, "user"), "/obj"))
		if r.Principal != want || r.Status != 200 {
			t.Fatalf("request for %s by %s (status %d), want %s", r.Key, r.Principal, r.Status, want)
		}
	}
	if n := len(st.STS.Calls()); n != roles {
		t.Fatalf("%d AssumeRole calls, want %d (credentials cached)", n, roles)
	}
}
