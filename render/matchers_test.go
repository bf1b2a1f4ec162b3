package render

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ecsrender/ecsrender/render/internal/lazyre"
)

// The hand-written matchers replace these regexps and must agree with them
// on every input; the tables hold the edges (length bounds, each allowed
// punctuation mark, non-ASCII, a trailing newline, which $ in Go regexps
// does not skip).
func TestMatchersAgreeWithRegexps(t *testing.T) {
	t.Parallel()
	common := []string{"", "a", "A", "0", "_", "-", "web", "web-app_1", "web app", "web\n", "\nweb", "wéb",
		"web.app", "a+b", "a=b", "a,b", "a@b", "a/b", "a:b", "\x00", "K", "\u212a", "\xff"}
	tests := []struct {
		name    string
		pattern string
		match   func(string) bool
		extra   []string
	}{
		{"IsECSName", `^[A-Za-z0-9_-]{1,255}$`, IsECSName,
			[]string{strings.Repeat("a", 254), strings.Repeat("a", 255), strings.Repeat("a", 256), strings.Repeat("é", 100)}},
		{"isRoleName", `^[\w+=,.@-]{1,64}$`, isRoleName,
			[]string{strings.Repeat("r", 63), strings.Repeat("r", 64), strings.Repeat("r", 65), "ecs-task_role+=,.@-", "role/path", "role name"}},
		{"isAccount", `^[0-9]{12}$`, isAccount,
			[]string{"123456789012", "12345678901", "1234567890123", "12345678901a", "１23456789012", "aws_account_id"}},
	}
	for _, tt := range tests {
		re := regexp.MustCompile(tt.pattern)
		for _, in := range append(common, tt.extra...) {
			if got, want := tt.match(in), re.MatchString(in); got != want {
				t.Errorf("%s(%q) = %v, the regexp %s says %v", tt.name, in, got, tt.pattern, want)
			}
		}
	}
}

// TestLazyPatternsCompile compiles every pattern that compiles on first
// use, so that a typo fails here and not in the run that first needs it.
func TestLazyPatternsCompile(t *testing.T) {
	t.Parallel()
	for _, re := range []*lazyre.Regexp{partitionRE, regionRE, rolePathRE, ssmNameRE, secretNameRE,
		diffPlainRE, diffUnitRE, credentialEnv, plainName, unitRE, verifyECRHostRE} {
		if _, err := regexp.Compile(re.String()); err != nil {
			t.Errorf("pattern %s: %v", re, err)
		}
	}
}
