package emrfs

import (
	"strings"
)

// The encryption and authorization namespaces, relative to their family's
// prefix (and per-bucket prefix). A name in one of them that this package
// does not know is reported: as an error when a known name is close to it
// (a typo such as fs.s3.cse.enable would otherwise leave the data
// unencrypted without a word), else as a warning (a custom provider may
// read settings of its own there).
var (
	emrfsNamespaces = []string{"cse.", "serverSideEncryption.", "authorization."}
	s3aNamespaces   = []string{"encryption."}
)

// emrfsGlobalRests are the fs.s3.* properties read only in their global
// form.
var emrfsGlobalRests = []string{pRoleMapping, pSTSEndpoint, pSTSDuration, pCustomCredentials}

// nameProblem is an unknown property name of one scope.
type nameProblem struct {
	property string
	bucket   string // "" for a global name
	closest  string // the closest known name, in the same form
	typo     bool   // close enough to be a typo of closest
	global   bool   // a per-bucket form of a property read only globally
}

// unknownNames returns the unknown names in the security namespaces, and
// the near misses of known security names elsewhere under fs.s3.* and
// fs.s3a.*, sorted by property name.
func (c *Config) unknownNames() []nameProblem {
	var out []nameProblem
	for _, k := range c.props.Keys() {
		if p, ok := checkName(k); ok {
			out = append(out, p)
		}
	}
	return out
}

// checkName classifies one property name; ok is false for known names and
// for names outside the families' security settings.
func checkName(k string) (nameProblem, bool) {
	type family struct {
		prefix, bucketPrefix string
		rests, global, ns    []string
	}
	families := []family{
		{emrfsPrefix, emrfsBucketPrefix, emrfsRests, emrfsGlobalRests, emrfsNamespaces},
		{s3aPrefix, s3aBucketPrefix, s3aRests, nil, s3aNamespaces},
	}
	for _, f := range families {
		if !strings.HasPrefix(k, f.prefix) {
			continue
		}
		if strings.HasPrefix(k, f.bucketPrefix) {
			if _, _, ok := splitBucketProperty(k, f.bucketPrefix, f.rests); ok {
				return nameProblem{}, false
			}
			tail := k[len(f.bucketPrefix):]
			bucket, rest, ok := splitUnknownBucketProperty(tail, f.ns)
			if !ok {
				if bucket, kn, ok := nearMissBucketProperty(tail, f.rests); ok {
					return nameProblem{property: k, bucket: bucket, closest: f.bucketPrefix + bucket + "." + kn, typo: true}, true
				}
				return nameProblem{}, false
			}
			form := f.bucketPrefix + bucket + "."
			if contains(f.global, rest) {
				return nameProblem{property: k, bucket: bucket, closest: f.prefix + rest, typo: true, global: true}, true
			}
			closest, typo := closestName(rest, append(append([]string{}, f.rests...), f.global...))
			if contains(f.global, closest) {
				return nameProblem{property: k, bucket: bucket, closest: f.prefix + closest, typo: typo, global: typo}, true
			}
			return nameProblem{property: k, bucket: bucket, closest: form + closest, typo: typo}, true
		}
		rest := k[len(f.prefix):]
		known := append(append([]string{}, f.rests...), f.global...)
		if contains(known, rest) {
			return nameProblem{}, false
		}
		if !hasAnyPrefix(rest, f.ns) {
			// Elsewhere in the family only a clear near miss (a case
			// variant, or one character off) of a security name counts:
			// fs.s3.* holds many EMRFS settings this package does not read.
			if kn, ok := nearMiss(rest, known); ok {
				return nameProblem{property: k, closest: f.prefix + kn, typo: true}, true
			}
			return nameProblem{}, false
		}
		closest, typo := closestName(rest, known)
		return nameProblem{property: k, closest: f.prefix + closest, typo: typo}, true
	}
	return nameProblem{}, false
}

// splitUnknownBucketProperty splits the tail "BUCKET.REST" of a per-bucket
// name whose REST is in one of the namespaces ns; the bucket is the
// shortest valid bucket name before a namespace.
func splitUnknownBucketProperty(tail string, ns []string) (bucket, rest string, ok bool) {
	for i := 1; i < len(tail); i++ {
		if tail[i-1] != '.' {
			continue
		}
		b, r := tail[:i-1], tail[i:]
		if hasAnyPrefix(r, ns) && bucketNameRE.MatchString(b) {
			return b, r, true
		}
	}
	return "", "", false
}

// nearMiss returns the known name that rest is a clear near miss of (a
// case variant, or one character off; names of 10 bytes or more).
func nearMiss(rest string, known []string) (string, bool) {
	if len(rest) < 10 {
		return "", false
	}
	lr := strings.ToLower(rest)
	for _, kn := range known {
		if d := len(kn) - len(rest); d >= -1 && d <= 1 && editDistance(lr, strings.ToLower(kn)) <= 1 {
			return kn, true
		}
	}
	return "", false
}

// nearMissBucketProperty finds, in the tail "BUCKET.REST" of a per-bucket
// name outside the namespaces, a REST that is a near miss of a known one.
func nearMissBucketProperty(tail string, rests []string) (bucket, known string, ok bool) {
	for i := 1; i < len(tail); i++ {
		if tail[i-1] != '.' {
			continue
		}
		b, r := tail[:i-1], tail[i:]
		if !bucketNameRE.MatchString(b) {
			continue
		}
		if kn, ok := nearMiss(r, rests); ok {
			return b, kn, true
		}
	}
	return "", "", false
}

// closestName returns the known name closest to rest (case-insensitive
// edit distance) and whether it is close enough to call rest a typo of it.
func closestName(rest string, known []string) (string, bool) {
	best, bestD := "", -1
	lr := strings.ToLower(rest)
	for _, k := range known {
		d := editDistance(lr, strings.ToLower(k))
		if bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	return best, bestD <= max(2, len(best)/6)
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// reportNames adds the unknown names that apply to r's scope: a typo is an
// error, another unknown name a warning. The global names apply to every
// scope (Validate reports each once).
func (r *resolution) reportNames() {
	for _, p := range r.c.unknownNames() {
		if p.bucket != "" && p.bucket != r.name {
			continue
		}
		raw, _ := r.c.props.Raw(p.property)
		switch {
		case p.global:
			r.errs = append(r.errs, newConfigError(r.name, p.property, raw, "unknown property: "+p.closest+" has no per-bucket form",
				"set "+p.closest+" instead"))
		case p.typo:
			r.errs = append(r.errs, newConfigError(r.name, p.property, raw, "unknown property", "did you mean "+p.closest+"?"))
		case p.bucket == r.name:
			r.warn("unknown property %s is not read by this library (a custom provider may read it); the closest known name is %s", p.property, p.closest)
		}
	}
}
