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
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
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
)

// motoAccount is the account moto gives every request by default.
const motoAccount = "123456789012"

// motoEndpoint is the gate of every moto test: the endpoint of a running
// moto_server, or a skip (a fatal error under CI=true, where the suite is
// required).
func motoEndpoint(t *testing.T) string {
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
		t.Fatalf("ECSRENDER_MOTO_ENDPOINT=%q: want http://127.0.0.1:PORT (not localhost: S3 would try virtual-host names)", ep)
	}
	return ep
}

// motoEnv is one test's view of moto: SDK clients that seed it directly,
// and a counting proxy in front of it that the CLI under test talks to.
type motoEnv struct {
	t        *testing.T
	endpoint string // moto itself
	proxy    string // the counting proxy the CLI is pointed at
	suffix   string // random, lowercase hex
	cfg      aws.Config
	s3       *s3.Client
	ecs      *ecs.Client
	calls    *callCounter
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

// newMoto gates the test, points the SDK's environment at a counting proxy
// in front of moto, and returns clients for seeding.
func newMoto(t *testing.T) *motoEnv {
	t.Helper()
	endpoint := motoEndpoint(t)

	resp, err := http.Get(endpoint + "/moto-api/")
	if err != nil {
		t.Fatalf("moto_server at %s does not answer: %v", endpoint, err)
	}
	resp.Body.Close()

	calls := &callCounter{n: map[string]int{}}
	target, _ := url.Parse(endpoint)
	proxy := httptest.NewServer(calls.wrap(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
	}))
	t.Cleanup(proxy.Close)

	setAWSEnv(t, proxy.URL)

	b := make([]byte, 4)
	rand.Read(b)
	m := &motoEnv{
		t:        t,
		endpoint: endpoint,
		proxy:    proxy.URL,
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

// setAWSEnv gives the process the environment of a CodeBuild job that
// talks to endpoint, and nothing from the developer's own AWS setup.
func setAWSEnv(t *testing.T, endpoint string) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "ECSRENDER_") && name != "ECSRENDER_MOTO_ENDPOINT" {
			unsetenv(t, name)
		}
	}
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
}

// unsetenv removes name for the rest of the test; t.Setenv restores it.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	os.Unsetenv(name)
}

// callCounter counts the calls that reach moto through the proxy: ECR by
// operation, region and repository, S3 by method and path.
type callCounter struct {
	mu sync.Mutex
	n  map[string]int
	// fault, when set, may answer a call in moto's stead: given the
	// call's key and how many times it has been seen (1 for the first),
	// a non-zero status is sent with body instead of asking moto; -1
	// answers nothing until the client gives up.
	fault func(key string, n int) (status int, body string)
}

var credentialScope = regexp.MustCompile(`Credential=[^/]+/[0-9]+/([a-z0-9-]+)/`)

func (c *callCounter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := "s3 " + r.Method + " " + r.URL.Path
		if v := r.URL.Query().Get("versionId"); v != "" {
			key += "?versionId=" + v
		}
		if target := r.Header.Get("X-Amz-Target"); target != "" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var in struct{ RepositoryName string }
			json.Unmarshal(body, &in)
			region := "?"
			if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
				region = m[1]
			}
			service, op, _ := strings.Cut(target, ".")
			if strings.HasPrefix(service, "AmazonEC2ContainerRegistry") {
				service = "ecr"
			}
			key = fmt.Sprintf("%s %s %s %s", service, op, region, in.RepositoryName)
		}
		c.mu.Lock()
		c.n[key]++
		n, fault := c.n[key], c.fault
		c.mu.Unlock()
		if fault != nil {
			if status, body := fault(key, n); status == -1 {
				<-r.Context().Done()
				return
			} else if status != 0 {
				if r.Header.Get("X-Amz-Target") != "" {
					w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				} else {
					w.Header().Set("Content-Type", "application/xml")
				}
				w.WriteHeader(status)
				io.WriteString(w, body)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// setFault installs f (nil removes it).
func (c *callCounter) setFault(f func(key string, n int) (int, string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fault = f
}

// take returns the counts so far and starts again from zero.
func (c *callCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// expectCalls asserts exactly these calls reached moto since the last
// take, and logs them so that CI output shows them.
func (m *motoEnv) expectCalls(want map[string]int) {
	m.t.Helper()
	got := m.calls.take()
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
func ref(region, repo, tagOrDigest string) string {
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
func railsTemplate(t *testing.T, nginxRepo string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/rails/taskdef.json")
	if err != nil {
		t.Fatal(err)
	}
	const sidecar = "123456789012.dkr.ecr.us-east-1.amazonaws.com/prd-rails-nginx:1.27"
	if !bytes.Contains(b, []byte(sidecar)) {
		t.Fatalf("testdata/rails/taskdef.json no longer has the image %s", sidecar)
	}
	return bytes.ReplaceAll(b, []byte(sidecar), []byte(ref("us-east-1", nginxRepo, "1.27")))
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

	s.appImage = ref("us-east-1", s.appRepo, "v1.4.2")
	s.nginxSide = ref("us-east-1", s.nginxRepo, "1.27")
	m.calls.take() // seeding went to moto directly; start from zero anyway
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

	appPinned := ref("us-east-1", s.appRepo, s.app.digest)
	nginxPinned := ref("us-east-1", s.nginxRepo, s.nginx.digest)
	want := map[string]string{"app": appPinned, "nginx": nginxPinned}
	if diff := cmp.Diff(want, r.taskImages(t)); diff != "" {
		t.Errorf("taskdef.json images (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"app": appPinned}, r.imageDefinitions(t)); diff != "" {
		t.Errorf("imagedefinitions.json (-want +got):\n%s", diff)
	}
	// The primary container is the load balancer's: nginx.
	d := m.describe("us-east-1", s.nginxRepo, s.nginx.digest)
	if diff := cmp.Diff(wantImageDetail(nginxPinned, d), r.imageDetail(t)); diff != "" {
		t.Errorf("imageDetail.json (-want +got):\n%s", diff)
	}
	if got := r.imageDetail(t)["ImageTags"]; !cmp.Equal(got, []any{"1.27", "stable"}) {
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

// TestMotoTemplateVersion reads an older version of a template with
// s3://...?versionId=V.
func TestMotoTemplateVersion(t *testing.T) {
	m := newMoto(t)
	bucket := m.bucket("versions")
	if _, err := m.s3.PutBucketVersioning(context.Background(), &s3.PutBucketVersioningInput{
		Bucket:                  &bucket,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
	}); err != nil {
		t.Fatal(err)
	}
	repo := m.repo("us-east-1", "versions")
	mf := m.dockerManifest("versions")
	m.push("us-east-1", repo, "v1", mf)
	template := func(release string) []byte {
		return fmt.Appendf(nil, `{
  "family": "versions",
  "requiresCompatibilities": ["FARGATE"],
  "executionRoleArn": "ecsTaskExecutionRole",
  "networkMode": "awsvpc",
  "cpu": "256",
  "memory": "512",
  "containerDefinitions": [
    {"name": "app", "image": %q, "environment": [{"name": "RELEASE", "value": %q}]}
  ]
}`, ref("us-east-1", repo, "v1"), release)
	}
	const key = "taskdef.json"
	oldVersion := m.put(bucket, key, template("old"))
	newVersion := m.put(bucket, key, template("new"))
	if oldVersion == "" || oldVersion == newVersion {
		t.Fatalf("versions %q and %q: versioning is not on", oldVersion, newVersion)
	}
	m.calls.take()

	release := func(r cliResult) string {
		t.Helper()
		var td struct {
			ContainerDefinitions []struct {
				Environment []struct{ Name, Value string }
			}
		}
		if err := json.Unmarshal(r.file(t, "taskdef.json"), &td); err != nil {
			t.Fatal(err)
		}
		return td.ContainerDefinitions[0].Environment[0].Value
	}
	for _, tc := range []struct{ src, want string }{
		{"s3://" + bucket + "/" + key + "?versionId=" + url.PathEscape(oldVersion), "old"},
		{"s3://" + bucket + "/" + key + "?versionId=" + url.PathEscape(newVersion), "new"},
		{"s3://" + bucket + "/" + key, "new"},
	} {
		r := m.render("--template", tc.src, "--no-appspec")
		r.expect(t, 0, "")
		if got := release(r); got != tc.want {
			t.Errorf("%s rendered RELEASE=%q, want %q", tc.src, got, tc.want)
		}
		if got := r.taskImages(t)["app"]; got != ref("us-east-1", repo, mf.digest) {
			t.Errorf("%s: image %s, want it pinned", tc.src, got)
		}
	}
	m.expectCalls(map[string]int{
		"s3 GET /" + bucket + "/" + key + "?versionId=" + oldVersion: 1,
		"s3 GET /" + bucket + "/" + key + "?versionId=" + newVersion: 1,
		"s3 GET /" + bucket + "/" + key:                              1,
		"ecr DescribeImages us-east-1 " + repo:                       3,
	})

	r := m.render("--template", "s3://"+bucket+"/"+key+"?versionId=nosuchversion", "--no-appspec")
	r.expect(t, 1, `error: get s3://`+regexp.QuoteMeta(bucket+"/"+key)+`\?versionId=nosuchversion: no such version.*`)
	r.noArtifacts(t)
}

// TestMotoMissing fails, in one line each and with nothing written, when
// a tag, a repository, a key or a bucket does not exist.
func TestMotoMissing(t *testing.T) {
	m := newMoto(t)
	s := m.rails()
	src := "s3://" + s.bucket + "/" + s.key
	q := regexp.QuoteMeta

	t.Run("tag", func(t *testing.T) {
		m := m.in(t)
		img := ref("us-east-1", s.appRepo, "v9.9.9")
		r := m.render(append([]string{"--template", src, "--image", "app=" + img}, railsVars...)...)
		r.expect(t, 1, "error: image "+q(img)+": tag v9.9.9 not found in repository "+q(s.appRepo)+` \(registry 123456789012, us-east-1\)`)
		r.noArtifacts(t)
		if n := strings.Count(r.stderr, "error: "); n != 1 {
			t.Errorf("%d error lines, want 1:\n%s", n, r.stderr)
		}
	})
	t.Run("repository", func(t *testing.T) {
		m := m.in(t)
		repo := m.name("no-such-repo")
		img := ref("us-east-1", repo, "v1")
		r := m.render(append([]string{"--template", src, "--image", "app=" + img}, railsVars...)...)
		r.expect(t, 1, "error: image "+q(img)+": repository "+q(repo)+` not found \(registry 123456789012, us-east-1\)`)
		r.noArtifacts(t)
	})
	t.Run("tag and repository", func(t *testing.T) {
		m := m.in(t)
		// Both are reported at once.
		repo := m.name("no-such-repo")
		img := ref("us-east-1", repo, "v1")
		tpl := bytes.ReplaceAll(railsTemplate(t, s.nginxRepo), []byte(":1.27"), []byte(":0.0.0"))
		m.put(s.bucket, "missing-sidecar.json", tpl)
		r := m.render(append([]string{"--template", "s3://" + s.bucket + "/missing-sidecar.json", "--image", "app=" + img}, railsVars...)...)
		r.expect(t, 1, "error: image "+q(img)+": repository "+q(repo)+` not found \(registry 123456789012, us-east-1\)`)
		r.expect(t, 1, "error: image "+q(ref("us-east-1", s.nginxRepo, "0.0.0"))+": tag 0.0.0 not found in repository "+q(s.nginxRepo)+` \(registry 123456789012, us-east-1\)`)
		r.noArtifacts(t)
	})
	t.Run("key", func(t *testing.T) {
		m := m.in(t)
		r := m.render(append([]string{"--template", "s3://" + s.bucket + "/no/such/key.json", "--image", "app=" + s.appImage}, railsVars...)...)
		r.expect(t, 1, "error: get s3://"+q(s.bucket)+"/no/such/key.json: no such key")
		r.noArtifacts(t)
	})
	t.Run("bucket", func(t *testing.T) {
		m := m.in(t)
		bucket := m.name("ecsrender-no-such-bucket")
		r := m.render(append([]string{"--template", "s3://" + bucket + "/taskdef.json", "--image", "app=" + s.appImage}, railsVars...)...)
		r.expect(t, 1, "error: get s3://"+q(bucket)+"/taskdef.json: no such bucket")
		r.noArtifacts(t)
	})
	t.Run("appspec key", func(t *testing.T) {
		m := m.in(t)
		r := m.render("--template", src, "--image", "app="+s.appImage, "--var", "web_concurrency=2", "--var", "stop_timeout=30",
			"--appspec", "s3://"+s.bucket+"/no-appspec.yaml")
		r.expect(t, 1, "error: get s3://"+q(s.bucket)+"/no-appspec.yaml: no such key")
		r.noArtifacts(t)
	})
	t.Run("existing out dir", func(t *testing.T) {
		// A failed run into a directory of earlier artifacts leaves them
		// as they were.
		dir := t.TempDir()
		old := []byte(`{"old": true}`)
		if err := os.WriteFile(filepath.Join(dir, "taskdef.json"), old, 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"ecsrender", "render", "--out", dir, "--template", src,
			"--image", "app=" + ref("us-east-1", s.appRepo, "v9.9.9")}, railsVars...), nil, &stdout, &stderr, func(string) (string, bool) { return "", false })
		if code != 1 {
			t.Errorf("exit %d, want 1\nstderr:\n%s", code, stderr.String())
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("--out holds %d files, want only the old taskdef.json", len(entries))
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "taskdef.json")); !bytes.Equal(b, old) {
			t.Errorf("the old taskdef.json was changed to:\n%s", b)
		}
	})
}

// TestMotoNoPin keeps tags with --pin=false, but still checks that they
// exist.
func TestMotoNoPin(t *testing.T) {
	m := newMoto(t)
	s := m.rails()
	src := "s3://" + s.bucket + "/" + s.key

	r := m.render(append([]string{"--template", src, "--image", "app=" + s.appImage, "--pin=false"}, railsVars...)...)
	r.expect(t, 0, "")
	want := map[string]string{"app": s.appImage, "nginx": s.nginxSide}
	if diff := cmp.Diff(want, r.taskImages(t)); diff != "" {
		t.Errorf("taskdef.json images (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"app": s.appImage}, r.imageDefinitions(t)); diff != "" {
		t.Errorf("imagedefinitions.json (-want +got):\n%s", diff)
	}
	d := m.describe("us-east-1", s.nginxRepo, s.nginx.digest)
	if diff := cmp.Diff(wantImageDetail(s.nginxSide, d), r.imageDetail(t)); diff != "" {
		t.Errorf("imageDetail.json (-want +got):\n%s", diff)
	}
	m.expectCalls(map[string]int{
		"s3 GET /" + s.bucket + "/" + s.key:           1,
		"ecr DescribeImages us-east-1 " + s.appRepo:   1,
		"ecr DescribeImages us-east-1 " + s.nginxRepo: 1,
	})

	img := ref("us-east-1", s.appRepo, "v0")
	r = m.render(append([]string{"--template", src, "--image", "app=" + img, "--pin=false"}, railsVars...)...)
	r.expect(t, 1, "error: image "+regexp.QuoteMeta(img)+": tag v0 not found in repository "+regexp.QuoteMeta(s.appRepo)+` \(registry 123456789012, us-east-1\)`)
	r.noArtifacts(t)
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
		img := ref("us-east-1", s.appRepo, "v2.0.0")
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
		if got := r.taskImages(t)["app"]; got != ref("us-east-1", s.appRepo, mf.digest) {
			t.Errorf("app image %s, want the image pushed while waiting, pinned", got)
		}
	})
	t.Run("never pushed", func(t *testing.T) {
		m := m.in(t)
		img := ref("us-east-1", s.appRepo, "v3.0.0")
		r := m.render(append([]string{"--template", src, "--image", "app=" + img, "--wait-for-image", "2s"}, railsVars...)...)
		r.expect(t, 1, "error: image "+regexp.QuoteMeta(img)+": tag v3.0.0 not found in repository "+regexp.QuoteMeta(s.appRepo)+` \(registry 123456789012, us-east-1\) after waiting 2s`)
		r.expect(t, 1, `note: waiting for `+regexp.QuoteMeta(img)+` \(2s left\)`)
		r.noArtifacts(t)
	})
}

// TestMotoCrossRegion resolves an image of another region's registry in
// that region, whatever the run's region.
func TestMotoCrossRegion(t *testing.T) {
	m := newMoto(t)
	bucket := m.bucket("west")
	repo := m.repo("us-west-2", "west")
	mf := m.dockerManifest("west")
	m.push("us-west-2", repo, "v1", mf)
	east := m.repo("us-east-1", "east")
	eastMf := m.ociManifest("east")
	m.push("us-east-1", east, "v1", eastMf)
	m.put(bucket, "taskdef.json", fmt.Appendf(nil, `{
  "family": "cross-region",
  "requiresCompatibilities": ["FARGATE"],
  "executionRoleArn": "ecsTaskExecutionRole",
  "networkMode": "awsvpc",
  "cpu": "256",
  "memory": "512",
  "containerDefinitions": [
    {"name": "app", "image": %q},
    {"name": "sidecar", "image": %q, "essential": false}
  ]
}`, ref("us-west-2", repo, "v1"), ref("us-east-1", east, "v1")))
	m.calls.take()

	r := m.render("--template", "s3://"+bucket+"/taskdef.json", "--no-appspec")
	r.expect(t, 0, "")
	want := map[string]string{"app": ref("us-west-2", repo, mf.digest), "sidecar": ref("us-east-1", east, eastMf.digest)}
	if diff := cmp.Diff(want, r.taskImages(t)); diff != "" {
		t.Errorf("taskdef.json images (-want +got):\n%s", diff)
	}
	m.expectCalls(map[string]int{
		"s3 GET /" + bucket + "/taskdef.json":  1,
		"ecr DescribeImages us-west-2 " + repo: 1,
		"ecr DescribeImages us-east-1 " + east: 1,
	})

	// The repository is in us-west-2 only.
	img := ref("us-east-1", repo, "v1")
	r = m.render("--template", "s3://"+bucket+"/taskdef.json", "--no-appspec", "--image", "app="+img)
	r.expect(t, 1, "error: image "+regexp.QuoteMeta(img)+": repository "+regexp.QuoteMeta(repo)+` not found \(registry 123456789012, us-east-1\)`)
}

// TestMotoManifestKinds resolves a Docker v2 manifest, an OCI manifest and
// a multi-arch OCI index (to the index, so every platform keeps working),
// by tag and by digest, all of one repository in one call.
func TestMotoManifestKinds(t *testing.T) {
	m := newMoto(t)
	bucket := m.bucket("kinds")
	repo := m.repo("us-east-1", "kinds")
	docker := m.dockerManifest("docker")
	m.push("us-east-1", repo, "docker", docker)
	oci := m.ociManifest("oci")
	m.push("us-east-1", repo, "oci", oci)
	index := m.pushIndex("us-east-1", repo, "multiarch", m.ociManifest("amd64"), m.ociManifest("arm64"))
	byDigest := m.ociManifest("by digest")
	m.push("us-east-1", repo, "digest", byDigest)

	m.put(bucket, "taskdef.json", fmt.Appendf(nil, `{
  "family": "kinds",
  "requiresCompatibilities": ["FARGATE"],
  "executionRoleArn": "ecsTaskExecutionRole",
  "networkMode": "awsvpc",
  "cpu": "256",
  "memory": "512",
  "containerDefinitions": [
    {"name": "docker", "image": %q},
    {"name": "oci", "image": %q, "essential": false},
    {"name": "multiarch", "image": %q, "essential": false},
    {"name": "bydigest", "image": %q, "essential": false}
  ]
}`, ref("us-east-1", repo, "docker"), ref("us-east-1", repo, "oci"), ref("us-east-1", repo, "multiarch"), ref("us-east-1", repo, byDigest.digest)))
	m.calls.take()

	r := m.render("--template", "s3://"+bucket+"/taskdef.json", "--no-appspec", "--image", "multiarch="+ref("us-east-1", repo, "multiarch"))
	r.expect(t, 0, "")
	want := map[string]string{
		"docker":    ref("us-east-1", repo, docker.digest),
		"oci":       ref("us-east-1", repo, oci.digest),
		"multiarch": ref("us-east-1", repo, index.digest),
		"bydigest":  ref("us-east-1", repo, byDigest.digest),
	}
	if diff := cmp.Diff(want, r.taskImages(t)); diff != "" {
		t.Errorf("taskdef.json images (-want +got):\n%s", diff)
	}
	d := m.describe("us-east-1", repo, index.digest)
	if diff := cmp.Diff(wantImageDetail(want["multiarch"], d), r.imageDetail(t)); diff != "" {
		t.Errorf("imageDetail.json (-want +got):\n%s", diff)
	}
	m.expectCalls(map[string]int{
		"s3 GET /" + bucket + "/taskdef.json":  1,
		"ecr DescribeImages us-east-1 " + repo: 1,
	})
}

// TestMotoCodeDeploy renders the codedeploy sample with its AppSpec from
// S3 and the web image left as <IMAGE1_NAME> for CodeDeployToECS, which
// fills it from imageDetail.json.
func TestMotoCodeDeploy(t *testing.T) {
	m := newMoto(t)
	bucket := m.bucket("codedeploy")
	repo := m.repo("us-east-1", "prd-web")
	mf := m.ociManifest("web")
	m.push("us-east-1", repo, "v7", mf)
	for _, f := range []string{"taskdef.json", "appspec.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "codedeploy", f))
		if err != nil {
			t.Fatal(err)
		}
		m.put(bucket, "prd-web/"+f, b)
	}
	m.calls.take()

	img := ref("us-east-1", repo, "v7")
	pinned := ref("us-east-1", repo, mf.digest)
	r := m.render("--template", "s3://"+bucket+"/prd-web/taskdef.json", "--appspec", "s3://"+bucket+"/prd-web/appspec.yaml",
		"--image", "web="+img, "--placeholder", "web=IMAGE1_NAME",
		"--var", `greeting=He said "hi" \ {{ not a template }}`, "--var", "port=8080")
	r.expect(t, 0, "")

	if got := r.taskImages(t)["web"]; got != "<IMAGE1_NAME>" {
		t.Errorf("taskdef.json web image %q, want <IMAGE1_NAME>", got)
	}
	if !bytes.Contains(r.file(t, "taskdef.json"), []byte(`"image": "<IMAGE1_NAME>"`)) {
		t.Errorf("taskdef.json does not hold the placeholder literally:\n%s", r.file(t, "taskdef.json"))
	}
	d := m.describe("us-east-1", repo, mf.digest)
	if diff := cmp.Diff(wantImageDetail(pinned, d), r.imageDetail(t)); diff != "" {
		t.Errorf("imageDetail.json (-want +got):\n%s", diff)
	}
	// Rendered from S3, the AppSpec is what the offline golden run wrote.
	golden, err := os.ReadFile("testdata/golden/codedeploy/appspec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(golden), string(r.file(t, "appspec.yaml"))); diff != "" {
		t.Errorf("appspec.yaml (-golden +got):\n%s", diff)
	}
	m.expectCalls(map[string]int{
		"s3 GET /" + bucket + "/prd-web/taskdef.json": 1,
		"s3 GET /" + bucket + "/prd-web/appspec.yaml": 1,
		"ecr DescribeImages us-east-1 " + repo:        1,
	})
}

// TestMotoSharedDigest is two containers of one repository, one by tag and
// one by the same image's digest: both are one image, asked for once.
func TestMotoSharedDigest(t *testing.T) {
	m := newMoto(t)
	bucket := m.bucket("shared")
	repo := m.repo("us-east-1", "shared")
	mf := m.dockerManifest("shared")
	m.push("us-east-1", repo, "v1", mf)
	m.put(bucket, "taskdef.json", fmt.Appendf(nil, `{
  "family": "shared",
  "requiresCompatibilities": ["FARGATE"],
  "executionRoleArn": "ecsTaskExecutionRole",
  "networkMode": "awsvpc",
  "cpu": "256",
  "memory": "512",
  "containerDefinitions": [
    {"name": "web", "image": %q},
    {"name": "worker", "image": %q, "essential": false},
    {"name": "migrate", "image": %q, "essential": false}
  ]
}`, ref("us-east-1", repo, "v1"), ref("us-east-1", repo, "v1"), ref("us-east-1", repo, mf.digest)))
	m.calls.take()

	r := m.render("--template", "s3://"+bucket+"/taskdef.json", "--no-appspec")
	r.expect(t, 0, "")
	pinned := ref("us-east-1", repo, mf.digest)
	if diff := cmp.Diff(map[string]string{"web": pinned, "worker": pinned, "migrate": pinned}, r.taskImages(t)); diff != "" {
		t.Errorf("taskdef.json images (-want +got):\n%s", diff)
	}
	m.expectCalls(map[string]int{
		"s3 GET /" + bucket + "/taskdef.json":  1,
		"ecr DescribeImages us-east-1 " + repo: 1,
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
	m.calls.take()

	src := "s3://" + s.bucket + "/described.json"
	r = m.render("--template", src, "--image", "app="+ref("us-east-1", s.appRepo, "v2"), "--container", "nginx:80")
	r.expect(t, 0, "note: template "+regexp.QuoteMeta(src)+": describe-task-definition output: dropped the taskDefinition wrapper and read-only fields .*")
	want := map[string]string{
		"app":   ref("us-east-1", s.appRepo, v2.digest),
		"nginx": ref("us-east-1", s.nginxRepo, s.nginx.digest),
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
}`, ref("us-east-1", repo, "main")))
	src := "s3://" + bucket + "/taskdef.json"
	q := regexp.QuoteMeta

	t.Run("moved tag", func(t *testing.T) {
		m := m.in(t)
		r := m.render("--template", src, "--no-appspec")
		r.expect(t, 0, "")
		if got := r.taskImages(t)["app"]; got != ref("us-east-1", repo, moved.digest) {
			t.Errorf("image %s, want the tag's newest image %s", got, moved.digest)
		}
	})
	t.Run("old image by digest", func(t *testing.T) {
		m := m.in(t)
		img := ref("us-east-1", repo, old.digest)
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
		img := ref("us-east-1", repo, digest)
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
		if got := r.taskImages(t)["app"]; got != ref("us-east-1", repo, old.digest) {
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

// TestMotoFaults puts AWS's failures between ecsrender and moto: a 5xx or
// throttling answer is retried and the run succeeds; one that persists
// fails the run in one line that names the call, after the SDK's
// attempts; a refusal is not retried.
func TestMotoFaults(t *testing.T) {
	m := newMoto(t)
	s := m.rails()
	args := append([]string{"--template", "s3://" + s.bucket + "/" + s.key, "--image", "app=" + s.appImage}, railsVars...)
	getTemplate := "s3 GET /" + s.bucket + "/" + s.key
	describeApp := "ecr DescribeImages us-east-1 " + s.appRepo
	describeNginx := "ecr DescribeImages us-east-1 " + s.nginxRepo
	const (
		s3SlowDown   = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`
		s3Internal   = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`
		ecrThrottle  = `{"__type":"ThrottlingException","message":"Rate exceeded"}`
		ecrInternal  = `{"__type":"ServerException","message":"internal failure"}`
		ecrForbidden = `{"__type":"AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/codebuild/x is not authorized to perform: ecr:DescribeImages"}`
	)
	q := regexp.QuoteMeta

	for _, tc := range []struct {
		name  string
		fault func(key string, n int) (int, string)
		args  []string
		code  int
		line  string
		calls map[string]int
	}{
		{
			name: "S3 throttles once",
			fault: func(key string, n int) (int, string) {
				if key == getTemplate && n == 1 {
					return http.StatusServiceUnavailable, s3SlowDown
				}
				return 0, ""
			},
			calls: map[string]int{getTemplate: 2, describeApp: 1, describeNginx: 1},
		},
		{
			name: "ECR throttles twice",
			fault: func(key string, n int) (int, string) {
				if key == describeApp && n <= 2 {
					return http.StatusBadRequest, ecrThrottle
				}
				return 0, ""
			},
			calls: map[string]int{getTemplate: 1, describeApp: 3, describeNginx: 1},
		},
		{
			name: "S3 keeps failing",
			fault: func(key string, n int) (int, string) {
				if key == getTemplate {
					return http.StatusInternalServerError, s3Internal
				}
				return 0, ""
			},
			code:  1,
			line:  "error: get s3://" + q(s.bucket+"/"+s.key) + `: S3 error InternalError \(HTTP 500\): We encountered an internal error. Please try again. \(3 attempts\)`,
			calls: map[string]int{getTemplate: 3},
		},
		{
			name: "ECR keeps failing",
			fault: func(key string, n int) (int, string) {
				if key == describeNginx {
					return http.StatusInternalServerError, ecrInternal
				}
				return 0, ""
			},
			code: 1,
			// The same form as S3's line.
			line:  "error: describe images in repository " + q(s.nginxRepo) + ` \(registry 123456789012, us-east-1\): ECR error ServerException \(HTTP 500\): internal failure \(3 attempts\)`,
			calls: map[string]int{getTemplate: 1, describeApp: 1, describeNginx: 3},
		},
		{
			name: "S3 hangs",
			fault: func(key string, n int) (int, string) {
				if key == getTemplate {
					return -1, ""
				}
				return 0, ""
			},
			args:  []string{"--timeout", "2s"},
			code:  1,
			line:  "error: get s3://" + q(s.bucket+"/"+s.key) + `: no answer from S3 before the deadline`,
			calls: map[string]int{getTemplate: 1},
		},
		{
			name: "ECR hangs",
			fault: func(key string, n int) (int, string) {
				if key == describeApp {
					return -1, ""
				}
				return 0, ""
			},
			args:  []string{"--timeout", "2s"},
			code:  1,
			line:  "error: describe images in repository " + q(s.appRepo) + ` \(registry 123456789012, us-east-1\): no answer from ECR before the deadline`,
			calls: map[string]int{getTemplate: 1, describeApp: 1, describeNginx: 1},
		},
		{
			name: "ECR refuses",
			fault: func(key string, n int) (int, string) {
				if key == describeApp {
					return http.StatusBadRequest, ecrForbidden
				}
				return 0, ""
			},
			code: 1,
			line: "error: describe images in repository " + q(s.appRepo) + ` \(registry 123456789012, us-east-1\): access denied: allow ecr:DescribeImages on ` +
				q("arn:aws:ecr:us-east-1:123456789012:repository/"+s.appRepo) + `: User: .*`,
			calls: map[string]int{getTemplate: 1, describeApp: 1, describeNginx: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := m.in(t)
			m.calls.take()
			m.calls.setFault(tc.fault)
			defer m.calls.setFault(nil)
			r := m.render(append(slices.Clone(args), tc.args...)...)
			r.expect(t, tc.code, tc.line)
			if tc.code != 0 {
				r.noArtifacts(t)
				if n := strings.Count(r.stderr, "\n"); n != 1 {
					t.Errorf("%d lines on stderr, want one", n)
				}
			} else if diff := cmp.Diff(map[string]string{"app": ref("us-east-1", s.appRepo, s.app.digest), "nginx": ref("us-east-1", s.nginxRepo, s.nginx.digest)}, r.taskImages(t)); diff != "" {
				t.Errorf("taskdef.json images (-want +got):\n%s", diff)
			}
			m.expectCalls(tc.calls)
		})
	}
}
