package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/render/appspec"
	"github.com/ecsrender/ecsrender/render/ref"
)

const (
	appRepo   = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"
	nginxRepo = "123456789012.dkr.ecr.us-east-1.amazonaws.com/nginx"
)

// twoContainers is a Fargate service with an app and an nginx sidecar,
// both in ECR, plus a Datadog agent outside ECR.
const twoContainers = `{
  "family": "web",
  "requiresCompatibilities": ["FARGATE"],
  "networkMode": "awsvpc",
  "cpu": "256",
  "memory": "512",
  "executionRoleArn": "ecsTaskExecutionRole",
  "containerDefinitions": [
    {"name": "app", "image": "` + appRepo + `:latest"},
    {"name": "nginx", "image": "` + nginxRepo + `:1.27", "portMappings": [{"containerPort": 80}]},
    {"name": "datadog", "image": "public.ecr.aws/datadog/agent:7", "essential": false}
  ]
}`

const testAccount = "123456789012"

func digestN(n int) string { return fmt.Sprintf("sha256:%064x", n) }

// writeTemplate writes body to a file and returns it as a source.
func writeTemplate(t testing.TB, body string) ref.Source {
	t.Helper()
	p := filepath.Join(t.TempDir(), "taskdef.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return ref.Source{Kind: ref.SourceFile, Path: p}
}

// images parses NAME=REF pairs; it panics on a bad one, which is a bug in
// the test.
func images(pairs ...string) []Image {
	var out []Image
	for _, p := range pairs {
		name, r, _ := strings.Cut(p, "=")
		ir, err := ref.ParseImageRef(r)
		if err != nil {
			panic(err)
		}
		out = append(out, Image{Container: name, Ref: ir})
	}
	return out
}

// fakeResolver is a Resolver that answers from images, keyed by the
// reference as written, and records the references it was asked for.
type fakeResolver struct {
	images map[string]ResolvedImage
	mu     sync.Mutex
	asked  []string
}

func (f *fakeResolver) Resolve(_ context.Context, refs []ref.ImageRef) (map[string]ResolvedImage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]ResolvedImage{}
	var errs []error
	for _, r := range refs {
		if r.ECR == nil {
			continue
		}
		f.asked = append(f.asked, r.String())
		ri, ok := f.images[r.String()]
		if !ok {
			errs = append(errs, fmt.Errorf("image %s: not found", r))
			continue
		}
		ri.Ref = r
		out[r.String()] = ri
	}
	return out, errors.Join(errs...)
}

func (f *fakeResolver) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	asked := f.asked
	f.asked = nil
	return asked
}

// seededResolver knows app:v1 (also latest) and nginx:1.27.
func seededResolver() *fakeResolver {
	app := ResolvedImage{Digest: digestN(1), Tags: []string{"latest", "v1"}, RegistryID: testAccount, RepositoryName: "app"}
	nginx := ResolvedImage{Digest: digestN(2), Tags: []string{"1.27"}, RegistryID: testAccount, RepositoryName: "nginx",
		PushedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), SizeBytes: 1234}
	return &fakeResolver{images: map[string]ResolvedImage{
		appRepo + ":v1": app, appRepo + ":latest": app, nginxRepo + ":1.27": nginx,
	}}
}

func TestRenderPinsEveryECRImage(t *testing.T) {
	t.Parallel()
	r := seededResolver()
	res, err := Render(context.Background(), Options{
		Template: writeTemplate(t, twoContainers),
		Images:   images("app=" + appRepo + ":v1"),
		Pin:      true,
	}, Deps{Loader: LocalLoader{}, Resolver: r})
	if err != nil {
		t.Fatal(err)
	}
	images := map[string]string{}
	for name, c := range containerIndex(res.TaskDef) {
		images[name] = c.GetString("image")
	}
	want := map[string]string{
		"app":     appRepo + "@" + digestN(1),
		"nginx":   nginxRepo + "@" + digestN(2), // the sidecar is pinned too
		"datadog": "public.ecr.aws/datadog/agent:7",
	}
	if diff := cmp.Diff(want, images); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}
	// Every ECR image is resolved, the sidecar's too; datadog is not in ECR.
	// The given image and the template's are asked for side by side, in
	// either order.
	if diff := cmp.Diff([]string{appRepo + ":v1", nginxRepo + ":1.27"}, slices.Sorted(slices.Values(r.take()))); diff != "" {
		t.Errorf("images resolved (-want +got):\n%s", diff)
	}
	// The image described is the one this build made, the first --image,
	// not the load-balanced nginx sidecar in front of it.
	wantDetails := []ImageDetail{{
		Container:      "app",
		ImageURI:       appRepo + "@" + digestN(1),
		ImageDigest:    digestN(1),
		ImageTags:      []string{"latest", "v1"},
		RegistryID:     testAccount,
		RepositoryName: "app",
	}}
	if diff := cmp.Diff(wantDetails, res.ImageDetails); diff != "" {
		t.Errorf("image details (-want +got):\n%s", diff)
	}
	// The pinned sidecar goes to the rolling action too; datadog was
	// neither given nor resolved.
	wantDefs := []ImageDefinition{{Name: "app", ImageURI: appRepo + "@" + digestN(1)}, {Name: "nginx", ImageURI: nginxRepo + "@" + digestN(2)}}
	if diff := cmp.Diff(wantDefs, res.ImageDefinitions); diff != "" {
		t.Errorf("image definitions (-want +got):\n%s", diff)
	}
	wantNotice := "containerDefinitions[2].image: public.ecr.aws/datadog/agent:7 is not in ECR; used as given"
	if !strings.Contains(strings.Join(res.Notices, "\n"), wantNotice) {
		t.Errorf("notices %q lack %q", res.Notices, wantNotice)
	}
}

func TestRenderWithoutPinKeepsTags(t *testing.T) {
	t.Parallel()
	res, err := Render(context.Background(), Options{
		Template: writeTemplate(t, twoContainers),
		Images:   images("app=" + appRepo + ":v1"),
	}, Deps{Loader: LocalLoader{}, Resolver: seededResolver()})
	if err != nil {
		t.Fatal(err)
	}
	if got := containerIndex(res.TaskDef)["app"].GetString("image"); got != appRepo+":v1" {
		t.Errorf("app image %q, want the tag kept", got)
	}
	if len(res.ImageDetails) != 1 || res.ImageDetails[0].ImageDigest != digestN(1) {
		t.Errorf("image details %+v, want app's with the resolved digest %q even unpinned", res.ImageDetails, digestN(1))
	}
	// Resolved but not pinned still counts: the tag was checked in ECR.
	wantDefs := []ImageDefinition{{Name: "app", ImageURI: appRepo + ":v1"}, {Name: "nginx", ImageURI: nginxRepo + ":1.27"}}
	if diff := cmp.Diff(wantDefs, res.ImageDefinitions); diff != "" {
		t.Errorf("image definitions (-want +got):\n%s", diff)
	}
}

func TestRenderMissingImageIsNotInputError(t *testing.T) {
	t.Parallel()
	_, err := Render(context.Background(), Options{
		Template: writeTemplate(t, twoContainers),
		Images:   images("app=" + appRepo + ":v2"),
		Pin:      true,
	}, Deps{Loader: LocalLoader{}, Resolver: seededResolver()})
	if err == nil {
		t.Fatal("no error for an image the resolver does not know")
	}
	if IsInputError(err) {
		t.Errorf("a missing image is the registry's state, not the user's input: %v", err)
	}
	if !strings.Contains(err.Error(), "app") || !strings.Contains(err.Error(), "v2") {
		t.Errorf("error %q does not name repository and tag", err)
	}
}

func TestRenderPlaceholder(t *testing.T) {
	t.Parallel()
	res, err := Render(context.Background(), Options{
		Template:     writeTemplate(t, twoContainers),
		Images:       images("nginx=" + nginxRepo + ":1.27"),
		Placeholders: []Placeholder{{Container: "nginx", Token: "IMAGE1_NAME"}},
		Pin:          true,
	}, Deps{Loader: LocalLoader{}, Resolver: seededResolver()})
	if err != nil {
		t.Fatal(err)
	}
	if got := containerIndex(res.TaskDef)["nginx"].GetString("image"); got != "<IMAGE1_NAME>" {
		t.Errorf("nginx image %q, want <IMAGE1_NAME>", got)
	}
	// The artifacts that carry the image still have the real one.
	if len(res.ImageDetails) != 1 || res.ImageDetails[0].ImageURI != nginxRepo+"@"+digestN(2) || res.ImageDetails[0].Token != "IMAGE1_NAME" {
		t.Errorf("image details %+v, want nginx's pinned image for IMAGE1_NAME", res.ImageDetails)
	}
	wantDefs := []ImageDefinition{{Name: "app", ImageURI: appRepo + "@" + digestN(1)}, {Name: "nginx", ImageURI: nginxRepo + "@" + digestN(2)}}
	if diff := cmp.Diff(wantDefs, res.ImageDefinitions); diff != "" {
		t.Errorf("image definitions (-want +got):\n%s", diff)
	}
}

func TestRenderDescribeOutput(t *testing.T) {
	t.Parallel()
	describe := `{"taskDefinition": {"taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
	  "family": "web", "revision": 3, "status": "ACTIVE", "compatibilities": ["EC2"],
	  "containerDefinitions": [{"name": "web", "image": "nginx", "memory": 128}]},
	  "tags": [{"key": "team", "value": "sre"}]}`
	res, err := Render(context.Background(), Options{Template: writeTemplate(t, describe), NoAppSpec: true},
		Deps{Loader: LocalLoader{}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "family": "web",
  "containerDefinitions": [
    {
      "name": "web",
      "image": "nginx",
      "memory": 128
    }
  ],
  "tags": [
    {
      "key": "team",
      "value": "sre"
    }
  ]
}
`
	if diff := cmp.Diff(want, string(res.TaskDef.MarshalIndent())); diff != "" {
		t.Errorf("task definition (-want +got):\n%s", diff)
	}
	wantNotice := "describe-task-definition output: dropped the taskDefinition wrapper and read-only fields taskDefinitionArn, revision, status, compatibilities"
	if len(res.Notices) != 1 || !strings.HasSuffix(res.Notices[0], wantNotice) {
		t.Errorf("notices %q, want one ending %q", res.Notices, wantNotice)
	}
}

func TestRenderInputErrors(t *testing.T) {
	t.Parallel()
	tmpl := writeTemplate(t, twoContainers)
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"wrapper with another key", Options{Template: writeTemplate(t, `{"taskDefinition": {}, "other": 1}`)},
			"want a task definition, got an object with taskDefinition and other"},
		{"wrapper not an object", Options{Template: writeTemplate(t, `{"taskDefinition": []}`)},
			"taskDefinition: want an object, got array"},
		{"invalid image in template", Options{Template: writeTemplate(t, strings.Replace(twoContainers, appRepo+":latest", "app:", 1))},
			`containerDefinitions[0].image: image "app:"`},
		{"unknown placeholder container", Options{Template: tmpl, Placeholders: []Placeholder{{Container: "db", Token: "IMAGE1_NAME"}}},
			`placeholder db: no container named "db"; the template has "app", "datadog", "nginx"`},
		{"two unknown image containers, the first by name", Options{Template: tmpl, Images: images("web=nginx", "db=nginx")},
			`image db: no container named "db"; the template has "app", "datadog", "nginx"`},
		// The first bad token by container name, whatever the order given.
		{"two bad placeholder tokens", Options{Template: tmpl, Placeholders: []Placeholder{{Container: "nginx", Token: "IMAGE-1"}, {Container: "app", Token: "IMAGE-2"}}},
			`placeholder app=IMAGE-2: want a token of letters, digits and _ such as IMAGE1_NAME`},
		{"five placeholders", Options{Template: tmpl, Placeholders: []Placeholder{{"a", "I1"}, {"b", "I2"}, {"c", "I3"}, {"d", "I4"}, {"e", "I5"}}},
			`placeholder: 5 given; CodeDeployToECS takes at most 4 images (Image1 to Image4)`},
		{"a token twice", Options{Template: tmpl, Placeholders: []Placeholder{{"app", "IMAGE1_NAME"}, {"nginx", "IMAGE1_NAME"}}},
			`placeholder nginx=IMAGE1_NAME: token IMAGE1_NAME is already given for container "app"; each image needs its own token`},
		{"a token twice in two cases", Options{Template: tmpl, Placeholders: []Placeholder{{"app", "IMAGE1_NAME"}, {"nginx", "image1_name"}}},
			`placeholder nginx=image1_name: token IMAGE1_NAME is already given for container "app"; each image needs its own token`},
		{"a container twice", Options{Template: tmpl, Placeholders: []Placeholder{{"app", "IMAGE1_NAME"}, {"app", "IMAGE2_NAME"}}},
			`placeholder app=IMAGE2_NAME: container "app" already has placeholder IMAGE1_NAME; a container has one image`},
		{"placeholder on a placeholder image", Options{Template: writeTemplate(t, strings.Replace(twoContainers, appRepo+":latest", "<IMAGE1_NAME>", 1)),
			Placeholders: []Placeholder{{"app", "IMAGE1_NAME"}}},
			`placeholder app=IMAGE1_NAME: container "app" has no image for imageDetail.json to describe (its image is "<IMAGE1_NAME>"); set one with --image`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(context.Background(), tc.o, Deps{Loader: LocalLoader{Stdin: strings.NewReader("{}")}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if !IsInputError(err) {
				t.Errorf("err %v is not an input error", err)
			}
		})
	}
}

func ExampleRender() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	tmpl := filepath.Join(dir, "taskdef.json")
	os.WriteFile(tmpl, []byte(`{
  "family": "hello",
  "containerDefinitions": [
    {"name": "web", "image": "nginx", "memory": "{{ var \"mem\" }}",
     "portMappings": [{"containerPort": 80}]}
  ]
}`), 0o644)

	res, err := Render(context.Background(), Options{
		Template:  ref.Source{Kind: ref.SourceFile, Path: tmpl},
		Images:    images("web=nginx:1.27"),
		Variables: map[string]string{"mem": "256"},
	}, Deps{Loader: LocalLoader{}}) // no Resolver: offline
	if err != nil {
		fmt.Println(err)
		return
	}
	name, port := res.AppSpec.Container()
	fmt.Printf("%s", res.TaskDef.MarshalIndent())
	fmt.Println("load balancer:", name, port)
	// Output:
	// {
	//   "family": "hello",
	//   "containerDefinitions": [
	//     {
	//       "name": "web",
	//       "image": "nginx:1.27",
	//       "memory": 256,
	//       "portMappings": [
	//         {
	//           "containerPort": 80
	//         }
	//       ]
	//     }
	//   ]
	// }
	// load balancer: web 80
}

// BenchmarkRenderResolved adds ECR resolution of both images through a
// fake ECR, shared across iterations as one run's resolver is shared by
// its services: after the first, lookups come from the cache.
func BenchmarkRenderResolved(b *testing.B) {
	tmpl := writeTemplate(b, twoContainers)
	r := seededResolver()
	o := Options{Template: tmpl, Images: images("app=" + appRepo + ":v1"), Pin: true}
	d := Deps{Loader: LocalLoader{}, Resolver: r}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(context.Background(), o, d); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRenderDescribeNullTags(t *testing.T) {
	t.Parallel()
	describe := `{"taskDefinition": {"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx", "memory": 128}]}, "tags": null}`
	res, err := Render(context.Background(), Options{Template: writeTemplate(t, describe), NoAppSpec: true}, Deps{Loader: LocalLoader{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.TaskDef.Get("family") == nil || res.TaskDef.Get("tags") != nil {
		t.Errorf("task definition %s, want the unwrapped one without tags", res.TaskDef.MarshalIndent())
	}
}

// A template image left as <IMAGE1_NAME> for another image artifact gets
// no imageDetail.json of its own, which would name no image.
func TestRenderPlaceholderInTemplate(t *testing.T) {
	t.Parallel()
	tmpl := `{"family": "web", "containerDefinitions": [{"name": "web", "image": "<IMAGE1_NAME>", "memory": 128}]}`
	res, err := Render(context.Background(), Options{Template: writeTemplate(t, tmpl), NoAppSpec: true}, Deps{Loader: LocalLoader{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ImageDetails) != 0 {
		t.Errorf("image details %+v, want none", res.ImageDetails)
	}
	// Nor an empty imagedefinitions.json, which the ECS action rejects.
	if len(res.ImageDefinitions) != 0 {
		t.Errorf("image definitions %+v, want none", res.ImageDefinitions)
	}
	for _, want := range []string{
		`imageDetail.json not written: container "web" has no image of its own to describe (pass --image web=REF to write one)`,
		"imagedefinitions.json not written: every container's image is a CodeDeploy placeholder, and the Amazon ECS deploy action rejects an empty list",
	} {
		if !slices.Contains(res.Notices, want) {
			t.Errorf("notices %q lack %q", res.Notices, want)
		}
	}
}

// With --no-appspec and no --image, --container still says which
// container imageDetail.json describes.
func TestRenderNoAppSpecContainer(t *testing.T) {
	t.Parallel()
	res, err := Render(context.Background(), Options{
		Template:  writeTemplate(t, strings.Replace(twoContainers, `"portMappings": [{"containerPort": 80}]`, `"portMappings": [{"containerPort": 80}, {"containerPort": 81}]`, 1)),
		NoAppSpec: true,
		AppSpec:   appspec.Options{Container: "nginx:81"},
	}, Deps{Loader: LocalLoader{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.AppSpec != nil {
		t.Errorf("AppSpec written with --no-appspec")
	}
	if len(res.ImageDetails) != 1 || res.ImageDetails[0].ImageURI != nginxRepo+":1.27" {
		t.Errorf("image details %+v, want nginx's image", res.ImageDetails)
	}
}

// A typo is reported at once: the image lookups that started beside the
// template read are stopped, not waited for (--wait-for-image may be long).
func TestRenderChecksBeforeECR(t *testing.T) {
	t.Parallel()
	stopped := make(chan struct{}, 2)
	r := resolverFunc(func(ctx context.Context, refs []ref.ImageRef) (map[string]ResolvedImage, error) {
		<-ctx.Done() // as a tag that is being waited for
		stopped <- struct{}{}
		return nil, ctx.Err()
	})
	typo := strings.Replace(twoContainers, `"cpu"`, `"cpus"`, 1)
	_, err := Render(context.Background(), Options{
		Template: writeTemplate(t, typo),
		Images:   images("app=" + appRepo + ":not-pushed"),
	}, Deps{Loader: LocalLoader{}, Resolver: r})
	if err == nil || !strings.Contains(err.Error(), `cpus: unknown key; did you mean "cpu"?`) {
		t.Fatalf("err = %v, want the typo", err)
	}
	if !IsInputError(err) {
		t.Errorf("IsInputError(%v) = false", err)
	}
	// Both lookups (the given image, the template's sidecar) were stopped
	// before Render returned.
	for range 2 {
		select {
		case <-stopped:
		default:
			t.Fatal("Render returned with an image lookup still running")
		}
	}
}

// resolverFunc is a Resolver made of a function.
type resolverFunc func(ctx context.Context, refs []ref.ImageRef) (map[string]ResolvedImage, error)

func (f resolverFunc) Resolve(ctx context.Context, refs []ref.ImageRef) (map[string]ResolvedImage, error) {
	return f(ctx, refs)
}

func TestProblemsErrorCap(t *testing.T) {
	t.Parallel()
	e := &ProblemsError{Object: "template t.json"}
	for i := range 120 {
		e.Problems = append(e.Problems, Problem{Path: fmt.Sprintf("environment[%d].value", i), Msg: "variable \"x\" is not set"})
	}
	lines := strings.Split(e.Error(), "\n")
	if len(lines) != 51 {
		t.Fatalf("%d lines, want 50 and a summary", len(lines))
	}
	if got, want := lines[50], "template t.json: and 70 more problems"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
}

// Pinning lengthens every ECR image; a template just under 64 KiB with
// tags can be over it with digests, and that is caught after resolution.
func TestRenderPinnedTooLarge(t *testing.T) {
	t.Parallel()
	build := func(pad int) string {
		return strings.Replace(twoContainers, `{"name": "app", "image": "`+appRepo+`:latest"}`,
			`{"name": "app", "image": "`+appRepo+`:latest", "environment": [{"name": "PAD", "value": "`+strings.Repeat("x", pad)+`"}]}`, 1)
	}
	size := func(doc string) int {
		n, err := ParseJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		n.writeCompact(&b)
		return b.Len()
	}
	pad := 65530 - size(build(0))
	tmpl := writeTemplate(t, build(pad))
	if _, err := Render(context.Background(), Options{Template: tmpl}, Deps{Loader: LocalLoader{}, Resolver: seededResolver()}); err != nil {
		t.Fatalf("unpinned: %v", err)
	}
	_, err := Render(context.Background(), Options{Template: tmpl, Pin: true}, Deps{Loader: LocalLoader{}, Resolver: seededResolver()})
	if err == nil || !strings.Contains(err.Error(), "bytes of compact json; ecs allows at most 65536 (64 KiB)") {
		t.Errorf("pinned: err = %v, want the size problem", err)
	}
}

// TestRenderImageArtifacts shows which image each imageDetail.json
// describes and which containers imagedefinitions.json names, with and
// without placeholders, online and offline.
func TestRenderImageArtifacts(t *testing.T) {
	t.Parallel()
	app := func(uri string) ImageDetail {
		return ImageDetail{Container: "app", ImageURI: uri, ImageDigest: digestN(1), ImageTags: []string{"latest", "v1"}, RegistryID: testAccount, RepositoryName: "app"}
	}
	nginx := func(uri string) ImageDetail {
		return ImageDetail{Container: "nginx", ImageURI: uri, ImageDigest: digestN(2), ImageTags: []string{"1.27"}, RegistryID: testAccount, RepositoryName: "nginx",
			ImagePushedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), ImageSizeInBytes: 1234}
	}
	token := func(d ImageDetail, tok string) ImageDetail { d.Token = tok; return d }
	appPinned, nginxPinned := appRepo+"@"+digestN(1), nginxRepo+"@"+digestN(2)
	datadog := "public.ecr.aws/datadog/agent:7"
	tests := []struct {
		name    string
		o       Options
		offline bool
		details []ImageDetail
		defs    []ImageDefinition
		// images are the containers' images in taskdef.json.
		images map[string]string
	}{
		{
			// The Rails layout: the app behind an nginx sidecar that the
			// load balancer fronts.
			name:    "placeholder on the app behind nginx",
			o:       Options{Images: images("app=" + appRepo + ":v1"), Placeholders: []Placeholder{{"app", "IMAGE1_NAME"}}, Pin: true},
			details: []ImageDetail{token(app(appPinned), "IMAGE1_NAME")},
			defs:    []ImageDefinition{{"app", appPinned}, {"nginx", nginxPinned}},
			images:  map[string]string{"app": "<IMAGE1_NAME>", "nginx": nginxPinned, "datadog": datadog},
		},
		{
			name:    "placeholder on a template image, no --image",
			o:       Options{Placeholders: []Placeholder{{"app", "IMAGE1_NAME"}}, Pin: true},
			details: []ImageDetail{token(app(appPinned), "IMAGE1_NAME")},
			defs:    []ImageDefinition{{"app", appPinned}, {"nginx", nginxPinned}, {"datadog", datadog}},
			images:  map[string]string{"app": "<IMAGE1_NAME>", "nginx": nginxPinned, "datadog": datadog},
		},
		{
			name:    "two placeholders, in the order given",
			o:       Options{Images: images("app=" + appRepo + ":v1"), Placeholders: []Placeholder{{"nginx", "IMAGE1_NAME"}, {"app", "IMAGE2_NAME"}}, Pin: true},
			details: []ImageDetail{token(nginx(nginxPinned), "IMAGE1_NAME"), token(app(appPinned), "IMAGE2_NAME")},
			defs:    []ImageDefinition{{"app", appPinned}, {"nginx", nginxPinned}},
			images:  map[string]string{"app": "<IMAGE2_NAME>", "nginx": "<IMAGE1_NAME>", "datadog": datadog},
		},
		{
			name: "three placeholders, one outside ECR",
			o: Options{Images: images("app=" + appRepo + ":v1"), Placeholders: []Placeholder{{"app", "IMAGE1_NAME"}, {"nginx", "IMAGE2_NAME"}, {"datadog", "IMAGE3_NAME"}},
				Pin: true},
			details: []ImageDetail{token(app(appPinned), "IMAGE1_NAME"), token(nginx(nginxPinned), "IMAGE2_NAME"), {Container: "datadog", Token: "IMAGE3_NAME", ImageURI: datadog}},
			defs:    []ImageDefinition{{"app", appPinned}, {"nginx", nginxPinned}},
			images:  map[string]string{"app": "<IMAGE1_NAME>", "nginx": "<IMAGE2_NAME>", "datadog": "<IMAGE3_NAME>"},
		},
		{
			name:    "no --image: the load-balanced container, every container defined",
			o:       Options{Pin: true},
			details: []ImageDetail{nginx(nginxPinned)},
			defs:    []ImageDefinition{{"app", appPinned}, {"nginx", nginxPinned}, {"datadog", datadog}},
			images:  map[string]string{"app": appPinned, "nginx": nginxPinned, "datadog": datadog},
		},
		{
			name:    "first --image outside ECR",
			o:       Options{Images: images("datadog=public.ecr.aws/datadog/agent:7.1", "app="+appRepo+":v1"), Pin: true},
			details: []ImageDetail{{Container: "datadog", ImageURI: "public.ecr.aws/datadog/agent:7.1"}},
			defs:    []ImageDefinition{{"app", appPinned}, {"nginx", nginxPinned}, {"datadog", "public.ecr.aws/datadog/agent:7.1"}},
			images:  map[string]string{"app": appPinned, "nginx": nginxPinned, "datadog": "public.ecr.aws/datadog/agent:7.1"},
		},
		{
			// Offline nothing is resolved, so only the images given are
			// known to be meant.
			name:    "offline",
			o:       Options{Images: images("app=" + appRepo + ":v1"), Placeholders: []Placeholder{{"nginx", "IMAGE1_NAME"}}},
			offline: true,
			details: []ImageDetail{{Container: "nginx", Token: "IMAGE1_NAME", ImageURI: nginxRepo + ":1.27"}},
			defs:    []ImageDefinition{{"app", appRepo + ":v1"}},
			images:  map[string]string{"app": appRepo + ":v1", "nginx": "<IMAGE1_NAME>", "datadog": datadog},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.o.Template = writeTemplate(t, twoContainers)
			d := Deps{Loader: LocalLoader{}, Resolver: seededResolver()}
			if tt.offline {
				d.Resolver = nil
			}
			res, err := Render(context.Background(), tt.o, d)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.details, res.ImageDetails); diff != "" {
				t.Errorf("image details (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.defs, res.ImageDefinitions); diff != "" {
				t.Errorf("image definitions (-want +got):\n%s", diff)
			}
			got := map[string]string{}
			for name, c := range containerIndex(res.TaskDef) {
				got[name] = c.GetString("image")
			}
			if diff := cmp.Diff(tt.images, got); diff != "" {
				t.Errorf("taskdef.json images (-want +got):\n%s", diff)
			}
		})
	}
}
