package render

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeWorld answers every verify lookup from maps and counts the calls. An
// error in errs, keyed "kind:id" (or "kind:*" for every call of the kind),
// is returned instead of the answer.
type fakeWorld struct {
	account   string
	roles     map[string]RoleFacts  // by role name or ARN as asked
	params    map[string]bool       // "region name"
	secrets   map[string]bool       // "region id"
	logGroups map[string]bool       // "region name"
	images    map[string][]Platform // by reference
	services  map[string]ServiceFacts
	errs      map[string]error
	// during runs inside every call, for the concurrency tests.
	during func()

	mu         sync.Mutex
	calls      map[string]int // "kind region id"
	paramCalls []string       // "region name,name"
}

func (w *fakeWorld) record(kind, region, id string) error {
	w.count(kind, region, id)
	if w.during != nil {
		w.during()
	}
	return w.err(kind, id)
}

func (w *fakeWorld) count(kind, region, id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.calls == nil {
		w.calls = map[string]int{}
	}
	w.calls[kind+" "+region+" "+id]++
}

func (w *fakeWorld) err(kind, id string) error {
	if err := w.errs[kind+":"+id]; err != nil {
		return err
	}
	return w.errs[kind+":*"]
}

func (w *fakeWorld) CallerAccount(ctx context.Context) (string, error) {
	if err := w.record("account", "", ""); err != nil {
		return "", err
	}
	return w.account, nil
}

func (w *fakeWorld) Role(ctx context.Context, ref string) (RoleFacts, error) {
	if err := w.record("role", "", ref); err != nil {
		return RoleFacts{}, err
	}
	return w.roles[ref], nil
}

func (w *fakeWorld) Parameters(ctx context.Context, region string, names []string) (map[string]bool, error) {
	w.mu.Lock()
	w.paramCalls = append(w.paramCalls, region+" "+strings.Join(names, ","))
	w.mu.Unlock()
	if w.during != nil {
		w.during() // one call, however many names
	}
	out := map[string]bool{}
	for _, n := range names {
		w.count("parameter", region, n)
		if err := w.err("parameter", n); err != nil {
			return nil, err
		}
		out[n] = w.params[region+" "+n]
	}
	return out, nil
}

func (w *fakeWorld) Secret(ctx context.Context, region, id string) (bool, error) {
	if err := w.record("secret", region, id); err != nil {
		return false, err
	}
	return w.secrets[region+" "+id], nil
}

func (w *fakeWorld) LogGroup(ctx context.Context, region, name string) (bool, error) {
	if err := w.record("loggroup", region, name); err != nil {
		return false, err
	}
	return w.logGroups[region+" "+name], nil
}

func (w *fakeWorld) ImagePlatforms(ctx context.Context, image string) ([]Platform, error) {
	if err := w.record("image", "", image); err != nil {
		return nil, err
	}
	return w.images[image], nil
}

func (w *fakeWorld) Service(ctx context.Context, region, cluster, service string) (ServiceFacts, error) {
	if err := w.record("service", region, cluster+"/"+service); err != nil {
		return ServiceFacts{}, err
	}
	return w.services[cluster+"/"+service], nil
}

func (w *fakeWorld) lookups() VerifyLookups {
	return VerifyLookups{Account: w, Roles: w, Parameters: w, Secrets: w, LogGroups: w, Images: w, Services: w}
}

// deniedError is what render/remote returns for a refused call.
type deniedError struct{ perm string }

func (e deniedError) Error() string { return "access denied (grant " + e.perm + ")" }
func (e deniedError) Is(target error) bool {
	return target == ErrAccessDenied
}

const (
	ecsTrust    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	lambdaTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

	railsImage = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/rails@sha256:aaaa"
	nginxImage = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/nginx@sha256:1111"
	dbSecret   = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:db-AbCdEf"
	hubSecret  = "arn:aws:secretsmanager:us-west-2:123456789012:secret:dockerhub-QwErTy"
	sharedSSM  = "arn:aws:ssm:us-east-1:123456789012:parameter/shared/token"
)

// verifyTemplate is a rendered task definition that points at one of each
// kind of resource, the nginx image being a CodeDeploy placeholder.
const verifyTemplate = `{
  "family": "web",
  "executionRoleArn": "arn:aws:iam::123456789012:role/web-exec",
  "taskRoleArn": "web-task",
  "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
  "containerDefinitions": [
    {"name": "web", "image": "` + railsImage + `",
     "secrets": [
       {"name": "DB_PASSWORD", "valueFrom": "` + dbSecret + `:password::"},
       {"name": "API_KEY", "valueFrom": "/prd/api-key"},
       {"name": "SHARED", "valueFrom": "` + sharedSSM + `"}
     ],
     "logConfiguration": {"logDriver": "awslogs",
       "options": {"awslogs-group": "/ecs/web", "awslogs-region": "ap-northeast-1", "awslogs-stream-prefix": "web"},
       "secretOptions": [{"name": "DD_API_KEY", "valueFrom": "prd-dd-key"}]}},
    {"name": "nginx", "image": "<IMAGE2_NAME>",
     "repositoryCredentials": {"credentialsParameter": "` + hubSecret + `"},
     "portMappings": [{"containerPort": 80}],
     "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/nginx", "awslogs-create-group": "true"}}}
  ]
}`

var multiArch = []Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}}

// goodWorld holds everything verifyTemplate points at.
func goodWorld() *fakeWorld {
	return &fakeWorld{
		account: "123456789012",
		roles: map[string]RoleFacts{
			"arn:aws:iam::123456789012:role/web-exec": {Found: true, ARN: "arn:aws:iam::123456789012:role/web-exec", TrustPolicy: ecsTrust},
			"web-task": {Found: true, ARN: "arn:aws:iam::123456789012:role/web-task", TrustPolicy: ecsTrust},
		},
		params: map[string]bool{
			"ap-northeast-1 /prd/api-key": true,
			"ap-northeast-1 prd-dd-key":   true,
			"us-east-1 " + sharedSSM:      true,
		},
		secrets: map[string]bool{
			"ap-northeast-1 " + dbSecret: true,
			"us-west-2 " + hubSecret:     true,
		},
		logGroups: map[string]bool{"ap-northeast-1 /ecs/web": true},
		images:    map[string][]Platform{railsImage: multiArch, nginxImage: {{OS: "linux", Architecture: "arm64"}}},
		services:  map[string]ServiceFacts{},
	}
}

func verifyInput() VerifyInput {
	return VerifyInput{Region: "ap-northeast-1", Images: map[string]string{"nginx": nginxImage}}
}

func TestVerifyRefs(t *testing.T) {
	t.Parallel()
	arm := Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	want := []verifyRef{
		{kind: verifyRole, path: "executionRoleArn", id: "arn:aws:iam::123456789012:role/web-exec", account: "123456789012"},
		{kind: verifyRole, path: "taskRoleArn", id: "web-task"},
		{kind: verifyImage, path: "containerDefinitions[0].image", id: railsImage, account: "123456789012", platform: arm},
		{kind: verifySecret, path: "containerDefinitions[0].secrets[0].valueFrom", id: dbSecret, region: "ap-northeast-1", account: "123456789012"},
		{kind: verifyParameter, path: "containerDefinitions[0].secrets[1].valueFrom", id: "/prd/api-key"},
		{kind: verifyParameter, path: "containerDefinitions[0].secrets[2].valueFrom", id: sharedSSM, region: "us-east-1", account: "123456789012"},
		{kind: verifyParameter, path: "containerDefinitions[0].logConfiguration.secretOptions[0].valueFrom", id: "prd-dd-key"},
		{kind: verifyLogGroup, path: "containerDefinitions[0].logConfiguration.options.awslogs-group", id: "/ecs/web", region: "ap-northeast-1"},
		{kind: verifyImage, path: "containerDefinitions[1].image", id: nginxImage, account: "123456789012", platform: arm},
		{kind: verifySecret, path: "containerDefinitions[1].repositoryCredentials.credentialsParameter", id: hubSecret, region: "us-west-2", account: "123456789012"},
	}
	got := verifyRefs(tParse(verifyTemplate), verifyInput())
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(verifyRef{}, Platform{})); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
}

func TestVerifyRefForms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want verifyRef
		ok   bool
	}{
		{"name", verifyRef{kind: verifyParameter, id: "name"}, true},
		{"/a/b/c", verifyRef{kind: verifyParameter, id: "/a/b/c"}, true},
		{"arn:aws:ssm:eu-west-1:210987654321:parameter/a/b", verifyRef{kind: verifyParameter, id: "arn:aws:ssm:eu-west-1:210987654321:parameter/a/b", region: "eu-west-1", account: "210987654321"}, true},
		{"arn:aws:secretsmanager:eu-west-1:210987654321:secret:s-AbCdEf", verifyRef{kind: verifySecret, id: "arn:aws:secretsmanager:eu-west-1:210987654321:secret:s-AbCdEf", region: "eu-west-1", account: "210987654321"}, true},
		{"arn:aws:secretsmanager:eu-west-1:210987654321:secret:s-AbCdEf:key::", verifyRef{kind: verifySecret, id: "arn:aws:secretsmanager:eu-west-1:210987654321:secret:s-AbCdEf", region: "eu-west-1", account: "210987654321"}, true},
		{"arn:aws:secretsmanager:eu-west-1:210987654321:secret:s-AbCdEf:key:AWSPREVIOUS:", verifyRef{kind: verifySecret, id: "arn:aws:secretsmanager:eu-west-1:210987654321:secret:s-AbCdEf", region: "eu-west-1", account: "210987654321"}, true},
		{"arn:aws:secretsmanager:eu-west-1:210987654321:secret:s-AbCdEf::AWSCURRENT:uuid", verifyRef{kind: verifySecret, id: "arn:aws:secretsmanager:eu-west-1:210987654321:secret:s-AbCdEf", region: "eu-west-1", account: "210987654321"}, true},
		{"arn:aws-cn:secretsmanager:cn-north-1:210987654321:secret:s", verifyRef{kind: verifySecret, id: "arn:aws-cn:secretsmanager:cn-north-1:210987654321:secret:s", region: "cn-north-1", account: "210987654321"}, true},
		{"arn:aws:kms:eu-west-1:210987654321:key/x", verifyRef{}, false},
		{"arn:aws:secretsmanager:eu-west-1:210987654321:other:x", verifyRef{}, false},
		{"arn:broken", verifyRef{}, false},
		{"", verifyRef{}, false},
	} {
		got, ok := secretRef("", tc.in)
		if ok != tc.ok || !cmp.Equal(got, tc.want, cmp.AllowUnexported(verifyRef{}, Platform{})) {
			t.Errorf("secretRef(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestTaskPlatform(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ rp, want string }{
		{``, "linux/amd64"},
		{`"runtimePlatform": {}`, "linux/amd64"},
		{`"runtimePlatform": {"cpuArchitecture": "X86_64"}`, "linux/amd64"},
		{`"runtimePlatform": {"cpuArchitecture": "ARM64"}`, "linux/arm64/v8"},
		{`"runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}`, "linux/arm64/v8"},
		{`"runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"}`, "windows/amd64"},
	} {
		doc := `{"family": "x"` + map[bool]string{true: ", " + tc.rp, false: ""}[tc.rp != ""] + `}`
		if got := taskPlatform(tParse(doc)).String(); got != tc.want {
			t.Errorf("taskPlatform(%s) = %s, want %s", tc.rp, got, tc.want)
		}
	}
}

func TestPlatformRunsOn(t *testing.T) {
	t.Parallel()
	arm := Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	amd := Platform{OS: "linux", Architecture: "amd64"}
	for _, tc := range []struct {
		want, have Platform
		ok         bool
	}{
		{arm, Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, true},
		{arm, Platform{OS: "linux", Architecture: "arm64"}, true},
		{arm, Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, false},
		{arm, amd, false},
		{amd, amd, true},
		{amd, Platform{OS: "linux", Architecture: "amd64", Variant: "v3"}, true},
		{amd, Platform{OS: "windows", Architecture: "amd64"}, false},
	} {
		if got := tc.want.runsOn(tc.have); got != tc.ok {
			t.Errorf("%s runsOn %s = %v, want %v", tc.want, tc.have, got, tc.ok)
		}
	}
}

type verifyWant struct {
	Problems, Warnings, Notices, Changes []string
}

func reportStrings(rep VerifyReport) verifyWant {
	var w verifyWant
	for _, p := range rep.Problems {
		w.Problems = append(w.Problems, p.String())
	}
	for _, p := range rep.Warnings {
		w.Warnings = append(w.Warnings, p.String())
	}
	w.Notices = rep.Notices
	w.Changes = rep.Changes
	return w
}

func TestVerify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		world func(w *fakeWorld)
		edit  func(td *Node)
		in    func(in *VerifyInput)
		want  verifyWant
	}{
		{name: "everything there"},
		{
			name:  "execution role missing",
			world: func(w *fakeWorld) { delete(w.roles, "arn:aws:iam::123456789012:role/web-exec") },
			want:  verifyWant{Problems: []string{`executionRoleArn: role "arn:aws:iam::123456789012:role/web-exec" not found`}},
		},
		{
			name:  "task role trusts only lambda",
			world: func(w *fakeWorld) { w.roles["web-task"] = RoleFacts{Found: true, TrustPolicy: lambdaTrust} },
			want: verifyWant{Problems: []string{
				`taskRoleArn: role "web-task" cannot be assumed by ECS tasks: its trust policy does not let ecs-tasks.amazonaws.com call sts:AssumeRole (it trusts "lambda.amazonaws.com")`,
			}},
		},
		{
			name:  "trust policy unreadable",
			world: func(w *fakeWorld) { w.roles["web-task"] = RoleFacts{Found: true, TrustPolicy: `{"Statement": 5}`} },
			want:  verifyWant{Warnings: []string{`taskRoleArn: role "web-task": trust policy not read: Statement[0]: want an object, got number`}},
		},
		{
			name:  "ssm parameter missing",
			world: func(w *fakeWorld) { delete(w.params, "ap-northeast-1 /prd/api-key") },
			want:  verifyWant{Problems: []string{`containerDefinitions[0].secrets[1].valueFrom: ssm parameter "/prd/api-key" not found in region "ap-northeast-1"`}},
		},
		{
			name:  "cross-region parameter missing in its region",
			world: func(w *fakeWorld) { delete(w.params, "us-east-1 "+sharedSSM) },
			want:  verifyWant{Problems: []string{`containerDefinitions[0].secrets[2].valueFrom: ssm parameter "` + sharedSSM + `" not found in region "us-east-1"`}},
		},
		{
			name:  "secret missing",
			world: func(w *fakeWorld) { delete(w.secrets, "ap-northeast-1 "+dbSecret) },
			want:  verifyWant{Problems: []string{`containerDefinitions[0].secrets[0].valueFrom: secret "` + dbSecret + `" not found in region "ap-northeast-1"`}},
		},
		{
			name:  "repository credentials missing",
			world: func(w *fakeWorld) { delete(w.secrets, "us-west-2 "+hubSecret) },
			want:  verifyWant{Problems: []string{`containerDefinitions[1].repositoryCredentials.credentialsParameter: secret "` + hubSecret + `" not found in region "us-west-2"`}},
		},
		{
			name:  "log group missing",
			world: func(w *fakeWorld) { w.logGroups = nil },
			want: verifyWant{Problems: []string{
				`containerDefinitions[0].logConfiguration.options.awslogs-group: log group "/ecs/web" not found in region "ap-northeast-1"; create it, or set awslogs-create-group to "true" and allow logs:CreateLogGroup to the execution role`,
			}},
		},
		{
			name: "image without the task's platform",
			world: func(w *fakeWorld) {
				w.images[railsImage] = []Platform{{OS: "linux", Architecture: "amd64"}, {OS: "unknown", Architecture: "unknown"}}
			},
			want: verifyWant{Problems: []string{
				`containerDefinitions[0].image: image "` + railsImage + `" has no linux/arm64/v8 variant, which the task's runtimePlatform needs; it offers linux/amd64`,
			}},
		},
		{
			name:  "single-platform image of another architecture",
			world: func(w *fakeWorld) { w.images[nginxImage] = []Platform{{OS: "linux", Architecture: "amd64"}} },
			want: verifyWant{Problems: []string{
				`containerDefinitions[1].image: image "` + nginxImage + `" has no linux/arm64/v8 variant, which the task's runtimePlatform needs; it offers linux/amd64`,
			}},
		},
		{
			name:  "image platforms unknown",
			world: func(w *fakeWorld) { w.images = nil },
		},
		{
			name: "every broken reference at once, in document order",
			world: func(w *fakeWorld) {
				*w = fakeWorld{account: w.account, roles: map[string]RoleFacts{"web-task": {Found: true, TrustPolicy: lambdaTrust}},
					images: map[string][]Platform{railsImage: {{OS: "linux", Architecture: "amd64"}}}}
			},
			want: verifyWant{Problems: []string{
				`executionRoleArn: role "arn:aws:iam::123456789012:role/web-exec" not found`,
				`taskRoleArn: role "web-task" cannot be assumed by ECS tasks: its trust policy does not let ecs-tasks.amazonaws.com call sts:AssumeRole (it trusts "lambda.amazonaws.com")`,
				`containerDefinitions[0].image: image "` + railsImage + `" has no linux/arm64/v8 variant, which the task's runtimePlatform needs; it offers linux/amd64`,
				`containerDefinitions[0].secrets[0].valueFrom: secret "` + dbSecret + `" not found in region "ap-northeast-1"`,
				`containerDefinitions[0].secrets[1].valueFrom: ssm parameter "/prd/api-key" not found in region "ap-northeast-1"`,
				`containerDefinitions[0].secrets[2].valueFrom: ssm parameter "` + sharedSSM + `" not found in region "us-east-1"`,
				`containerDefinitions[0].logConfiguration.secretOptions[0].valueFrom: ssm parameter "prd-dd-key" not found in region "ap-northeast-1"`,
				`containerDefinitions[0].logConfiguration.options.awslogs-group: log group "/ecs/web" not found in region "ap-northeast-1"; create it, or set awslogs-create-group to "true" and allow logs:CreateLogGroup to the execution role`,
				`containerDefinitions[1].repositoryCredentials.credentialsParameter: secret "` + hubSecret + `" not found in region "us-west-2"`,
			}},
		},
		{
			name: "roles denied: one warning, the rest still verified",
			world: func(w *fakeWorld) {
				w.errs = map[string]error{"role:*": deniedError{"iam:GetRole"}}
				delete(w.secrets, "ap-northeast-1 "+dbSecret)
			},
			want: verifyWant{
				Problems: []string{`containerDefinitions[0].secrets[0].valueFrom: secret "` + dbSecret + `" not found in region "ap-northeast-1"`},
				Warnings: []string{"roles not verified: access denied (grant iam:GetRole)"},
			},
		},
		{
			name: "every kind denied",
			world: func(w *fakeWorld) {
				w.errs = map[string]error{
					"role:*": deniedError{"iam:GetRole"}, "parameter:*": deniedError{"ssm:DescribeParameters"},
					"secret:*": deniedError{"secretsmanager:DescribeSecret"}, "loggroup:*": deniedError{"logs:DescribeLogGroups"},
					"image:*": deniedError{"ecr:BatchGetImage"},
				}
			},
			want: verifyWant{Warnings: []string{
				"roles not verified: access denied (grant iam:GetRole)",
				"image platforms not verified: access denied (grant ecr:BatchGetImage)",
				"secrets not verified: access denied (grant secretsmanager:DescribeSecret)",
				"ssm parameters not verified: access denied (grant ssm:DescribeParameters)",
				"log groups not verified: access denied (grant logs:DescribeLogGroups)",
			}},
		},
		{
			name: "a denied message cannot forge a log line",
			world: func(w *fakeWorld) {
				w.errs = map[string]error{"loggroup:*": deniedError{"logs:DescribeLogGroups\nPASS"}}
			},
			want: verifyWant{Warnings: []string{`log groups not verified: access denied (grant logs:DescribeLogGroups\nPASS)`}},
		},
		{
			name: "another account's secret not found is a notice",
			edit: func(td *Node) {
				tContainer(td, "web").Get("secrets").Items[0].Set("valueFrom", NewString("arn:aws:secretsmanager:ap-northeast-1:999999999999:secret:shared-AbCdEf"))
			},
			want: verifyWant{Notices: []string{
				`containerDefinitions[0].secrets[0].valueFrom: secret "arn:aws:secretsmanager:ap-northeast-1:999999999999:secret:shared-AbCdEf" is in account "999999999999", which account "123456789012" cannot see: not verified`,
			}},
		},
		{
			name: "another account's role denied is a notice, not a warning",
			edit: func(td *Node) { td.Set("taskRoleArn", NewString("arn:aws:iam::999999999999:role/x")) },
			world: func(w *fakeWorld) {
				w.errs = map[string]error{"role:arn:aws:iam::999999999999:role/x": deniedError{"iam:GetRole"}}
			},
			want: verifyWant{Notices: []string{
				`taskRoleArn: role "arn:aws:iam::999999999999:role/x" is in account "999999999999", which account "123456789012" cannot see: not verified`,
			}},
		},
		{
			name: "another account's image denied is a notice",
			edit: func(td *Node) {
				tContainer(td, "web").Set("image", NewString("999999999999.dkr.ecr.ap-northeast-1.amazonaws.com/base@sha256:cccc"))
			},
			world: func(w *fakeWorld) {
				w.errs = map[string]error{"image:999999999999.dkr.ecr.ap-northeast-1.amazonaws.com/base@sha256:cccc": deniedError{"ecr:BatchGetImage"}}
			},
			want: verifyWant{Notices: []string{
				`containerDefinitions[0].image: image "999999999999.dkr.ecr.ap-northeast-1.amazonaws.com/base@sha256:cccc" is in account "999999999999", which account "123456789012" cannot see: not verified`,
			}},
		},
		{
			name: "account unknown: a foreign reference counts as the run's own",
			edit: func(td *Node) { td.Set("taskRoleArn", NewString("arn:aws:iam::999999999999:role/x")) },
			world: func(w *fakeWorld) {
				w.errs = map[string]error{"account:*": deniedError{"sts:GetCallerIdentity"}}
			},
			want: verifyWant{
				Problems: []string{`taskRoleArn: role "arn:aws:iam::999999999999:role/x" not found`},
				Warnings: []string{"account not known, references into other accounts verified as this one's: access denied (grant sts:GetCallerIdentity)"},
			},
		},
		{
			name: "non-ECR images and placeholders are not asked about",
			edit: func(td *Node) {
				tContainer(td, "web").Set("image", NewString("public.ecr.aws/nginx/nginx:1"))
			},
			in: func(in *VerifyInput) { in.Images = nil }, // nginx keeps its <IMAGE2_NAME>
			world: func(w *fakeWorld) {
				w.images = nil
				w.errs = map[string]error{"image:*": errors.New("unexpected image lookup")}
			},
		},
		{
			name: "log group in another region",
			edit: func(td *Node) {
				tContainer(td, "web").Get("logConfiguration").Get("options").Set("awslogs-region", NewString("us-east-1"))
			},
			want: verifyWant{Problems: []string{
				`containerDefinitions[0].logConfiguration.options.awslogs-group: log group "/ecs/web" not found in region "us-east-1"; create it, or set awslogs-create-group to "true" and allow logs:CreateLogGroup to the execution role`,
			}},
		},
		{
			name: "x86 task on a multi-platform image",
			edit: func(td *Node) { td.Delete("runtimePlatform") },
			world: func(w *fakeWorld) {
				w.images[nginxImage] = multiArch
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := goodWorld()
			if tc.world != nil {
				tc.world(w)
			}
			td := tParse(verifyTemplate)
			if tc.edit != nil {
				tc.edit(td)
			}
			in := verifyInput()
			if tc.in != nil {
				tc.in(&in)
			}
			rep, err := Verify(context.Background(), td, in, w.lookups(), nil)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if diff := cmp.Diff(tc.want, reportStrings(rep)); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerifyRunFailure(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"account", "role", "parameter", "secret", "loggroup", "image", "service"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			w := goodWorld()
			boom := fmt.Errorf("describe %s: https response error StatusCode: 500", kind)
			w.errs = map[string]error{kind + ":*": boom}
			in := verifyInput()
			in.Target = &VerifyTarget{Cluster: "prd", Service: "web"}
			_, err := Verify(context.Background(), tParse(verifyTemplate), in, w.lookups(), nil)
			if !errors.Is(err, boom) {
				t.Fatalf("Verify error = %v, want %v", err, boom)
			}
		})
	}
}

func TestVerifyTimeout(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name    string
		account bool
		want    string
	}{
		{"account first", true, `account not known: canceled`},
		{"first reference", false, `role "arn:aws:iam::123456789012:role/web-exec" not verified: canceled`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := goodWorld()
			lk := w.lookups()
			if !tc.account {
				lk.Account = nil
			}
			_, err := Verify(ctx, tParse(verifyTemplate), verifyInput(), lk, nil)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Verify error = %v, want %s", err, tc.want)
			}
			if len(w.calls) > 0 {
				t.Errorf("asked %v after the run's context ended", w.calls)
			}
		})
	}
}

func TestVerifyParametersBatchedByRegion(t *testing.T) {
	t.Parallel()
	w := goodWorld()
	if _, err := Verify(context.Background(), tParse(verifyTemplate), verifyInput(), w.lookups(), nil); err != nil {
		t.Fatal(err)
	}
	sort.Strings(w.paramCalls)
	want := []string{"ap-northeast-1 /prd/api-key,prd-dd-key", "us-east-1 " + sharedSSM}
	if diff := cmp.Diff(want, w.paramCalls); diff != "" {
		t.Errorf("Parameters calls (-want +got):\n%s", diff)
	}
}

func TestVerifyNilLookupsAskNothing(t *testing.T) {
	t.Parallel()
	rep, err := Verify(context.Background(), tParse(verifyTemplate), verifyInput(), VerifyLookups{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(verifyWant{}, reportStrings(rep)); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

func TestLogRefs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lc   string
		want []string // ids asked about
	}{
		{`{"logDriver": "awslogs", "options": {"awslogs-group": "g"}}`, []string{"g"}},
		{`{"logDriver": "awslogs", "options": {"awslogs-group": "g", "awslogs-create-group": "false"}}`, []string{"g"}},
		{`{"logDriver": "awslogs", "options": {"awslogs-group": "g", "awslogs-create-group": "true"}}`, nil},
		{`{"logDriver": "awslogs", "options": {"awslogs-group": "g", "awslogs-create-group": "TRUE"}}`, nil},
		{`{"logDriver": "awslogs", "options": {"awslogs-group": "g", "awslogs-create-group": "yes"}}`, []string{"g"}},
		{`{"logDriver": "awslogs", "options": {}}`, nil},
		{`{"logDriver": "awslogs"}`, nil},
		{`{"logDriver": "awsfirelens", "options": {"awslogs-group": "g"}}`, nil},
		{`{"logDriver": "splunk", "secretOptions": [{"name": "splunk-token", "valueFrom": "/splunk"}]}`, []string{"/splunk"}},
	} {
		var got []string
		for _, r := range logRefs(tParse(tc.lc), "lc") {
			got = append(got, r.id)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("logRefs(%s) asks %q, want %q", tc.lc, got, tc.want)
		}
	}
}

func TestVerifyCreateGroupNotAsked(t *testing.T) {
	t.Parallel()
	w := goodWorld()
	if _, err := Verify(context.Background(), tParse(verifyTemplate), verifyInput(), w.lookups(), nil); err != nil {
		t.Fatal(err)
	}
	for call := range w.calls {
		if strings.Contains(call, "/ecs/nginx") {
			t.Errorf("asked %q, whose awslogs-create-group is \"true\"", call)
		}
	}
}

// runningWeb is what the service runs now: verifyTemplate's previous
// revision as DescribeTaskDefinition returns it.
func runningWeb() []byte {
	td := tParse(verifyTemplate)
	tContainer(td, "web").Set("image", NewString("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/rails@sha256:0000"))
	tContainer(td, "nginx").Set("image", NewString(nginxImage))
	tContainer(td, "web").Set("environment", tParse(`[{"name":"RAILS_MAX_THREADS","value":"5"}]`))
	td.Set("taskDefinitionArn", NewString("arn:aws:ecs:ap-northeast-1:123456789012:task-definition/web:7"))
	td.Set("revision", &Node{Kind: Number, Str: "7"})
	return []byte(`{"taskDefinition": ` + string(td.MarshalIndent()) + `}`)
}

func TestVerifyService(t *testing.T) {
	t.Parallel()
	webLB := []ServiceLoadBalancer{{ContainerName: "nginx", ContainerPort: 80, TargetGroupARN: "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/web/1"}}
	codeDeploy := ServiceFacts{Found: true, Status: "ACTIVE", DeploymentController: "CODE_DEPLOY", LoadBalancers: webLB,
		TaskDefinitionARN: "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/web:7", TaskDefinition: runningWeb()}
	rolling := codeDeploy
	rolling.DeploymentController = "ECS"
	const (
		imageChange = `containerDefinitions[web].image: "sha256:0000" -> "sha256:aaaa"`
		envChange   = `containerDefinitions[web].environment.RAILS_MAX_THREADS: "5" -> "8"`
	)
	for _, tc := range []struct {
		name string
		svc  ServiceFacts
		err  error
		in   func(in *VerifyInput)
		want verifyWant
	}{
		{
			name: "code deploy to the load-balanced container",
			svc:  codeDeploy,
			in:   func(in *VerifyInput) { in.AppSpec = &VerifyAppSpec{ContainerName: "nginx", ContainerPort: 80} },
			want: verifyWant{Changes: []string{imageChange, envChange}},
		},
		{
			name: "code deploy to one of several load balancers",
			svc: func() ServiceFacts {
				s := codeDeploy
				s.LoadBalancers = append([]ServiceLoadBalancer{{ContainerName: "nginx", ContainerPort: 443}}, webLB...)
				return s
			}(),
			in:   func(in *VerifyInput) { in.AppSpec = &VerifyAppSpec{ContainerName: "nginx", ContainerPort: 80} },
			want: verifyWant{Changes: []string{imageChange, envChange}},
		},
		{
			name: "code deploy to another container",
			svc:  codeDeploy,
			in:   func(in *VerifyInput) { in.AppSpec = &VerifyAppSpec{ContainerName: "web", ContainerPort: 3000} },
			want: verifyWant{
				Problems: []string{`service "web" in cluster "prd": the AppSpec's load balancer container "web":3000 is not the service's, "nginx":80`},
				Changes:  []string{imageChange, envChange},
			},
		},
		{
			name: "code deploy to another port",
			svc:  codeDeploy,
			in:   func(in *VerifyInput) { in.AppSpec = &VerifyAppSpec{ContainerName: "nginx", ContainerPort: 8080} },
			want: verifyWant{
				Problems: []string{`service "web" in cluster "prd": the AppSpec's load balancer container "nginx":8080 is not the service's, "nginx":80`},
				Changes:  []string{imageChange, envChange},
			},
		},
		{
			name: "code deploy without an AppSpec",
			svc:  codeDeploy,
			want: verifyWant{
				Problems: []string{`service "web" in cluster "prd": deploys with CODE_DEPLOY, which needs an AppSpec, and this run writes none`},
				Changes:  []string{imageChange, envChange},
			},
		},
		{
			name: "code deploy with an AppSpec without a load balancer",
			svc:  codeDeploy,
			in:   func(in *VerifyInput) { in.AppSpec = &VerifyAppSpec{} },
			want: verifyWant{
				Problems: []string{`service "web" in cluster "prd": deploys with CODE_DEPLOY to load balancer "nginx":80, and the AppSpec names none`},
				Changes:  []string{imageChange, envChange},
			},
		},
		{
			name: "code deploy service without a load balancer",
			svc:  func() ServiceFacts { s := codeDeploy; s.LoadBalancers = nil; return s }(),
			in:   func(in *VerifyInput) { in.AppSpec = &VerifyAppSpec{ContainerName: "nginx", ContainerPort: 80} },
			want: verifyWant{
				Problems: []string{`service "web" in cluster "prd": deploys with CODE_DEPLOY but has no load balancer for the AppSpec's "nginx":80`},
				Changes:  []string{imageChange, envChange},
			},
		},
		{
			name: "rolling: only the images listed are deployed",
			svc:  rolling,
			in:   func(in *VerifyInput) { in.ImageDefinitions = []string{"web", "nginx"} },
			want: verifyWant{
				Warnings: []string{"containerDefinitions[web].environment.RAILS_MAX_THREADS: " + notDeployedMsg},
				Changes:  []string{imageChange, envChange},
			},
		},
		{
			name: "rolling: an image not in imagedefinitions.json is not deployed either",
			svc:  rolling,
			in:   func(in *VerifyInput) { in.ImageDefinitions = []string{"nginx"} },
			want: verifyWant{
				Warnings: []string{
					"containerDefinitions[web].image: " + notDeployedMsg,
					"containerDefinitions[web].environment.RAILS_MAX_THREADS: " + notDeployedMsg,
				},
				Changes: []string{imageChange, envChange},
			},
		},
		{
			name: "rolling: a name the running task definition lacks",
			svc:  rolling,
			in:   func(in *VerifyInput) { in.ImageDefinitions = []string{"web", "app"} },
			want: verifyWant{
				Problems: []string{`service "web" in cluster "prd": imagedefinitions.json names container "app", which the task definition it runs ("arn:aws:ecs:ap-northeast-1:123456789012:task-definition/web:7") does not have (it has "web", "nginx"): the ECS deploy action would fail`},
				Warnings: []string{"containerDefinitions[web].environment.RAILS_MAX_THREADS: " + notDeployedMsg},
				Changes:  []string{imageChange, envChange},
			},
		},
		{
			name: "nothing changes",
			svc: func() ServiceFacts {
				s := rolling
				td := tParse(verifyTemplate)
				tContainer(td, "nginx").Set("image", NewString(nginxImage))
				tContainer(td, "web").Set("environment", tParse(`[{"name":"RAILS_MAX_THREADS","value":"8"}]`))
				s.TaskDefinition = td.MarshalIndent()
				return s
			}(),
			in:   func(in *VerifyInput) { in.ImageDefinitions = []string{"web", "nginx"} },
			want: verifyWant{Notices: []string{`service "web" in cluster "prd": the deploy changes nothing in the task definition it runs`}},
		},
		{
			name: "service not found",
			svc:  ServiceFacts{},
			want: verifyWant{Problems: []string{`service "web" in cluster "prd": not found in region "ap-northeast-1"`}},
		},
		{
			name: "service draining",
			svc:  ServiceFacts{Found: true, Status: "DRAINING"},
			want: verifyWant{Problems: []string{`service "web" in cluster "prd": is "DRAINING", not ACTIVE: a deploy would not reach it`}},
		},
		{
			name: "service denied",
			err:  deniedError{"ecs:DescribeServices"},
			want: verifyWant{Warnings: []string{"service not verified: access denied (grant ecs:DescribeServices)"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := goodWorld()
			w.services["prd/web"] = tc.svc
			if tc.err != nil {
				w.errs = map[string]error{"service:*": tc.err}
			}
			in := verifyInput()
			in.Target = &VerifyTarget{Cluster: "prd", Service: "web"}
			if tc.in != nil {
				tc.in(&in)
			}
			td := tParse(verifyTemplate)
			tContainer(td, "web").Set("environment", tParse(`[{"name":"RAILS_MAX_THREADS","value":"8"}]`))
			rep, err := Verify(context.Background(), td, in, w.lookups(), nil)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if diff := cmp.Diff(tc.want, reportStrings(rep)); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
			if n := w.calls["service ap-northeast-1 prd/web"]; n != 1 {
				t.Errorf("service asked %d times, want 1", n)
			}
		})
	}
}

func TestVerifyManyChangesAreBounded(t *testing.T) {
	t.Parallel()
	td := tParse(verifyTemplate)
	env := &Node{Kind: Array}
	for i := range verifyMaxChanges + 5 {
		env.Items = append(env.Items, tParse(fmt.Sprintf(`{"name": "V%d", "value": "x"}`, i)))
	}
	tContainer(td, "web").Set("environment", env)
	running := tParse(verifyTemplate)
	tContainer(running, "nginx").Set("image", NewString(nginxImage))
	tContainer(running, "web").Set("environment", tParse(`[{"name": "V0", "value": "y"}]`))
	w := goodWorld()
	w.services["prd/web"] = ServiceFacts{Found: true, Status: "ACTIVE", DeploymentController: "ECS", TaskDefinition: running.MarshalIndent()}
	in := verifyInput()
	in.Target = &VerifyTarget{Cluster: "prd", Service: "web"}
	rep, err := Verify(context.Background(), td, in, w.lookups(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Changes) != verifyMaxChanges+1 || rep.Changes[verifyMaxChanges] != "and 5 more changes" {
		t.Errorf("%d changes, the last %q; want %d and a count of the rest", len(rep.Changes), rep.Changes[len(rep.Changes)-1], verifyMaxChanges+1)
	}
	last := rep.Warnings[len(rep.Warnings)-1].String()
	if len(rep.Warnings) != verifyMaxChanges+1 || last != "and 5 more changes "+notDeployedMsg {
		t.Errorf("%d warnings, the last %q; want %d and a count of the rest", len(rep.Warnings), last, verifyMaxChanges+1)
	}
}

func TestVerifyServiceUnreadableTaskDefinition(t *testing.T) {
	t.Parallel()
	w := goodWorld()
	w.services["prd/web"] = ServiceFacts{Found: true, Status: "ACTIVE", DeploymentController: "ECS", TaskDefinitionARN: "arn:td", TaskDefinition: []byte("{")}
	in := verifyInput()
	in.Target = &VerifyTarget{Cluster: "prd", Service: "web"}
	_, err := Verify(context.Background(), tParse(verifyTemplate), in, w.lookups(), nil)
	const want = `task definition "arn:td" of service "web" in cluster "prd": line 1, column 2: invalid JSON: unexpected end of the document`
	if err == nil || err.Error() != want {
		t.Fatalf("Verify error = %v, want %s", err, want)
	}
}

// TestVerifyOncePerRun renders two services that share a role, a secret,
// parameters and an image through one cache, at the same time, and counts
// the calls: each resource is asked about once, parameters in one call per
// region and run.
func TestVerifyOncePerRun(t *testing.T) {
	t.Parallel()
	w := goodWorld()
	w.params["ap-northeast-1 /prd/worker-only"] = true
	worker := tParse(verifyTemplate)
	worker.Set("family", NewString("worker"))
	s := tContainer(worker, "web").Get("secrets")
	s.Items = append(s.Items, tParse(`{"name":"W","valueFrom":"/prd/worker-only"}`))

	cache := NewVerifyCache()
	var wg sync.WaitGroup
	reps := make([]VerifyReport, 2)
	errs := make([]error, 2)
	for i, td := range []*Node{tParse(verifyTemplate), worker} {
		wg.Go(func() { reps[i], errs[i] = Verify(context.Background(), td, verifyInput(), w.lookups(), cache) })
	}
	wg.Wait()
	for i := range reps {
		if errs[i] != nil || len(reps[i].Problems) > 0 || len(reps[i].Warnings) > 0 {
			t.Fatalf("service %d: %v %v %v", i, errs[i], reps[i].Problems, reps[i].Warnings)
		}
	}
	want := map[string]int{
		"account  ": 1,
		"role  arn:aws:iam::123456789012:role/web-exec": 1,
		"role  web-task":                            1,
		"image  " + railsImage:                      1,
		"image  " + nginxImage:                      1,
		"secret ap-northeast-1 " + dbSecret:         1,
		"secret us-west-2 " + hubSecret:             1,
		"parameter ap-northeast-1 /prd/api-key":     1,
		"parameter ap-northeast-1 prd-dd-key":       1,
		"parameter ap-northeast-1 /prd/worker-only": 1,
		"parameter us-east-1 " + sharedSSM:          1,
		"loggroup ap-northeast-1 /ecs/web":          1,
	}
	if diff := cmp.Diff(want, w.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	// Parameters are batched: at most one call per region for each
	// service, and a name already asked is not asked again.
	var perRegion = map[string]int{}
	for _, c := range w.paramCalls {
		perRegion[strings.Fields(c)[0]]++
	}
	if perRegion["ap-northeast-1"] > 2 || perRegion["us-east-1"] != 1 {
		t.Errorf("parameter calls = %q, want at most one per region and service", w.paramCalls)
	}

	// A later service asks nothing new.
	before := fmt.Sprint(w.calls)
	if _, err := Verify(context.Background(), tParse(verifyTemplate), verifyInput(), w.lookups(), cache); err != nil {
		t.Fatal(err)
	}
	if after := fmt.Sprint(w.calls); after != before {
		t.Errorf("a third service asked again: %s", after)
	}
}

// verifyGate holds every lookup until n of them are in flight (or a generous
// deadline passes, so that a sequential implementation fails the test
// instead of hanging), and records the most seen in flight at once.
type verifyGate struct {
	n int

	mu       sync.Mutex
	inFlight int
	max      int
	full     chan struct{}
	once     sync.Once
}

func newVerifyGate(n int) *verifyGate { return &verifyGate{n: n, full: make(chan struct{})} }

func (g *verifyGate) during() {
	g.mu.Lock()
	g.inFlight++
	g.max = max(g.max, g.inFlight)
	if g.inFlight >= g.n {
		g.once.Do(func() { close(g.full) })
	}
	g.mu.Unlock()
	select {
	case <-g.full:
	case <-verifyDeadline():
	}
	g.mu.Lock()
	g.inFlight--
	g.mu.Unlock()
}

func TestVerifyLookupsRunConcurrently(t *testing.T) {
	t.Parallel()
	w := goodWorld()
	// Distinct lookups of verifyTemplate: 2 roles, 2 images, 2 secrets, 2
	// parameter regions (one call each), 1 log group, the account and the
	// service.
	const distinct = 11
	g := newVerifyGate(distinct)
	w.during = g.during
	w.services["prd/web"] = ServiceFacts{Found: true, Status: "ACTIVE", DeploymentController: "EXTERNAL", TaskDefinition: []byte(verifyTemplate)}
	in := verifyInput()
	in.Target = &VerifyTarget{Cluster: "prd", Service: "web"}
	if _, err := Verify(context.Background(), tParse(verifyTemplate), in, w.lookups(), nil); err != nil {
		t.Fatal(err)
	}
	if g.max != distinct {
		t.Errorf("at most %d lookups were in flight at once, want all %d", g.max, distinct)
	}
}

func TestVerifyConcurrencyIsBounded(t *testing.T) {
	t.Parallel()
	w := goodWorld()
	g := newVerifyGate(verifyConcurrency)
	w.during = g.during
	td := tParse(`{"containerDefinitions": [{"name": "web", "image": "x", "secrets": []}]}`)
	secrets := tContainer(td, "web").Get("secrets")
	for i := range 40 {
		id := fmt.Sprintf("arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:s%d", i)
		w.secrets["ap-northeast-1 "+id] = true
		secrets.Items = append(secrets.Items, tParse(fmt.Sprintf(`{"name": "S%d", "valueFrom": %q}`, i, id)))
	}
	rep, err := Verify(context.Background(), td, verifyInput(), w.lookups(), nil)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("Verify: %v %v", err, rep.Problems)
	}
	if g.max != verifyConcurrency {
		t.Errorf("at most %d lookups were in flight, want the bound %d", g.max, verifyConcurrency)
	}
	var asked []string
	for c := range w.calls {
		if strings.HasPrefix(c, "secret ") {
			asked = append(asked, c)
		}
	}
	sort.Strings(asked)
	if len(asked) != 40 || slices.ContainsFunc(asked, func(c string) bool { return w.calls[c] != 1 }) {
		t.Errorf("calls = %v, want each of the 40 secrets once", w.calls)
	}
}

func TestVerifyCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	cache := NewVerifyCache()
	release := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_, _ = cached(context.Background(), cache, "k", func(context.Context) (bool, error) {
			close(started)
			<-release
			return true, nil
		})
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := cached(ctx, cache, "k", func(context.Context) (bool, error) {
		t.Error("asked again while the first lookup was in flight")
		return false, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("waiting with a cancelled context = %v, want context.Canceled", err)
	}
	close(release)
	got, err := cached(context.Background(), cache, "k", func(context.Context) (bool, error) { return false, nil })
	if !got || err != nil {
		t.Errorf("after the first lookup: %v, %v; want its answer true", got, err)
	}
}

// verifyDeadline bounds a gate's wait so that a broken implementation fails
// instead of hanging; no test asserts on time.
func verifyDeadline() <-chan time.Time { return time.After(10 * time.Second) }

// ExampleVerify verifies a rendered task definition whose execution role
// trusts only Lambda, against a rolling service whose running revision has
// another thread count.
func ExampleVerify() {
	const trustLambda = `{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	td, _ := ParseJSON([]byte(`{
  "family": "web",
  "executionRoleArn": "web-exec",
  "containerDefinitions": [{"name": "web", "image": "<IMAGE1_NAME>",
    "environment": [{"name": "RAILS_MAX_THREADS", "value": "8"}],
    "secrets": [{"name": "DB_PASSWORD", "valueFrom": "/prd/db-password"}]}]
}`))
	running := `{"taskDefinition": {"family": "web", "executionRoleArn": "web-exec", "revision": 7,
  "containerDefinitions": [{"name": "web", "image": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/rails@sha256:0000", "cpu": 0, "essential": true,
    "environment": [{"name": "RAILS_MAX_THREADS", "value": "5"}],
    "secrets": [{"name": "DB_PASSWORD", "valueFrom": "/prd/db-password"}]}]}}`
	world := &fakeWorld{
		roles:    map[string]RoleFacts{"web-exec": {Found: true, TrustPolicy: trustLambda}},
		services: map[string]ServiceFacts{"prd/web": {Found: true, Status: "ACTIVE", DeploymentController: "ECS", TaskDefinition: []byte(running)}},
	}
	rep, err := Verify(context.Background(), td, VerifyInput{
		Region:           "ap-northeast-1",
		Images:           map[string]string{"web": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/rails@sha256:1111"},
		ImageDefinitions: []string{"web"},
		Target:           &VerifyTarget{Cluster: "prd", Service: "web"},
	}, world.lookups(), NewVerifyCache())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range rep.Problems {
		fmt.Println("problem:", p)
	}
	for _, w := range rep.Warnings {
		fmt.Println("warning:", w)
	}
	for _, c := range rep.Changes {
		fmt.Println("change:", c)
	}
	// Output:
	// problem: executionRoleArn: role "web-exec" cannot be assumed by ECS tasks: its trust policy does not let ecs-tasks.amazonaws.com call sts:AssumeRole (it trusts "lambda.amazonaws.com")
	// problem: containerDefinitions[0].secrets[0].valueFrom: ssm parameter "/prd/db-password" not found in region "ap-northeast-1"
	// warning: containerDefinitions[web].environment.RAILS_MAX_THREADS: not deployed by the ECS action: apply it with Terraform
	// change: containerDefinitions[web].image: "sha256:0000" -> "sha256:1111"
	// change: containerDefinitions[web].environment.RAILS_MAX_THREADS: "5" -> "8"
}

// BenchmarkVerify measures what verify costs a run by itself, the lookups
// answered at once from memory.
func BenchmarkVerify(b *testing.B) {
	td := tParse(verifyTemplate)
	w := goodWorld()
	w.services["prd/web"] = ServiceFacts{Found: true, Status: "ACTIVE", DeploymentController: "ECS", TaskDefinition: runningWeb()}
	in := verifyInput()
	in.ImageDefinitions = []string{"web", "nginx"}
	in.Target = &VerifyTarget{Cluster: "prd", Service: "web"}
	for b.Loop() {
		if _, err := Verify(context.Background(), td, in, w.lookups(), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRoundTrips gives each lookup a 50ms round trip, as AWS
// from CodeBuild takes: verify costs about one round trip, not one per
// resource (11 here).
func BenchmarkVerifyRoundTrips(b *testing.B) {
	td := tParse(verifyTemplate)
	w := goodWorld()
	w.during = func() { time.Sleep(50 * time.Millisecond) }
	w.services["prd/web"] = ServiceFacts{Found: true, Status: "ACTIVE", DeploymentController: "ECS", TaskDefinition: runningWeb()}
	in := verifyInput()
	in.Target = &VerifyTarget{Cluster: "prd", Service: "web"}
	for b.Loop() {
		if _, err := Verify(context.Background(), td, in, w.lookups(), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// A run past its deadline says so in the words remote uses for a call cut
// short, not Go's "context deadline exceeded".
func TestVerifyDeadlineWording(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	w := goodWorld()
	lk := w.lookups()
	lk.Account = nil
	_, err := Verify(ctx, tParse(verifyTemplate), verifyInput(), lk, nil)
	want := `role "arn:aws:iam::123456789012:role/web-exec" not verified: no answer before the deadline`
	if err == nil || err.Error() != want || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Verify error = %v, want %s (and errors.Is DeadlineExceeded)", err, want)
	}
}
