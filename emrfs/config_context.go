package emrfs

import (
	"encoding/json"
	"fmt"
	"strings"
)

// parseContext parses an encryption context written in any of the forms
// users have: S3A's "k1=v1,k2=v2", EMR Serverless / Flink's
// "k1:v1,k2:v2", or a JSON object {"k1":"v1"}. Blank means none (nil).
// Each pair splits at its first '=' or, if it has none, its first ':'.
func parseContext(s string) (map[string]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if strings.HasPrefix(s, "{") {
		var m map[string]string
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, fmt.Errorf("not a JSON object of strings: %v", err)
		}
		for k := range m {
			if k == "" {
				return nil, fmt.Errorf("empty key")
			}
		}
		if len(m) == 0 {
			return nil, nil
		}
		return m, nil
	}
	m := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		sep := strings.IndexByte(pair, '=')
		if sep < 0 {
			sep = strings.IndexByte(pair, ':')
		}
		if sep < 0 {
			return nil, fmt.Errorf("pair %q has no '=' (k1=v1,k2=v2) or ':' (k1:v1,k2:v2)", pair)
		}
		k, v := strings.TrimSpace(pair[:sep]), strings.TrimSpace(pair[sep+1:])
		if k == "" {
			return nil, fmt.Errorf("pair %q has an empty key", pair)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("key %q appears twice", k)
		}
		m[k] = v
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}
