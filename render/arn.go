package render

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ecsrender/ecsrender/render/internal/ascii"

	"github.com/ecsrender/ecsrender/render/ref"
)

// The matchers below are shape checks, not a registry of what exists: they
// are loose where AWS adds values over time (partitions, regions) and strict
// where a template mistake hides (an account that is not 12 digits). Each is
// a loop rather than a regexp because a one-shot CLI compiles every regexp it
// touches in every run; matchers_test.go holds the regexp each one replaces
// and checks that they agree.

// isPartition reports whether s is an ARN partition, as the regexp
// ^aws(-[a-z]+){0,2}$ says: aws, aws-cn, aws-us-gov, aws-iso-b and so on.
func isPartition(s string) bool {
	rest, ok := strings.CutPrefix(s, "aws")
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	parts := strings.Split(rest, "-")
	if parts[0] != "" || len(parts) > 3 {
		return false
	}
	for _, p := range parts[1:] {
		if !ascii.IsLower(p) {
			return false
		}
	}
	return true
}

// isRegionName reports whether s is shaped like a region name, as the
// regexp ^[a-z]{2}(-[a-z]+)+-[0-9]+$ says: us-east-1, us-gov-west-1.
func isRegionName(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts[0]) != 2 || !ascii.IsLower(parts[0]) || !ascii.IsDigits(parts[len(parts)-1]) {
		return false
	}
	for _, p := range parts[1 : len(parts)-1] {
		if !ascii.IsLower(p) {
			return false
		}
	}
	return true
}

// isRolePath reports whether s is an IAM role path without its leading
// slash, as the regexp ^([\w+=,.@-]+/)*$ says: empty, or names of
// letters, digits and _+=,.@- each followed by a slash
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html).
func isRolePath(s string) bool {
	if s == "" {
		return true
	}
	dirs, ok := strings.CutSuffix(s, "/")
	if !ok {
		return false
	}
	for d := range strings.SplitSeq(dirs, "/") {
		if !isNameOf(d, "_+=,.@-") {
			return false
		}
	}
	return true
}

// isSSMName reports whether s is an SSM parameter name, as the regexp
// ^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$ says: letters, digits and _.-,
// with / between the levels of a hierarchy and optionally in front.
func isSSMName(s string) bool {
	for level := range strings.SplitSeq(strings.TrimPrefix(s, "/"), "/") {
		if !isNameOf(level, "_.-") {
			return false
		}
	}
	return true
}

// isSecretName reports whether s is a Secrets Manager secret name, as the
// regexp ^[A-Za-z0-9/_+=.@-]+$ says.
func isSecretName(s string) bool { return isNameOf(s, "/_+=.@-") }

// isNameOf reports whether s is not empty and every byte of it is an ASCII
// letter, a digit or one of the marks in punct.
func isNameOf(s, punct string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !isAlnum(c) && strings.IndexByte(punct, c) < 0 {
			return false
		}
	}
	return true
}

// isAccount reports whether s is an AWS account ID, 12 ASCII digits.
func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isRoleName reports whether s is an IAM role name: 1 to 64 ASCII letters,
// digits and _+=,.@- (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html).
// A loop rather than a regexp: a counted repetition such as {1,64} compiles
// into hundreds of allocations.
func isRoleName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !isAlnum(c) && !strings.ContainsRune("_+=,.@-", rune(c)) {
			return false
		}
	}
	return true
}

// isAlnum reports whether c is an ASCII letter or digit.
func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// arn is an Amazon Resource Name split into its fields.
type arn struct {
	partition, service, region, account, resource string
}

// parseARN splits s and checks the fields every ARN shares. region and
// account say whether the service puts them in its ARNs (IAM has no region).
func parseARN(s, service string, region bool) (arn, error) {
	if err := checkFilled(s); err != nil {
		return arn{}, err
	}
	f := strings.SplitN(s, ":", 6)
	if len(f) != 6 || f[0] != "arn" {
		return arn{}, errors.New("not an arn")
	}
	a := arn{partition: f[1], service: f[2], region: f[3], account: f[4], resource: f[5]}
	switch {
	case !isPartition(a.partition):
		return a, fmt.Errorf("partition %q is not aws, aws-cn or aws-us-gov", a.partition)
	case service != "" && a.service != service:
		return a, fmt.Errorf("service %q is not %s", a.service, service)
	case region && !isRegionName(a.region):
		return a, fmt.Errorf("region %q is not a region name", a.region)
	case !region && a.region != "":
		return a, fmt.Errorf("%s arns have no region, got %q", a.service, a.region)
	case !isAccount(a.account):
		return a, fmt.Errorf("account %q is not 12 digits", a.account)
	case a.resource == "":
		return a, errors.New("no resource")
	}
	return a, nil
}

// checkFilled refuses an empty value and one that still holds unrendered
// template text (ref.Leftover), naming it so that the user knows what did
// not get rendered.
func checkFilled(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("empty")
	}
	if m := ref.Leftover(s); m != "" {
		return fmt.Errorf("unrendered placeholder %s", ref.QuoteIfNeeded(m))
	}
	return nil
}

// checkRole accepts what ECS accepts for taskRoleArn and executionRoleArn:
// an IAM role ARN (arn:aws:iam::123456789012:role/path/name) or a bare role
// name in the task's account.
func checkRole(s string) error {
	if err := checkFilled(s); err != nil {
		return err
	}
	if !strings.HasPrefix(s, "arn:") {
		if !isRoleName(s) {
			return errors.New("not an arn, and a role name has 1 to 64 letters, digits or +=,.@_-")
		}
		return nil
	}
	a, err := parseARN(s, "iam", false)
	if err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(a.resource, "role/")
	if !ok {
		return fmt.Errorf("resource %q is not role/NAME", a.resource)
	}
	i := strings.LastIndexByte(rest, '/')
	if !isRolePath(rest[:i+1]) || !isRoleName(rest[i+1:]) {
		return fmt.Errorf("%q is not a role name", rest)
	}
	return nil
}

// checkSecretRef accepts what a secret's valueFrom may hold: an SSM
// parameter name (name or /path/name, in the task's region), an SSM
// parameter ARN, or a Secrets Manager secret ARN.
func checkSecretRef(s string) error {
	if err := checkFilled(s); err != nil {
		return err
	}
	if !strings.HasPrefix(s, "arn:") {
		if !isSSMName(s) {
			return errors.New("not an arn, and a parameter name has letters, digits or _.-/")
		}
		return nil
	}
	a, err := parseARN(s, "", true)
	if err != nil {
		return err
	}
	switch a.service {
	case "ssm":
		name, ok := strings.CutPrefix(a.resource, "parameter")
		if !ok || !strings.HasPrefix(name, "/") || !isSSMName(name) {
			return fmt.Errorf("resource %q is not parameter/NAME", a.resource)
		}
		return nil
	case "secretsmanager":
		return checkSecretResource(a.resource)
	}
	return fmt.Errorf("service %q is neither ssm nor secretsmanager", a.service)
}

// checkSecretsManagerARN accepts a Secrets Manager secret ARN, as
// repositoryCredentials.credentialsParameter wants.
func checkSecretsManagerARN(s string) error {
	a, err := parseARN(s, "secretsmanager", true)
	if err != nil {
		return err
	}
	return checkSecretResource(a.resource)
}

// checkSecretResource checks secret:NAME, optionally followed by ECS's
// :json-key:version-stage:version-id selector, whose fields may be empty.
func checkSecretResource(res string) error {
	rest, ok := strings.CutPrefix(res, "secret:")
	if !ok {
		return fmt.Errorf("resource %q is not secret:NAME", res)
	}
	f := strings.Split(rest, ":")
	if !isSecretName(f[0]) {
		return fmt.Errorf("%q is not a secret name", f[0])
	}
	if len(f) != 1 && len(f) != 4 {
		return fmt.Errorf("%q is not NAME or NAME:json-key:version-stage:version-id", rest)
	}
	return nil
}
