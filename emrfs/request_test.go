package emrfs

import (
	"reflect"
	"testing"
)

// TestFieldsOfEveryOperation checks fieldsOf against the SDK's request
// types for every operation of S3API: it names the operation as the
// method is named, and points at a field exactly where the request has
// one (Key; the SSE headers; the SSE-C key; the copy source's key), so
// that send fills every SSE field a request takes and no other.
func TestFieldsOfEveryOperation(t *testing.T) {
	api := reflect.TypeFor[S3API]()
	for i := range api.NumMethod() {
		m := api.Method(i)
		inType := m.Type.In(1).Elem() // (ctx, *Input, ...optFns)
		in := reflect.New(inType)
		f := fieldsOf(in.Interface())
		if f.op != m.Name {
			t.Errorf("%s: op %q", m.Name, f.op)
		}
		if f.bucket == nil || f.bucket != in.Elem().FieldByName("Bucket").Addr().Interface() {
			t.Errorf("%s: bucket does not point at Bucket", m.Name)
		}
		for _, c := range []struct {
			field string
			ptr   any
		}{
			{"Key", f.key},
			{"ServerSideEncryption", f.sse.kind},
			{"SSEKMSKeyId", f.sse.kmsKeyID},
			{"SSEKMSEncryptionContext", f.sse.kmsContext},
			{"BucketKeyEnabled", f.sse.bucketKey},
			{"SSECustomerAlgorithm", f.sse.customer.alg},
			{"SSECustomerKey", f.sse.customer.key},
			{"SSECustomerKeyMD5", f.sse.customer.md5},
			{"CopySourceSSECustomerAlgorithm", f.sse.source.alg},
			{"CopySourceSSECustomerKey", f.sse.source.key},
			{"CopySourceSSECustomerKeyMD5", f.sse.source.md5},
		} {
			field := in.Elem().FieldByName(c.field)
			isNil := reflect.ValueOf(c.ptr).IsNil()
			switch {
			case !field.IsValid() && !isNil:
				t.Errorf("%s: points at %s, which the request does not have", m.Name, c.field)
			case field.IsValid() && isNil:
				t.Errorf("%s: has %s, but send would not fill it", m.Name, c.field)
			case field.IsValid() && field.Addr().Interface() != c.ptr:
				t.Errorf("%s: %s points elsewhere", m.Name, c.field)
			}
		}
	}
}
