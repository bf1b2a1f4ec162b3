package ref

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ecsrender/ecsrender/render/internal/lazyre"
)

// The hand-written matchers replace these regexps and must agree with them
// on every input, the edges included (length bounds, a leading . or -,
// non-ASCII, a trailing newline, which $ in Go regexps does not skip).
func TestMatchersAgreeWithRegexps(t *testing.T) {
	t.Parallel()
	common := []string{"", "a", "Z", "0", "_", ".", "-", "v1.4.2", "1.27", "latest", "_x", ".x", "-x", "x.", "x-",
		"IMAGE1_NAME", "image1_name", "a b", "a\n", "\na", "é", "a:b", "a/b", "a@b", "\x00", "\xff", "\u212a"}
	tests := []struct {
		name    string
		pattern string
		match   func(string) bool
		extra   []string
	}{
		{"isTag", `^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`, isTag,
			[]string{strings.Repeat("t", 127), strings.Repeat("t", 128), strings.Repeat("t", 129), "v" + strings.Repeat(".", 127), "sha256-abc"}},
		{"isToken", `^[A-Za-z0-9_]{1,64}$`, isToken,
			[]string{strings.Repeat("T", 63), strings.Repeat("T", 64), strings.Repeat("T", 65), "IMAGE-1"}},
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
	for _, re := range []*lazyre.Regexp{pathComponentRE, domainComponentRE, portRE, ecrHostRE, leftoverRE} {
		if _, err := regexp.Compile(re.String()); err != nil {
			t.Errorf("pattern %s: %v", re, err)
		}
	}
}
