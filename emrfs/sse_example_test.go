package emrfs_test

import (
	"fmt"

	"github.com/emrs3/emrs3/emrfs"
)

// SSE-C: the key goes on every request that touches the object's data, with
// its MD5 computed; printing never shows it.
func ExampleNewSSEC() {
	key := make([]byte, 32) // use crypto/rand in real code
	sse, err := emrfs.NewSSEC(key)
	if err != nil {
		panic(err)
	}
	clear(key)
	fmt.Println(sse.CustomerKeyMD5())
	fmt.Println(sse)
	// Output:
	// cLyPS3KoaSFGi/joRB3OUQ==
	// SSE-C(key=<redacted>)
}
