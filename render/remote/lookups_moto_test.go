package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/render"
	"github.com/ecsrender/ecsrender/render/awstest"
)

// lookupsMotoEndpoint returns moto's address, skipping the test without
// one (failing it in CI, which must run the moto suite).
func lookupsMotoEndpoint(t *testing.T) string {
	t.Helper()
	ep := os.Getenv("ECSRENDER_MOTO_ENDPOINT")
	if ep == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("the moto suite is required in CI: ECSRENDER_MOTO_ENDPOINT is not set (.ci/run starts moto_server and sets it)")
		}
		t.Skip("moto suite skipped: start `moto_server -H 127.0.0.1 -p 5000` and run `ECSRENDER_MOTO_ENDPOINT=http://127.0.0.1:5000 go test ./...`")
	}
	u, err := url.Parse(ep)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
		t.Fatalf("ECSRENDER_MOTO_ENDPOINT=%q: want http://127.0.0.1:PORT", ep)
	}
	return ep
}

// countingTransport counts the AWS operations that pass through it, by
// region and name ("us-east-1 DescribeParameters").
type countingTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	op := r.Header.Get("X-Amz-Target")
	op = op[strings.LastIndex(op, ".")+1:]
	if op == "" && r.Body != nil {
		// The query protocol (IAM, STS) names the action in the form body.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		op = form.Get("Action")
	}
	region := ""
	if m := credentialScopeRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		region = m[1]
	}
	c.mu.Lock()
	c.n[region+" "+op]++
	c.mu.Unlock()
	return c.base.RoundTrip(r)
}

func (c *countingTransport) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// motoWorld is what the test built in moto.
type motoWorld struct {
	sfx                                string
	execRole, lambdaRole, pathRole     string // ARNs
	secretARN, farSecretARN            string
	logGroup                           string
	repo, indexDigest                  string
	cluster, bgService, rollingService string
	blueTG                             string
	taskDefARN                         string
}

const motoAccount = "123456789012" // moto's default account

func trustPolicy(service string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":%q},"Action":"sts:AssumeRole"}]}`, service)
}

// buildMotoWorld creates, with the SDK, a world of roles, parameters,
// secrets, a log group, images, an ALB and two services. Names carry a
// random suffix: moto is shared with the other packages' tests and may
// outlive a run.
func buildMotoWorld(t *testing.T, cfg aws.Config, endpoint string) motoWorld {
	t.Helper()
	ctx := context.Background()
	w := motoWorld{sfx: fmt.Sprintf("%06x", rand.IntN(1<<24))}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("build moto world: %s: %v", what, err)
		}
	}

	im := iam.NewFromConfig(cfg)
	for _, r := range []struct {
		name, path, service string
		arn                 *string
	}{
		{"lk-exec-" + w.sfx, "/", "ecs-tasks.amazonaws.com", &w.execRole},
		{"lk-lambda-" + w.sfx, "/", "lambda.amazonaws.com", &w.lambdaRole},
		{"lk-pathed-" + w.sfx, "/team/svc/", "ecs-tasks.amazonaws.com", &w.pathRole},
	} {
		out, err := im.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName: aws.String(r.name), Path: aws.String(r.path), AssumeRolePolicyDocument: aws.String(trustPolicy(r.service)),
		})
		must("create role", err)
		*r.arn = aws.ToString(out.Role.Arn)
	}

	for _, p := range []struct{ region, name string }{
		{"us-east-1", "lk-plain-" + w.sfx},
		{"us-east-1", "/lk/" + w.sfx + "/db/password"},
		{"eu-west-1", "/lk/" + w.sfx + "/far"},
	} {
		_, err := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.Region = p.region }).PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(p.name), Value: aws.String("s3cr3t-value"), Type: ssmtypes.ParameterTypeSecureString,
		})
		must("put parameter", err)
	}

	sec, err := secretsmanager.NewFromConfig(cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("lk/" + w.sfx + "/db"), SecretString: aws.String("s3cr3t-value"),
	})
	must("create secret", err)
	w.secretARN = aws.ToString(sec.ARN)
	far, err := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.Region = "eu-west-1" }).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("lk/" + w.sfx + "/far"), SecretString: aws.String("s3cr3t-value"),
	})
	must("create secret in eu-west-1", err)
	w.farSecretARN = aws.ToString(far.ARN)

	w.logGroup = "/ecs/lk-" + w.sfx
	_, err = cloudwatchlogs.NewFromConfig(cfg).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(w.logGroup)})
	must("create log group", err)

	// Images: an index of linux/amd64 and linux/arm64, and a single image.
	w.repo = "lk-app-" + w.sfx
	er := ecr.NewFromConfig(cfg)
	_, err = er.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(w.repo)})
	must("create repository", err)
	index := `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[` +
		`{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:` + strings.Repeat("a", 64) + `","size":528,"platform":{"architecture":"amd64","os":"linux"}},` +
		`{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:` + strings.Repeat("b", 64) + `","size":528,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}`
	single := `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",` +
		`"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:` + strings.Repeat("c", 64) + `","size":100},` +
		`"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"sha256:` + strings.Repeat("d", 64) + `","size":100}]}`
	for _, img := range []struct{ tag, manifest, mediaType string }{
		{"multi", index, mediaDockerList},
		{"single", single, mediaDockerManifest},
	} {
		// moto computes a wrong digest unless it is given the real one.
		sum := sha256.Sum256([]byte(img.manifest))
		digest := "sha256:" + hex.EncodeToString(sum[:])
		_, err := er.PutImage(ctx, &ecr.PutImageInput{
			RepositoryName: aws.String(w.repo), ImageTag: aws.String(img.tag), ImageManifest: aws.String(img.manifest),
			ImageManifestMediaType: aws.String(img.mediaType), ImageDigest: aws.String(digest),
		})
		must("put image", err)
		if img.tag == "multi" {
			w.indexDigest = digest
		}
	}

	// An ALB with a blue and a green target group in the default VPC.
	vpc, subnets := awstest.DefaultSubnets(t, cfg, endpoint)
	lb := elb.NewFromConfig(cfg)
	alb, err := lb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("lk-" + w.sfx), Subnets: subnets[:2]})
	must("create load balancer", err)
	var tgs []string
	for _, c := range []string{"blue", "green"} {
		tg, err := lb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
			Name: aws.String("lk-" + c + "-" + w.sfx), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
			VpcId: aws.String(vpc), TargetType: elbtypes.TargetTypeEnumIp,
		})
		must("create target group", err)
		tgs = append(tgs, aws.ToString(tg.TargetGroups[0].TargetGroupArn))
	}
	w.blueTG = tgs[0]
	_, err = lb.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: alb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(w.blueTG)}},
	})
	must("create listener", err)

	// A cluster running a CODE_DEPLOY service and a rolling one.
	es := ecs.NewFromConfig(cfg)
	w.cluster = "lk-" + w.sfx
	_, err = es.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(w.cluster)})
	must("create cluster", err)
	td, err := es.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("lk-web-" + w.sfx), NetworkMode: ecstypes.NetworkModeAwsvpc,
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Cpu:                     aws.String("256"), Memory: aws.String("512"), ExecutionRoleArn: aws.String(w.execRole),
		ContainerDefinitions: []ecstypes.ContainerDefinition{
			{
				Name: aws.String("nginx"), Image: aws.String("nginx:1.27"), Essential: aws.Bool(true),
				PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(80)}},
				DockerLabels: map[string]string{"com.example.Team": "web"},
			},
			{
				Name: aws.String("app"), Image: aws.String(motoAccount + ".dkr.ecr.us-east-1.amazonaws.com/" + w.repo + ":multi"),
				Environment: []ecstypes.KeyValuePair{{Name: aws.String("RAILS_MAX_THREADS"), Value: aws.String("5")}},
				Secrets:     []ecstypes.Secret{{Name: aws.String("DB_PASSWORD"), ValueFrom: aws.String(w.secretARN)}},
			},
		},
	})
	must("register task definition", err)
	w.taskDefARN = aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	network := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
		// moto's CreateService needs securityGroups, even empty.
		Subnets: subnets[:2], SecurityGroups: []string{},
	}}
	w.bgService, w.rollingService = "lk-bg-"+w.sfx, "lk-rolling-"+w.sfx
	_, err = es.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(w.cluster), ServiceName: aws.String(w.bgService), TaskDefinition: aws.String(w.taskDefARN),
		DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: network,
		DeploymentController: &ecstypes.DeploymentController{Type: ecstypes.DeploymentControllerTypeCodeDeploy},
		LoadBalancers:        []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(w.blueTG), ContainerName: aws.String("nginx"), ContainerPort: aws.Int32(80)}},
	})
	must("create CODE_DEPLOY service", err)
	_, err = es.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(w.cluster), ServiceName: aws.String(w.rollingService), TaskDefinition: aws.String(w.taskDefARN),
		DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: network,
	})
	must("create rolling service", err)
	return w
}

func TestLookupsAgainstMoto(t *testing.T) {
	endpoint := lookupsMotoEndpoint(t)
	cfg := lookupsConfig(t, endpoint)
	w := buildMotoWorld(t, cfg, endpoint)

	counter := &countingTransport{base: http.DefaultTransport, n: map[string]int{}}
	lcfg := cfg.Copy()
	lcfg.HTTPClient = &http.Client{Transport: counter}
	l := NewLookups(lcfg)
	ctx := context.Background()

	t.Run("account", func(t *testing.T) {
		a, err := l.CallerAccount(ctx)
		if err != nil || a != motoAccount {
			t.Errorf("CallerAccount = %q, %v", a, err)
		}
	})

	t.Run("roles", func(t *testing.T) {
		for _, tc := range []struct {
			ref       string
			found     bool
			arn       string
			trustsECS bool
		}{
			{"lk-exec-" + w.sfx, true, w.execRole, true},
			{w.execRole, true, w.execRole, true},
			{"lk-lambda-" + w.sfx, true, w.lambdaRole, false},
			{w.pathRole, true, w.pathRole, true},
			{"lk-missing-" + w.sfx, false, "", false},
			{"arn:aws:iam::" + motoAccount + ":role/lk-missing-" + w.sfx, false, "", false},
		} {
			f, err := l.Role(ctx, tc.ref)
			if err != nil {
				t.Errorf("Role(%q): %v", tc.ref, err)
				continue
			}
			if f.Found != tc.found || f.ARN != tc.arn || strings.Contains(f.TrustPolicy, "ecs-tasks.amazonaws.com") != tc.trustsECS {
				t.Errorf("Role(%q) = %+v", tc.ref, f)
			}
			if tc.found && !json.Valid([]byte(f.TrustPolicy)) {
				t.Errorf("Role(%q) trust policy is not JSON: %s", tc.ref, f.TrustPolicy)
			}
		}
		if !strings.Contains(w.pathRole, ":role/team/svc/") {
			t.Errorf("path role ARN %s has no path", w.pathRole)
		}
	})

	t.Run("parameters", func(t *testing.T) {
		arn := func(region, name string) string {
			return "arn:aws:ssm:" + region + ":" + motoAccount + ":parameter" + map[bool]string{true: "", false: "/"}[strings.HasPrefix(name, "/")] + name
		}
		want := map[string]bool{
			"lk-plain-" + w.sfx:                           true,
			"/lk/" + w.sfx + "/db/password":               true,
			arn("us-east-1", "lk-plain-"+w.sfx):           true,
			arn("us-east-1", "/lk/"+w.sfx+"/db/password"): true,
			arn("eu-west-1", "/lk/"+w.sfx+"/far"):         true,  // asked in eu-west-1
			"/lk/" + w.sfx + "/far":                       false, // not in the default region
			arn("eu-west-1", "/lk/"+w.sfx+"/db/password"): false,
			"/lk/" + w.sfx + "/missing":                   false,
		}
		// 60 more missing names: the 64 us-east-1 names (the one-level ARN
		// asks for two) need two calls of 50.
		for i := range 60 {
			want[fmt.Sprintf("/lk/%s/none/%02d", w.sfx, i)] = false
		}
		names := slices.Sorted(func(yield func(string) bool) {
			for k := range want {
				if !yield(k) {
					return
				}
			}
		})
		before := counter.counts()
		got, err := l.Parameters(ctx, "", names)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Parameters (-want +got)\n%s", diff)
		}
		after := counter.counts()
		if n := after["us-east-1 DescribeParameters"] - before["us-east-1 DescribeParameters"]; n != 2 {
			t.Errorf("%d DescribeParameters calls in us-east-1 for 64 names, want 2", n)
		}
		if n := after["eu-west-1 DescribeParameters"] - before["eu-west-1 DescribeParameters"]; n != 1 {
			t.Errorf("%d DescribeParameters calls in eu-west-1, want 1", n)
		}
	})

	t.Run("secrets", func(t *testing.T) {
		partial := w.secretARN[:strings.LastIndex(w.secretARN, "-")]
		for _, tc := range []struct {
			region, id string
			want       bool
		}{
			{"", "lk/" + w.sfx + "/db", true},
			{"", w.secretARN, true},
			{"", partial, true},
			{"", w.farSecretARN, true}, // asked in eu-west-1, its ARN's region
			{"", "lk/" + w.sfx + "/far", false},
			{"eu-west-1", "lk/" + w.sfx + "/far", true},
			{"", "lk/" + w.sfx + "/missing", false},
			{"", partial + "x", false},
		} {
			got, err := l.Secret(ctx, tc.region, tc.id)
			if err != nil || got != tc.want {
				t.Errorf("Secret(%q, %q) = %v, %v; want %v", tc.region, tc.id, got, err, tc.want)
			}
		}
	})

	t.Run("log groups", func(t *testing.T) {
		for name, want := range map[string]bool{
			w.logGroup:                     true,
			w.logGroup[:len(w.logGroup)-1]: false, // a prefix of one that exists
			w.logGroup + "-missing":        false,
		} {
			got, err := l.LogGroup(ctx, "", name)
			if err != nil || got != want {
				t.Errorf("LogGroup(%q) = %v, %v; want %v", name, got, err, want)
			}
		}
	})

	t.Run("image platforms", func(t *testing.T) {
		host := motoAccount + ".dkr.ecr.us-east-1.amazonaws.com/"
		both := []render.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}}
		for _, tc := range []struct {
			image string
			want  []render.Platform
		}{
			{host + w.repo + ":multi", both},
			{host + w.repo + "@" + w.indexDigest, both},
			// moto serves no layer download (GetDownloadUrlForLayer answers
			// HTTP 500, "not yet implemented"), so a single image's config
			// blob cannot be read there: its platform is unknown.
			{host + w.repo + ":single", nil},
			{host + w.repo + ":missing", nil},
			{host + "lk-no-such-repo-" + w.sfx + ":v1", nil},
		} {
			got, err := l.ImagePlatforms(ctx, tc.image)
			if err != nil {
				t.Errorf("ImagePlatforms(%q): %v", tc.image, err)
				continue
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ImagePlatforms(%q) (-want +got)\n%s", tc.image, diff)
			}
		}
	})

	t.Run("services", func(t *testing.T) {
		bg, err := l.Service(ctx, "", w.cluster, w.bgService)
		if err != nil {
			t.Fatal(err)
		}
		wantLB := []render.ServiceLoadBalancer{{ContainerName: "nginx", ContainerPort: 80, TargetGroupARN: w.blueTG}}
		if !bg.Found || bg.Status != "ACTIVE" || bg.DeploymentController != "CODE_DEPLOY" || bg.TaskDefinitionARN != w.taskDefARN || !cmp.Equal(wantLB, bg.LoadBalancers) {
			t.Errorf("CODE_DEPLOY service = %+v", bg)
		}
		var doc struct {
			TaskDefinition map[string]json.RawMessage `json:"taskDefinition"`
		}
		if err := json.Unmarshal(bg.TaskDefinition, &doc); err != nil || doc.TaskDefinition == nil {
			t.Fatalf("task definition %s: %v", bg.TaskDefinition, err)
		}
		for _, k := range []string{"family", "containerDefinitions", "taskDefinitionArn", "executionRoleArn", "networkMode"} {
			if _, ok := doc.TaskDefinition[k]; !ok {
				t.Errorf("task definition has no %q: %s", k, bg.TaskDefinition)
			}
		}
		for _, s := range []string{`"com.example.Team"`, `"RAILS_MAX_THREADS"`, `"valueFrom"`} {
			if !bytes.Contains(bg.TaskDefinition, []byte(s)) {
				t.Errorf("task definition lacks %s: %s", s, bg.TaskDefinition)
			}
		}
		if bytes.Contains(bg.TaskDefinition, []byte("s3cr3t-value")) {
			t.Error("a secret value reached the task definition")
		}

		rolling, err := l.Service(ctx, "", w.cluster, w.rollingService)
		if err != nil {
			t.Fatal(err)
		}
		if !rolling.Found || rolling.DeploymentController != "ECS" || rolling.LoadBalancers != nil || len(rolling.TaskDefinition) == 0 {
			t.Errorf("rolling service = %+v", rolling)
		}
		for _, tc := range []struct{ cluster, service string }{
			{w.cluster, "lk-missing-" + w.sfx},
			{"lk-no-cluster-" + w.sfx, w.bgService},
		} {
			s, err := l.Service(ctx, "", tc.cluster, tc.service)
			if err != nil || s.Found {
				t.Errorf("Service(%q, %q) = %+v, %v; want not found", tc.cluster, tc.service, s, err)
			}
		}
	})

	counts := counter.counts()
	t.Logf("calls by region and operation: %v", counts)
	// One image of five is single, and its config is asked for once.
	if n := counts["us-east-1 GetDownloadUrlForLayer"]; n != 1 {
		t.Errorf("%d GetDownloadUrlForLayer calls, want 1", n)
	}
	// Read-only, and never a value: no write, no GetParameter(s), no GetSecretValue.
	for k := range counts {
		op := k[strings.Index(k, " ")+1:]
		if strings.HasPrefix(op, "GetParameter") || strings.HasSuffix(op, "SecretValue") ||
			slices.ContainsFunc([]string{"Put", "Create", "Delete", "Update", "Register"}, func(p string) bool { return strings.HasPrefix(op, p) }) {
			t.Errorf("lookups made a call they must not: %s", k)
		}
	}
}
