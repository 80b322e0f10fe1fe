package emrfs_test

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/emrs3/emrs3/emrfs"
)

// Fill the SSE fields of S3 requests for a bucket's encryption. SSE-KMS
// headers go on writes only; a GET carries none.
func ExampleSSE_PutObject() {
	sse := &emrfs.SSE{Kind: emrfs.SSEKMS, KMSKeyID: "alias/data", Context: map[string]string{"project": "x"}, BucketKey: aws.Bool(true)}

	put := &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}
	sse.PutObject(put)
	fmt.Println(put.ServerSideEncryption, *put.SSEKMSKeyId, *put.SSEKMSEncryptionContext, *put.BucketKeyEnabled)

	get := &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}
	sse.GetObject(get)
	fmt.Println(get.SSECustomerKey == nil)
	// Output:
	// aws:kms alias/data eyJwcm9qZWN0IjoieCJ9 true
	// true
}

// SSE-C: the key goes on every request that touches the object's data, with
// its MD5 computed; printing never shows it.
func ExampleNewSSEC() {
	key := make([]byte, 32) // use crypto/rand in real code
	sse, err := emrfs.NewSSEC(key)
	if err != nil {
		panic(err)
	}
	clear(key)
	head := &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}
	sse.HeadObject(head)
	fmt.Println(*head.SSECustomerAlgorithm, *head.SSECustomerKeyMD5)
	fmt.Println(sse)
	// Output:
	// AES256 cLyPS3KoaSFGi/joRB3OUQ==
	// SSE-C(key=<redacted>)
}
