// Package session derives STS role session names from user names.
package session

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Anonymous is the session name used when a request carries no user.
const Anonymous = "emrs3-anonymous"

const (
	maxLen = 64
	// hashLen is the length of the hex hash suffix of derived names (64
	// bits).
	hashLen = 16
)

// valid reports whether STS accepts c in a session name ([\w+=,.@-]).
func valid(c byte) bool {
	return plain(c) || strings.IndexByte("+=,-", c) >= 0
}

// plain reports whether c is in the subset of session-name characters that
// user names are used with unchanged: [A-Za-z0-9_.@]. It excludes "-", so
// a plain name can never look like a derived one (or like Anonymous).
func plain(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return c == '_' || c == '.' || c == '@'
}

// Name returns a role session name for user that STS accepts: 2-64
// characters of [\w+=,.@-]. It is deterministic and injective (up to a
// 64-bit hash collision between two derived names), so distinct users never
// share a session and CloudTrail tells them apart:
//
//   - "" gives Anonymous;
//   - a name of 2-64 characters of [A-Za-z0-9_.@] (user1,
//     alice@EXAMPLE.COM) is used unchanged;
//   - any other name (with "-", "/", spaces, non-ASCII, too short or too
//     long, or equal to Anonymous) is derived: its bytes that STS accepts
//     are kept, others become "-", it is cut to 47 bytes, and "-" and 16
//     hex digits of its SHA-256 are appended.
//
// Unchanged names contain no "-", and every derived name does and ends in
// hex digits, so no user name maps to another's session name or to
// Anonymous.
func Name(user string) string {
	if user == "" {
		return Anonymous
	}
	ok := len(user) >= 2 && len(user) <= maxLen
	for i := 0; ok && i < len(user); i++ {
		ok = plain(user[i])
	}
	if ok {
		return user
	}
	sum := sha256.Sum256([]byte(user))
	suffix := "-" + hex.EncodeToString(sum[:hashLen/2])
	n := min(len(user), maxLen-len(suffix))
	var b strings.Builder
	b.Grow(n + len(suffix))
	for i := 0; i < n; i++ {
		if valid(user[i]) {
			b.WriteByte(user[i])
		} else {
			b.WriteByte('-')
		}
	}
	b.WriteString(suffix)
	return b.String()
}
