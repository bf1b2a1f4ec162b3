package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/ecsrender/ecsrender/render"
)

// TestManifestGolden renders the sample templates as one manifest and
// shows every service's artifacts byte for byte those of its own
// single-service run (testdata/golden, kept by TestGolden).
func TestManifestGolden(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CODEBUILD_RESOLVED_SOURCE_VERSION": "3f2a9c1"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var stdout, stderr bytes.Buffer
	argv := []string{"ecsrender", "render", "--offline", "--manifest", "testdata/manifest/ecsrender.yaml", "--out", dir}
	if code := run(context.Background(), argv, nil, &stdout, &stderr, lookup); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr.String())
	}
	for _, name := range []string{"rails", "worker", "codedeploy"} {
		want := map[string]string{}
		got := map[string]string{}
		for _, m := range []struct {
			dir string
			out map[string]string
		}{{filepath.Join("testdata", "golden", name), want}, {filepath.Join(dir, name), got}} {
			entries, err := os.ReadDir(m.dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Name() == "stderr.txt" {
					continue
				}
				b, err := os.ReadFile(filepath.Join(m.dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				m.out[e.Name()] = string(b)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("service %s differs from its golden files (-want +got):\n%s", name, diff)
		}
	}
	// The notes of each service carry its name.
	if want := `note: service "worker": no container maps a port`; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
}

const batchBuildspecFile = "testdata/buildspec-batch.yml"

// batchBuildspec is the part of a batch buildspec these tests read.
type batchBuildspec struct {
	Batch struct {
		BuildList []struct {
			Identifier string `yaml:"identifier"`
			Env        struct {
				Variables map[string]string `yaml:"variables"`
			} `yaml:"env"`
		} `yaml:"build-list"`
	} `yaml:"batch"`
}

// TestBuildspecBatch keeps the batch variant true to the CLI and to its
// manifest: the checks of buildspec.yml that apply, one shard per service
// named by its identifier, and the shard's artifact read where its
// service's directory is.
func TestBuildspecBatch(t *testing.T) {
	b, err := os.ReadFile(batchBuildspecFile)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := parseBuildspec(b)
	if err != nil {
		t.Fatal(err)
	}
	var batch batchBuildspec
	if err := yaml.Unmarshal(b, &batch); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		check func(*buildspec) []string
	}{{"version", versionProblems}, {"artifacts", artifactProblems}, {"pinned", pinProblems}, {"variables", envProblems}} {
		for _, p := range c.check(bs) {
			t.Errorf("%s: %s: %s", batchBuildspecFile, c.name, p)
		}
	}
	for _, p := range batchProblems(bs, &batch) {
		t.Errorf("%s: %s", batchBuildspecFile, p)
	}
}

// batchProblems checks the shards against the manifest, and the render
// command, its output and the move of the service's directory against the
// artifact's base-directory.
func batchProblems(bs *buildspec, batch *batchBuildspec) []string {
	var out []string
	file := bs.Env.Variables["ECSRENDER_MANIFEST"]
	raw, err := os.ReadFile(file)
	if err != nil {
		return []string{fmt.Sprintf("env.variables.ECSRENDER_MANIFEST: %v", err)}
	}
	m, err := render.ParseManifest(file, raw)
	if err != nil {
		return []string{fmt.Sprintf("the manifest %s: %v", file, err)}
	}
	var services []string
	for _, s := range m.Services {
		services = append(services, s.Name)
	}
	var shards []string
	for i, b := range batch.Batch.BuildList {
		shards = append(shards, b.Identifier)
		if only := b.Env.Variables["ECSRENDER_ONLY"]; only != b.Identifier {
			out = append(out, fmt.Sprintf("batch.build-list[%d] (%s) sets ECSRENDER_ONLY %q; want its identifier, the service it renders and its artifact's name", i, b.Identifier, only))
		}
	}
	slices.Sort(shards)
	slices.Sort(services)
	if !slices.Equal(shards, services) {
		out = append(out, fmt.Sprintf("batch.build-list has shards %q for services %q; want one shard per service", shards, services))
	}
	var renders int
	var outDir string
	moved := ""
	for i, cmd := range bs.Phases["build"].Commands {
		words, err := shellWords(string(cmd))
		if err != nil {
			out = append(out, fmt.Sprintf("phases.build.commands[%d]: %v", i, err))
			continue
		}
		if len(words) == 3 && words[0].text == "mv" && outDir != "" && words[1].text == outDir+"/$ECSRENDER_ONLY" {
			moved = words[2].text
		}
		for _, inv := range ecsrenderInvocations(words) {
			if inv.command != "render" {
				continue
			}
			renders++
			values, problems := parseFlags(inv.args, append(renderFlags(), outFlag()))
			out = append(out, problems...)
			if v := values["only"]; len(v) != 1 || v[0] != "$ECSRENDER_ONLY" {
				out = append(out, fmt.Sprintf("phases.build.commands[%d]: ecsrender render --only %q; want \"$ECSRENDER_ONLY\", the shard's service", i, v))
			}
			if v := values["manifest"]; len(v) != 1 || v[0] != "$ECSRENDER_MANIFEST" {
				out = append(out, fmt.Sprintf("phases.build.commands[%d]: ecsrender render --manifest %q; want \"$ECSRENDER_MANIFEST\"", i, v))
			}
			if v := values["out"]; len(v) == 1 {
				outDir = v[0]
			}
		}
	}
	if renders != 1 {
		out = append(out, fmt.Sprintf("found %d ecsrender render commands in the build phase; want one", renders))
	}
	if rel, ok := srcRelative(moved); !ok || rel != path.Clean(bs.Artifacts.BaseDirectory) {
		out = append(out, fmt.Sprintf("the service's directory (%s/$ECSRENDER_ONLY) is moved to %q, but artifacts.base-directory is %q", outDir, moved, bs.Artifacts.BaseDirectory))
	}
	return out
}

// TestManifestOnlyEmpty shows that an empty or blank --only is refused
// rather than read as no --only (which renders every service), while an
// empty ECSRENDER_ONLY, as CodeBuild defines unset variables, is no --only.
func TestManifestOnlyEmpty(t *testing.T) {
	lookup := func(k string) (string, bool) {
		if k == "CODEBUILD_RESOLVED_SOURCE_VERSION" {
			return "3f2a9c1", true
		}
		return "", false
	}
	tests := []struct {
		name   string
		env    *string // ECSRENDER_ONLY
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "blank", args: []string{"--only", " "}, code: exitInput,
			stderr: "error: --only \" \": an empty service name; want NAME[,NAME...]\n"},
		{name: "empty", args: []string{"--only", ""}, code: exitInput,
			stderr: "error: --only \"\": an empty service name; want NAME[,NAME...]\n"},
		{name: "a blank name in a list", args: []string{"--only", "worker, ,rails"}, code: exitInput,
			stderr: "error: --only \"worker, ,rails\": an empty service name; want NAME[,NAME...]\n"},
		{name: "blank variable", env: ptr(" "), code: exitInput,
			stderr: "error: --only \" \": an empty service name; want NAME[,NAME...]\n"},
		{name: "empty variable is unset", env: ptr(""), stdout: "ok: 3 services render and pass every check\n"},
		{name: "names with spaces", args: []string{"--only", " worker , rails"}, stdout: "ok: 2 services render and pass every check\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != nil {
				t.Setenv("ECSRENDER_ONLY", *tt.env)
			} else {
				t.Setenv("ECSRENDER_ONLY", "unset")
				os.Unsetenv("ECSRENDER_ONLY")
			}
			argv := append([]string{"ecsrender", "check", "--offline", "--manifest", "testdata/manifest/ecsrender.yaml"}, tt.args...)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), argv, nil, &stdout, &stderr, lookup)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstderr:\n%s", code, tt.code, stderr.String())
			}
			if tt.stderr != "" && stderr.String() != tt.stderr {
				t.Errorf("stderr:\n got %q\nwant %q", stderr.String(), tt.stderr)
			}
			if stdout.String() != tt.stdout {
				t.Errorf("stdout:\n got %q\nwant %q", stdout.String(), tt.stdout)
			}
		})
	}
}

func ptr(s string) *string { return &s }
