package render

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ecsrender/ecsrender/render/internal/lazyre"
	"github.com/ecsrender/ecsrender/render/ref"
)

// These patterns are shape checks, not a registry of what exists: they are
// loose where AWS adds values over time (partitions, regions) and strict
// where a template mistake hides (an account that is not 12 digits).
// They compile on first use (see lazyre): most runs need only a few.
var (
	partitionRE = lazyre.New(`^aws(-[a-z]+){0,2}$`)
	regionRE    = lazyre.New(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	// IAM paths: https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html
	rolePathRE = lazyre.New(`^([\w+=,.@-]+/)*$`)
	// SSM parameter names: letters, digits, . - _ and / for hierarchies.
	ssmNameRE = lazyre.New(`^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)
	// Secrets Manager secret names: letters, digits and /_+=.@-.
	secretNameRE = lazyre.New(`^[A-Za-z0-9/_+=.@-]+$`)
)

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
	case !partitionRE.MatchString(a.partition):
		return a, fmt.Errorf("partition %q is not aws, aws-cn or aws-us-gov", a.partition)
	case service != "" && a.service != service:
		return a, fmt.Errorf("service %q is not %s", a.service, service)
	case region && !regionRE.MatchString(a.region):
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
	if !rolePathRE.MatchString(rest[:i+1]) || !isRoleName(rest[i+1:]) {
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
		if !ssmNameRE.MatchString(s) {
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
		if !ok || !strings.HasPrefix(name, "/") || !ssmNameRE.MatchString(name) {
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
	if !secretNameRE.MatchString(f[0]) {
		return fmt.Errorf("%q is not a secret name", f[0])
	}
	if len(f) != 1 && len(f) != 4 {
		return fmt.Errorf("%q is not NAME or NAME:json-key:version-stage:version-id", rest)
	}
	return nil
}
