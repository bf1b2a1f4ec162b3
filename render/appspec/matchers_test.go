package appspec

import (
	"strings"
	"testing"

	"github.com/ecsrender/ecsrender/render/internal/matchtest"
)

// commonInputs are the edges every matcher meets: empty, non-ASCII, case
// folding, invalid UTF-8 and a newline at either end, which $ in Go
// regexps does not skip.
var commonInputs = []string{"", "a", "-", "_", ":", ".", "$", "a b", "a.b", "a:b", "a\n", "\na", "é", "\x00", "\xff",
	"\u212a", "１", "${PROVIDER}", "${SUBNET}"}

var matchers = []matchtest.Matcher{
	matchtest.Matches("isProviderName", `^[A-Za-z0-9_-]{1,255}$`, isProviderName,
		"FARGATE", "FARGATE_SPOT", "my-provider_1", strings.Repeat("p", 254), strings.Repeat("p", 255), strings.Repeat("p", 256)),
	matchtest.Matches("isResourceID subnet", `^subnet-[0-9a-f]{8,17}$`, func(s string) bool { return isResourceID(s, "subnet-") },
		"subnet-0123456789abcdef0", "subnet-0123456", "subnet-01234567", "subnet-"+strings.Repeat("f", 17),
		"subnet-"+strings.Repeat("f", 18), "subnet-0123456G", "subnet-0123456A", "subnet-01234567\n", "sg-01234567", "Subnet-01234567", "subnet01234567"),
	matchtest.Matches("isResourceID sg", `^sg-[0-9a-f]{8,17}$`, func(s string) bool { return isResourceID(s, "sg-") },
		"sg-0123456789abcdef0", "sg-0123456", "sg-01234567", "sg-"+strings.Repeat("a", 17), "sg-"+strings.Repeat("a", 18),
		"sg-0123456g", "sg-01234567\n", "subnet-01234567", "sg-0123456\u212a"),
	matchtest.Matches("isPlatformVersion", `^(LATEST|[0-9]+\.[0-9]+\.[0-9]+)$`, isPlatformVersion,
		"LATEST", "latest", "LATEST\n", "1.4.0", "1.3.0", "10.20.30", "1.4", "1.4.0.0", "1..0", ".1.4", "1.4.", "1.4.x", "1.4.０", "v1.4.0", "1.4.0\n"),
	matchtest.Matches("isFunction", `^(arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:function:)?[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$`, isFunction,
		"my-hook", "my-hook:1", "my-hook:$LATEST", "my-hook:live", "my-hook:", "my-hook:$latest", "my-hook:a:b", ":1",
		strings.Repeat("f", 64), strings.Repeat("f", 65), "f:"+strings.Repeat("q", 128), "f:"+strings.Repeat("q", 129),
		"arn:aws:lambda:us-east-1:123456789012:function:my-hook", "arn:aws:lambda:us-east-1:123456789012:function:my-hook:$LATEST",
		"arn:aws:lambda:us-east-1:123456789012:function:my-hook:live", "arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
		"arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f", "arn:aws:lambda:us-east-10:123456789012:function:f",
		"arn:aws:lambda:us-1:123456789012:function:f", "arn:aws:lambda:use-east-1:123456789012:function:f",
		"arn:aws:lambda:us-east-1:12345678901:function:f", "arn:aws:lambda:us-east-1:123456789012:function:",
		"arn:aws:lambda:us-east-1:123456789012:function:f:a:b", "arn:aws:lambda:us-east-1:123456789012:function:f\n",
		"arn:aws:s3:us-east-1:123456789012:function:f", "arn:awsx:lambda:us-east-1:123456789012:function:f",
		"arn:aws_x:lambda:us-east-1:123456789012:function:f", "arn:aw:lambda:us-east-1:123456789012:function:f",
		"arn:aws:lambda:us-east-1:123456789012:layer:f", "arn:f", "arn:$LATEST", "arn", "ARN:aws:lambda:us-east-1:123456789012:function:f",
		"arn:aws:lambda:${AWS_REGION}:123456789012:function:f", "arn:aws:lambda:us-east-1:123456789012:function:"+strings.Repeat("f", 65)),
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
