// Package session derives STS role session names from user names.
package session

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Anonymous is the session name used when a request carries no user.
const Anonymous = "emrs3-anonymous"

const maxLen = 64

func valid(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("_+=,.@-", c) >= 0
}

// Name returns a role session name for user that STS accepts: 2-64
// characters of [\w+=,.@-]. It is deterministic. A user name that is already
// valid is used unchanged; otherwise invalid bytes become "-" and a short
// hash of the original name is appended, so distinct users never share a
// session name.
func Name(user string) string {
	if user == "" {
		return Anonymous
	}
	ok := len(user) >= 2 && len(user) <= maxLen
	for i := 0; ok && i < len(user); i++ {
		ok = valid(user[i])
	}
	if ok {
		return user
	}
	var b strings.Builder
	for i := 0; i < len(user); i++ {
		if valid(user[i]) {
			b.WriteByte(user[i])
		} else {
			b.WriteByte('-')
		}
	}
	sum := sha256.Sum256([]byte(user))
	suffix := "-" + hex.EncodeToString(sum[:6])
	s := b.String()
	if len(s) > maxLen-len(suffix) {
		s = s[:maxLen-len(suffix)]
	}
	return s + suffix
}
