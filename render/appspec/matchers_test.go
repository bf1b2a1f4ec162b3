package appspec

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ecsrender/ecsrender/render/internal/lazyre"
)

// isProviderName replaces a regexp and must agree with it on every input,
// the edges included (length bounds, non-ASCII, a trailing newline, which
// $ in Go regexps does not skip).
func TestProviderNameAgreesWithRegexp(t *testing.T) {
	t.Parallel()
	const pattern = `^[A-Za-z0-9_-]{1,255}$`
	re := regexp.MustCompile(pattern)
	for _, in := range []string{"", "FARGATE", "FARGATE_SPOT", "my-provider_1", "a", "-", "_", "a b", "a.b", "a:b",
		"a\n", "\na", "é", "\x00", "\xff", "${PROVIDER}", strings.Repeat("p", 254), strings.Repeat("p", 255), strings.Repeat("p", 256)} {
		if got, want := isProviderName(in), re.MatchString(in); got != want {
			t.Errorf("isProviderName(%q) = %v, the regexp %s says %v", in, got, pattern, want)
		}
	}
}

// TestLazyPatternsCompile compiles every pattern that compiles on first
// use, so that a typo fails here and not in the run that first needs it.
func TestLazyPatternsCompile(t *testing.T) {
	t.Parallel()
	for _, re := range []*lazyre.Regexp{subnetRE, securityGroupRE, platformRE, functionRE} {
		if _, err := regexp.Compile(re.String()); err != nil {
			t.Errorf("pattern %s: %v", re, err)
		}
	}
}
