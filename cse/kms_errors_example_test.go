package cse_test

import (
	"errors"
	"fmt"

	"github.com/emrs3/emrs3/cse"
)

// A KMS failure tells its cause: a throttled call is retried later, not
// answered by granting permissions.
func ExampleKMSError() {
	err := fmt.Errorf("write: %w", &cse.KMSError{Operation: "GenerateDataKey", KeyID: "alias/data",
		Kind: cse.KMSThrottled, Code: "ThrottlingException", Err: errors.New("rate exceeded")})
	var ke *cse.KMSError
	if errors.As(err, &ke) && ke.Kind == cse.KMSThrottled {
		fmt.Println("retry later:", ke.Operation, ke.Kind)
	}
	// Output: retry later: GenerateDataKey throttled
}
