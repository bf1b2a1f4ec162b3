package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ecsrender/ecsrender/render/awstest"
)

// offlineEnv points every AWS endpoint the SDK reads at a server that
// fails the test on any request, with credentials and a region set, so
// that only --offline itself can keep a run off the network. It returns
// the number of requests the server has seen.
func offlineEnv(t *testing.T) *atomic.Int64 {
	t.Helper()
	return trapEnv(t, func(r *http.Request) {
		t.Errorf("--offline made a request: %s %s (X-Amz-Target %q)", r.Method, r.URL, r.Header.Get("X-Amz-Target"))
	})
}

// trapEnv is offlineEnv with what to do on a request left to the caller.
func trapEnv(t *testing.T, onRequest func(*http.Request)) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		onRequest(r)
		http.Error(w, "offline", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	awstest.SetEnv(t, srv.URL)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3":  srv.URL,
		"AWS_ENDPOINT_URL_ECR": srv.URL,
		"AWS_ENDPOINT_URL_ECS": srv.URL,
		"AWS_ENDPOINT_URL_STS": srv.URL,
	} {
		t.Setenv(k, v)
	}
	return &n
}

// TestOfflineMakesNoRequest renders the rails sample, whose images are all
// in ECR, with --offline: it succeeds, uses the images exactly as given,
// and nothing is asked of any endpoint.
func TestOfflineMakesNoRequest(t *testing.T) {
	requests := offlineEnv(t)
	out := filepath.Join(t.TempDir(), "out")
	app := "123456789012.dkr.ecr.us-east-1.amazonaws.com/prd-rails:v1.4.2"
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"ecsrender", "render", "--offline", "--out", out,
		"--template", "testdata/rails/taskdef.json", "--image", "app=" + app,
		"--container", "nginx:80", "--var", "web_concurrency=2", "--var", "stop_timeout=30",
		"--wait-for-image", "1m"}, nil, &stdout, &stderr, func(string) (string, bool) { return "", false })
	if code != 0 {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", code, stderr.String())
	}
	r := cliResult{code: code, stdout: stdout.String(), stderr: stderr.String(), out: out}
	want := map[string]string{
		"app":   app,
		"nginx": "123456789012.dkr.ecr.us-east-1.amazonaws.com/prd-rails-nginx:1.27",
	}
	got := r.taskImages(t)
	for name, img := range want {
		if got[name] != img {
			t.Errorf("container %s: image %q, want %q as given", name, got[name], img)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

// TestOfflineTrap shows that the trap of the tests above works: the same
// run without --offline asks the trap for the images, and fails.
func TestOfflineTrap(t *testing.T) {
	var mu sync.Mutex
	var targets []string
	requests := trapEnv(t, func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		targets = append(targets, r.Header.Get("X-Amz-Target"))
	})
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"ecsrender", "check", "--template", "testdata/worker/taskdef.json",
		"--image", "sidekiq=123456789012.dkr.ecr.us-east-1.amazonaws.com/prd-rails:v1.4.2",
		"--var", "memory=1024", "--var", "concurrency=10"}, nil, &stdout, &stderr, func(string) (string, bool) { return "", false })
	if code != exitOther {
		t.Errorf("exit %d, want %d\nstderr:\n%s", code, exitOther, stderr.String())
	}
	if requests.Load() == 0 {
		t.Fatal("without --offline nothing reached the trap: the offline tests prove nothing")
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.ContainsFunc(targets, func(s string) bool { return strings.HasSuffix(s, ".DescribeImages") }) {
		t.Errorf("the trap saw %q, want an ECR DescribeImages", targets)
	}
	t.Logf("stderr:\n%s", stderr.String())
}

// TestOfflineCheck is check --offline, with --offline also given as
// ECSRENDER_OFFLINE: no request either way.
func TestOfflineCheck(t *testing.T) {
	requests := offlineEnv(t)
	args := []string{"ecsrender", "check", "--template", "testdata/worker/taskdef.json",
		"--image", "sidekiq=123456789012.dkr.ecr.us-east-1.amazonaws.com/prd-rails:v1.4.2",
		"--var", "memory=1024", "--var", "concurrency=10"}
	for _, tc := range []struct {
		name string
		args []string
		env  string
	}{
		{"flag", append(args, "--offline"), ""},
		{"environment", args, "true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("ECSRENDER_OFFLINE", tc.env)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, nil, &stdout, &stderr, func(string) (string, bool) { return "", false })
			if code != 0 || !bytes.HasPrefix(stdout.Bytes(), []byte("ok: ")) {
				t.Errorf("exit %d, stdout %q, want 0 and ok\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

// TestOfflineRefusesS3 fails an S3 template under --offline as the user's
// mistake (exit 2), before any request.
func TestOfflineRefusesS3(t *testing.T) {
	requests := offlineEnv(t)
	for _, tc := range []struct {
		name string
		args []string
		line string
	}{
		{
			name: "template",
			args: []string{"--template", "s3://ecsrender-templates/prd-rails/taskdef.json"},
			line: `error: s3://ecsrender-templates/prd-rails/taskdef.json: --offline reads local files only`,
		},
		{
			name: "template with version",
			args: []string{"--template", "s3://ecsrender-templates/prd-rails/taskdef.json?versionId=abc"},
			line: `error: s3://ecsrender-templates/prd-rails/taskdef.json\?versionId=abc: --offline reads local files only`,
		},
		{
			name: "appspec",
			args: []string{"--template", "testdata/codedeploy/taskdef.json", "--appspec", "s3://ecsrender-templates/prd-web/appspec.yaml",
				"--var", "greeting=hi", "--var", "port=8080"},
			// The line calls the AppSpec a "template" (reported).
			line: `error: s3://ecsrender-templates/prd-web/appspec.yaml: --offline reads local files only`,
		},
		{
			// s3://b/k is refused for its bucket name before --offline is
			// considered (reported): still exit 2 and no request.
			name: "short bucket",
			args: []string{"--template", "s3://b/k"},
			line: `error: source "s3://b/k": .*`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			var stdout, stderr bytes.Buffer
			argv := append([]string{"ecsrender", "render", "--offline", "--out", out}, tc.args...)
			code := run(context.Background(), argv, nil, &stdout, &stderr, func(string) (string, bool) { return "", false })
			t.Logf("stderr:\n%s", stderr.String())
			r := cliResult{code: code, stderr: stderr.String(), out: out}
			r.expect(t, exitInput, tc.line)
			r.noArtifacts(t)
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}
