package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The install test runs buildspec.yml's install phase for real: bash, one
// shell for the whole phase, stopping at the first command that fails, with
// env.variables in the environment and the project's overrides on top, as
// CodeBuild does. The release it installs is one built by .ci/release and
// served from 127.0.0.1, so what is tested is the buildspec a user copies
// and the files a release publishes, together.

// releaseDirEnv names the directory .ci/release wrote. Its last element is
// the version, as on the release server (BASE_URL/VERSION/FILE): .ci/run
// builds with `.ci/release v0.0.0-ci TMP/v0.0.0-ci`.
const releaseDirEnv = "ECSRENDER_RELEASE_DIR"

// release is a release directory read back: the version and each file's
// bytes and pinned sum.
type release struct {
	version string
	files   map[string][]byte
	sums    map[string]string // file name -> hex SHA-256, from SHA256SUMS
}

// loadRelease reads the release named by ECSRENDER_RELEASE_DIR, or skips
// the test (fails it under CI=true, where the release is required).
func loadRelease(t *testing.T) *release {
	t.Helper()
	dir := os.Getenv(releaseDirEnv)
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("the install test is required in CI: ECSRENDER_RELEASE_DIR is not set (.ci/run builds a release and sets it)")
		}
		t.Skip("install test skipped: run `.ci/release v0.0.0-test /tmp/rel/v0.0.0-test` and then `ECSRENDER_RELEASE_DIR=/tmp/rel/v0.0.0-test go test -run TestBuildspecInstall .`")
	}
	r, err := readRelease(dir)
	if err != nil {
		t.Fatalf("%s=%q: %v", releaseDirEnv, dir, err)
	}
	return r
}

// readRelease reads a release directory: SHA256SUMS and every file it
// lists, which must match their sums.
func readRelease(dir string) (*release, error) {
	version := filepath.Base(filepath.Clean(dir))
	if !regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`).MatchString(version) {
		return nil, fmt.Errorf("directory name %q is not a version; want the directory .ci/release VERSION BASE/VERSION wrote", version)
	}
	b, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		return nil, err
	}
	r := &release{version: version, files: map[string][]byte{}, sums: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := regexp.MustCompile(`^([0-9a-f]{64})  (ecsrender-[a-z]+-[a-z0-9]+)$`)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			return nil, fmt.Errorf("SHA256SUMS line %q is not in sha256sum format (SUM, two spaces, NAME)", sc.Text())
		}
		r.sums[m[2]] = m[1]
	}
	for _, name := range []string{"ecsrender-linux-amd64", "ecsrender-linux-arm64", "ecsrender-darwin-amd64", "ecsrender-darwin-arm64"} {
		if r.sums[name] == "" {
			return nil, fmt.Errorf("SHA256SUMS has no line for %s", name)
		}
		f, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		if got := sha256Hex(f); got != r.sums[name] {
			return nil, fmt.Errorf("%s has SHA-256 %s but SHA256SUMS says %s", name, got, r.sums[name])
		}
		r.files[name] = f
	}
	return r, nil
}

// releaseServer serves files at /VERSION/NAME on 127.0.0.1 and records
// the paths asked for; anything else is a 404.
type releaseServer struct {
	*httptest.Server
	mu   sync.Mutex
	gets []string
}

func newReleaseServer(t *testing.T, version string, files map[string][]byte) *releaseServer {
	t.Helper()
	s := &releaseServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.gets = append(s.gets, r.URL.Path)
		s.mu.Unlock()
		name, ok := strings.CutPrefix(r.URL.Path, "/"+version+"/")
		b, found := files[name]
		if !ok || !found || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *releaseServer) paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.gets)
}

// phaseResult is what running a phase left behind.
type phaseResult struct {
	output string // stdout and stderr together, as in the build log
	failed int    // index of the command that failed, or -1
}

// runPhase runs a buildspec phase's commands in one bash process, as
// CodeBuild does for buildspec version 0.2: variables set by one command
// are seen by the next, and the phase stops at the first command that
// exits non-zero.
func runPhase(t *testing.T, commands []buildspecCommand, dir string, env []string) phaseResult {
	t.Helper()
	var script strings.Builder
	for i, c := range commands {
		fmt.Fprintf(&script, "%s\n", c)
		fmt.Fprintf(&script, "__rc=$?; if [ \"$__rc\" -ne 0 ]; then echo \"[phase] command %d failed with exit status $__rc\"; exit \"$__rc\"; fi\n", i)
	}
	path := filepath.Join(t.TempDir(), "phase.sh")
	if err := os.WriteFile(path, []byte(script.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", path)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	res := phaseResult{output: string(out), failed: -1}
	if m := regexp.MustCompile(`\[phase\] command (\d+) failed`).FindStringSubmatch(res.output); m != nil {
		fmt.Sscan(m[1], &res.failed)
	} else if err != nil {
		t.Fatalf("bash %s: %v\n%s", path, err, out)
	}
	return res
}

// goArchOf is the release's name for a `uname -m`.
var goArchOf = map[string]string{"x86_64": "amd64", "aarch64": "arm64"}

// TestBuildspecInstall runs buildspec.yml's install phase against a
// release server on 127.0.0.1.
func TestBuildspecInstall(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the install phase runs on Linux, as on CodeBuild")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("the install phase needs curl, as the CodeBuild images have")
	}
	rel := loadRelease(t)
	b, err := os.ReadFile(buildspecFile)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := parseBuildspec(b)
	if err != nil {
		t.Fatal(err)
	}
	install := bs.Phases["install"].Commands
	if len(install) == 0 {
		t.Fatal("buildspec.yml has no install commands")
	}
	// This machine's uname -m, for the cases that run the binary.
	out, err := exec.Command("uname", "-m").Output()
	if err != nil {
		t.Fatal(err)
	}
	native := strings.TrimSpace(string(out))

	tamper := func(name string) map[string][]byte {
		files := maps.Clone(rel.files)
		b := slices.Clone(files[name])
		b[len(b)/2] ^= 0xff
		files[name] = b
		return files
	}
	tests := []struct {
		name    string
		machine string            // what uname -m says; "" for this machine's own
		files   map[string][]byte // what the server serves; nil for the release
		env     map[string]string // the project's variables, over the defaults set below
		want    string            // regexp on the output
		failAt  string            // the command (a substring) that must fail; "" for none
		// installed is the release file that must end up in the bin
		// directory, or "" for none.
		installed string
	}{
		{
			name:      "installs and runs",
			want:      `(?m)^ecsrender ` + regexp.QuoteMeta(rel.version) + ` \(commit [0-9a-f]{40}(-dirty)?, go[0-9.]+\)$`,
			installed: "ecsrender-linux-NATIVE",
		},
		{
			name:   "tampered binary",
			files:  tamper("ecsrender-linux-" + goArchOf[native]),
			want:   `ecsrender install: checksum mismatch for http://127\.0\.0\.1:\d+/` + regexp.QuoteMeta(rel.version) + `/ecsrender-linux-` + goArchOf[native] + `: got [0-9a-f]{64}, want ` + rel.sums["ecsrender-linux-"+goArchOf[native]] + ` \(ECSRENDER_SHA256_` + strings.ToUpper(goArchOf[native]) + `\); refusing to install it`,
			failAt: "checksum mismatch",
		},
		{
			name:    "tampered arm64 binary on an ARM image",
			machine: "aarch64",
			files:   tamper("ecsrender-linux-arm64"),
			want:    `checksum mismatch for \S+/ecsrender-linux-arm64: got [0-9a-f]{64}, want ` + rel.sums["ecsrender-linux-arm64"] + ` \(ECSRENDER_SHA256_ARM64\)`,
			failAt:  "checksum mismatch",
		},
		{
			name:    "arm64 sum pinned to the amd64 binary",
			machine: "aarch64",
			env:     map[string]string{"ECSRENDER_SHA256_ARM64": rel.sums["ecsrender-linux-amd64"]},
			want:    `checksum mismatch for \S+/ecsrender-linux-arm64: .*\(ECSRENDER_SHA256_ARM64\)`,
			failAt:  "checksum mismatch",
		},
		{
			name:      "ECSRENDER_SHA256 wins over the per-machine sum",
			env:       map[string]string{"ECSRENDER_SHA256": rel.sums["ecsrender-linux-"+goArchOf[native]], "ECSRENDER_SHA256_AMD64": "0", "ECSRENDER_SHA256_ARM64": "0"},
			want:      `(?m)^ecsrender ` + regexp.QuoteMeta(rel.version) + ` `,
			installed: "ecsrender-linux-NATIVE",
		},
		{
			name:   "wrong ECSRENDER_SHA256",
			env:    map[string]string{"ECSRENDER_SHA256": strings.Repeat("0", 64)},
			want:   `checksum mismatch for \S+: got [0-9a-f]{64}, want 0{64} \(ECSRENDER_SHA256\); refusing to install it`,
			failAt: "checksum mismatch",
		},
		{
			name:   "sum left as in buildspec.yml",
			env:    map[string]string{"ECSRENDER_SHA256_AMD64": bs.Env.Variables["ECSRENDER_SHA256_AMD64"], "ECSRENDER_SHA256_ARM64": bs.Env.Variables["ECSRENDER_SHA256_ARM64"]},
			want:   `ecsrender install: ECSRENDER_SHA256_(AMD|ARM)64 is "REPLACE_WITH_THE_SHA256_OF_ecsrender-linux-(amd|arm)64"; want the 64 lower-case hex digits of the ecsrender-linux-(amd|arm)64 line in SHA256SUMS of ` + regexp.QuoteMeta(rel.version),
			failAt: "want the 64 lower-case hex digits",
		},
		{
			name:   "no such version on the server",
			env:    map[string]string{"ECSRENDER_VERSION": "v9.9.9"},
			want:   `ecsrender install: cannot download http://127\.0\.0\.1:\d+/v9\.9\.9/ecsrender-linux-(amd|arm)64`,
			failAt: "cannot download",
		},
		{
			name:    "machine with no release",
			machine: "riscv64",
			want:    `ecsrender install: no release for machine type riscv64; want x86_64 or aarch64`,
			failAt:  "no release for machine type",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			machine := tc.machine
			if machine == "" {
				machine = native
			}
			if tc.installed != "" && machine != native {
				t.Fatalf("bad case: cannot run a %s binary on %s", machine, native)
			}
			if goArchOf[native] == "" && tc.machine == "" {
				t.Skipf("no release for this machine (%s)", native)
			}
			files := tc.files
			if files == nil {
				files = rel.files
			}
			srv := newReleaseServer(t, rel.version, files)

			tmp := t.TempDir()
			bin := filepath.Join(tmp, "usr-local-bin")
			fake := filepath.Join(tmp, "fake-bin")
			src := filepath.Join(tmp, "src")
			for _, d := range []string{bin, fake, src} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tc.machine != "" {
				// uname is the one thing the phase asks the machine.
				script := "#!/bin/sh\nif [ \"$1\" = -m ]; then echo " + tc.machine + "; else echo \"fake uname: only -m\" >&2; exit 2; fi\n"
				if err := os.WriteFile(filepath.Join(fake, "uname"), []byte(script), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			// The environment CodeBuild gives the phase: the image's
			// PATH, env.variables, then the project's variables.
			vars := map[string]string{}
			for k, v := range bs.Env.Variables {
				vars[k] = v
			}
			vars["ECSRENDER_BASE_URL"] = srv.URL + "/"
			vars["ECSRENDER_VERSION"] = rel.version
			vars["ECSRENDER_SHA256_AMD64"] = rel.sums["ecsrender-linux-amd64"]
			vars["ECSRENDER_SHA256_ARM64"] = rel.sums["ecsrender-linux-arm64"]
			vars["ECSRENDER_BIN_DIR"] = bin
			for k, v := range tc.env {
				vars[k] = v
			}
			env := []string{
				"PATH=" + fake + string(os.PathListSeparator) + os.Getenv("PATH"),
				"HOME=" + tmp,
				"TMPDIR=" + tmp,
				"CODEBUILD_SRC_DIR=" + src,
			}
			for k, v := range vars {
				env = append(env, k+"="+v)
			}
			res := runPhase(t, install, src, env)

			if !regexp.MustCompile(tc.want).MatchString(res.output) {
				t.Errorf("output does not match %q:\n%s", tc.want, res.output)
			}
			switch {
			case tc.failAt == "" && res.failed >= 0:
				t.Errorf("command %d (%q) failed; want the phase to succeed:\n%s", res.failed, install[res.failed], res.output)
			case tc.failAt != "" && res.failed < 0:
				t.Errorf("the phase succeeded; want it to stop at the command that says %q:\n%s", tc.failAt, res.output)
			case tc.failAt != "" && !strings.Contains(string(install[res.failed]), tc.failAt):
				t.Errorf("command %d (%q) failed; want the one that says %q:\n%s", res.failed, install[res.failed], tc.failAt, res.output)
			}

			got, err := os.ReadFile(filepath.Join(bin, "ecsrender"))
			switch {
			case tc.installed == "" && err == nil:
				t.Errorf("%s/ecsrender was installed; want nothing installed after a failed install", bin)
			case tc.installed != "" && err != nil:
				t.Errorf("nothing installed: %v", err)
			case tc.installed != "":
				name := strings.Replace(tc.installed, "NATIVE", goArchOf[native], 1)
				if !bytes.Equal(got, rel.files[name]) {
					t.Errorf("%s/ecsrender is not the release's %s", bin, name)
				}
			}
			// The download came from the release server, at the layout
			// the buildspec documents.
			for _, p := range srv.paths() {
				if !regexp.MustCompile(`^/v[^/]+/ecsrender-linux-(amd64|arm64)$`).MatchString(p) {
					t.Errorf("the install asked the server for %q; want /VERSION/ecsrender-linux-ARCH", p)
				}
			}
			// Nothing left in the temporary directory but what the test made.
			entries, err := os.ReadDir(tmp)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if !slices.Contains([]string{"usr-local-bin", "fake-bin", "src"}, e.Name()) {
					t.Errorf("the install left %s behind in TMPDIR", e.Name())
				}
			}
		})
	}
}

// TestReadRelease checks that a release directory that is not what
// .ci/release writes is refused with a message saying what is wrong.
func TestReadRelease(t *testing.T) {
	good := func(dir string) {
		var sums strings.Builder
		for _, name := range []string{"ecsrender-darwin-amd64", "ecsrender-darwin-arm64", "ecsrender-linux-amd64", "ecsrender-linux-arm64"} {
			b := []byte("binary " + name)
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&sums, "%s  %s\n", sha256Hex(b), name)
		}
		if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		dir    string
		mangle func(dir string)
		want   string
	}{
		{"ok", "v1.2.3", func(string) {}, ""},
		{"not a version", "dist", func(string) {}, `directory name "dist" is not a version`},
		{"no sums", "v1.2.3", func(d string) { os.Remove(filepath.Join(d, "SHA256SUMS")) }, `SHA256SUMS: no such file`},
		{"bad line", "v1.2.3", func(d string) {
			os.WriteFile(filepath.Join(d, "SHA256SUMS"), []byte("abc ecsrender-linux-amd64\n"), 0o644)
		}, `SHA256SUMS line "abc ecsrender-linux-amd64" is not in sha256sum format`},
		{"binary changed", "v1.2.3", func(d string) { os.WriteFile(filepath.Join(d, "ecsrender-linux-arm64"), []byte("x"), 0o644) }, `ecsrender-linux-arm64 has SHA-256 [0-9a-f]{64} but SHA256SUMS says`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tc.dir)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			good(dir)
			tc.mangle(dir)
			r, err := readRelease(dir)
			if tc.want == "" {
				if err != nil || r.version != tc.dir || len(r.files) != 4 {
					t.Fatalf("readRelease: %v, %+v", err, r)
				}
				return
			}
			if err == nil || !regexp.MustCompile(tc.want).MatchString(err.Error()) {
				t.Errorf("readRelease: got %v, want an error matching %q", err, tc.want)
			}
		})
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestReadmeBuildspecs checks every buildspec in README.md (a ```yaml
// block starting with "version: 0.2"), as users paste them: each passes
// the buildspec.yml checks, and its install phase is buildspec.yml's,
// which TestBuildspecInstall runs.
func TestReadmeBuildspecs(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(buildspecFile)
	if err != nil {
		t.Fatal(err)
	}
	want, err := parseBuildspec(b)
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(version: 0\\.2\n.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no buildspec (a ```yaml block starting with version: 0.2); this test looks for them")
	}
	for i, m := range blocks {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			bs, err := parseBuildspec(m[1])
			if err != nil {
				t.Fatalf("README.md buildspec %d does not parse: %v", i, err)
			}
			for _, c := range buildspecChecks {
				for _, p := range c.check(bs) {
					t.Errorf("README.md buildspec %d: %s: %s", i, c.name, p)
				}
			}
			if !slices.Equal(bs.Phases["install"].Commands, want.Phases["install"].Commands) {
				t.Errorf("README.md buildspec %d: its install phase is not buildspec.yml's; copy it from there", i)
			}
			for _, name := range []string{"ECSRENDER_VERSION", "ECSRENDER_BASE_URL", "ECSRENDER_SHA256_AMD64", "ECSRENDER_SHA256_ARM64", "ECSRENDER_BIN_DIR"} {
				if bs.Env.Variables[name] != want.Env.Variables[name] {
					t.Errorf("README.md buildspec %d: env.variables.%s is %q, buildspec.yml's is %q", i, name, bs.Env.Variables[name], want.Env.Variables[name])
				}
			}
		})
	}
}
