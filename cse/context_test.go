package cse

import (
	"errors"
	"fmt"
	"testing"
)

func TestParseEncryptionContext(t *testing.T) {
	m, err := ParseEncryptionContext("project:alpha,\"path\":\"s3://b/a,b\"")
	if err != nil || m["project"] != "alpha" || m["path"] != "s3://b/a,b" {
		t.Fatalf("%v, %v", m, err)
	}
	_, err = ParseEncryptionContext("aws:x-amz-cek-alg=AES/CBC/PKCS5Padding")
	var ce *ContextError
	if !errors.As(err, &ce) {
		t.Fatalf("reserved key: %v", err)
	}
}

func ExampleParseEncryptionContext() {
	s3a, _ := ParseEncryptionContext("project=alpha,team=data")
	serverless, _ := ParseEncryptionContext(`project:alpha,"k:1":"v,2"`)
	_, err := ParseEncryptionContext("aws:x=1")
	fmt.Println(s3a)
	fmt.Println(serverless)
	fmt.Println(err != nil)
	// Output:
	// map[project:alpha team:data]
	// map[k:1:v,2 project:alpha]
	// true
}
