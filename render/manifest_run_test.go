package render

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/render/ref"
)

// funcLoader is a Loader whose Load is a function field.
type funcLoader struct {
	load func(ctx context.Context, src ref.Source) ([]byte, error)
}

func (f funcLoader) Load(ctx context.Context, src ref.Source) ([]byte, error) {
	return f.load(ctx, src)
}

// funcResolver is a Resolver whose Resolve is a function field.
type funcResolver struct {
	resolve func(ctx context.Context, refs []ref.ImageRef) (map[string]ResolvedImage, error)
}

func (f funcResolver) Resolve(ctx context.Context, refs []ref.ImageRef) (map[string]ResolvedImage, error) {
	return f.resolve(ctx, refs)
}

// manifestWorld is a run's outside world: templates by path, and every ECR
// image that exists (any tag in repositories app, api and side). It counts
// the reads of each source and records each Resolve call.
type manifestWorld struct {
	templates map[string]string
	mu        sync.Mutex
	reads     map[string]int
	calls     [][]string // the references of each Resolve call, sorted
}

func newManifestWorld(templates map[string]string) *manifestWorld {
	return &manifestWorld{templates: templates, reads: map[string]int{}}
}

func (w *manifestWorld) deps() Deps {
	return Deps{
		Loader: funcLoader{func(_ context.Context, src ref.Source) ([]byte, error) {
			w.mu.Lock()
			w.reads[src.String()]++
			w.mu.Unlock()
			body, ok := w.templates[src.String()]
			if !ok {
				return nil, fmt.Errorf("read %s: no such file or directory", src)
			}
			return []byte(body), nil
		}},
		Resolver: funcResolver{func(_ context.Context, refs []ref.ImageRef) (map[string]ResolvedImage, error) {
			var asked []string
			out := map[string]ResolvedImage{}
			var errs []error
			for _, r := range refs {
				if r.ECR == nil {
					continue
				}
				asked = append(asked, r.String())
				if strings.HasSuffix(r.Tag, "missing") {
					errs = append(errs, fmt.Errorf("image %s: tag %s not found", r, r.Tag))
					continue
				}
				out[r.String()] = ResolvedImage{Ref: r, Digest: digestN(len(r.Repository) + len(r.Tag)), RegistryID: testAccount, RepositoryName: r.Repository}
			}
			slices.Sort(asked)
			w.mu.Lock()
			w.calls = append(w.calls, slices.Compact(asked))
			w.mu.Unlock()
			return out, errors.Join(errs...)
		}},
	}
}

const (
	ecrHost      = testAccount + ".dkr.ecr.us-east-1.amazonaws.com/"
	twoContainer = `{"family": "{{ var \"FAMILY\" }}", "requiresCompatibilities": ["FARGATE"], "executionRoleArn": "ecsTaskExecutionRole", "networkMode": "awsvpc", "cpu": "256", "memory": "512",
  "containerDefinitions": [
    {"name": "app", "image": "placeholder", "portMappings": [{"containerPort": 3000}]},
    {"name": "side", "image": "` + ecrHost + `side:1", "essential": false}]}`
	oneContainer = `{"family": "worker", "requiresCompatibilities": ["FARGATE"], "executionRoleArn": "ecsTaskExecutionRole", "networkMode": "awsvpc", "cpu": "256", "memory": "512",
  "containerDefinitions": [{"name": "worker", "image": "` + ecrHost + `api:w"}]}`
)

func parseTestManifest(t *testing.T, body string) *Manifest {
	t.Helper()
	m, err := ParseManifest("m.yaml", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRenderManifestShares renders ten services of two templates and three
// repositories: each template is read once, and every image of the run is
// looked up together, whatever the parallelism (one slot included: a
// waiting service must give its slot back for the others to join).
func TestRenderManifestShares(t *testing.T) {
	var b strings.Builder
	b.WriteString("services:\n")
	for i := range 10 {
		if i%3 == 2 {
			fmt.Fprintf(&b, "  - {name: w%d, template: worker.json, no-appspec: true}\n", i)
			continue
		}
		repo := []string{"app", "api"}[i%2]
		fmt.Fprintf(&b, "  - {name: s%d, template: web.json, vars: {FAMILY: s%d}, images: {app: %s%s:v%d}}\n", i, i, ecrHost, repo, i%4)
	}
	for _, parallel := range []int{1, 3, 0} {
		t.Run(fmt.Sprint("parallel ", parallel), func(t *testing.T) {
			w := newManifestWorld(map[string]string{"web.json": twoContainer, "worker.json": oneContainer})
			m := parseTestManifest(t, b.String())
			res, err := RenderManifest(context.Background(), m, ManifestOptions{Pin: true, Parallel: parallel}, w.deps())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]int{"web.json": 1, "worker.json": 1}, w.reads); diff != "" {
				t.Errorf("reads (-want +got)\n%s", diff)
			}
			// Every repository is asked about in one call only.
			byRepo := map[string]int{}
			for _, call := range w.calls {
				seen := map[string]bool{}
				for _, r := range call {
					repo, _, _ := strings.Cut(strings.TrimPrefix(r, ecrHost), ":")
					if !seen[repo] {
						seen[repo] = true
						byRepo[repo]++
					}
				}
			}
			if diff := cmp.Diff(map[string]int{"app": 1, "api": 1, "side": 1}, byRepo); diff != "" {
				t.Errorf("calls per repository (-want +got)\n%s\ncalls: %q", diff, w.calls)
			}
			var names []string
			for _, s := range res {
				names = append(names, s.Name)
			}
			if diff := cmp.Diff([]string{"s0", "s1", "w2", "s3", "s4", "w5", "s6", "s7", "w8", "s9"}, names); diff != "" {
				t.Errorf("services (-want +got)\n%s", diff)
			}
			// Each service got its own answers: s1 runs api:v1, pinned.
			got := res[1].Result.TaskDef.Get("containerDefinitions").Items[0].GetString("image")
			if want := ecrHost + "api@" + digestN(len("api")+len("v1")); got != want {
				t.Errorf("s1 app image = %q, want %q", got, want)
			}
			if got := res[1].Result.TaskDef.GetString("family"); got != "s1" {
				t.Errorf("s1 family = %q", got)
			}
		})
	}
}

func TestRenderManifestFailures(t *testing.T) {
	manifest := `services:
  - {name: ok, template: web.json, vars: {FAMILY: ok}, images: {app: ` + ecrHost + `app:v1}}
  - {name: novar, template: web.json, images: {app: ` + ecrHost + `app:v1}}
  - {name: gone, template: gone.json}
  - {name: missing, template: web.json, vars: {FAMILY: m}, images: {app: ` + ecrHost + `app:missing}}
`
	tests := []struct {
		name      string
		only      []string
		want      string
		wantInput bool
	}{
		{
			name: "every failure, by service",
			want: `service "novar": template web.json: family: variable "FAMILY" is not set (pass --var FAMILY=VALUE)
service "gone": read gone.json: no such file or directory
service "missing": image ` + ecrHost + `app:missing: tag missing not found`,
		},
		{
			name:      "input problems alone",
			only:      []string{"ok", "novar"},
			want:      `service "novar": template web.json: family: variable "FAMILY" is not set (pass --var FAMILY=VALUE)`,
			wantInput: true,
		},
		{
			name: "a failed lookup is told to its service alone",
			only: []string{"missing", "ok"},
			want: `service "missing": image ` + ecrHost + `app:missing: tag missing not found`,
		},
		{
			name:      "unknown --only",
			only:      []string{"ok", "nope"},
			want:      `only nope: no such service in m.yaml; it has "ok", "novar", "gone", "missing"`,
			wantInput: true,
		},
		{
			name:      "several unknown --only, all named",
			only:      []string{"zz", "ok", "nope"},
			want:      `only zz,nope: no such services in m.yaml; it has "ok", "novar", "gone", "missing"`,
			wantInput: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newManifestWorld(map[string]string{"web.json": twoContainer})
			res, err := RenderManifest(context.Background(), parseTestManifest(t, manifest), ManifestOptions{Only: tt.only, Pin: true}, w.deps())
			if err == nil {
				t.Fatalf("no error; results %v", res)
			}
			if res != nil {
				t.Errorf("results %v with an error", res)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if got := IsInputError(err); got != tt.wantInput {
				t.Errorf("IsInputError = %v, want %v", got, tt.wantInput)
			}
		})
	}
}

// TestRenderManifestRunOptions shows how the command line's --image and
// --var reach the services.
func TestRenderManifestRunOptions(t *testing.T) {
	manifest := `services:
  - {name: web, template: web.json, vars: {FAMILY: web}}
  - {name: worker, template: worker.json, no-appspec: true}
  - {name: pinned, template: web.json, vars: {FAMILY: p}, images: {app: ` + ecrHost + `app:v9}}
`
	tests := []struct {
		name   string
		only   []string
		images []Image
		vars   map[string]string
		want   string // the error, or the app images of each service
	}{
		{
			name:   "an image goes to the services with its container",
			only:   []string{"web", "worker"},
			images: images("app=" + ecrHost + "app:v2"),
			want:   "web: " + ecrHost + "app:v2\nworker: ",
		},
		{
			name:   "an image no service has",
			images: images("ap=" + ecrHost + "app:v2"),
			want:   `image ap: no service has a container named "ap"`,
		},
		{
			name:   "a shard (--only) takes an image its services lack",
			only:   []string{"worker"},
			images: images("ap=" + ecrHost + "app:v2"),
			want:   "worker: ",
		},
		{
			name:   "an image the manifest gives too",
			images: images("app=" + ecrHost + "app:v2"),
			want:   `service "pinned": image app: given both in the manifest (line 4) and with --image; give it in one place`,
		},
		{
			name: "a variable the manifest gives too",
			only: []string{"worker", "web"},
			vars: map[string]string{"FAMILY": "x"},
			want: `service "web": var FAMILY: given both in the manifest (line 2) and with --var; give it in one place`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newManifestWorld(map[string]string{"web.json": twoContainer, "worker.json": oneContainer})
			o := ManifestOptions{Only: tt.only, Images: tt.images, Variables: tt.vars}
			res, err := RenderManifest(context.Background(), parseTestManifest(t, manifest), o, w.deps())
			var got string
			if err != nil {
				got = err.Error()
				if !IsInputError(err) {
					t.Errorf("IsInputError = false for %v", err)
				}
			} else {
				var lines []string
				for _, s := range res {
					var app string
					for _, c := range s.Result.TaskDef.Get("containerDefinitions").Items {
						if c.GetString("name") == "app" {
							app = c.GetString("image")
						}
					}
					lines = append(lines, s.Name+": "+app)
				}
				got = strings.Join(lines, "\n")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// TestRenderManifestFiles renders from real files, relative to the
// manifest, offline (no resolver): cluster and service are only read.
func TestRenderManifestFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "worker.json"), []byte(oneContainer), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(filepath.Join(dir, "ecsrender.yaml"), []byte("services:\n  - {name: w, template: worker.json, no-appspec: true, cluster: prd, service: w}\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := RenderManifest(context.Background(), m, ManifestOptions{}, Deps{Loader: LocalLoader{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Name != "w" || len(res[0].Result.Changes) != 0 {
		t.Errorf("results %+v, want service w and no changes", res)
	}
}

// TestRenderManifestVerify verifies every service against its own ECS
// service, with one cache for the run: three services that point at the
// same roles, secret, parameter and log group ask about each once, and a
// service's broken target is named with the service.
func TestRenderManifestVerify(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "web.json"), []byte(rvTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := func(third string) *Manifest {
		m, err := ParseManifest(filepath.Join(dir, "ecsrender.yaml"), []byte(`services:
  - {name: a, template: web.json, no-appspec: true, images: {app: `+appRepo+`:v1}, vars: {threads: "8"}, cluster: prd, service: web}
  - {name: b, template: web.json, container: nginx:80, images: {app: `+appRepo+`:v1}, vars: {threads: "8"}, cluster: prd, service: web-bg}
  - {name: c, template: web.json, no-appspec: true, images: {app: `+appRepo+`:v1}, vars: {threads: "8"}, cluster: prd, service: `+third+`}
`))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	w := rvWorld()
	res, err := RenderManifest(context.Background(), manifest("web"), ManifestOptions{Pin: true, Verify: true}, rvDeps(w))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res {
		if len(s.Result.Changes) != 2 {
			t.Errorf("service %s: changes %q, want the image and RAILS_MAX_THREADS", s.Name, s.Result.Changes)
		}
	}
	for k, n := range w.calls {
		if n != 1 {
			t.Errorf("%s asked %d times in one run, want once", k, n)
		}
	}

	_, err = RenderManifest(context.Background(), manifest("gone"), ManifestOptions{Pin: true, Verify: true}, rvDeps(rvWorld()))
	want := `service "gone" in cluster "prd": not found in region "us-east-1"`
	if err == nil || !IsInputError(err) || !strings.HasPrefix(err.Error(), `service "c": `) || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want an input error with %q", err, want)
	}
}

func TestRenderManifestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := newManifestWorld(map[string]string{"web.json": twoContainer})
	m := parseTestManifest(t, "services:\n  - {name: a, template: web.json, vars: {FAMILY: a}}\n  - {name: b, template: web.json, vars: {FAMILY: b}}\n")
	_, err := RenderManifest(ctx, m, ManifestOptions{Parallel: 1}, w.deps())
	if err == nil || !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("err = %v, want context canceled", err)
	}
}

// BenchmarkRenderManifest renders 1000 services of 5 containers over 10
// templates and 20 repositories in process, with fakes for S3 and ECR:
// the CPU and allocations of a manifest run without the network.
func BenchmarkRenderManifest(b *testing.B) {
	tmpls := map[string]string{}
	for t := range 10 {
		var cs []string
		cs = append(cs, `{"name": "app", "image": "placeholder", "portMappings": [{"containerPort": 80}], "environment": [{"name": "SERVICE", "value": "{{ var \"FAMILY\" }}"}]}`)
		for k := 1; k < 5; k++ {
			cs = append(cs, fmt.Sprintf(`{"name": "side%d", "image": "%sr%02d:v%d", "essential": false}`, k, ecrHost, (t*2+k)%20, k))
		}
		tmpls[fmt.Sprintf("t%d.json", t)] = `{"family": "{{ var \"FAMILY\" }}", "requiresCompatibilities": ["FARGATE"], "executionRoleArn": "ecsTaskExecutionRole",
  "networkMode": "awsvpc", "cpu": "1024", "memory": "2048", "containerDefinitions": [` + strings.Join(cs, ",\n") + `]}`
	}
	var m strings.Builder
	m.WriteString("services:\n")
	for s := range 1000 {
		fmt.Fprintf(&m, "  - {name: s%04d, template: t%d.json, vars: {FAMILY: s%04d}, images: {app: %sr%02d:v%d}}\n", s, s%10, s, ecrHost, s%20, (s/20)%5)
	}
	manifest := parseTestManifest(&testing.T{}, m.String())
	b.ReportAllocs()
	for b.Loop() {
		w := newManifestWorld(tmpls)
		if _, err := RenderManifest(context.Background(), manifest, ManifestOptions{Pin: true}, w.deps()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRenderManifestFinish shows that Finish gets each service's whole
// result as soon as it renders, and that the run then keeps only its
// messages; a Finish error fails that service, listed like any other.
func TestRenderManifestFinish(t *testing.T) {
	manifest := `services:
  - {name: a, template: web.json, vars: {FAMILY: a}, images: {app: ` + ecrHost + `app:v1}}
  - {name: b, template: web.json, vars: {FAMILY: b}, images: {app: ` + ecrHost + `app:v2}}
  - {name: w, template: worker.json, no-appspec: true}
`
	tests := []struct {
		name string
		fail string // the service whose Finish fails
		want string
	}{
		{name: "ok"},
		{name: "one fails", fail: "b", want: `service "b": encode: injected failure`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newManifestWorld(map[string]string{"web.json": twoContainer, "worker.json": oneContainer})
			var mu sync.Mutex
			families := map[string]string{}
			o := ManifestOptions{Pin: true, Parallel: 2, Finish: func(service string, r *Result) error {
				mu.Lock()
				defer mu.Unlock()
				families[service] = r.TaskDef.GetString("family")
				if service == tt.fail {
					return errors.New("encode: injected failure")
				}
				return nil
			}}
			res, err := RenderManifest(context.Background(), parseTestManifest(t, manifest), o, w.deps())
			if diff := cmp.Diff(map[string]string{"a": "a", "b": "b", "w": "worker"}, families); diff != "" {
				t.Errorf("families given to Finish (-want +got)\n%s", diff)
			}
			if tt.want != "" {
				if err == nil || err.Error() != tt.want {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				if IsInputError(err) {
					t.Error("a failure of Finish is an input error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range res {
				if s.Result.TaskDef != nil || s.Result.AppSpec != nil || s.Result.ImageDetails != nil || s.Result.ImageDefinitions != nil {
					t.Errorf("service %q: the run kept its artifacts after Finish: %+v", s.Name, s.Result)
				}
			}
		})
	}
}
