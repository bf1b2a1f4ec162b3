package ref

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ecsrender/ecsrender/render/internal/lazyre"
)

// isToken reports whether s has the form of a CodeDeploy placeholder token,
// the TOKEN of <TOKEN>, as CodeDeployToECS matches Image1ContainerName:
// 1 to 64 ASCII letters, digits and _. A loop rather than the regexp
// ^[A-Za-z0-9_]{1,64}$, whose counted repetition compiles into hundreds of
// allocations.
func isToken(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !isLetterOrDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

// isLetterOrDigit reports whether c is an ASCII letter or digit, either
// case (isAlnum, for bucket names, is lower case only).
func isLetterOrDigit(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// CheckToken checks a CodeDeploy placeholder token such as IMAGE1_NAME.
func CheckToken(tok string) error {
	if !isToken(tok) {
		return fmt.Errorf("want a token of letters, digits and _ such as IMAGE1_NAME")
	}
	return nil
}

// IsPlaceholder reports whether s is a CodeDeploy placeholder, <TOKEN>,
// which CodeDeployToECS replaces with the image of imageDetail.json.
func IsPlaceholder(s string) bool {
	return len(s) > 2 && s[0] == '<' && s[len(s)-1] == '>' && isToken(s[1:len(s)-1])
}

// Placeholder returns the CodeDeploy placeholder <tok>.
func Placeholder(tok string) string { return "<" + tok + ">" }

// leftoverRE finds the template syntax that real templates and images
// still hold when something upstream did not render them: shell and
// Terraform ${X}, the ECS agent's $$$X$$$, Go template actions and
// angle-bracket tokens such as <IMAGE1_NAME> where no placeholder belongs.
// It stays a regexp, unlike the other matchers: four alternatives with
// optional closings and a lazy .*? that stops at a newline would be a loop
// harder to read than the pattern. Leftover skips it for the common string
// that holds none of $ { <, so most runs never compile it.
var leftoverRE = lazyre.New(`\$\{[^}]*\}?|\{\{.*?(?:\}\}|$)|\$\$\$[^$]*(?:\$\$\$)?|<[^>]*>?`)

// Leftover returns the first unrendered template text in s, or "".
func Leftover(s string) string {
	// Every alternative of leftoverRE starts with one of these.
	if !strings.ContainsAny(s, "${<") {
		return ""
	}
	return leftoverRE.FindString(s)
}

// QuoteIfNeeded returns s as written when it is printable text without a
// quote or backslash, and quoted (%q) otherwise: messages show leftovers
// such as ${IMAGE} bare, as a user wrote them, but one that holds a
// newline or an escape sequence must not reach a log raw.
func QuoteIfNeeded(s string) string {
	if q := strconv.Quote(s); q[1:len(q)-1] != s {
		return q
	}
	return s
}
