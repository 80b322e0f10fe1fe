package authz_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/emrs3/emrs3/authz"
)

// TestDecisionsAtDebugByDefault: with a Logger at the usual Info level and
// no DecisionLevel, the writes of two users signed with their roles (STS
// and S3 of the emulator) log nothing; the same Logger at Debug gets one
// "authz: decision" record per request, naming the role; DecisionLevel
// Info brings them to Info.
func TestDecisionsAtDebugByDefault(t *testing.T) {
	rs := newRolesStack(t, 2)
	for _, tc := range []struct {
		name     string
		logLevel slog.Level
		decision slog.Leveler // nil: the default
		want     string       // "" = no record
	}{
		{"info", slog.LevelInfo, nil, ""},
		{"debug", slog.LevelDebug, nil, "level=DEBUG msg=\"authz: decision\""},
		{"decision level info", slog.LevelInfo, slog.LevelInfo, "level=INFO msg=\"authz: decision\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			r := rs.resolver(t, func(o *authz.Options) {
				o.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tc.logLevel}))
				o.DecisionLevel = tc.decision
			})
			for _, u := range rs.users {
				ctx := authz.WithIdentity(context.Background(), authz.Identity{User: u})
				if _, err := rs.put(ctx, r, u+"/"+strings.ReplaceAll(tc.name, " ", "-")); err != nil {
					t.Fatalf("write as %s: %v", u, err)
				}
			}
			out := buf.String()
			if tc.want == "" {
				if out != "" {
					t.Errorf("decisions logged at Info by default:\n%s", out)
				}
				return
			}
			if n := strings.Count(out, tc.want); n != len(rs.users) || !strings.Contains(out, userRole(rs.users[0])) {
				t.Errorf("%d records %q, want one per request naming the role:\n%s", n, tc.want, out)
			}
		})
	}
}
