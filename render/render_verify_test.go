package render

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/render/ref"
)

// Render with verify: the fakes of verify_test.go (fakeWorld) behind
// Deps.Lookups, and seededResolver's images.

const (
	rvExecRole = "arn:aws:iam::123456789012:role/web-exec"
	rvSecret   = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
)

// rvTemplate points at a role by ARN and one by name, a secret, a
// parameter and a log group, with app's image given by --image and
// nginx's in the template.
const rvTemplate = `{
  "family": "web",
  "requiresCompatibilities": ["FARGATE"],
  "networkMode": "awsvpc",
  "cpu": "256",
  "memory": "512",
  "executionRoleArn": "` + rvExecRole + `",
  "taskRoleArn": "web-task",
  "containerDefinitions": [
    {"name": "app", "image": "` + appRepo + `:latest",
     "environment": [{"name": "RAILS_MAX_THREADS", "value": "{{ var \"threads\" }}"}],
     "secrets": [
       {"name": "DB_PASSWORD", "valueFrom": "` + rvSecret + `:password::"},
       {"name": "API_KEY", "valueFrom": "/prd/api-key"}
     ],
     "logConfiguration": {"logDriver": "awslogs",
       "options": {"awslogs-group": "/ecs/web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"}}},
    {"name": "nginx", "image": "` + nginxRepo + `:1.27", "portMappings": [{"containerPort": 80}]}
  ]
}`

// rvWorld holds everything rvTemplate points at, and a rolling and a
// CODE_DEPLOY service whose running revision has 5 threads and app's
// older image.
func rvWorld() *fakeWorld {
	running := strings.NewReplacer(
		`{{ var \"threads\" }}`, "5",
		appRepo+":latest", appRepo+"@"+digestN(9),
		nginxRepo+":1.27", nginxRepo+"@"+digestN(2),
		`"family"`, `"taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7", "revision": 7, "family"`,
	).Replace(rvTemplate)
	running = `{"taskDefinition": ` + running + `}`
	rolling := ServiceFacts{Found: true, Status: "ACTIVE", DeploymentController: "ECS",
		TaskDefinitionARN: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7", TaskDefinition: []byte(running)}
	blueGreen := rolling
	blueGreen.DeploymentController = "CODE_DEPLOY"
	blueGreen.LoadBalancers = []ServiceLoadBalancer{{ContainerName: "nginx", ContainerPort: 80}}
	return &fakeWorld{
		account: testAccount,
		roles: map[string]RoleFacts{
			rvExecRole: {Found: true, ARN: rvExecRole, TrustPolicy: ecsTrust},
			"web-task": {Found: true, ARN: "arn:aws:iam::123456789012:role/web-task", TrustPolicy: ecsTrust},
		},
		params:    map[string]bool{"us-east-1 /prd/api-key": true},
		secrets:   map[string]bool{"us-east-1 " + rvSecret: true},
		logGroups: map[string]bool{"us-east-1 /ecs/web": true},
		images: map[string][]Platform{
			appRepo + "@" + digestN(1):   multiArch,
			nginxRepo + "@" + digestN(2): multiArch,
		},
		services: map[string]ServiceFacts{"prd/web": rolling, "prd/web-bg": blueGreen},
	}
}

func rvOptions(t *testing.T) Options {
	return Options{
		Template:  writeTemplate(t, rvTemplate),
		Images:    images("app=" + appRepo + ":v1"),
		Variables: map[string]string{"threads": "8"},
		Pin:       true,
		Verify:    true,
	}
}

func rvDeps(w *fakeWorld) Deps {
	lk := w.lookups()
	return Deps{Loader: LocalLoader{}, Resolver: seededResolver(), Lookups: &lk, Region: "us-east-1"}
}

func problemStrings(t *testing.T, err error) []string {
	t.Helper()
	var pe *ProblemsError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *ProblemsError", err)
	}
	if !IsInputError(err) {
		t.Errorf("IsInputError(%v) = false, want the exit status of an input problem", err)
	}
	var out []string
	for _, p := range pe.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestRenderVerifyPasses(t *testing.T) {
	t.Parallel()
	w := rvWorld()
	res, err := Render(context.Background(), rvOptions(t), rvDeps(w))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) > 0 || len(res.Changes) > 0 {
		t.Errorf("warnings %v, changes %v; want none without a target", res.Warnings, res.Changes)
	}
	// Each resource once; the images asked about pinned.
	want := map[string]int{
		"account  ":                              1,
		"role  " + rvExecRole:                    1,
		"role  web-task":                         1,
		"secret us-east-1 " + rvSecret:           1,
		"parameter us-east-1 /prd/api-key":       1,
		"loggroup us-east-1 /ecs/web":            1,
		"image  " + appRepo + "@" + digestN(1):   1,
		"image  " + nginxRepo + "@" + digestN(2): 1,
	}
	if diff := cmp.Diff(want, w.calls); diff != "" {
		t.Errorf("lookups (-want +got):\n%s", diff)
	}
}

// Every broken reference is named at once, each at its JSON path, as an
// input problem; nothing is rendered.
func TestRenderVerifyProblemsAllAtOnce(t *testing.T) {
	t.Parallel()
	w := rvWorld()
	w.roles[rvExecRole] = RoleFacts{Found: true, ARN: rvExecRole, TrustPolicy: lambdaTrust}
	delete(w.roles, "web-task")
	delete(w.secrets, "us-east-1 "+rvSecret)
	delete(w.params, "us-east-1 /prd/api-key")
	delete(w.logGroups, "us-east-1 /ecs/web")
	w.images[appRepo+"@"+digestN(1)] = []Platform{{OS: "linux", Architecture: "arm64"}}
	res, err := Render(context.Background(), rvOptions(t), rvDeps(w))
	if res != nil {
		t.Errorf("a result came with the problems")
	}
	want := []string{
		`executionRoleArn: role "` + rvExecRole + `" cannot be assumed by ECS tasks: its trust policy does not let ecs-tasks.amazonaws.com call sts:AssumeRole (it trusts "lambda.amazonaws.com")`,
		`taskRoleArn: role "web-task" not found`,
		`containerDefinitions[0].image: image "` + appRepo + "@" + digestN(1) + `" has no linux/amd64 variant, which the task's runtimePlatform needs; it offers linux/arm64`,
		`containerDefinitions[0].secrets[0].valueFrom: secret "` + rvSecret + `" not found in region "us-east-1"`,
		`containerDefinitions[0].secrets[1].valueFrom: ssm parameter "/prd/api-key" not found in region "us-east-1"`,
		`containerDefinitions[0].logConfiguration.options.awslogs-group: log group "/ecs/web" not found in region "us-east-1"; create it, or set awslogs-create-group to "true" and allow logs:CreateLogGroup to the execution role`,
	}
	if diff := cmp.Diff(want, problemStrings(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// A document that fails its own checks still gets verify's problems of its
// references, in the same error.
func TestRenderVerifyJoinsCheckProblems(t *testing.T) {
	t.Parallel()
	w := rvWorld()
	delete(w.roles, "web-task")
	o := rvOptions(t)
	o.Template = writeTemplate(t, strings.Replace(rvTemplate, `"cpu"`, `"cpus"`, 1))
	_, err := Render(context.Background(), o, rvDeps(w))
	got := problemStrings(t, err)
	want := []string{
		`cpus: unknown key; did you mean "cpu"?`,
		`taskRoleArn: role "web-task" not found`,
	}
	for _, line := range want {
		found := false
		for _, g := range got {
			found = found || strings.HasSuffix(g, line) || g == line
		}
		if !found {
			t.Errorf("problems %q do not include %q", got, line)
		}
	}
}

// A denied lookup is one warning naming the permission, and the run goes on.
func TestRenderVerifyDenied(t *testing.T) {
	t.Parallel()
	w := rvWorld()
	w.errs = map[string]error{"role:*": deniedError{"iam:GetRole"}}
	res, err := Render(context.Background(), rvOptions(t), rvDeps(w))
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, p := range res.Warnings {
		warnings = append(warnings, p.String())
	}
	if diff := cmp.Diff([]string{"roles not verified: access denied (grant iam:GetRole)"}, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// A lookup that fails other than by access denied fails the run (exit 1).
func TestRenderVerifyLookupFailure(t *testing.T) {
	t.Parallel()
	w := rvWorld()
	w.errs = map[string]error{"loggroup:*": errors.New(`describe log group "/ecs/web": ServiceUnavailableException (HTTP 503): try later (3 attempts)`)}
	_, err := Render(context.Background(), rvOptions(t), rvDeps(w))
	if err == nil || IsInputError(err) || !strings.Contains(err.Error(), "ServiceUnavailableException") {
		t.Fatalf("err = %v, want the lookup's failure, not an input error", err)
	}
}

func TestRenderVerifyOffOrOffline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		verify bool
		deps   func(Deps) Deps
	}{
		{"verify off", false, func(d Deps) Deps { return d }},
		{"offline: no lookups", true, func(d Deps) Deps { d.Lookups, d.Resolver = nil, nil; return d }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := rvWorld()
			delete(w.roles, "web-task") // would be a problem if asked
			o := rvOptions(t)
			o.Verify = tc.verify
			o.Target = &VerifyTarget{Cluster: "prd", Service: "web"}
			res, err := Render(context.Background(), o, tc.deps(rvDeps(w)))
			if err != nil {
				t.Fatal(err)
			}
			if len(w.calls) > 0 || len(w.paramCalls) > 0 {
				t.Errorf("lookups made: %v %v", w.calls, w.paramCalls)
			}
			if len(res.Changes) > 0 {
				t.Errorf("changes %v without verify", res.Changes)
			}
		})
	}
}

func TestRenderVerifyTarget(t *testing.T) {
	t.Parallel()
	const (
		imageChange = `containerDefinitions[app].image: "` + "sha256:0000000000000000000000000000000000000000000000000000000000000009" + `" -> "` + "sha256:0000000000000000000000000000000000000000000000000000000000000001" + `"`
		envChange   = `containerDefinitions[app].environment.RAILS_MAX_THREADS: "5" -> "8"`
	)
	for _, tc := range []struct {
		name      string
		service   string
		noAppSpec bool
		problems  []string
		warnings  []string
	}{
		{
			name:     "rolling: the environment is not deployed",
			service:  "web",
			warnings: []string{"containerDefinitions[app].environment.RAILS_MAX_THREADS: " + notDeployedMsg},
		},
		{
			name:    "code deploy to the load balancer",
			service: "web-bg",
		},
		{
			name:      "code deploy without an AppSpec",
			service:   "web-bg",
			noAppSpec: true,
			problems:  []string{`service "web-bg" in cluster "prd": deploys with CODE_DEPLOY, which needs an AppSpec, and this run writes none`},
		},
		{
			name:     "missing service",
			service:  "gone",
			problems: []string{`service "gone" in cluster "prd": not found in region "us-east-1"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := rvOptions(t)
			o.NoAppSpec = tc.noAppSpec
			o.Target = &VerifyTarget{Cluster: "prd", Service: tc.service}
			res, err := Render(context.Background(), o, rvDeps(rvWorld()))
			if tc.problems != nil {
				if diff := cmp.Diff(tc.problems, problemStrings(t, err)); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{imageChange, envChange}, res.Changes); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			var warnings []string
			for _, p := range res.Warnings {
				warnings = append(warnings, p.String())
			}
			if diff := cmp.Diff(tc.warnings, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// blockingLoader is a Loader whose Load runs during first.
type blockingLoader struct {
	next   Loader
	during func()
}

func (l blockingLoader) Load(ctx context.Context, src ref.Source) ([]byte, error) {
	l.during()
	return l.next.Load(ctx, src)
}

// rendezvous lets n parties through only once all n have arrived; after
// ten seconds it gives up (a deadlock breaker, not a timed assertion) and
// the test fails on met.
type rendezvous struct {
	mu      sync.Mutex
	n       int
	arrived []string
	all     chan struct{}
	met     bool
}

func newRendezvous(n int) *rendezvous { return &rendezvous{n: n, all: make(chan struct{})} }

func (r *rendezvous) arrive(who string) {
	r.mu.Lock()
	r.arrived = append(r.arrived, who)
	if len(r.arrived) == r.n {
		r.met = true
		close(r.all)
	}
	r.mu.Unlock()
	select {
	case <-r.all:
	case <-time.After(10 * time.Second):
	}
}

// The template read and the lookup of the given image start together: the
// loader and the resolver each wait until the other has been called.
func TestRenderLoadsAndResolvesTogether(t *testing.T) {
	t.Parallel()
	rv := newRendezvous(2)
	var once sync.Once
	seeded := seededResolver()
	r := resolverFunc(func(ctx context.Context, refs []ref.ImageRef) (map[string]ResolvedImage, error) {
		once.Do(func() { rv.arrive("resolver") })
		return seeded.Resolve(ctx, refs)
	})
	_, err := Render(context.Background(), Options{
		Template: writeTemplate(t, twoContainers),
		Images:   images("app=" + appRepo + ":v1"),
	}, Deps{Loader: blockingLoader{LocalLoader{}, func() { rv.arrive("loader") }}, Resolver: r})
	if err != nil {
		t.Fatal(err)
	}
	if !rv.met {
		t.Errorf("only %v ran: the template read and the image lookup did not overlap", rv.arrived)
	}
}

// The verify lookups that need no digest run beside image resolution: the
// role lookup and the template image's resolution each wait for the other.
func TestRenderVerifyOverlapsResolve(t *testing.T) {
	t.Parallel()
	rv := newRendezvous(2)
	w := rvWorld()
	var once sync.Once
	w.during = func() {
		w.mu.Lock()
		_, asked := w.calls["role  web-task"]
		w.mu.Unlock()
		if asked {
			once.Do(func() { rv.arrive("role lookup") })
		}
	}
	seeded := seededResolver()
	d := rvDeps(w)
	d.Resolver = resolverFunc(func(ctx context.Context, refs []ref.ImageRef) (map[string]ResolvedImage, error) {
		for _, r := range refs {
			if r.Repository == "nginx" { // only in the template
				rv.arrive("resolve nginx")
			}
		}
		return seeded.Resolve(ctx, refs)
	})
	if _, err := Render(context.Background(), rvOptions(t), d); err != nil {
		t.Fatal(err)
	}
	if !rv.met {
		t.Errorf("only %v ran: verify's lookups waited for image resolution", rv.arrived)
	}
}

// However the answers interleave, the result is the same.
func TestRenderVerifyDeterministic(t *testing.T) {
	t.Parallel()
	var first *Result
	o := rvOptions(t)
	o.Target = &VerifyTarget{Cluster: "prd", Service: "web"}
	for i := range 20 {
		w := rvWorld()
		w.roles[rvExecRole] = RoleFacts{Found: true, ARN: rvExecRole, TrustPolicy: lambdaTrust}
		w.errs = map[string]error{"secret:*": deniedError{"secretsmanager:DescribeSecret"}}
		w.during = func() { time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond) }
		delete(w.roles, "web-task")
		res, err := Render(context.Background(), o, rvDeps(w))
		if err == nil {
			t.Fatalf("run %d: no error", i)
		}
		got := &Result{Notices: []string{err.Error()}}
		if res != nil {
			got = res
		}
		if first == nil {
			first = got
			continue
		}
		if diff := cmp.Diff(first.Notices, got.Notices); diff != "" {
			t.Fatalf("run %d differs from the first (-first +this):\n%s", i, diff)
		}
	}
}

// Two renders sharing a cache ask about a shared resource once.
func TestRenderVerifySharedCache(t *testing.T) {
	t.Parallel()
	w := rvWorld()
	d := rvDeps(w)
	d.VerifyCache = NewVerifyCache()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if _, err := Render(context.Background(), rvOptions(t), d); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for k, n := range w.calls {
		if n != 1 {
			t.Errorf("%s asked %d times, want once", k, n)
		}
	}
}

// A render that gives up (its context ends) leaves no cancellation in a
// shared cache: the next asker asks again and gets the answer.
func TestVerifyCacheForgetsAbandoned(t *testing.T) {
	t.Parallel()
	c := NewVerifyCache()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := cached(ctx, c, "k", func(ctx context.Context) (bool, error) {
			close(started)
			<-ctx.Done()
			return false, ctx.Err()
		})
		done <- err
	}()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("first asker: err = %v, want its own cancellation", err)
	}
	got, err := cached(context.Background(), c, "k", func(context.Context) (bool, error) { return true, nil })
	if err != nil || !got {
		t.Errorf("second asker: %v, %v; want true, nil", got, err)
	}

	// The same for SSM's batched parameters.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	lk := &fakeWorld{params: map[string]bool{"us-east-1 /a": true}}
	if res := c.parameters(ctx, lk, "us-east-1", []string{"/a"}); res[0].err == nil {
		t.Fatalf("parameters with a cancelled context: %+v, want an error", res)
	}
	if res := c.parameters(context.Background(), lk, "us-east-1", []string{"/a"}); res[0].err != nil || !res[0].val.(bool) {
		t.Errorf("parameters after a cancelled asker: %+v, want found", res)
	}
}

// remote refuses to look up another account's role in this one (IAM finds
// roles by name); that refusal is a notice, as any unseen foreign
// reference is, not a run failure.
func TestVerifyForeignRoleRefused(t *testing.T) {
	t.Parallel()
	const foreign = "arn:aws:iam::210987654321:role/shared-exec"
	w := &fakeWorld{account: testAccount, errs: map[string]error{
		"role:" + foreign: errors.New(`get role "` + foreign + `": the role is in account "210987654321", not the caller's "123456789012"`),
	}}
	td := tParse(`{"family": "web", "executionRoleArn": "` + foreign + `", "containerDefinitions": [{"name": "web", "image": "nginx"}]}`)
	rep, err := Verify(context.Background(), td, VerifyInput{Region: "us-east-1"}, w.lookups(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := verifyWant{Notices: []string{`executionRoleArn: role "` + foreign + `" is in account "210987654321", which account "123456789012" cannot see: not verified`}}
	if diff := cmp.Diff(want, reportStrings(rep)); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

// An image's platforms are asked for as soon as its digest is known: the
// given image's platform lookup and the template image's resolution each
// wait for the other.
func TestRenderPlatformsAsSoonAsResolved(t *testing.T) {
	t.Parallel()
	rv := newRendezvous(2)
	w := rvWorld()
	var once sync.Once
	w.during = func() {
		w.mu.Lock()
		_, asked := w.calls["image  "+appRepo+"@"+digestN(1)]
		w.mu.Unlock()
		if asked {
			once.Do(func() { rv.arrive("app platforms") })
		}
	}
	seeded := seededResolver()
	d := rvDeps(w)
	d.Resolver = resolverFunc(func(ctx context.Context, refs []ref.ImageRef) (map[string]ResolvedImage, error) {
		for _, r := range refs {
			if r.Repository == "nginx" {
				rv.arrive("resolve nginx")
			}
		}
		return seeded.Resolve(ctx, refs)
	})
	if _, err := Render(context.Background(), rvOptions(t), d); err != nil {
		t.Fatal(err)
	}
	if !rv.met {
		t.Errorf("only %v ran: the platform lookup waited for every image", rv.arrived)
	}
	if n := w.calls["image  "+appRepo+"@"+digestN(1)]; n != 1 {
		t.Errorf("app's platforms asked %d times, want once", n)
	}
}
