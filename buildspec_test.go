package main

import (
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"

	"github.com/ecsrender/ecsrender/artifacts"
)

// The buildspec tests keep buildspec.yml true to the CLI: the files it
// hands to the deploy action are the ones ecsrender writes, its ecsrender
// command uses flags that exist, and ecsrender writes where the artifacts
// section reads. A mistake in any of these is otherwise found only when a
// pipeline runs.

const buildspecFile = "buildspec.yml"

// buildspec is the part of a CodeBuild buildspec these tests read.
type buildspec struct {
	Version string `yaml:"version"`
	Env     struct {
		Variables map[string]string `yaml:"variables"`
	} `yaml:"env"`
	Phases    map[string]buildspecPhase `yaml:"phases"`
	Artifacts struct {
		Files         []string `yaml:"files"`
		BaseDirectory string   `yaml:"base-directory"`
		DiscardPaths  string   `yaml:"discard-paths"`
	} `yaml:"artifacts"`
}

type buildspecPhase struct {
	Commands []buildspecCommand `yaml:"commands"`
}

// buildspecCommand is one entry of a phase's commands.
type buildspecCommand string

// UnmarshalYAML refuses a command that YAML read as something other than
// a string: an unquoted command holding ": " is a mapping, and CodeBuild
// would not run it as written.
func (c *buildspecCommand) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a command must be a string, and YAML reads this one as a %s; quote it or write it as a >- block (an unquoted \": \" starts a mapping)", n.Line, yamlKind(n))
	}
	*c = buildspecCommand(n.Value)
	return nil
}

func yamlKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

// buildspecPhases are CodeBuild's phases in the order they run.
var buildspecPhases = []string{"install", "pre_build", "build", "post_build"}

func parseBuildspec(b []byte) (*buildspec, error) {
	var bs buildspec
	if err := yaml.Unmarshal(b, &bs); err != nil {
		return nil, err
	}
	return &bs, nil
}

// buildspecChecks are the checks, each returning what is wrong.
var buildspecChecks = []struct {
	name  string
	check func(*buildspec) []string
}{
	{"version", versionProblems},
	{"artifacts", artifactProblems},
	{"commands", commandProblems},
	{"pinned", pinProblems},
	{"variables", envProblems},
}

// TestBuildspec checks buildspec.yml.
func TestBuildspec(t *testing.T) {
	b, err := os.ReadFile(buildspecFile)
	if err != nil {
		t.Fatalf("read %s: %v", buildspecFile, err)
	}
	bs, err := parseBuildspec(b)
	if err != nil {
		t.Fatalf("%s is not a buildspec these tests can read: %v", buildspecFile, err)
	}
	for _, c := range buildspecChecks {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range c.check(bs) {
				t.Errorf("%s: %s", buildspecFile, p)
			}
		})
	}
}

// goodBuildspec is the smallest buildspec that passes every check; the
// cases of TestBuildspecChecksCatch break it one way each.
const goodBuildspec = `version: 0.2
env:
  variables:
    ECSRENDER_VERSION: v0.1.0
    ECSRENDER_SHA256_AMD64: 0000000000000000000000000000000000000000000000000000000000000000
    ECSRENDER_SHA256_ARM64: 1111111111111111111111111111111111111111111111111111111111111111
phases:
  install:
    commands:
      - curl -fsSLo e "https://example.com/${ECSRENDER_VERSION}/ecsrender-linux-$ARCH"
      - SUM_VAR="ECSRENDER_SHA256_${ARCH^^}"; echo "${!SUM_VAR}  e" | sha256sum --check
  build:
    commands:
      - docker push "$REPO_URI:$IMAGE_TAG"
      - >-
        ecsrender render
        --template "$TEMPLATE_S3_URI"
        --image app="$REPO_URI:$IMAGE_TAG"
        --out "$CODEBUILD_SRC_DIR/deploy"
artifacts:
  files:
    - taskdef.json
    - appspec.yaml
    - imageDetail.json
    - imagedefinitions.json
  base-directory: deploy
  discard-paths: yes
`

// TestBuildspecChecksCatch makes sure each check fails, saying why, on a
// buildspec broken in the way it guards against.
func TestBuildspecChecksCatch(t *testing.T) {
	tests := []struct {
		name, old, new string
		want           string // a problem must match this
	}{
		{"version 0.1", "version: 0.2", "version: 0.1", `version is "0.1"; want 0.2`},
		{"misspelt phase", "  build:\n", "  biuld:\n", `unknown phase "biuld"`},
		{"file missing", "    - appspec.yaml\n", "", `lists appspec.yaml 0 times`},
		{"file twice", "    - appspec.yaml\n", "    - appspec.yaml\n    - appspec.yaml\n", `lists appspec.yaml 2 times`},
		{"extra file", "    - appspec.yaml\n", "    - appspec.yaml\n    - notes.txt\n", `lists "notes.txt", which ecsrender does not write`},
		{"wrong case", "imageDetail.json", "imagedetail.json", `lists "imagedetail.json"`},
		{"paths kept", "discard-paths: yes", "discard-paths: no", `discard-paths is "no"`},
		{"other base", "base-directory: deploy", "base-directory: out", `writes into "deploy" \(.*\) but artifacts.base-directory is "out"`},
		{"no base", "  base-directory: deploy\n", "", `base-directory is not set`},
		{"absolute out", `--out "$CODEBUILD_SRC_DIR/deploy"`, `--out /tmp/deploy`, `--out "/tmp/deploy": cannot tell where that is`},
		{"default out", `--out "$CODEBUILD_SRC_DIR/deploy"`, ``, `writes into "\." \(--out "\."\)`},
		{"unknown flag", `--template`, `--templates`, `unknown flag "--templates"`},
		{"no template", `--template "$TEMPLATE_S3_URI"`, ``, `has no --template`},
		{"missing value", "--out \"$CODEBUILD_SRC_DIR/deploy\"", "--out \"$CODEBUILD_SRC_DIR/deploy\" --region", `--region needs a value`},
		{"stray argument", `ecsrender render`, `ecsrender render deploy`, `unexpected argument "deploy"`},
		{"no appspec", `--image app=`, `--no-appspec --image app=`, `--no-appspec but artifacts.files lists appspec.yaml`},
		{"post_build", "  build:\n", "  post_build:\n", `runs in the post_build phase; want build`},
		{"twice", "      - >-\n", "      - ecsrender render --template t --out deploy\n      - >-\n", `found 2 ecsrender render commands`},
		{"none", "ecsrender render", "echo render", `found 0 ecsrender render commands`},
		{"unknown command", "ecsrender render", "ecsrender rendr", `unknown ecsrender command "rendr"`},
		{"unpinned", "ECSRENDER_VERSION: v0.1.0", "ECSRENDER_VERSION: latest", `ECSRENDER_VERSION is "latest"`},
		{"install latest", "/${ECSRENDER_VERSION}/", "/latest/", `does not use ECSRENDER_VERSION`},
		{"sum unchecked", `SUM_VAR="ECSRENDER_SHA256_${ARCH^^}"; echo "${!SUM_VAR}  e" | sha256sum --check`, `chmod +x e`, `does not check the download against ECSRENDER_SHA256_AMD64`},
		{"sum not pinned", "ECSRENDER_SHA256_ARM64: 1111", "ECSRENDER_SHA256_ARM: 1111", `sets no ECSRENDER_SHA256_ARM64`},
		{"bad sum", "ECSRENDER_SHA256_ARM64: 1111", "ECSRENDER_SHA256_ARM64: x111", `ECSRENDER_SHA256_ARM64 is "x111`},
		{"unknown variable", "    ECSRENDER_VERSION: v0.1.0\n", "    ECSRENDER_VERSION: v0.1.0\n    ECSRENDER_TEMPLTE: x\n", `sets ECSRENDER_TEMPLTE, which ecsrender does not read`},
	}
	bs, err := parseBuildspec([]byte(goodBuildspec))
	if err != nil {
		t.Fatalf("goodBuildspec: %v", err)
	}
	for _, c := range buildspecChecks {
		if p := c.check(bs); len(p) > 0 {
			t.Fatalf("goodBuildspec fails the %s check: %q", c.name, p)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(goodBuildspec, tc.old) {
				t.Fatalf("goodBuildspec has no %q to replace", tc.old)
			}
			bs, err := parseBuildspec([]byte(strings.Replace(goodBuildspec, tc.old, tc.new, 1)))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			var all []string
			for _, c := range buildspecChecks {
				all = append(all, c.check(bs)...)
			}
			re := regexp.MustCompile(tc.want)
			for _, p := range all {
				if re.MatchString(p) {
					return
				}
			}
			t.Errorf("no problem matches %q; got %q", tc.want, all)
		})
	}
}

// TestBuildspecUnquotedColon checks that a command YAML reads as a mapping
// is reported with its line, not silently dropped.
func TestBuildspecUnquotedColon(t *testing.T) {
	y := strings.Replace(goodBuildspec, `- docker push "$REPO_URI:$IMAGE_TAG"`, `- ACCOUNT=$(echo "$ARN" | cut -d: -f5)`, 1)
	_, err := parseBuildspec([]byte(y))
	if err == nil || !strings.Contains(err.Error(), "a command must be a string") {
		t.Errorf("parse: got %v, want an error saying a command must be a string", err)
	}
}

func versionProblems(bs *buildspec) []string {
	var out []string
	if bs.Version != "0.2" {
		out = append(out, fmt.Sprintf("version is %q; want 0.2 (0.1 runs each command in a new shell, so variables set in pre_build would be lost)", bs.Version))
	}
	for _, name := range buildspecKeys(bs.Phases) {
		if !slices.Contains(buildspecPhases, name) {
			out = append(out, fmt.Sprintf("unknown phase %q; CodeBuild's phases are %s", name, strings.Join(buildspecPhases, ", ")))
		}
	}
	return out
}

// artifactProblems checks that the artifact files are exactly the four
// that ecsrender writes, flat at the top of the output artifact.
func artifactProblems(bs *buildspec) []string {
	var out []string
	want := []string{artifacts.TaskDefFile, artifacts.AppSpecFile, artifacts.ImageDetailFile, artifacts.ImageDefinitionsFile}
	got := bs.Artifacts.Files
	for _, name := range want {
		if n := countOf(got, name); n != 1 {
			out = append(out, fmt.Sprintf("artifacts.files lists %s %d times; want it exactly once (a deploy action reads it)", name, n))
		}
	}
	for _, name := range got {
		if !slices.Contains(want, name) {
			out = append(out, fmt.Sprintf("artifacts.files lists %q, which ecsrender does not write; want exactly %s", name, strings.Join(want, ", ")))
		}
	}
	if bs.Artifacts.BaseDirectory == "" {
		out = append(out, "artifacts.base-directory is not set; want the directory given to ecsrender render --out")
	}
	switch bs.Artifacts.DiscardPaths {
	case "yes", "true":
	default:
		out = append(out, fmt.Sprintf("artifacts.discard-paths is %q; want yes, so that the files sit at the top of the artifact where the deploy actions look", bs.Artifacts.DiscardPaths))
	}
	return out
}

// commandProblems checks every ecsrender command line in the buildspec
// against the CLI's flags, and the render command's phase and output
// directory.
func commandProblems(bs *buildspec) []string {
	var out []string
	var renderPhases []string
	for _, phase := range buildspecPhases {
		for i, cmd := range bs.Phases[phase].Commands {
			where := fmt.Sprintf("phases.%s.commands[%d]", phase, i)
			words, err := shellWords(string(cmd))
			if err != nil {
				out = append(out, fmt.Sprintf("%s: cannot split the command into words: %v", where, err))
				continue
			}
			for _, inv := range ecsrenderInvocations(words) {
				var flags []cli.Flag
				switch inv.command {
				case "render":
					flags = append(renderFlags(), outFlag())
					renderPhases = append(renderPhases, phase)
				case "check":
					flags = renderFlags()
				case "version":
					if len(inv.args) > 0 {
						out = append(out, fmt.Sprintf("%s: ecsrender version takes no arguments, got %q", where, inv.args))
					}
					continue
				case "":
					out = append(out, fmt.Sprintf("%s: ecsrender without a command; want render, check or version", where))
					continue
				default:
					out = append(out, fmt.Sprintf("%s: unknown ecsrender command %q; want render, check or version", where, inv.command))
					continue
				}
				values, problems := parseFlags(inv.args, flags)
				for _, p := range problems {
					out = append(out, fmt.Sprintf("%s: ecsrender %s: %s", where, inv.command, p))
				}
				if _, ok := values["template"]; !ok && bs.Env.Variables["ECSRENDER_TEMPLATE"] == "" {
					out = append(out, fmt.Sprintf("%s: ecsrender %s has no --template (and env.variables sets no ECSRENDER_TEMPLATE); it would fail", where, inv.command))
				}
				if inv.command == "render" {
					if phase != "build" {
						out = append(out, fmt.Sprintf("%s: ecsrender render runs in the %s phase; want build, so that its failure fails the build (post_build runs even after build failed, and the image is pushed in build)", where, phase))
					}
					out = append(out, outProblems(where, bs, values)...)
				}
			}
		}
	}
	if len(renderPhases) != 1 {
		out = append(out, fmt.Sprintf("found %d ecsrender render commands (in phases %q); want exactly one, in the build phase", len(renderPhases), renderPhases))
	}
	return out
}

// outProblems compares the render command's output directory with the
// artifacts base-directory, which CodeBuild reads relative to
// $CODEBUILD_SRC_DIR.
func outProblems(where string, bs *buildspec, values map[string][]string) []string {
	var out []string
	dir := "."
	if v := bs.Env.Variables["ECSRENDER_OUT"]; v != "" {
		dir = v
	}
	if vs := values["out"]; len(vs) > 0 {
		dir = vs[len(vs)-1]
	}
	base := path.Clean(bs.Artifacts.BaseDirectory)
	if rel, ok := srcRelative(dir); !ok {
		out = append(out, fmt.Sprintf("%s: ecsrender render --out %q: cannot tell where that is; write it as \"$CODEBUILD_SRC_DIR/%s\" to match artifacts.base-directory %q", where, dir, base, bs.Artifacts.BaseDirectory))
	} else if rel != base {
		out = append(out, fmt.Sprintf("%s: ecsrender render writes into %q (--out %q) but artifacts.base-directory is %q; the deploy action would get no artifacts", where, rel, dir, bs.Artifacts.BaseDirectory))
	}
	if v := values["no-appspec"]; len(v) > 0 && v[len(v)-1] != "false" {
		out = append(out, fmt.Sprintf("%s: ecsrender render has --no-appspec but artifacts.files lists %s, which would then be missing", where, artifacts.AppSpecFile))
	}
	return out
}

// srcRelative turns an --out value into a path relative to
// $CODEBUILD_SRC_DIR. It refuses values it cannot place: absolute paths
// and other variables.
func srcRelative(dir string) (string, bool) {
	for _, v := range []string{"$CODEBUILD_SRC_DIR", "${CODEBUILD_SRC_DIR}"} {
		if dir == v {
			return ".", true
		}
		if rest, ok := strings.CutPrefix(dir, v+"/"); ok {
			dir = rest
			break
		}
	}
	if dir == "" || strings.HasPrefix(dir, "/") || strings.ContainsAny(dir, "$`~") {
		return "", false
	}
	return path.Clean(dir), true
}

// sumPlaceholder is how buildspec.yml's sums read until a release is
// published and its SHA256SUMS copied in: the install then stops with a
// message saying what to set, rather than trusting an unchecked binary.
var sumPlaceholder = regexp.MustCompile(`^REPLACE_WITH_THE_SHA256_OF_ecsrender-linux-(amd64|arm64)$`)

// pinProblems checks that the install phase installs the ecsrender
// release named in ECSRENDER_VERSION, and that it names one; and that it
// checks the download against a pinned sum for each machine type.
func pinProblems(bs *buildspec) []string {
	var out []string
	v := bs.Env.Variables["ECSRENDER_VERSION"]
	if !regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`).MatchString(v) {
		out = append(out, fmt.Sprintf("env.variables.ECSRENDER_VERSION is %q; want a release such as v0.1.0, so that a new release never changes a deploy unseen", v))
	}
	var install []string
	for _, c := range bs.Phases["install"].Commands {
		install = append(install, string(c))
	}
	script := strings.Join(install, "\n")
	if !strings.Contains(script, "ECSRENDER_VERSION") {
		out = append(out, "the install phase does not use ECSRENDER_VERSION; want it to download that release (${ECSRENDER_BASE_URL}/${ECSRENDER_VERSION}/ecsrender-linux-${ARCH})")
	}
	for _, name := range []string{"ECSRENDER_SHA256_AMD64", "ECSRENDER_SHA256_ARM64"} {
		v, ok := bs.Env.Variables[name]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("env.variables sets no %s; want the release's sum for that machine type, so that the download is checked", name))
		case !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(v) && !sumPlaceholder.MatchString(v):
			out = append(out, fmt.Sprintf("env.variables.%s is %q; want the 64 lower-case hex digits from the release's SHA256SUMS", name, v))
		}
		// Using the variable is the least a check must do; the install
		// test runs the phase and shows that a wrong sum stops it.
		if !strings.Contains(script, name) && !strings.Contains(script, "ECSRENDER_SHA256_${ARCH^^}") {
			out = append(out, fmt.Sprintf("the install phase does not check the download against %s", name))
		}
	}
	return out
}

// envProblems checks that every ECSRENDER_* variable the buildspec sets
// is one ecsrender reads: a misspelt one is ignored without a word.
func envProblems(bs *buildspec) []string {
	var out []string
	known := map[string]bool{
		// The buildspec's own, for the install phase.
		"ECSRENDER_VERSION":      true,
		"ECSRENDER_BASE_URL":     true,
		"ECSRENDER_SHA256":       true,
		"ECSRENDER_SHA256_AMD64": true,
		"ECSRENDER_SHA256_ARM64": true,
		"ECSRENDER_BIN_DIR":      true,
	}
	for _, f := range append(renderFlags(), outFlag()) {
		if df, ok := f.(cli.DocGenerationFlag); ok {
			for _, e := range df.GetEnvVars() {
				known[e] = true
			}
		}
	}
	for _, name := range buildspecKeys(bs.Env.Variables) {
		if strings.HasPrefix(name, "ECSRENDER_") && !known[name] {
			out = append(out, fmt.Sprintf("env.variables sets %s, which ecsrender does not read; the flags' variables are listed in README.md", name))
		}
	}
	return out
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// invocation is one ecsrender command line found in a shell command.
type invocation struct {
	command string   // render, check, version; "" if none was given
	args    []string // the words after the command, up to a shell operator
}

// ecsrenderInvocations finds the commands that run ecsrender (or a path
// ending in /ecsrender) in a split shell command, skipping VAR=value
// prefixes.
func ecsrenderInvocations(words []shellWord) []invocation {
	var out []invocation
	assignment := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	start := true // at the start of a simple command
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w.op {
			start = true
			continue
		}
		if !start {
			continue
		}
		if assignment.MatchString(w.text) {
			continue
		}
		start = false
		if w.text != "ecsrender" && !strings.HasSuffix(w.text, "/ecsrender") {
			continue
		}
		var inv invocation
		j := i + 1
		if j < len(words) && !words[j].op {
			inv.command = words[j].text
			j++
		}
		for ; j < len(words) && !words[j].op; j++ {
			inv.args = append(inv.args, words[j].text)
		}
		out = append(out, inv)
		i = j - 1
	}
	return out
}

// parseFlags reads args the way urfave/cli does for the given flags:
// -name or --name, a value after = or in the next word, booleans without a
// value or with =true/=false. It returns the values by each flag's first
// name and a description of every problem.
func parseFlags(args []string, flags []cli.Flag) (map[string][]string, []string) {
	type flagInfo struct {
		name       string
		takesValue bool
	}
	byName := map[string]flagInfo{}
	var names []string
	for _, f := range flags {
		ns := f.Names()
		takes := true
		if df, ok := f.(cli.DocGenerationFlag); ok {
			takes = df.TakesValue()
		}
		for _, n := range ns {
			byName[n] = flagInfo{ns[0], takes}
		}
		names = append(names, "--"+ns[0])
	}
	values := map[string][]string{}
	var problems []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			problems = append(problems, fmt.Sprintf("unexpected argument %q; every input is a flag", a))
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		info, ok := byName[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("unknown flag %q; the flags are %s", "--"+name, strings.Join(names, ", ")))
			if !hasVal && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++ // most likely its value: report the flag once, not the value too
			}
			continue
		}
		switch {
		case !info.takesValue && hasVal:
			if _, err := strconv.ParseBool(val); err != nil {
				problems = append(problems, fmt.Sprintf("--%s=%s: want true or false", name, val))
				continue
			}
		case !info.takesValue:
			val = "true"
		case !hasVal:
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") {
				problems = append(problems, fmt.Sprintf("--%s needs a value", name))
				continue
			}
			i++
			val = args[i]
		}
		values[info.name] = append(values[info.name], val)
	}
	return values, problems
}

// shellWord is a word of a shell command, or one of the operators
// ; & | && || < > >> that separate commands.
type shellWord struct {
	text string
	op   bool
}

// shellWords splits a command the way sh does before expansion: quotes
// are removed, a backslash-newline joins lines, $VARIABLES stay as
// written, and a # at the start of a word begins a comment. It is enough
// for the command lines of a buildspec, not a shell.
func shellWords(s string) ([]shellWord, error) {
	var words []shellWord
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, shellWord{text: cur.String()})
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("backslash at the end")
			}
			i++
			if s[i] != '\n' {
				cur.WriteByte(s[i])
				inWord = true
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			inWord = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
					if s[i] != '\n' {
						cur.WriteByte(s[i])
					}
					continue
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated double quote")
			}
		case c == ' ' || c == '\t' || c == '\n':
			flush()
		case c == '#' && !inWord:
			if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(s)
			}
		case strings.IndexByte(";&|<>", c) >= 0:
			flush()
			op := string(c)
			if i+1 < len(s) && s[i+1] == c && c != ';' && c != '<' {
				op += string(c)
				i++
			}
			words = append(words, shellWord{text: op, op: true})
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return words, nil
}

func TestShellWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string // operators shown as [op]
	}{
		{`ecsrender render --template "$T" --image app="$R:$TAG"`, []string{"ecsrender", "render", "--template", "$T", "--image", "app=$R:$TAG"}},
		{"ecsrender render \\\n  --out 'a b'", []string{"ecsrender", "render", "--out", "a b"}},
		{`A=1 ecsrender check -t x && echo "done; ok" # comment`, []string{"A=1", "ecsrender", "check", "-t", "x", "[&&]", "echo", "done; ok"}},
		{`a|b>c;d`, []string{"a", "[|]", "b", "[>]", "c", "[;]", "d"}},
		{`"a\"b" c\ d`, []string{`a"b`, "c d"}},
	}
	for _, tc := range tests {
		words, err := shellWords(tc.in)
		if err != nil {
			t.Errorf("shellWords(%q): %v", tc.in, err)
			continue
		}
		var got []string
		for _, w := range words {
			if w.op {
				got = append(got, "["+w.text+"]")
			} else {
				got = append(got, w.text)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("shellWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{`"open`, `'open`, `end\`} {
		if _, err := shellWords(bad); err == nil {
			t.Errorf("shellWords(%q): no error, want one", bad)
		}
	}
}

// TestParseFlags makes sure the buildspec check itself tells good command
// lines from bad ones, against the real flags.
func TestParseFlags(t *testing.T) {
	flags := append(renderFlags(), outFlag())
	tests := []struct {
		args     []string
		problems int
	}{
		{[]string{"--template", "s3://b/k", "--image", "app=r:t", "--out", "deploy"}, 0},
		{[]string{"-t", "x", "--pin=false", "--no-appspec", "--wait-for-image=10m", "-o", "d"}, 0},
		{[]string{"--template", "x", "--images", "app=r"}, 1}, // misspelt flag
		{[]string{"--template", "x", "stray"}, 1},             // positional argument
		{[]string{"--template"}, 1},                           // missing value
		{[]string{"--template", "x", "--offline=maybe"}, 1},   // bad boolean
		{[]string{"--template", "--out", "d"}, 1},             // flag where a value belongs
		{[]string{"--template", "x", "--help"}, 1},            // would print help and write nothing
		{[]string{"--template", "x", "--container", "app:8080"}, 0},
	}
	for _, tc := range tests {
		_, problems := parseFlags(tc.args, flags)
		if len(problems) != tc.problems {
			t.Errorf("parseFlags(%q): %d problems %q, want %d", tc.args, len(problems), problems, tc.problems)
		}
	}
}

// buildspecKeys returns the keys of m in order, for stable messages.
func buildspecKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
