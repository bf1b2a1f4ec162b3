package render

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/ecsrender/ecsrender/render/internal/matchtest"
)

// commonInputs are the edges every matcher meets: empty, each punctuation
// mark some pattern allows, non-ASCII, case folding (the Kelvin sign is a K
// under (?i)), invalid UTF-8 and a newline at either end, which $ in Go
// regexps does not skip.
var commonInputs = []string{"", "a", "A", "0", "_", "-", ".", "/", "+", "=", ",", "@", ":", "$", "{", "}", " ",
	"web", "web-app_1", "web app", "web\n", "\nweb", "wéb", "web.app", "a+b", "a=b", "a,b", "a@b", "a/b", "a:b",
	"a->b", "\x00", "\t", "K", "k", "\u212a", "\u017f", "\xff", "é", "１"}

var matchers = []matchtest.Matcher{
	matchtest.Matches("IsECSName", `^[A-Za-z0-9_-]{1,255}$`, IsECSName,
		strings.Repeat("a", 254), strings.Repeat("a", 255), strings.Repeat("a", 256), strings.Repeat("é", 100)),
	matchtest.Matches("isRoleName", `^[\w+=,.@-]{1,64}$`, isRoleName,
		strings.Repeat("r", 63), strings.Repeat("r", 64), strings.Repeat("r", 65), "ecs-task_role+=,.@-", "role/path", "role name"),
	matchtest.Matches("isAccount", `^[0-9]{12}$`, isAccount,
		"123456789012", "12345678901", "1234567890123", "12345678901a", "１23456789012", "aws_account_id"),
	matchtest.Matches("isPartition", `^aws(-[a-z]+){0,2}$`, isPartition,
		"aws", "aws-cn", "aws-us-gov", "aws-iso-b", "aws-a-b-c", "aws-", "aws--cn", "aws-cn-", "awscn", "AWS", "aws-CN",
		"aws-cn\n", "aws\n", "xaws", "aws-c1", "aws-é"),
	matchtest.Matches("isRegionName", `^[a-z]{2}(-[a-z]+)+-[0-9]+$`, isRegionName,
		"us-east-1", "us-gov-west-1", "ap-northeast-10", "us-1", "use-east-1", "u-east-1", "us-east-", "us--east-1",
		"us-east-1a", "us-east-1\n", "US-east-1", "us-east-１", "us-east-1-2", "-us-east-1", "${AWS_REGION}"),
	matchtest.Matches("isRolePath", `^([\w+=,.@-]+/)*$`, isRolePath,
		"service-role/", "a/b/", "a//", "/", "a", "a/b", "_+=,.@-/", "a b/", "a/\n", "\u212a/", "é/"),
	matchtest.Matches("isSSMName", `^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`, isSSMName,
		"/prd/db/password", "prd/db", "/", "//a", "/a/", "a//b", "a.b-c_d", "/a b", "/a\n", "a+b", "/\u212a"),
	matchtest.Matches("isSecretName", `^[A-Za-z0-9/_+=.@-]+$`, isSecretName,
		"prd/db-AbCdEf", "a/_+=.@-", "a:b", "a b", "a\n"),
	matchtest.Matches("isNameOf diffName", `^[A-Za-z0-9_./@:+=-]+$`, func(s string) bool { return isNameOf(s, "_./@:+=-") },
		"a/b:c@d+e=f.g_h-i", "a,b", "a->b"),
	matchtest.Matches("isNameOf quoteIfNeeded", `^[A-Za-z0-9_.=-]+$`, func(s string) bool { return isNameOf(s, "_.=-") },
		"RAILS_ENV", "a.b=c-d", "a/b", "a b"),
	matchtest.Matches("isCredentialEnv", `(?i)^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY|AWS_SECRET_KEY|AWS_SESSION_TOKEN|AWS_SECURITY_TOKEN|AWS_CONTAINER_CREDENTIALS_.*|AWS_CONTAINER_AUTHORIZATION_TOKEN.*|AWS_WEB_IDENTITY_TOKEN_FILE)$`, isCredentialEnv,
		"AWS_ACCESS_KEY_ID", "aws_access_key_id", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_", "AWS_ACCESS_KEY_IDS", "AWS_SECRET_ACCESS_KEY",
		"AWS_SECRET_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_WEB_IDENTITY_TOKEN",
		"AWS_CONTAINER_CREDENTIALS_", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "aws_container_credentials_full_uri",
		"AWS_CONTAINER_CREDENTIALS", "AWS_CONTAINER_CREDENTIALS_\n", "AWS_CONTAINER_CREDENTIALS_x\ny", "AWS_CONTAINER_CREDENTIALS_\xff",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_CONTAINER_AUTHORIZATION_TOKE",
		"AWS_SECRET_ACCESS_\u212aEY", "AWS_SESSION_TO\u212aEN", "\u017fAWS_ACCESS_KEY", "AW\u017f_ACCESS_KEY_ID", "AW\u017f_CONTAINER_CREDENTIALS_X",
		"AWS_ACCESS_KEY_ID\n", "\nAWS_ACCESS_KEY_ID", " AWS_ACCESS_KEY_ID", "AWS_REGION", "AWS_ACCESS_KEY_ID\x00"),
	{Name: "splitAmount", Pattern: `^(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)$`,
		Got: func(s string) string {
			amount, unit, ok := splitAmount(s)
			if !ok {
				return "no match"
			}
			return fmt.Sprintf("%q %q", amount, unit)
		},
		Want: func(re *regexp.Regexp, s string) string {
			m := re.FindStringSubmatch(s)
			if m == nil {
				return "no match"
			}
			return fmt.Sprintf("%q %q", m[1], m[2])
		},
		Edges: []string{"1024", "1 vcpu", "1vcpu", ".5 gb", "0.25 vcpu", "1.", "1. gb", ".", ". gb", "1.2.3", "1 2",
			"1 \t\n\f\rgb", "1\vgb", "1 GB", "1 gb ", " 1", "1e3", "-1", "+1", "1_000", "１", "1 g\u212a", "1 gbé", "2048\n"}},
	{Name: "findTerraformLeftover", Pattern: `\$\{[^}]*\}`,
		Got:  findTerraformLeftover,
		Want: func(re *regexp.Regexp, s string) string { return re.FindString(s) },
		Edges: []string{"${X}", "a${X}b", "${}", "${", "$ {X}", "${X", "${X${Y}", "${X}${Y}", "${\n}", "$${X}", "}${X}",
			"${\xff}", "$$${X}", "${X} ${Y", "${ ${Y}"}},
	{Name: "ecrImageAccount", Pattern: `^([0-9]{12})\.(?:dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?|dkr-ecr(?:-fips)?\.[a-z0-9-]+\.on\.aws)/`,
		Got: func(s string) string {
			account, ok := ecrImageAccount(s)
			if !ok {
				return "no match"
			}
			return account
		},
		Want: func(re *regexp.Regexp, s string) string {
			m := re.FindStringSubmatch(s)
			if m == nil {
				return "no match"
			}
			return m[1]
		},
		Edges: []string{"123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1", "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/app",
			"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app", "123456789012.dkr.ecr.us-east-1.amazonaws.com",
			"123456789012.dkr.ecr.us-east-1.amazonaws.com.cn", "123456789012.dkr.ecrus-east-1.amazonaws.com/a",
			"123456789012.dkr.ecr-fipsus-east-1.amazonaws.com/a", "123456789012.dkr.ecr-fips.amazonaws.com/a",
			"123456789012.dkr.ecr..amazonaws.com/a", "123456789012.dkr.ecr.US-east-1.amazonaws.com/a", "123456789012.dkr.ecr.x_y.amazonaws.com/a",
			"12345678901.dkr.ecr.us-east-1.amazonaws.com/a", "1234567890123.dkr.ecr.us-east-1.amazonaws.com/a",
			"123456789012.dkr.ecr.us-east-1.amazonaws.com:443/a", "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn.x/a",
			"123456789012.dkr-ecr.us-east-1.on.aws/a", "123456789012.dkr-ecr-fips.us-east-1.on.aws/a", "123456789012.dkr-ecr.us-east-1.on.aws",
			"123456789012.dkr-ecr.us-east-1.amazonaws.com/a", "123456789012.dkr.ecr.us-east-1.on.aws/a", "123456789012.dkr-ecr..on.aws/a", "123456789012.dkr.ecr.us.east.amazonaws.com/a", "123456789012.dkr.ecr.-.amazonaws.com/a",
			"123456789012.dkr.ecr.a.amazonaws.com//", "\n123456789012.dkr.ecr.a.amazonaws.com/", "123456789012.dkr.ecr.\u212a.amazonaws.com/"}},
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
