package main

// The verify suite: a world of roles, parameters, a secret, log groups,
// images, an ALB and two services built in moto, and ecsrender run against
// it as a user would, through the counting proxy of moto_test.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ecsrender/ecsrender/render/awstest"
)

// Values stored in SSM and Secrets Manager: no output may ever hold them.
const (
	verifyParamValue  = "postgres://app:pa55-from-ssm@db/prd"
	verifySecretValue = "master-key-from-secrets-manager-0xC0FFEE"
)

// verifyWorld is what buildVerifyWorld made, by the names a template uses.
type verifyWorld struct {
	bucket                          string
	execRole, taskRole, lambdaRole  string // ARN, name, ARN
	param, secretARN, logGroup      string
	appRepo, nginxRepo, armOnlyRepo string
	appV1, appV2, nginx             manifest
	cluster, bgService, rolling     string
	running                         string // the services' task definition ARN
}

// buildVerifyWorld seeds moto directly (not through the counting proxy).
func (m *motoEnv) buildVerifyWorld(t *testing.T) verifyWorld {
	t.Helper()
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("build the verify world: %s: %v", what, err)
		}
	}
	w := verifyWorld{bucket: m.bucket("verify")}

	im := iam.NewFromConfig(m.cfg)
	trust := func(service string) *string {
		return aws.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":%q},"Action":"sts:AssumeRole"}]}`, service))
	}
	for _, r := range []struct {
		name, service string
		arn           *string
	}{
		{m.name("vf-exec"), "ecs-tasks.amazonaws.com", &w.execRole},
		{m.name("vf-task"), "ecs-tasks.amazonaws.com", &w.taskRole},
		{m.name("vf-lambda"), "lambda.amazonaws.com", &w.lambdaRole},
	} {
		out, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r.name), AssumeRolePolicyDocument: trust(r.service)})
		must("create role", err)
		*r.arn = aws.ToString(out.Role.Arn)
	}
	w.taskRole = m.name("vf-task") // the template names it by name

	w.param = "/" + m.name("vf") + "/database_url"
	_, err := ssm.NewFromConfig(m.cfg).PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(w.param), Value: aws.String(verifyParamValue), Type: ssmtypes.ParameterTypeSecureString,
	})
	must("put parameter", err)
	sec, err := secretsmanager.NewFromConfig(m.cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(m.name("vf") + "/master-key"), SecretString: aws.String(verifySecretValue),
	})
	must("create secret", err)
	w.secretARN = aws.ToString(sec.ARN)
	w.logGroup = "/ecs/" + m.name("vf")
	_, err = cloudwatchlogs.NewFromConfig(m.cfg).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(w.logGroup)})
	must("create log group", err)

	// The app as a single image (v1 runs now, v2 is the build's), nginx as
	// a multi-arch index, and an image built for arm64 only.
	w.appRepo = m.repo("us-east-1", "vf-app")
	w.nginxRepo = m.repo("us-east-1", "vf-nginx")
	w.armOnlyRepo = m.repo("us-east-1", "vf-armonly")
	w.appV1, w.appV2 = m.dockerManifest("app v1"), m.dockerManifest("app v2")
	m.push("us-east-1", w.appRepo, "v1", w.appV1)
	m.push("us-east-1", w.appRepo, "v2", w.appV2)
	w.nginx = m.pushIndex("us-east-1", w.nginxRepo, "1.27", m.ociManifest("nginx amd64"), m.ociManifest("nginx arm64"))
	arm := m.ociManifest("armonly arm64")
	m.push("us-east-1", w.armOnlyRepo, "", arm)
	armIndex := newManifest(ociIndexType, map[string]any{
		"schemaVersion": 2, "mediaType": ociIndexType,
		"manifests": []descriptor{{arm.mediaType, int64(len(arm.body)), arm.digest, map[string]string{"os": "linux", "architecture": "arm64", "variant": "v8"}}},
	})
	m.push("us-east-1", w.armOnlyRepo, "1.0", armIndex)

	// An ALB with a target group for nginx:80, in the default VPC.
	vpc, subnets := awstest.DefaultSubnets(t, m.cfg, m.endpoint)
	lb := elb.NewFromConfig(m.cfg)
	alb, err := lb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String(m.name("vf")), Subnets: subnets[:2]})
	must("create load balancer", err)
	tgName := m.name("vf-blue")
	tg, err := lb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
		Name: aws.String(tgName), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		VpcId: aws.String(vpc), TargetType: elbtypes.TargetTypeEnumIp,
	})
	if err != nil && strings.Contains(err.Error(), "DuplicateTargetGroupName") {
		// A retried attempt whose first try moto had already done (seen
		// on a loaded machine): the group is there.
		var out *elb.DescribeTargetGroupsOutput
		out, err = lb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{tgName}})
		if err == nil {
			tg = &elb.CreateTargetGroupOutput{TargetGroups: out.TargetGroups}
		}
	}
	must("create target group", err)
	blue := tg.TargetGroups[0].TargetGroupArn
	_, err = lb.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: alb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: blue}},
	})
	must("create listener", err)

	// What the services run now: the good template as Terraform registered
	// it, with app v1 and 5 threads.
	running := w.template(m, goodVerifyTemplate)
	running = strings.NewReplacer(`{{ var \"threads\" }}`, "5",
		ecrRef("us-east-1", w.appRepo, "v2"), ecrRef("us-east-1", w.appRepo, w.appV1.digest),
		ecrRef("us-east-1", w.nginxRepo, "1.27"), ecrRef("us-east-1", w.nginxRepo, w.nginx.digest)).Replace(running)
	w.running = m.register([]byte(running))

	es := ecs.NewFromConfig(m.cfg)
	w.cluster = m.name("vf")
	_, err = es.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(w.cluster)})
	must("create cluster", err)
	network := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
		Subnets: subnets[:2], SecurityGroups: []string{}, // moto needs securityGroups, even empty
	}}
	w.bgService, w.rolling = m.name("vf-web"), m.name("vf-worker")
	_, err = es.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(w.cluster), ServiceName: aws.String(w.bgService), TaskDefinition: aws.String(w.running),
		DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: network,
		DeploymentController: &ecstypes.DeploymentController{Type: ecstypes.DeploymentControllerTypeCodeDeploy},
		LoadBalancers:        []ecstypes.LoadBalancer{{TargetGroupArn: blue, ContainerName: aws.String("nginx"), ContainerPort: aws.Int32(80)}},
	})
	must("create CODE_DEPLOY service", err)
	_, err = es.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(w.cluster), ServiceName: aws.String(w.rolling), TaskDefinition: aws.String(w.running),
		DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: network,
	})
	must("create rolling service", err)
	m.calls.Take()
	return w
}

// goodVerifyTemplate points at everything in the world. EXEC, TASK, PARAM,
// SECRET, LOGS, APP and NGINX are replaced by the world's names.
const goodVerifyTemplate = `{
  "family": "vf-web",
  "requiresCompatibilities": ["FARGATE"],
  "networkMode": "awsvpc",
  "cpu": "256",
  "memory": "512",
  "executionRoleArn": "EXEC",
  "taskRoleArn": "TASK",
  "containerDefinitions": [
    {
      "name": "nginx",
      "image": "NGINX",
      "portMappings": [{"containerPort": 80}],
      "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "LOGS", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "nginx"}}
    },
    {
      "name": "app",
      "image": "APP",
      "environment": [{"name": "RAILS_MAX_THREADS", "value": "{{ var \"threads\" }}"}],
      "secrets": [
        {"name": "DATABASE_URL", "valueFrom": "PARAM"},
        {"name": "RAILS_MASTER_KEY", "valueFrom": "SECRET:password::"}
      ],
      "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "LOGS", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"}}
    }
  ]
}`

func (w verifyWorld) template(m *motoEnv, tmpl string) string {
	return strings.NewReplacer(
		`"EXEC"`, fmt.Sprintf("%q", w.execRole),
		`"TASK"`, fmt.Sprintf("%q", w.taskRole),
		`"PARAM"`, fmt.Sprintf("%q", w.param),
		`"SECRET:`, fmt.Sprintf("%q", w.secretARN)[:len(w.secretARN)+1]+":",
		`"LOGS"`, fmt.Sprintf("%q", w.logGroup),
		`"APP"`, fmt.Sprintf("%q", ecrRef("us-east-1", w.appRepo, "v2")),
		`"NGINX"`, fmt.Sprintf("%q", ecrRef("us-east-1", w.nginxRepo, "1.27")),
	).Replace(tmpl)
}

// put stores a template in the world's bucket and returns its source.
func (w verifyWorld) put(m *motoEnv, key, body string) string {
	m.put(w.bucket, key, []byte(body))
	return "s3://" + w.bucket + "/" + key
}

// noSecretValues asserts that no output of r holds a stored value.
func (r cliResult) noSecretValues(t *testing.T) {
	t.Helper()
	outputs := map[string]string{"stdout": r.stdout, "stderr": r.stderr}
	// A manifest run writes a directory per service.
	err := filepath.WalkDir(r.out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		outputs[path] = string(b)
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for name, s := range outputs {
		for _, v := range []string{verifyParamValue, verifySecretValue} {
			if strings.Contains(s, v) {
				t.Errorf("%s holds the stored value %q", name, v)
			}
		}
	}
}

// verifyRender runs render with verify on (newMoto turns it off for the
// suites that count S3 and ECR calls alone).
func (m *motoEnv) verifyRender(t *testing.T, args ...string) cliResult {
	t.Helper()
	t.Setenv("ECSRENDER_VERIFY", "true")
	r := m.render(args...)
	r.noSecretValues(t)
	return r
}

func TestMotoVerify(t *testing.T) {
	m := newMoto(t)
	w := m.buildVerifyWorld(t)
	good := w.put(m, "good.json", w.template(m, goodVerifyTemplate))
	q := regexp.QuoteMeta
	common := []string{"--template", good, "--var", "threads=8", "--image", "app=" + ecrRef("us-east-1", w.appRepo, "v2")}
	appV1, appV2 := w.appV1.digest, w.appV2.digest

	t.Run("code deploy service: passes and prints the changes", func(t *testing.T) {
		m := m.in(t)
		r := m.verifyRender(t, append(common, "--container", "nginx:80", "--cluster", w.cluster, "--service", w.bgService)...)
		r.expect(t, 0, "changes: what this deploy changes in the task definition that service "+q(fmt.Sprintf("%q", w.bgService))+" in cluster "+q(fmt.Sprintf("%q", w.cluster))+" runs now:")
		r.expect(t, 0, q(`change: containerDefinitions[app].image: "`+appV1+`" -> "`+appV2+`"`))
		r.expect(t, 0, q(`change: containerDefinitions[app].environment.RAILS_MAX_THREADS: "5" -> "8"`))
		if strings.Contains(r.stderr, "warning:") || strings.Contains(r.stderr, "error:") {
			t.Errorf("stderr has a warning or an error:\n%s", r.stderr)
		}
		if got := strings.Count(r.stderr, "change: "); got != 2 {
			t.Errorf("%d change lines, want 2", got)
		}
		r.file(t, "taskdef.json")
	})

	t.Run("rolling service: what the ECS action drops is a warning", func(t *testing.T) {
		m := m.in(t)
		r := m.verifyRender(t, append(common, "--no-appspec", "--cluster", w.cluster, "--service", w.rolling)...)
		r.expect(t, 0, q(`warning: containerDefinitions[app].environment.RAILS_MAX_THREADS: not deployed by the ECS action: apply it with Terraform`))
		r.expect(t, 0, q(`change: containerDefinitions[app].image: "`+appV1+`" -> "`+appV2+`"`))
		if strings.Count(r.stderr, "warning: ") != 1 {
			t.Errorf("want one warning (the image is deployed):\n%s", r.stderr)
		}
	})

	t.Run("every broken reference at once", func(t *testing.T) {
		m := m.in(t)
		broken := strings.NewReplacer(
			fmt.Sprintf("%q", w.execRole), fmt.Sprintf("%q", w.lambdaRole),
			fmt.Sprintf("%q", w.taskRole), fmt.Sprintf("%q", w.taskRole+"-gone"),
			w.param, w.param+"-gone",
			w.secretARN, w.secretARN+"-gone",
			fmt.Sprintf("%q", ecrRef("us-east-1", w.nginxRepo, "1.27")), fmt.Sprintf("%q", ecrRef("us-east-1", w.armOnlyRepo, "1.0")),
		).Replace(w.template(m, goodVerifyTemplate))
		// The app's log group is another, missing one.
		broken = strings.Replace(broken, `"awslogs-group": `+fmt.Sprintf("%q", w.logGroup)+`, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"`,
			`"awslogs-group": `+fmt.Sprintf("%q", w.logGroup+"-gone")+`, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"`, 1)
		src := w.put(m, "broken.json", broken)
		args := []string{"--template", src, "--var", "threads=8", "--image", "app=" + ecrRef("us-east-1", w.appRepo, "v2"),
			"--no-appspec", "--cluster", w.cluster, "--service", w.bgService}
		r := m.verifyRender(t, args...)
		obj := "error: template " + q(src) + ": "
		armIndex := ecrRef("us-east-1", w.armOnlyRepo, "")
		for _, line := range []string{
			q(`executionRoleArn: role "` + w.lambdaRole + `" cannot be assumed by ECS tasks: its trust policy does not let ecs-tasks.amazonaws.com call sts:AssumeRole (it trusts "lambda.amazonaws.com")`),
			q(`taskRoleArn: role "` + w.taskRole + `-gone" not found`),
			q(`containerDefinitions[0].image: image "`+strings.TrimSuffix(armIndex, ":")) + `@sha256:[0-9a-f]{64}" has no linux/amd64 variant, which the task's runtimePlatform needs; it offers linux/arm64/v8`,
			q(`containerDefinitions[1].secrets[0].valueFrom: ssm parameter "` + w.param + `-gone" not found in region "us-east-1"`),
			q(`containerDefinitions[1].secrets[1].valueFrom: secret "` + w.secretARN + `-gone" not found in region "us-east-1"`),
			q(`containerDefinitions[1].logConfiguration.options.awslogs-group: log group "`+w.logGroup+`-gone" not found in region "us-east-1"`) + ".*",
			q(`service "` + w.bgService + `" in cluster "` + w.cluster + `": deploys with CODE_DEPLOY, which needs an AppSpec, and this run writes none`),
		} {
			r.expect(t, 2, obj+line)
		}
		if n := strings.Count(r.stderr, "error: "); n != 7 {
			t.Errorf("%d error lines, want 7:\n%s", n, r.stderr)
		}
		r.noArtifacts(t)

		// check says the same, and writes nothing either.
		var stdout, stderr bytes.Buffer
		t.Chdir(t.TempDir())
		code := run(context.Background(), append([]string{"ecsrender", "check"}, args...), nil, &stdout, &stderr, func(string) (string, bool) { return "", false })
		if code != 2 || strings.Count(stderr.String(), "error: ") != 7 {
			t.Errorf("check: exit %d, stderr:\n%s", code, stderr.String())
		}
		if entries, _ := os.ReadDir("."); len(entries) != 0 {
			t.Errorf("check wrote %d files", len(entries))
		}
	})

	t.Run("throttled lookups are retried; a 5xx that persists fails the run", func(t *testing.T) {
		m := m.in(t)
		var mu sync.Mutex
		seen := map[string]int{}
		m.calls.SetFaults(func(c awstest.Call) awstest.Fault {
			target := c.Req.Header.Get("X-Amz-Target")
			mu.Lock()
			seen[target]++
			n := seen[target]
			mu.Unlock()
			switch {
			case target == "secretsmanager.DescribeSecret" && n == 1:
				return awstest.Throttle
			case target == "Logs_20140328.DescribeLogGroups":
				return awstest.ServerError
			}
			return awstest.None
		})
		defer m.calls.SetFaults(nil)
		r := m.verifyRender(t, append(common, "--container", "nginx:80")...)
		r.expect(t, 1, `error: describe log group `+q(fmt.Sprintf("%q", w.logGroup))+`: ServerException \(HTTP 500\): internal failure \(3 attempts\)`)
		if n := strings.Count(r.stderr, "error: "); n != 1 {
			t.Errorf("%d error lines, want 1:\n%s", n, r.stderr)
		}
		r.noArtifacts(t)
		mu.Lock()
		defer mu.Unlock()
		if seen["secretsmanager.DescribeSecret"] != 2 || seen["Logs_20140328.DescribeLogGroups"] != 3 {
			t.Errorf("calls %v, want DescribeSecret twice (throttled once) and DescribeLogGroups 3 times", seen)
		}
	})

	t.Run("access denied is a warning", func(t *testing.T) {
		m := m.in(t)
		m.calls.SetFaults(func(c awstest.Call) awstest.Fault {
			switch target := c.Req.Header.Get("X-Amz-Target"); target {
			case "secretsmanager.DescribeSecret", "AmazonSSM.DescribeParameters", "Logs_20140328.DescribeLogGroups", "AmazonEC2ContainerServiceV20141113.DescribeServices":
				return awstest.Denied
			}
			return awstest.None
		})
		defer m.calls.SetFaults(nil)
		r := m.verifyRender(t, append(common, "--container", "nginx:80", "--cluster", w.cluster, "--service", w.bgService)...)
		for _, line := range []string{
			`warning: ssm parameters not verified: .*access denied \(grant ssm:DescribeParameters\)`,
			`warning: secrets not verified: .*access denied \(grant secretsmanager:DescribeSecret\)`,
			`warning: log groups not verified: .*access denied \(grant logs:DescribeLogGroups\)`,
			`warning: service not verified: .*access denied \(grant ecs:DescribeServices\)`,
		} {
			r.expect(t, 0, line)
		}
		if n := strings.Count(r.stderr, "warning: "); n != 4 {
			t.Errorf("%d warnings, want one per denied kind:\n%s", n, r.stderr)
		}
		r.file(t, "taskdef.json")
	})
}

// TestMotoVerifyCallsOnce counts the calls of a verified render: each
// resource is asked about once, the two containers' shared log group
// included, and SSM in one call.
func TestMotoVerifyCallsOnce(t *testing.T) {
	m := newMoto(t)
	w := m.buildVerifyWorld(t)
	src := w.put(m, "good.json", w.template(m, goodVerifyTemplate))
	calls := observeCalls(m.calls, 0)
	r := m.verifyRender(t, "--template", src, "--var", "threads=8", "--image", "app="+ecrRef("us-east-1", w.appRepo, "v2"),
		"--container", "nginx:80", "--cluster", w.cluster, "--service", w.bgService)
	r.expect(t, 0, "")
	got := calls.byResource()
	for _, k := range slices.Sorted(maps.Keys(got)) {
		t.Logf("%d × %s", got[k], k)
		if got[k] != 1 {
			t.Errorf("%s asked %d times, want once", k, got[k])
		}
	}
	byOp := calls.byOperation()
	want := map[string]int{
		"s3 GetObject": 1, "ecr DescribeImages": 2, // the template; app and nginx resolved
		"sts GetCallerIdentity": 1, "iam GetRole": 2, "ssm DescribeParameters": 1,
		"secretsmanager DescribeSecret": 1, "logs DescribeLogGroups": 1,
		"ecr BatchGetImage": 2, "ecr GetDownloadUrlForLayer": 1, // platforms: nginx's index; app's config (moto serves no layers)
		"ecs DescribeServices": 1, "ecs DescribeTaskDefinition": 1,
	}
	for _, k := range slices.Sorted(maps.Keys(byOp)) {
		if byOp[k] != want[k] {
			t.Errorf("%s: %d calls, want %d", k, byOp[k], want[k])
		}
	}
	for k := range want {
		if _, ok := byOp[k]; !ok {
			t.Errorf("%s: no call, want %d", k, want[k])
		}
	}
	t.Logf("calls per verified run: %d (%d without verify: the template and the image lookups)", calls.total(), want["s3 GetObject"]+want["ecr DescribeImages"])
}

// TestMotoVerifyManifestCallsOnce renders four services of a manifest
// with verify on: the run asks for its three images' platforms in one
// BatchGetImage per repository, and for a single image's config once in
// all (moto serves no layers, and the first answer says so for the
// registry), besides each other resource once.
func TestMotoVerifyManifestCallsOnce(t *testing.T) {
	m := newMoto(t)
	w := m.buildVerifyWorld(t)
	src := w.put(m, "good.json", w.template(m, goodVerifyTemplate))
	var b strings.Builder
	b.WriteString("services:\n")
	for i, tag := range []string{"v1", "v2", "v2", "v1"} {
		fmt.Fprintf(&b, "  - {name: s%d, template: %q, no-appspec: true, images: {app: %q}, vars: {threads: \"8\"}}\n", i, src, ecrRef("us-east-1", w.appRepo, tag))
	}
	manifest := filepath.Join(t.TempDir(), "ecsrender.yaml")
	if err := os.WriteFile(manifest, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	calls := observeCalls(m.calls, 0)
	r := m.verifyRender(t, "--manifest", manifest)
	r.expect(t, 0, "")
	got := calls.byResource()
	for _, k := range slices.Sorted(maps.Keys(got)) {
		t.Logf("%d × %s", got[k], k)
		if got[k] != 1 {
			t.Errorf("%s asked %d times, want once", k, got[k])
		}
	}
	byOp := calls.byOperation()
	for op, want := range map[string]int{
		"s3 GetObject": 1, "ecr DescribeImages": 2, // the template; app (v1, v2) and nginx resolved once for the run
		"ecr BatchGetImage":          2, // platforms: app's two images in one call, nginx's index in another
		"ecr GetDownloadUrlForLayer": 1, // app's configs: the first tells that moto serves no layers
	} {
		if byOp[op] != want {
			t.Errorf("%s: %d calls, want %d", op, byOp[op], want)
		}
	}
	t.Logf("calls: %v", byOp)
}

// TestMotoVerifyConcurrent delays every call that reaches moto, and shows
// from the proxy's side that verify's lookups were in flight together and
// beside image resolution. It asserts on the overlap seen, never on time.
func TestMotoVerifyConcurrent(t *testing.T) {
	m := newMoto(t)
	w := m.buildVerifyWorld(t)
	src := w.put(m, "good.json", w.template(m, goodVerifyTemplate))
	calls := observeCalls(m.calls, 150*time.Millisecond)
	start := time.Now()
	r := m.verifyRender(t, "--template", src, "--var", "threads=8", "--image", "app="+ecrRef("us-east-1", w.appRepo, "v2"),
		"--container", "nginx:80", "--cluster", w.cluster, "--service", w.bgService)
	elapsed := time.Since(start)
	r.expect(t, 0, "")
	calls.mu.Lock()
	defer calls.mu.Unlock()
	t.Logf("%d calls, each delayed %v (%v in sequence); the run took %v; at most %d in flight",
		len(calls.seen), calls.delay, time.Duration(len(calls.seen))*calls.delay, elapsed.Round(time.Millisecond), calls.maxInFlight)
	if calls.maxVerifyInFlight < 4 {
		t.Errorf("at most %d verify lookups were in flight at once, want at least 4 (roles, parameters, secret, log group, service)", calls.maxVerifyInFlight)
	}
	if !calls.verifyBesideResolve {
		t.Errorf("no verify lookup was in flight beside an ECR DescribeImages call")
	}
	if !calls.s3BesideResolve {
		t.Errorf("the template read and the lookup of the --image were not in flight together")
	}
}

// callObserver sees every call that reaches the proxy: it names the
// resource each asks about, and tracks what is in flight together.
type callObserver struct {
	delay time.Duration

	mu                  sync.Mutex
	seen                []awsCall
	inFlight            map[int]awsCall
	maxInFlight         int
	maxVerifyInFlight   int
	verifyBesideResolve bool
	s3BesideResolve     bool
	next                int
}

// awsCall is one call: its service, operation and what it asks about.
type awsCall struct{ service, op, resource string }

func (c awsCall) verify() bool {
	return c.service != "s3" && !(c.service == "ecr" && c.op == "DescribeImages")
}

// observeCalls makes p report each call to a new observer, holding each
// for delay before it goes on to moto.
func observeCalls(p *awstest.Proxy, delay time.Duration) *callObserver {
	o := &callObserver{delay: delay, inFlight: map[int]awsCall{}}
	p.Take()
	p.SetFaults(func(c awstest.Call) awstest.Fault {
		call := describeCall(c.Req)
		o.mu.Lock()
		id := o.next
		o.next++
		o.seen = append(o.seen, call)
		o.inFlight[id] = call
		o.maxInFlight = max(o.maxInFlight, len(o.inFlight))
		var verify, resolve, s3 int
		for _, f := range o.inFlight {
			switch {
			case f.service == "s3":
				s3++
			case f.verify():
				verify++
			default:
				resolve++
			}
		}
		o.maxVerifyInFlight = max(o.maxVerifyInFlight, verify)
		o.verifyBesideResolve = o.verifyBesideResolve || verify > 0 && resolve > 0
		o.s3BesideResolve = o.s3BesideResolve || s3 > 0 && resolve > 0
		o.mu.Unlock()
		if delay > 0 {
			time.Sleep(delay)
		}
		o.mu.Lock()
		delete(o.inFlight, id)
		o.mu.Unlock()
		return awstest.None
	})
	return o
}

func (o *callObserver) byResource() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := map[string]int{}
	for _, c := range o.seen {
		if c.op == "GetDownloadUrlForLayer" {
			continue // one attempt, after BatchGetImage of the same image
		}
		n[c.service+" "+c.op+" "+c.resource]++
	}
	return n
}

func (o *callObserver) byOperation() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := map[string]int{}
	for _, c := range o.seen {
		n[c.service+" "+c.op]++
	}
	return n
}

func (o *callObserver) total() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.seen)
}

var scopeServiceRE = regexp.MustCompile(`Credential=[^/]+/[0-9]+/[a-z0-9-]+/([a-z0-9-]+)/`)

// describeCall names a request's service, operation and resource from its
// signature scope and body, and leaves the body for the proxy to forward.
func describeCall(r *http.Request) awsCall {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	c := awsCall{service: "?"}
	if m := scopeServiceRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		c.service = m[1]
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		c.op = target[strings.LastIndex(target, ".")+1:]
		// The JSON protocols: what each operation asks about.
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		for _, k := range []string{"SecretId", "logGroupNamePrefix", "taskDefinition", "services", "ParameterFilters", "repositoryName", "imageIds"} {
			if v, ok := in[k]; ok {
				c.resource += fmt.Sprint(v) + " "
			}
		}
		return c
	}
	if c.service == "s3" {
		c.op, c.resource = "GetObject", r.URL.Path
		return c
	}
	form, _ := url.ParseQuery(string(body))
	c.op, c.resource = form.Get("Action"), form.Get("RoleName")
	return c
}
