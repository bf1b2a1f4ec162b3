package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ecsrender": main,
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script: each
// holds a command line, its expected output and the files it must write.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// Offline scripts must never find AWS; online ones set their own.
			env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			env.Setenv("AWS_ACCESS_KEY_ID", "")
			env.Setenv("AWS_SECRET_ACCESS_KEY", "")
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			env.Setenv("TESTDATA", filepath.Join(wd, "testdata"))
			// HANG_URL is an AWS endpoint that never answers, for scripts
			// that stop a run part-way; `hung` waits until it has a caller.
			seen := make(chan struct{}, 1)
			hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case seen <- struct{}{}:
				default:
				}
				<-r.Context().Done()
			}))
			env.Defer(hang.Close)
			env.Setenv("HANG_URL", hang.URL)
			env.Values["hung"] = seen
			return nil
		},
		RequireExplicitExec: true,
		Cmds: withScriptCmds(map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// hung waits until a request reaches HANG_URL.
			"hung": func(ts *testscript.TestScript, neg bool, args []string) {
				select {
				case <-ts.Value("hung").(chan struct{}):
				case <-time.After(30 * time.Second):
					ts.Fatalf("no request reached HANG_URL")
				}
			},
		}),
	})
}

// withScriptCmds adds the commands every script suite has to cmds.
func withScriptCmds(cmds map[string]func(ts *testscript.TestScript, neg bool, args []string)) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	// exits N CMD ARGS... runs a command and asserts its exit status,
	// which `exec` and `! exec` cannot tell apart beyond zero.
	cmds["exits"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: exits STATUS COMMAND [ARGS...]")
		}
		want, err := strconv.Atoi(args[0])
		if err != nil {
			ts.Fatalf("exits: bad status %q", args[0])
		}
		got := 0
		if err := ts.Exec(args[1], args[2:]...); err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				ts.Fatalf("exits: %v", err)
			}
			got = ee.ExitCode()
		}
		if got != want {
			ts.Fatalf("exit status %d, want %d", got, want)
		}
	}
	return cmds
}

// goldenCases are the dry runs on the sample templates; their artifacts are
// kept in testdata/golden/NAME and refreshed with -update.
var goldenCases = []struct {
	name string
	args []string
	env  map[string]string
}{
	{
		name: "rails",
		args: []string{"--template", "testdata/rails/taskdef.json",
			"--image", "app=123456789012.dkr.ecr.us-east-1.amazonaws.com/prd-rails:v1.4.2",
			"--container", "nginx:80", "--var", "web_concurrency=2", "--var", "stop_timeout=30",
			"--platform-version", "1.4.0",
			"--subnet", "subnet-0a1b2c3d4e5f60718", "--subnet", "subnet-0f1e2d3c4b5a69788",
			"--security-group", "sg-0123456789abcdef0", "--assign-public-ip", "DISABLED",
			"--hook", "AfterAllowTestTraffic=prd-rails-smoke-test"},
		env: map[string]string{"CODEBUILD_RESOLVED_SOURCE_VERSION": "3f2a9c1"},
	},
	{
		name: "worker",
		args: []string{"--template", "testdata/worker/taskdef.json",
			"--image", "sidekiq=123456789012.dkr.ecr.us-east-1.amazonaws.com/prd-rails:v1.4.2",
			"--var", "memory=1024", "--var", "concurrency=10"},
	},
	{
		name: "codedeploy",
		args: []string{"--template", "testdata/codedeploy/taskdef.json",
			"--appspec", "testdata/codedeploy/appspec.yaml",
			"--image", "web=123456789012.dkr.ecr.us-east-1.amazonaws.com/prd-web@sha256:0d5b6a8f1c2e3d4b5a69788f0e1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5",
			"--placeholder", "web=IMAGE1_NAME",
			"--var", `greeting=He said "hi" \ {{ not a template }}`, "--var", "port=8080"},
	},
}

// TestGolden renders every sample template offline and compares each
// artifact with its golden file, byte for byte; a second run must produce
// the same bytes.
func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		// Not parallel: urfave/cli/v2 sets up its shared help flag on every
		// run, so concurrent runs of the CLI race.
		t.Run(tc.name, func(t *testing.T) {
			golden := filepath.Join("testdata", "golden", tc.name)
			var first map[string][]byte
			for range 2 {
				got := renderToDir(t, tc.args, tc.env)
				if first != nil {
					if diff := cmp.Diff(first, got); diff != "" {
						t.Fatalf("second run differs (-first +second):\n%s", diff)
					}
					continue
				}
				first = got
				if *update {
					os.RemoveAll(golden)
					os.MkdirAll(golden, 0o755)
					for name, b := range got {
						if err := os.WriteFile(filepath.Join(golden, name), b, 0o644); err != nil {
							t.Fatal(err)
						}
					}
					continue
				}
				want := map[string][]byte{}
				entries, err := os.ReadDir(golden)
				if err != nil {
					t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
				}
				for _, e := range entries {
					b, err := os.ReadFile(filepath.Join(golden, e.Name()))
					if err != nil {
						t.Fatal(err)
					}
					want[e.Name()] = b
				}
				if diff := cmp.Diff(toStrings(want), toStrings(got)); diff != "" {
					t.Errorf("artifacts differ from %s (-want +got):\n%s", golden, diff)
				}
			}
		})
	}
}

func toStrings(m map[string][]byte) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

func renderToDir(t *testing.T, args []string, env map[string]string) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var stdout, stderr bytes.Buffer
	argv := append([]string{"ecsrender", "render", "--offline", "--out", dir}, args...)
	if code := run(context.Background(), argv, nil, &stdout, &stderr, lookup); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr.String())
	}
	got := map[string][]byte{"stderr.txt": stderr.Bytes()}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = b
	}
	return got
}

// TestCorpus checks every real task definition in ../shared/corpus/taskdefs
// with `check --offline --no-appspec`: each must pass or fail exactly as
// EXPECT.tsv says, and a failure must mention what EXPECT.tsv names.
func TestCorpus(t *testing.T) {
	dir := filepath.Join("..", "shared", "corpus", "taskdefs")
	f, err := os.Open(filepath.Join(dir, "EXPECT.tsv"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the corpus is required when CI=true: %v", err)
		}
		t.Skipf("no corpus at %s (it sits beside the project as ../shared): %v", dir, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		for len(cols) < 5 {
			cols = append(cols, "")
		}
		file, expect, mention, envSpec := cols[0], cols[1], cols[2], cols[3]
		n++
		t.Run(file, func(t *testing.T) { // not parallel: see TestGolden
			env := map[string]string{}
			for _, kv := range strings.Fields(envSpec) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"ecsrender", "check", "--offline", "--no-appspec",
				"--template", filepath.Join(dir, file)}, nil, &stdout, &stderr, lookup)
			switch expect {
			case "ok":
				if code != 0 {
					t.Errorf("exit %d, want 0\nstderr:\n%s", code, stderr.String())
				}
			case "error":
				if code != exitInput {
					t.Errorf("exit %d, want %d\nstderr:\n%s", code, exitInput, stderr.String())
				}
				if !regexp.MustCompile("(?i)" + mention).MatchString(stderr.String()) {
					t.Errorf("stderr does not mention %q:\n%s", mention, stderr.String())
				}
			default:
				t.Fatalf("EXPECT.tsv: unknown expectation %q", expect)
			}
		})
	}
	if n == 0 {
		t.Fatal("EXPECT.tsv lists no files")
	}
}

// A run whose deadline passed while it rendered writes nothing.
func TestStoppedBeforeWriting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"ecsrender", "render", "--offline", "--no-appspec", "--out", dir,
		"--template", "testdata/worker/taskdef.json", "--var", "memory=1024", "--var", "concurrency=1"},
		nil, &stdout, &stderr, func(string) (string, bool) { return "", false })
	if code != exitOther {
		t.Errorf("exit %d, want %d", code, exitOther)
	}
	// Template evaluation observes the context too, so the run may stop
	// there rather than just before writing.
	if got := stderr.String(); !regexp.MustCompile(`^error: .*stopped.*: context canceled( \(.*\))?\n$`).MatchString(got) {
		t.Errorf("stderr %q, want one line saying the run stopped: context canceled", got)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s exists after a stopped run", dir)
	}
}
