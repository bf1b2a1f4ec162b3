package render

import (
	"strings"
	"testing"
)

func TestCheckRole(t *testing.T) {
	t.Parallel()
	valid := []string{
		"ecsTaskExecutionRole",
		"my-role_1+=,.@",
		"arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
		"arn:aws:iam::123456789012:role/service-role/my-role",
		"arn:aws:iam::123456789012:role/a/b/c/name",
		"arn:aws-cn:iam::123456789012:role/r",
		"arn:aws-us-gov:iam::123456789012:role/r",
		"arn:aws-iso-b:iam::123456789012:role/r",
	}
	invalid := []string{
		"",
		" ",
		"${YOUR_EXECUTION_ROLE}",
		"$$$EXECUTION_ROLE$$$",
		"{{ must_env `ROLE` }}",
		"<EXECUTION_ROLE>",
		"arn:aws:iam::aws_account_id:role/r",
		"arn:aws:iam::XXXXXXXXXXXX:role/r",
		"arn:aws:iam::11111111111:role/r",
		"arn:aws:iam::1234567890123:role/r",
		"arn:aws:iam::${AWS_ACCOUNT_ID}:role/r",
		"arn:aws:iam::123456789012:role/",
		"arn:aws:iam::123456789012:role",
		"arn:aws:iam::123456789012:user/r",
		"arn:aws:iam::123456789012:",
		"arn:aws:iam:us-east-1:123456789012:role/r",
		"arn:aws:sts::123456789012:assumed-role/r/s",
		"arn:partition:iam::123456789012:role/r",
		"arn:aws:iam::123456789012",
		"role/r",
		"a role",
		strings.Repeat("r", 65),
	}
	for _, s := range valid {
		if err := checkRole(s); err != nil {
			t.Errorf("checkRole(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range invalid {
		if err := checkRole(s); err == nil {
			t.Errorf("checkRole(%q) = nil, want an error", s)
		}
	}
}

func TestCheckSecretRef(t *testing.T) {
	t.Parallel()
	valid := []string{
		"name",
		"/path/name",
		"/ecspresso-test/foo",
		"a.b-c_d",
		"arn:aws:ssm:us-east-1:123456789012:parameter/name",
		"arn:aws:ssm:ap-northeast-1:123456789012:parameter/ecspresso-test/bar",
		"arn:aws-cn:ssm:cn-north-1:123456789012:parameter/x",
		"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:ecspresso-test/baz-06XQOH",
		"arn:aws:secretsmanager:ap-northeast-2:125951199018:secret:sbcntr/mysql-PihY9g:host::",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:s:key:AWSCURRENT:",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:s:::abcd-1234",
		"arn:aws:secretsmanager:us-gov-west-1:123456789012:secret:s",
	}
	invalid := []string{
		"",
		"${SECRET}",
		"$$$SECRET$$$",
		"has space",
		"//double",
		"arn:aws:secretsmanager:region:aws_account_id:secret:username_value-u9bH6K",
		"arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}",
		"arn:aws:secretsmanager:us-east-1:XXXXXXXXXXXX:secret:s",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:s:a",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:s:a:b",
		"arn:aws:secretsmanager:us-east-1:123456789012:s",
		"arn:aws:secretsmanager:region-code:123456789012:secret:s",
		"arn:aws:ssm:us-east-1:123456789012:parameter",
		"arn:aws:ssm:us-east-1:123456789012:parameter/",
		"arn:aws:ssm:us-east-1:123456789012:parametername",
		"arn:aws:ssm::123456789012:parameter/x",
		"arn:aws:kms:us-east-1:123456789012:key/k",
		"arn:aws:s3:::bucket/key",
	}
	for _, s := range valid {
		if err := checkSecretRef(s); err != nil {
			t.Errorf("checkSecretRef(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range invalid {
		if err := checkSecretRef(s); err == nil {
			t.Errorf("checkSecretRef(%q) = nil, want an error", s)
		}
	}
}

func TestCheckSecretsManagerARN(t *testing.T) {
	t.Parallel()
	if err := checkSecretsManagerARN("arn:aws:secretsmanager:eu-west-1:123456789012:secret:dockerhub-AbCdEf"); err != nil {
		t.Errorf("want a secret arn to pass, got %v", err)
	}
	for _, s := range []string{"", "dockerhub", "$$$REPOSITORY_CREDENTIALS$$$", "arn:aws:ssm:eu-west-1:123456789012:parameter/p"} {
		if err := checkSecretsManagerARN(s); err == nil {
			t.Errorf("checkSecretsManagerARN(%q) = nil, want an error", s)
		}
	}
}

// TestARNReasons shows the reason each shape check gives, as it appears in
// parentheses after the value in a problem.
func TestARNReasons(t *testing.T) {
	t.Parallel()
	tests := []struct {
		check func(string) error
		in    string
		want  string
	}{
		{checkRole, "arn:aws:iam::123456789012", "not an arn"},
		{checkRole, "arn:aws:iam::123456789012:", "no resource"},
		{checkRole, "arn:aws:iam::12345678901:role/r", `account "12345678901" is not 12 digits`},
		{checkRole, "{{ must_env `ROLE` }}", "unrendered placeholder {{ must_env `ROLE` }}"},
		{checkRole, "<ROLE>", "unrendered placeholder <ROLE>"},
		{checkSecretRef, "arn:aws:secretsmanager:us-east-1:123456789012:secret:a b", `"a b" is not a secret name`},
		{checkSecretRef, "arn:aws:ssm:region-code:123456789012:parameter/p", `region "region-code" is not a region name`},
		{checkSecretsManagerARN, "arn:aws:ssm:us-east-1:123456789012:parameter/p", `service "ssm" is not secretsmanager`},
	}
	for _, tt := range tests {
		err := tt.check(tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: got %v, want %s", tt.in, err, tt.want)
		}
	}
}
