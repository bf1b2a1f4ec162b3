package main

// The moto suite: ecsrender end to end against a real moto_server, which
// speaks the S3, ECR and ECS wire protocols the SDK uses in CodeBuild.
// .ci/run starts moto and sets ECSRENDER_MOTO_ENDPOINT; without it the
// suite is skipped locally and fails in CI.
//
// moto's state lives as long as the server, and CI runs `go test ./...`
// and then `go test -race ./...` against one server, so every bucket and
// repository name carries a random suffix. Manifests carry it too, so a
// digest can never be left over from an earlier run.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ecsrender/ecsrender/render/awstest"
)

// motoAccount is the account moto gives every request by default.
const motoAccount = "123456789012"

// motoEnv is one test's view of moto: SDK clients that seed it directly,
// and a counting proxy in front of it that the CLI under test talks to.
type motoEnv struct {
	t        reporter
	endpoint string // moto itself
	proxy    string // the counting proxy the CLI is pointed at
	suffix   string // random, lowercase hex
	cfg      aws.Config
	s3       *s3.Client
	ecs      *ecs.Client
	calls    *awstest.Proxy // counts the calls that reach moto, and injects faults
	ecr      *ecrClients
}

// ecrClients are the seeding ECR clients, one per region.
type ecrClients struct {
	mu sync.Mutex
	m  map[string]*ecr.Client
}

// in returns m for use by the subtest t: failures end t, not its parent.
func (m *motoEnv) in(t *testing.T) *motoEnv {
	c := *m
	c.t = t
	return &c
}

// reporter is what motoEnv needs of a test: a *testing.T, or a script's
// scriptT.
type reporter interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
	TempDir() string
}

// newMoto gates the test, points the SDK's environment at a counting proxy
// in front of moto, and returns clients for seeding.
func newMoto(t *testing.T) *motoEnv {
	t.Helper()
	m := newMotoEnv(t, awstest.MotoEndpoint(t))
	awstest.SetEnv(t, m.proxy)
	// These tests count S3 and ECR calls; verify has its own suite
	// (moto_verify_test.go), which turns it back on.
	t.Setenv("ECSRENDER_VERIFY", "false")
	return m
}

// newMotoEnv starts a counting proxy in front of moto at endpoint and
// returns clients for seeding; the caller points the CLI at the proxy.
func newMotoEnv(t testing.TB, endpoint string) *motoEnv {
	t.Helper()
	calls := awstest.NewProxy(t, endpoint)
	b := make([]byte, 4)
	rand.Read(b)
	m := &motoEnv{
		t:        t,
		endpoint: endpoint,
		proxy:    calls.URL,
		suffix:   hex.EncodeToString(b),
		calls:    calls,
		ecr:      &ecrClients{m: map[string]*ecr.Client{}},
		cfg: aws.Config{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(endpoint),
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", Source: "moto"}, nil
			}),
			RetryMaxAttempts: 3,
		},
	}
	m.s3 = s3.NewFromConfig(m.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	m.ecs = ecs.NewFromConfig(m.cfg)
	return m
}

// expectCalls asserts exactly these calls reached moto since the last
// take, and logs them so that CI output shows them.
func (m *motoEnv) expectCalls(want map[string]int) {
	m.t.Helper()
	got := m.calls.Take()
	for _, k := range slices.Sorted(maps.Keys(got)) {
		m.t.Logf("calls: %d × %s", got[k], k)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		m.t.Errorf("calls that reached moto (-want +got):\n%s", diff)
	}
}

func (m *motoEnv) name(prefix string) string { return prefix + "-" + m.suffix }

// bucket creates a bucket with a unique name and returns it.
func (m *motoEnv) bucket(prefix string) string {
	m.t.Helper()
	b := m.name("ecsrender-" + prefix)
	if _, err := m.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &b}); err != nil {
		m.t.Fatalf("create bucket %s: %v", b, err)
	}
	return b
}

// put stores body at s3://bucket/key and returns the version id, if any.
func (m *motoEnv) put(bucket, key string, body []byte) string {
	m.t.Helper()
	out, err := m.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)})
	if err != nil {
		m.t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
	return aws.ToString(out.VersionId)
}

func (m *motoEnv) ecrClient(region string) *ecr.Client {
	m.ecr.mu.Lock()
	defer m.ecr.mu.Unlock()
	c, ok := m.ecr.m[region]
	if !ok {
		c = ecr.NewFromConfig(m.cfg, func(o *ecr.Options) { o.Region = region })
		m.ecr.m[region] = c
	}
	return c
}

// repo creates an ECR repository with a unique name in region and returns
// its name.
func (m *motoEnv) repo(region, prefix string) string {
	m.t.Helper()
	name := m.name(prefix)
	if _, err := m.ecrClient(region).CreateRepository(context.Background(), &ecr.CreateRepositoryInput{RepositoryName: &name}); err != nil {
		m.t.Fatalf("create repository %s in %s: %v", name, region, err)
	}
	return name
}

// ref is an image reference in moto's account.
func ecrRef(region, repo, tagOrDigest string) string {
	sep := ":"
	if strings.HasPrefix(tagOrDigest, "sha256:") {
		sep = "@"
	}
	return fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s%s%s", motoAccount, region, repo, sep, tagOrDigest)
}

// manifest is an image manifest as pushed: its exact bytes, their digest
// and its media type.
type manifest struct {
	body      []byte
	digest    string
	mediaType string
}

const (
	dockerManifestType = "application/vnd.docker.distribution.manifest.v2+json"
	ociManifestType    = "application/vnd.oci.image.manifest.v1+json"
	ociIndexType       = "application/vnd.oci.image.index.v1+json"
)

func newManifest(mediaType string, v any) manifest {
	b, err := json.MarshalIndent(v, "", "   ")
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return manifest{body: b, digest: "sha256:" + hex.EncodeToString(sum[:]), mediaType: mediaType}
}

// fakeDigest is a well-formed digest of blobs that exist nowhere: seed
// makes each distinct, and the test's suffix makes them new every run.
func (m *motoEnv) fakeDigest(seed string) string {
	sum := sha256.Sum256([]byte(m.suffix + " " + seed))
	return "sha256:" + hex.EncodeToString(sum[:])
}

type descriptor struct {
	MediaType string            `json:"mediaType"`
	Size      int64             `json:"size"`
	Digest    string            `json:"digest"`
	Platform  map[string]string `json:"platform,omitempty"`
}

// dockerManifest is a Docker image manifest v2, schema 2, as docker push
// writes it.
func (m *motoEnv) dockerManifest(seed string) manifest {
	return newManifest(dockerManifestType, map[string]any{
		"schemaVersion": 2,
		"mediaType":     dockerManifestType,
		"config":        descriptor{"application/vnd.docker.container.image.v1+json", 7023, m.fakeDigest(seed + " config"), nil},
		"layers": []descriptor{
			{"application/vnd.docker.image.rootfs.diff.tar.gzip", 29126484, m.fakeDigest(seed + " layer 0"), nil},
			{"application/vnd.docker.image.rootfs.diff.tar.gzip", 41234567, m.fakeDigest(seed + " layer 1"), nil},
			{"application/vnd.docker.image.rootfs.diff.tar.gzip", 1234, m.fakeDigest(seed + " layer 2"), nil},
		},
	})
}

// ociManifest is an OCI image manifest, as buildx writes it.
func (m *motoEnv) ociManifest(seed string) manifest {
	return newManifest(ociManifestType, map[string]any{
		"schemaVersion": 2,
		"mediaType":     ociManifestType,
		"config":        descriptor{"application/vnd.oci.image.config.v1+json", 1470, m.fakeDigest(seed + " config"), nil},
		"layers": []descriptor{
			{"application/vnd.oci.image.layer.v1.tar+gzip", 3623807, m.fakeDigest(seed + " layer 0"), nil},
			{"application/vnd.oci.image.layer.v1.tar+gzip", 1864, m.fakeDigest(seed + " layer 1"), nil},
		},
	})
}

// ociIndex is a multi-arch OCI image index over children, which it names
// by digest (linux/amd64, then linux/arm64).
func ociIndex(children ...manifest) manifest {
	platforms := []map[string]string{
		{"architecture": "amd64", "os": "linux"},
		{"architecture": "arm64", "os": "linux", "variant": "v8"},
	}
	var ds []descriptor
	for i, c := range children {
		ds = append(ds, descriptor{c.mediaType, int64(len(c.body)), c.digest, platforms[i%len(platforms)]})
	}
	return newManifest(ociIndexType, map[string]any{
		"schemaVersion": 2,
		"mediaType":     ociIndexType,
		"manifests":     ds,
	})
}

// push puts mf into repo under tag ("" pushes it untagged), giving moto the
// digest of the exact bytes, which it would otherwise compute wrongly.
func (m *motoEnv) push(region, repo, tag string, mf manifest) {
	m.t.Helper()
	if err := m.tryPush(region, repo, tag, mf); err != nil {
		m.t.Fatal(err)
	}
}

func (m *motoEnv) tryPush(region, repo, tag string, mf manifest) error {
	in := &ecr.PutImageInput{
		RepositoryName:         &repo,
		ImageManifest:          aws.String(string(mf.body)),
		ImageManifestMediaType: &mf.mediaType,
		ImageDigest:            &mf.digest,
	}
	if tag != "" {
		in.ImageTag = &tag
	}
	out, err := m.ecrClient(region).PutImage(context.Background(), in)
	if err != nil {
		return fmt.Errorf("push %s:%s in %s: %w", repo, tag, region, err)
	}
	if got := aws.ToString(out.Image.ImageId.ImageDigest); got != mf.digest {
		return fmt.Errorf("push %s:%s: moto says digest %s, want %s", repo, tag, got, mf.digest)
	}
	return nil
}

// pushIndex pushes the children of a multi-arch image untagged, as buildx
// does, and then the index under tag.
func (m *motoEnv) pushIndex(region, repo, tag string, children ...manifest) manifest {
	m.t.Helper()
	for _, c := range children {
		m.push(region, repo, "", c)
	}
	idx := ociIndex(children...)
	m.push(region, repo, tag, idx)
	return idx
}

// describe is what moto itself says of one image.
func (m *motoEnv) describe(region, repo, digest string) ecrtypes.ImageDetail {
	m.t.Helper()
	out, err := m.ecrClient(region).DescribeImages(context.Background(), &ecr.DescribeImagesInput{
		RepositoryName: &repo,
		ImageIds:       []ecrtypes.ImageIdentifier{{ImageDigest: &digest}},
	})
	if err != nil || len(out.ImageDetails) != 1 {
		m.t.Fatalf("describe %s@%s: %v", repo, digest, err)
	}
	return out.ImageDetails[0]
}

// cliResult is one run of the CLI.
type cliResult struct {
	code           int
	stdout, stderr string
	out            string // the --out directory
}

// render runs `ecsrender render --out DIR args...` with the test's
// environment; DIR does not exist beforehand.
func (m *motoEnv) render(args ...string) cliResult {
	m.t.Helper()
	var stderr bytes.Buffer
	return m.renderTo(&stderr, &stderr, args...)
}

func (m *motoEnv) renderTo(stderr io.Writer, buf *bytes.Buffer, args ...string) cliResult {
	m.t.Helper()
	out := filepath.Join(m.t.TempDir(), "out")
	lookup := func(k string) (string, bool) {
		if k == "CODEBUILD_RESOLVED_SOURCE_VERSION" {
			return "3f2a9c1", true
		}
		return "", false
	}
	var stdout bytes.Buffer
	argv := append([]string{"ecsrender", "render", "--out", out}, args...)
	code := run(context.Background(), argv, nil, &stdout, stderr, lookup)
	r := cliResult{code: code, stdout: stdout.String(), stderr: buf.String(), out: out}
	m.t.Logf("exit %d\nstderr:\n%s", code, r.stderr)
	return r
}

// expect asserts the exit status and a line of stderr, matched whole.
func (r cliResult) expect(t *testing.T, code int, stderrLine string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, code, r.stderr)
	}
	if stderrLine != "" && !regexp.MustCompile(`(?m)^`+stderrLine+`$`).MatchString(r.stderr) {
		t.Errorf("stderr has no line matching %q:\n%s", stderrLine, r.stderr)
	}
}

// noArtifacts asserts that a failed run left nothing in --out.
func (r cliResult) noArtifacts(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir(r.out)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("a failed run left %s in --out", e.Name())
	}
}

func (r cliResult) file(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.out, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// taskImages are the container images of taskdef.json by container name.
func (r cliResult) taskImages(t *testing.T) map[string]string {
	t.Helper()
	var td struct {
		ContainerDefinitions []struct{ Name, Image string }
	}
	if err := json.Unmarshal(r.file(t, "taskdef.json"), &td); err != nil {
		t.Fatalf("taskdef.json: %v", err)
	}
	out := map[string]string{}
	for _, c := range td.ContainerDefinitions {
		out[c.Name] = c.Image
	}
	return out
}

// imageDefinitions is imagedefinitions.json as name -> imageUri.
func (r cliResult) imageDefinitions(t *testing.T) map[string]string {
	t.Helper()
	var defs []struct {
		Name     string `json:"name"`
		ImageURI string `json:"imageUri"`
	}
	if err := json.Unmarshal(r.file(t, "imagedefinitions.json"), &defs); err != nil {
		t.Fatalf("imagedefinitions.json: %v", err)
	}
	out := map[string]string{}
	for _, d := range defs {
		out[d.Name] = d.ImageURI
	}
	return out
}

// wantImageDetail is the imageDetail.json that CodePipeline's ECR source
// action would write for an image moto describes as d.
func wantImageDetail(uri string, d ecrtypes.ImageDetail) map[string]any {
	tags := []any{}
	for _, tag := range slices.Sorted(slices.Values(d.ImageTags)) {
		tags = append(tags, tag)
	}
	return map[string]any{
		"ImageURI":         uri,
		"ImageDigest":      aws.ToString(d.ImageDigest),
		"ImageTags":        tags,
		"RegistryId":       aws.ToString(d.RegistryId),
		"RepositoryName":   aws.ToString(d.RepositoryName),
		"ImagePushedAt":    aws.ToTime(d.ImagePushedAt).UTC().Format("Mon Jan 02 15:04:05 MST 2006"),
		"ImageSizeInBytes": strconv.FormatInt(aws.ToInt64(d.ImageSizeInBytes), 10),
		"Version":          "1.0",
	}
}

func (r cliResult) imageDetail(t *testing.T) map[string]any {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(r.file(t, "imageDetail.json"), &got); err != nil {
		t.Fatalf("imageDetail.json: %v", err)
	}
	return got
}

// railsTemplate is testdata/rails/taskdef.json with its nginx sidecar in
// nginxRepo, a repository of this test.
func railsTemplate(t reporter, nginxRepo string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/rails/taskdef.json")
	if err != nil {
		t.Fatal(err)
	}
	const sidecar = "123456789012.dkr.ecr.us-east-1.amazonaws.com/prd-rails-nginx:1.27"
	if !bytes.Contains(b, []byte(sidecar)) {
		t.Fatalf("testdata/rails/taskdef.json no longer has the image %s", sidecar)
	}
	return bytes.ReplaceAll(b, []byte(sidecar), []byte(ecrRef("us-east-1", nginxRepo, "1.27")))
}

var railsVars = []string{"--container", "nginx:80", "--var", "web_concurrency=2", "--var", "stop_timeout=30"}

// railsSetup is the rails sample in moto: the template in S3, the app in
// one repository (a Docker v2 manifest tagged v1.4.2 and latest) and the
// nginx sidecar in another (a multi-arch OCI index tagged 1.27 and stable).
type railsSetup struct {
	bucket, key         string
	appRepo, nginxRepo  string
	app, nginx          manifest
	appImage, nginxSide string // the references given, by tag
}

func (m *motoEnv) rails() railsSetup {
	m.t.Helper()
	s := railsSetup{bucket: m.bucket("rails"), key: "services/prd-rails/taskdef.json"}
	s.appRepo = m.repo("us-east-1", "prd-rails")
	s.nginxRepo = m.repo("us-east-1", "prd-rails-nginx")
	m.put(s.bucket, s.key, railsTemplate(m.t, s.nginxRepo))

	s.app = m.dockerManifest("app v1.4.2")
	m.push("us-east-1", s.appRepo, "v1.4.2", s.app)
	m.push("us-east-1", s.appRepo, "latest", s.app)
	// Asking for the first of two tags: moto echoes the last one added.
	s.nginx = m.pushIndex("us-east-1", s.nginxRepo, "1.27", m.ociManifest("nginx amd64"), m.ociManifest("nginx arm64"))
	m.push("us-east-1", s.nginxRepo, "stable", s.nginx)

	s.appImage = ecrRef("us-east-1", s.appRepo, "v1.4.2")
	s.nginxSide = ecrRef("us-east-1", s.nginxRepo, "1.27")
	m.calls.Take() // seeding went to moto directly; start from zero anyway
	return s
}

// TestMotoRenderPinsECRImages renders the rails sample from S3 with both
// of its images in ECR: every image is pinned to the sha256 of the exact
// manifest bytes pushed, imageDetail.json says what ECR says, and the
// calls are one GetObject and one DescribeImages per repository. The
// result is then registered with moto's ECS.
func TestMotoRenderPinsECRImages(t *testing.T) {
	m := newMoto(t)
	s := m.rails()

	r := m.render(append([]string{"--template", "s3://" + s.bucket + "/" + s.key, "--image", "app=" + s.appImage}, railsVars...)...)
	r.expect(t, 0, "")
	if strings.Contains(r.stderr, "error") {
		t.Errorf("stderr mentions an error:\n%s", r.stderr)
	}

	appPinned := ecrRef("us-east-1", s.appRepo, s.app.digest)
	nginxPinned := ecrRef("us-east-1", s.nginxRepo, s.nginx.digest)
	want := map[string]string{"app": appPinned, "nginx": nginxPinned}
	if diff := cmp.Diff(want, r.taskImages(t)); diff != "" {
		t.Errorf("taskdef.json images (-want +got):\n%s", diff)
	}
	// The pinned sidecar reaches a rolling deploy too.
	if diff := cmp.Diff(want, r.imageDefinitions(t)); diff != "" {
		t.Errorf("imagedefinitions.json (-want +got):\n%s", diff)
	}
	// imageDetail.json describes the image this build made, the first
	// --image, not the load-balanced nginx.
	d := m.describe("us-east-1", s.appRepo, s.app.digest)
	if diff := cmp.Diff(wantImageDetail(appPinned, d), r.imageDetail(t)); diff != "" {
		t.Errorf("imageDetail.json (-want +got):\n%s", diff)
	}
	if got := r.imageDetail(t)["ImageTags"]; !cmp.Equal(got, []any{"latest", "v1.4.2"}) {
		t.Errorf("imageDetail.json ImageTags = %v, want both tags of the image, sorted", got)
	}
	if _, err := os.Stat(filepath.Join(r.out, "appspec.yaml")); err != nil {
		t.Errorf("appspec.yaml: %v", err)
	}

	m.expectCalls(map[string]int{
		"s3 GET /" + s.bucket + "/" + s.key:           1,
		"ecr DescribeImages us-east-1 " + s.appRepo:   1,
		"ecr DescribeImages us-east-1 " + s.nginxRepo: 1,
	})

	t.Run("register with ECS", func(t *testing.T) {
		m := m.in(t)
		var in ecs.RegisterTaskDefinitionInput
		dec := json.NewDecoder(bytes.NewReader(r.file(t, "taskdef.json")))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			t.Fatalf("taskdef.json does not decode into ecs.RegisterTaskDefinitionInput: %v", err)
		}
		out, err := m.ecs.RegisterTaskDefinition(context.Background(), &in)
		if err != nil {
			t.Fatalf("moto's ECS refused taskdef.json: %v", err)
		}
		td := out.TaskDefinition
		t.Logf("registered %s", aws.ToString(td.TaskDefinitionArn))
		got := map[string]string{}
		for _, c := range td.ContainerDefinitions {
			got[aws.ToString(c.Name)] = aws.ToString(c.Image)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("registered images (-want +got):\n%s", diff)
		}
		if aws.ToString(td.Family) != "prd-rails" || aws.ToString(td.Cpu) != "1024" || aws.ToString(td.Memory) != "2048" {
			t.Errorf("registered family %q cpu %q memory %q, want prd-rails 1024 2048", aws.ToString(td.Family), aws.ToString(td.Cpu), aws.ToString(td.Memory))
		}
	})
}

// notifyWriter is a stderr that signals when a line containing a word
// has been written. It is safe for concurrent use.
type notifyWriter struct {
	mu   sync.Mutex
	buf  *bytes.Buffer
	word string
	once sync.Once
	seen chan struct{}
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.word) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

// TestMotoWaitForImage waits for a tag that another pipeline pushes while
// ecsrender polls, and gives up on one that never comes.
func TestMotoWaitForImage(t *testing.T) {
	m := newMoto(t)
	s := m.rails()
	src := "s3://" + s.bucket + "/" + s.key

	t.Run("pushed while waiting", func(t *testing.T) {
		m := m.in(t)
		img := ecrRef("us-east-1", s.appRepo, "v2.0.0")
		mf := m.dockerManifest("app v2.0.0")
		var buf bytes.Buffer
		stderr := &notifyWriter{buf: &buf, word: "note: waiting for", seen: make(chan struct{})}
		done := make(chan struct{})
		pushed := make(chan error, 1)
		go func() {
			// Push once ecsrender has said it is waiting: then the tag
			// was surely missing at the first look.
			select {
			case <-stderr.seen:
				pushed <- m.tryPush("us-east-1", s.appRepo, "v2.0.0", mf)
			case <-done:
				pushed <- fmt.Errorf("render ended without saying it was waiting")
			}
		}()
		r := m.renderTo(stderr, &buf, append([]string{"--template", src, "--image", "app=" + img, "--wait-for-image", "30s"}, railsVars...)...)
		close(done)
		if err := <-pushed; err != nil {
			t.Fatal(err)
		}
		r.expect(t, 0, `note: waiting for `+regexp.QuoteMeta(img)+` \([0-9]+s left\)`)
		if got := r.taskImages(t)["app"]; got != ecrRef("us-east-1", s.appRepo, mf.digest) {
			t.Errorf("app image %s, want the image pushed while waiting, pinned", got)
		}
	})
	t.Run("never pushed", func(t *testing.T) {
		m := m.in(t)
		img := ecrRef("us-east-1", s.appRepo, "v3.0.0")
		r := m.render(append([]string{"--template", src, "--image", "app=" + img, "--wait-for-image", "2s"}, railsVars...)...)
		r.expect(t, 1, "error: image "+regexp.QuoteMeta(img)+": tag v3.0.0 not found in repository "+regexp.QuoteMeta(s.appRepo)+` \(registry 123456789012, us-east-1\) after waiting 2s`)
		r.expect(t, 1, `note: waiting for `+regexp.QuoteMeta(img)+` \(2s left\)`)
		r.noArtifacts(t)
	})
}

// TestMotoDescribeRoundTrip renders a template that is the output of
// `aws ecs describe-task-definition` for a revision registered in moto,
// as people start templates from a live revision: the read-only fields
// are dropped with a notice, the new image is pinned, the sidecar stays
// pinned to its digest, and ECS accepts the result again.
func TestMotoDescribeRoundTrip(t *testing.T) {
	m := newMoto(t)
	s := m.rails()
	r := m.render(append([]string{"--template", "s3://" + s.bucket + "/" + s.key, "--image", "app=" + s.appImage}, railsVars...)...)
	r.expect(t, 0, "")
	arn := m.register(r.file(t, "taskdef.json"))

	// The CLI's own JSON, not the SDK's structs: a plain request to moto.
	req, err := http.NewRequest("POST", m.endpoint+"/", strings.NewReader(fmt.Sprintf(`{"taskDefinition": %q, "include": ["TAGS"]}`, arn)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	described, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("describe %s: %s %v\n%s", arn, resp.Status, err, described)
	}
	m.put(s.bucket, "described.json", described)

	v2 := m.dockerManifest("app v2")
	m.push("us-east-1", s.appRepo, "v2", v2)
	m.calls.Take()

	src := "s3://" + s.bucket + "/described.json"
	r = m.render("--template", src, "--image", "app="+ecrRef("us-east-1", s.appRepo, "v2"), "--container", "nginx:80")
	r.expect(t, 0, "note: template "+regexp.QuoteMeta(src)+": describe-task-definition output: dropped the taskDefinition wrapper and read-only fields .*")
	want := map[string]string{
		"app":   ecrRef("us-east-1", s.appRepo, v2.digest),
		"nginx": ecrRef("us-east-1", s.nginxRepo, s.nginx.digest),
	}
	if diff := cmp.Diff(want, r.taskImages(t)); diff != "" {
		t.Errorf("taskdef.json images (-want +got):\n%s", diff)
	}
	var td map[string]any
	if err := json.Unmarshal(r.file(t, "taskdef.json"), &td); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"taskDefinitionArn", "revision", "status", "compatibilities", "registeredAt", "registeredBy", "taskDefinition"} {
		if _, ok := td[k]; ok {
			t.Errorf("taskdef.json still has %s", k)
		}
	}
	if _, ok := td["tags"]; !ok {
		t.Errorf("taskdef.json lost the tags that describe-task-definition --include TAGS puts beside the wrapper")
	}
	m.expectCalls(map[string]int{
		"s3 GET /" + s.bucket + "/described.json":     1,
		"ecr DescribeImages us-east-1 " + s.appRepo:   1,
		"ecr DescribeImages us-east-1 " + s.nginxRepo: 1,
	})
	m.register(r.file(t, "taskdef.json"))
}

// register registers taskdef.json with moto's ECS, decoded strictly into
// the SDK's input type, and returns the new revision's ARN.
func (m *motoEnv) register(taskdef []byte) string {
	m.t.Helper()
	var in ecs.RegisterTaskDefinitionInput
	dec := json.NewDecoder(bytes.NewReader(taskdef))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		m.t.Fatalf("taskdef.json does not decode into ecs.RegisterTaskDefinitionInput: %v", err)
	}
	out, err := m.ecs.RegisterTaskDefinition(context.Background(), &in)
	if err != nil {
		m.t.Fatalf("moto's ECS refused taskdef.json: %v", err)
	}
	arn := aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	m.t.Logf("registered %s", arn)
	return arn
}

// TestMotoImageEdges covers what a real registry does to references:
// a tag moved to a new image, a digest that is not there, an image of
// another account's registry, and a reference with both tag and digest.
func TestMotoImageEdges(t *testing.T) {
	m := newMoto(t)
	bucket := m.bucket("edges")
	repo := m.repo("us-east-1", "edges")
	old, moved := m.dockerManifest("old"), m.dockerManifest("moved")
	// moto deletes an image whose only tag moves (ECR keeps it untagged),
	// so the old image keeps a tag of its own.
	m.push("us-east-1", repo, "v1", old)
	m.push("us-east-1", repo, "main", old)
	m.push("us-east-1", repo, "main", moved)
	m.put(bucket, "taskdef.json", fmt.Appendf(nil, `{
  "family": "edges",
  "requiresCompatibilities": ["FARGATE"],
  "executionRoleArn": "ecsTaskExecutionRole",
  "networkMode": "awsvpc",
  "cpu": "256",
  "memory": "512",
  "containerDefinitions": [{"name": "app", "image": %q}]
}`, ecrRef("us-east-1", repo, "main")))
	src := "s3://" + bucket + "/taskdef.json"
	q := regexp.QuoteMeta

	t.Run("moved tag", func(t *testing.T) {
		m := m.in(t)
		r := m.render("--template", src, "--no-appspec")
		r.expect(t, 0, "")
		if got := r.taskImages(t)["app"]; got != ecrRef("us-east-1", repo, moved.digest) {
			t.Errorf("image %s, want the tag's newest image %s", got, moved.digest)
		}
	})
	t.Run("old image by digest", func(t *testing.T) {
		m := m.in(t)
		img := ecrRef("us-east-1", repo, old.digest)
		r := m.render("--template", src, "--no-appspec", "--image", "app="+img)
		r.expect(t, 0, "")
		if got := r.taskImages(t)["app"]; got != img {
			t.Errorf("image %s, want %s", got, img)
		}
		if tags := r.imageDetail(t)["ImageTags"]; !cmp.Equal(tags, []any{"v1"}) {
			t.Errorf("imageDetail.json ImageTags = %v, want [v1]: main has moved on", tags)
		}
	})
	t.Run("missing digest", func(t *testing.T) {
		m := m.in(t)
		digest := m.fakeDigest("never pushed")
		img := ecrRef("us-east-1", repo, digest)
		r := m.render("--template", src, "--no-appspec", "--image", "app="+img)
		r.expect(t, 1, "error: image "+q(img)+": digest "+digest+" not found in repository "+q(repo)+` \(registry 123456789012, us-east-1\)`)
		r.noArtifacts(t)
	})
	t.Run("tag and digest", func(t *testing.T) {
		// The digest decides what ECS pulls; the tag is only a label.
		m := m.in(t)
		img := "123456789012.dkr.ecr.us-east-1.amazonaws.com/" + repo + ":main@" + old.digest
		r := m.render("--template", src, "--no-appspec", "--image", "app="+img)
		r.expect(t, 0, "")
		if got := r.taskImages(t)["app"]; got != ecrRef("us-east-1", repo, old.digest) {
			t.Errorf("image %s, want it pinned to the digest given, %s", got, old.digest)
		}
	})
	t.Run("another account", func(t *testing.T) {
		m := m.in(t)
		img := "210987654321.dkr.ecr.us-east-1.amazonaws.com/" + repo + ":main"
		r := m.render("--template", src, "--no-appspec", "--image", "app="+img)
		r.expect(t, 1, "error: image "+q(img)+": repository "+q(repo)+` not found \(registry 210987654321, us-east-1\)`)
		r.noArtifacts(t)
	})
	t.Run("check writes nothing", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		dir := t.TempDir()
		t.Chdir(dir)
		code := run(context.Background(), []string{"ecsrender", "check", "--template", src, "--no-appspec"}, nil, &stdout, &stderr, func(string) (string, bool) { return "", false })
		if code != 0 || !strings.HasPrefix(stdout.String(), "ok: ") {
			t.Errorf("check: exit %d, stdout %q, stderr:\n%s", code, stdout.String(), stderr.String())
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("check wrote %d files", len(entries))
		}
	})
}

// TestMotoScripts runs the moto scenarios written as scripts in
// testdata/moto: each gets its own counting proxy in front of moto, the
// CLI's environment pointed at it, and these commands besides testscript's
// and the CLI scripts' own:
//
//	rails              seeds the rails sample (see railsSetup) and sets
//	                   BUCKET, KEY, APP_REPO, NGINX_REPO, APP_IMAGE,
//	                   NGINX_IMAGE, APP_PINNED, NGINX_PINNED and SUFFIX
//	                   and writes the template it put in S3 to rails.json
//	bucket [-versioned] PREFIX
//	                   creates the bucket PREFIX-$SUFFIX and sets BUCKET
//	repo REGION PREFIX VAR
//	                   creates the repository PREFIX-$SUFFIX and sets VAR
//	push REGION REPO TAG docker|oci|index VAR
//	                   pushes a new manifest of that kind (index: an OCI
//	                   index of two platforms) as REPO:TAG, and sets VAR to
//	                   its digest
//	s3put [-env] KEY FILE [OLD NEW]
//	                   puts FILE at s3://$BUCKET/KEY, with OLD replaced by
//	                   NEW, and with -env its $VARS expanded; sets VERSION
//	                   to the object's version id
//	fault 'KEY' N KIND makes the proxy answer the first N calls with KEY (0:
//	                   every one) with a fault: throttle, server-error,
//	                   hang or denied (awstest.Fault); `fault` alone ends it
//	calls 'KEY=N' ...  asserts exactly these calls reached moto since the
//	                   last `calls` (or `rails`), keyed as awstest.Call.Key
func TestMotoScripts(t *testing.T) {
	endpoint := awstest.MotoEndpoint(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/moto",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			m := newMotoEnv(t, endpoint)
			env.Values["moto"] = m
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			empty := filepath.Join(env.WorkDir, ".aws-empty")
			if err := os.WriteFile(empty, nil, 0o600); err != nil {
				return err
			}
			for k, v := range map[string]string{
				"AWS_ACCESS_KEY_ID":           "test",
				"AWS_SECRET_ACCESS_KEY":       "test",
				"AWS_REGION":                  "us-east-1",
				"AWS_EC2_METADATA_DISABLED":   "true",
				"AWS_CONFIG_FILE":             empty,
				"AWS_SHARED_CREDENTIALS_FILE": empty,
				"AWS_ENDPOINT_URL":            m.proxy,
				"SUFFIX":                      m.suffix,
				"TESTDATA":                    filepath.Join(wd, "testdata"),
				// These scripts count S3 and ECR calls; verify has its
				// own suite (moto_verify_test.go).
				"ECSRENDER_VERIFY": "false",
			} {
				env.Setenv(k, v)
			}
			return nil
		},
		Cmds: withScriptCmds(map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"rails": func(ts *testscript.TestScript, neg bool, args []string) {
				m := scriptMoto(ts)
				s := m.rails()
				if err := os.WriteFile(ts.MkAbs("rails.json"), railsTemplate(scriptT{ts}, s.nginxRepo), 0o644); err != nil {
					ts.Fatalf("%v", err)
				}
				for k, v := range map[string]string{
					"BUCKET": s.bucket, "KEY": s.key, "APP_REPO": s.appRepo, "NGINX_REPO": s.nginxRepo,
					"APP_IMAGE": s.appImage, "NGINX_IMAGE": s.nginxSide,
					"APP_PINNED":   ecrRef("us-east-1", s.appRepo, s.app.digest),
					"NGINX_PINNED": ecrRef("us-east-1", s.nginxRepo, s.nginx.digest),
				} {
					ts.Setenv(k, v)
				}
			},
			"bucket": func(ts *testscript.TestScript, neg bool, args []string) {
				versioned := len(args) > 0 && args[0] == "-versioned"
				if versioned {
					args = args[1:]
				}
				if neg || len(args) != 1 {
					ts.Fatalf("usage: bucket [-versioned] PREFIX")
				}
				m := scriptMoto(ts)
				b := m.bucket(args[0])
				if versioned {
					if _, err := m.s3.PutBucketVersioning(context.Background(), &s3.PutBucketVersioningInput{
						Bucket:                  &b,
						VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
					}); err != nil {
						ts.Fatalf("versioning of %s: %v", b, err)
					}
				}
				ts.Setenv("BUCKET", b)
			},
			"repo": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 3 {
					ts.Fatalf("usage: repo REGION PREFIX VAR")
				}
				ts.Setenv(args[2], scriptMoto(ts).repo(args[0], args[1]))
			},
			"push": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 5 {
					ts.Fatalf("usage: push REGION REPO TAG docker|oci|index VAR")
				}
				m := scriptMoto(ts)
				seed := args[1] + ":" + args[2]
				var mf manifest
				switch args[3] {
				case "docker":
					mf = m.dockerManifest(seed)
				case "oci":
					mf = m.ociManifest(seed)
				case "index":
					mf = m.pushIndex(args[0], args[1], args[2], m.ociManifest(seed+" amd64"), m.ociManifest(seed+" arm64"))
					ts.Setenv(args[4], mf.digest)
					return
				default:
					ts.Fatalf("push: kind %q is not docker, oci or index", args[3])
				}
				m.push(args[0], args[1], args[2], mf)
				ts.Setenv(args[4], mf.digest)
			},
			"s3put": func(ts *testscript.TestScript, neg bool, args []string) {
				expand := len(args) > 0 && args[0] == "-env"
				if expand {
					args = args[1:]
				}
				if neg || len(args) != 2 && len(args) != 4 {
					ts.Fatalf("usage: s3put [-env] KEY FILE [OLD NEW]")
				}
				body := ts.ReadFile(args[1])
				if expand {
					body = os.Expand(body, ts.Getenv)
				}
				if len(args) == 4 {
					body = strings.ReplaceAll(body, args[2], args[3])
				}
				ts.Setenv("VERSION", scriptMoto(ts).put(ts.Getenv("BUCKET"), args[0], []byte(body)))
			},
			"fault": func(ts *testscript.TestScript, neg bool, args []string) {
				m := scriptMoto(ts)
				if len(args) == 0 && !neg {
					m.calls.SetFaults(nil)
					return
				}
				if neg || len(args) != 3 {
					ts.Fatalf("usage: fault 'KEY' N throttle|server-error|hang|denied")
				}
				n, err := strconv.Atoi(args[1])
				kinds := map[string]awstest.Fault{"throttle": awstest.Throttle, "server-error": awstest.ServerError, "hang": awstest.Hang, "denied": awstest.Denied}
				f, ok := kinds[args[2]]
				if err != nil || !ok {
					ts.Fatalf("usage: fault 'KEY' N throttle|server-error|hang|denied")
				}
				m.calls.SetFaults(awstest.On(args[0], n, f))
			},
			"calls": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg {
					ts.Fatalf("usage: calls 'KEY=N' ...")
				}
				want := map[string]int{}
				for _, a := range args {
					i := strings.LastIndexByte(a, '=')
					n, err := strconv.Atoi(a[i+1:])
					if i < 0 || err != nil {
						ts.Fatalf("calls: %q is not KEY=N", a)
					}
					want[a[:i]] = n
				}
				scriptMoto(ts).expectCalls(want)
			},
		}),
	})
}

// scriptMoto is the script's motoEnv, reporting to the script.
func scriptMoto(ts *testscript.TestScript) *motoEnv {
	m := *ts.Value("moto").(*motoEnv)
	m.t = scriptT{ts}
	return &m
}

// scriptT reports a motoEnv's failures to a script: any failure ends it.
type scriptT struct{ ts *testscript.TestScript }

func (scriptT) Helper()                             {}
func (s scriptT) Fatal(args ...any)                 { s.ts.Fatalf("%s", fmt.Sprint(args...)) }
func (s scriptT) Fatalf(format string, args ...any) { s.ts.Fatalf(format, args...) }
func (s scriptT) Errorf(format string, args ...any) { s.ts.Fatalf(format, args...) }
func (s scriptT) Logf(format string, args ...any)   { s.ts.Logf(format, args...) }
func (s scriptT) TempDir() string {
	dir, err := os.MkdirTemp(s.ts.Getenv("WORK"), "tmp")
	if err != nil {
		s.ts.Fatalf("%v", err)
	}
	return dir
}
