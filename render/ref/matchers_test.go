package ref

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ecsrender/ecsrender/render/internal/matchtest"

	"github.com/ecsrender/ecsrender/render/internal/ascii"

	"github.com/ecsrender/ecsrender/render/internal/lazyre"
)

// commonInputs are the edges every matcher meets: empty, a leading or
// trailing . _ or -, non-ASCII, case folding, invalid UTF-8 and a newline
// at either end, which $ in Go regexps does not skip.
var commonInputs = []string{"", "a", "Z", "0", "_", ".", "-", "v1.4.2", "1.27", "latest", "_x", ".x", "-x", "x.", "x-",
	"IMAGE1_NAME", "image1_name", "a b", "a\n", "\na", "é", "a:b", "a/b", "a@b", "\x00", "\xff", "\u212a", "１"}

var matchers = []matchtest.Matcher{
	matchtest.Matches("isTag", `^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`, isTag,
		strings.Repeat("t", 127), strings.Repeat("t", 128), strings.Repeat("t", 129), "v"+strings.Repeat(".", 127), "sha256-abc"),
	matchtest.Matches("isToken", `^[A-Za-z0-9_]{1,64}$`, isToken,
		strings.Repeat("T", 63), strings.Repeat("T", 64), strings.Repeat("T", 65), "IMAGE-1"),
	matchtest.Matches("isPathComponent", `^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`, isPathComponent,
		"prd-rails", "a.b", "a_b", "a__b", "a___b", "a-b", "a---b", "a._b", "a_.b", "a..b", "a-.b", "a.-b", "a_-b",
		"a-_b", "a.", "a_", "a__", "a-", "Ab", "aB", "a1.b2_c3__d4-e5--f6", "a\nb", "a.b\n", "a+b"),
	matchtest.Matches("isDomainComponent", `^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$`, isDomainComponent,
		"localhost", "my-registry", "a-b-c", "a--b", "ab", "A9", "a-", "-a", "a_b", "a.b", "xn--bcher-kva", "a-\n"),
	matchtest.Matches("IsDigits", `^[0-9]+$`, ascii.IsDigits, "443", "5000", "0", "00", "1a", "a1", "443\n", "4 43", "１"),
	{Name: "parseECRHostName", Pattern: `^([0-9]{12})\.(?:dkr\.ecr(?:-fips)?\.([a-z]{2,4}(?:-[a-z]+)+-[0-9]+)\.amazonaws\.com(?:\.cn)?|dkr-ecr(?:-fips)?\.([a-z]{2,4}(?:-[a-z]+)+-[0-9]+)\.on\.aws)$`,
		Got: func(s string) string {
			account, region, ok := parseECRHostName(s)
			if !ok {
				return "no match"
			}
			return account + " " + region
		},
		Want: func(re *regexp.Regexp, s string) string {
			m := re.FindStringSubmatch(s)
			if m == nil {
				return "no match"
			}
			return m[1] + " " + m[2] + m[3]
		},
		Edges: []string{"123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
			"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012.dkr-ecr.us-east-1.on.aws", "123456789012.dkr-ecr-fips.us-east-1.on.aws",
			"123456789012.dkr.ecr.eusc-de-east-1.amazonaws.com", "123456789012.dkr.ecr.abcde-de-east-1.amazonaws.com",
			"123456789012.dkr.ecr.u-east-1.amazonaws.com", "123456789012.dkr.ecr.us-1.amazonaws.com", "123456789012.dkr.ecr.us-east-10.amazonaws.com",
			"123456789012.dkr.ecr.us--east-1.amazonaws.com", "123456789012.dkr.ecr.us-east-.amazonaws.com", "123456789012.dkr.ecr.us-east-1a.amazonaws.com",
			"123456789012.dkr.ecr.us-east-1.amazonaws.com\n", "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn\n", "123456789012.dkr.ecr.us-east-1.on.aws",
			"123456789012.dkr-ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com:443", "123456789012.dkr.ecrus-east-1.amazonaws.com",
			"123456789012.dkr.ecr-fipsus-east-1.amazonaws.com", "123456789012.dkr.ecr.fips.us-east-1.amazonaws.com", "12345678901.dkr.ecr.us-east-1.amazonaws.com",
			"1234567890123.dkr.ecr.us-east-1.amazonaws.com", "aws_account_id.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.US-east-1.amazonaws.com",
			"123456789012.dkr.ecr.us-east-1.amazonaws.com.cn.cn", "123456789012.dkr.ecr.us-\u212aast-1.amazonaws.com", "123456789012.dkr.ecr.us-east-１.amazonaws.com",
			"123456789012.dkr.ecr.${AWS_REGION}.amazonaws.com"}},
	{Name: "Leftover", Pattern: `\$\{[^}]*\}?|\{\{.*?(?:\}\}|$)|\$\$\$[^$]*(?:\$\$\$)?|<[^>]*>?`,
		Got:  Leftover,
		Want: func(re *regexp.Regexp, s string) string { return re.FindString(s) },
		Edges: []string{"${X}", "a${X", "{{ .X }}", "{{ .X", "{{\n}}", "$$$X$$$", "$$$X", "<IMAGE1_NAME>", "<IMAGE1", "a$b", "a{b", "a<b",
			"$", "{", "<", "$$", "{{", "<>", "}}", ">"}},
}

// TestMatchersAgreeWithRegexps checks each hand-written matcher against
// the regexp it replaces, on the common inputs and its own edges.
func TestMatchersAgreeWithRegexps(t *testing.T) {
	t.Parallel()
	matchtest.Agree(t, commonInputs, matchers)
}

// FuzzMatchers looks for an input on which a matcher and its regexp
// disagree. The seeds are the table's inputs; with -fuzz it searches on.
func FuzzMatchers(f *testing.F) {
	matchtest.Fuzz(f, commonInputs, matchers)
}

// TestLazyPatternsCompile compiles every pattern that compiles on first
// use, so that a typo fails here and not in the run that first needs it.
func TestLazyPatternsCompile(t *testing.T) {
	t.Parallel()
	for _, re := range []*lazyre.Regexp{leftoverRE} {
		if _, err := regexp.Compile(re.String()); err != nil {
			t.Errorf("pattern %s: %v", re, err)
		}
	}
}
