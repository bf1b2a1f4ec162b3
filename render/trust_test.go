package render

import (
	"strings"
	"testing"
)

func TestTrustPolicyAllowsECSTasks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		policy string
		want   bool
		why    string // part of the reason when not allowed
	}{
		{"statement list", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, true, ""},
		{"statement object", `{"Statement":{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}}`, true, ""},
		{"service list", `{"Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","ecs-tasks.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`, true, ""},
		{"action list", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":["sts:TagSession","sts:AssumeRole"]}]}`, true, ""},
		{"sts wildcard", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:*"}]}`, true, ""},
		{"all actions", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"*"}]}`, true, ""},
		{"prefix wildcard", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:Assume*"}]}`, true, ""},
		{"action case", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"STS:assumerole"}]}`, true, ""},
		{"anyone", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, true, ""},
		{"china principal", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com.cn"},"Action":"sts:AssumeRole"}]}`, true, ""},
		{"allow with condition", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}`, true, ""},
		{"not action", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"NotAction":"iam:*"}]}`, true, ""},
		{"conditional deny ignored", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, true, ""},
		{"deny for other service", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"Service":"lambda.amazonaws.com"},"Action":"*"}]}`, true, ""},

		{"only lambda", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, false, `it trusts "lambda.amazonaws.com"`},
		{"ecs not ecs-tasks", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, false, `it trusts "ecs.amazonaws.com"`},
		{"wrong action", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:TagSession"}]}`, false, `it trusts "ecs-tasks.amazonaws.com"`},
		{"web identity action", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`, false, ""},
		{"deny overrides", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":"*","Action":"sts:*"}]}`, false, "Statement[1] denies it"},
		{"deny first", `{"Statement":[{"Effect":"Deny","Principal":{"Service":["ecs-tasks.amazonaws.com"]},"Action":["sts:AssumeRole"]},{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, false, "Statement[0] denies it"},
		{"not action excludes", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"NotAction":"sts:*"}]}`, false, ""},
		{"deny everyone but ecs", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Deny","NotPrincipal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"*"}]}`, true, ""},
		{"account principal", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`, false, "it trusts no service"},
		{"empty statements", `{"Statement":[]}`, false, "it trusts no service"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tp, err := parseTrustPolicy(tc.policy)
			if err != nil {
				t.Fatalf("parseTrustPolicy: %v", err)
			}
			got, why := tp.allows(ecsTasksPrincipal, "sts:AssumeRole")
			if got != tc.want {
				t.Fatalf("allows = %v (%s), want %v", got, why, tc.want)
			}
			if !strings.Contains(why, tc.why) {
				t.Errorf("why = %q, want it to contain %q", why, tc.why)
			}
		})
	}
}

func TestTrustPolicyUnreadable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ policy, want string }{
		{`not json`, "not JSON: line 1, column 3: invalid JSON"},
		{`[]`, "want an object, got array"},
		{`{"Version":"2012-10-17"}`, "no Statement"},
		{`{"Statement":["x"]}`, "Statement[0]: want an object, got string"},
		{`{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"*"}]}`, `Statement[0]: Effect: want Allow or Deny, got "Maybe"`},
		{`{"Statement":[{"Effect":"Allow","Action":"*"}]}`, "Statement[0]: no Principal"},
		{`{"Statement":[{"Effect":"Allow","Principal":"ecs","Action":"*"}]}`, `Statement[0]: Principal: want "*" or an object, got string`},
		{`{"Statement":[{"Effect":"Allow","Principal":{"Service":7},"Action":"*"}]}`, "Statement[0]: Principal.Service: want a string or a list of strings, got number"},
		{`{"Statement":[{"Effect":"Allow","Principal":{"Service":[7]},"Action":"*"}]}`, "Statement[0]: Principal.Service: want strings, got number"},
		{`{"Statement":[{"Effect":"Allow","Principal":"*"}]}`, "Statement[0]: no Action"},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":{}}]}`, "Statement[0]: Action: want a string or a list of strings, got object"},
	} {
		_, err := parseTrustPolicy(tc.policy)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("parseTrustPolicy(%s) = %v, want an error starting %q", tc.policy, err, tc.want)
		}
	}
}
