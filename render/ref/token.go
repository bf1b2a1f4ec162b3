package ref

import (
	"fmt"
	"regexp"
	"strconv"
)

// tokenRE is the form of a CodeDeploy placeholder token, the TOKEN of
// <TOKEN>, as CodeDeployToECS matches Image1ContainerName.
var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// CheckToken checks a CodeDeploy placeholder token such as IMAGE1_NAME.
func CheckToken(tok string) error {
	if !tokenRE.MatchString(tok) {
		return fmt.Errorf("want a token of letters, digits and _ such as IMAGE1_NAME")
	}
	return nil
}

// IsPlaceholder reports whether s is a CodeDeploy placeholder, <TOKEN>,
// which CodeDeployToECS replaces with the image of imageDetail.json.
func IsPlaceholder(s string) bool {
	return len(s) > 2 && s[0] == '<' && s[len(s)-1] == '>' && tokenRE.MatchString(s[1:len(s)-1])
}

// Placeholder returns the CodeDeploy placeholder <tok>.
func Placeholder(tok string) string { return "<" + tok + ">" }

// leftoverRE finds the template syntax that real templates and images
// still hold when something upstream did not render them: shell and
// Terraform ${X}, the ECS agent's $$$X$$$, Go template actions and
// angle-bracket tokens such as <IMAGE1_NAME> where no placeholder belongs.
var leftoverRE = regexp.MustCompile(`\$\{[^}]*\}?|\{\{.*?(?:\}\}|$)|\$\$\$[^$]*(?:\$\$\$)?|<[^>]*>?`)

// Leftover returns the first unrendered template text in s, or "".
func Leftover(s string) string { return leftoverRE.FindString(s) }

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
