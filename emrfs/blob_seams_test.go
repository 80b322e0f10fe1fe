package emrfs

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestListStartAfter: ListOptions.StartAfter resumes a listing after a
// key, with and without the delimiter.
func TestListStartAfter(t *testing.T) {
	api := newTestS3(t)
	c := newTestClient(t, api)
	putKeys(t, api, []string{"sa/a", "sa/b", "sa/c/x", "sa/c/y", "sa/d"})
	for _, tc := range []struct {
		recursive bool
		after     string
		want      []string
	}{
		{false, "sa/a", []string{"b", "c", "d"}},
		{false, "sa/c/", []string{"c", "d"}}, // the prefix itself comes back once
		{true, "sa/c/x", []string{"y", "d"}},
		{true, "", []string{"a", "b", "x", "y", "d"}},
	} {
		var got []string
		for fi, err := range c.List(context.Background(), "s3://"+testBucket+"/sa/", func(o *ListOptions) {
			o.Recursive, o.StartAfter = tc.recursive, tc.after
		}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fi.Name())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("List(recursive=%v, StartAfter=%q) = %v, want %v", tc.recursive, tc.after, got, tc.want)
		}
	}
}

// TestStatHeaders: Stat returns the object's standard headers.
func TestStatHeaders(t *testing.T) {
	api := newTestS3(t)
	c := newTestClient(t, api)
	_, err := api.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String("h"), Body: stringsReader("x"),
		ContentType: aws.String("text/csv"), CacheControl: aws.String("no-cache"), ContentEncoding: aws.String("identity"),
		ContentDisposition: aws.String("inline"), ContentLanguage: aws.String("en"),
	})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := c.Stat(context.Background(), "s3://"+testBucket+"/h")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{fi.ContentType(), fi.CacheControl(), fi.ContentEncoding(), fi.ContentDisposition(), fi.ContentLanguage()}
	if want := []string{"text/csv", "no-cache", "identity", "inline", "en"}; !slices.Equal(got, want) {
		t.Errorf("Stat headers = %q, want %q", got, want)
	}
}

// TestCreateCancelledContext: Create with a context that is already done
// returns a Writer whose Close fails and writes nothing (its cancellation
// callback runs at once, in another goroutine: it once found the Writer
// half built).
func TestCreateCancelledContext(t *testing.T) {
	api := newTestS3(t)
	c := newTestClient(t, api)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 50 {
		w, err := c.Create(ctx, "s3://"+testBucket+"/cancelled")
		if err != nil {
			continue
		}
		if _, err := w.Write([]byte("x")); err == nil {
			if err := w.Close(); err == nil {
				t.Fatal("Close with a cancelled context succeeded")
			}
		}
	}
	if _, err := api.HeadObject(context.Background(), headInput("cancelled")); err == nil {
		t.Error("an object was written with a cancelled context")
	}
}
