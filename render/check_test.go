package render

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// corpusDir holds real public task definitions with EXPECT.tsv; it lives
// beside the project, so the test is skipped where it is not checked out.
const corpusDir = "../../shared/corpus/taskdefs"

// corpusActionRE matches the two template actions the corpus uses, so the
// test needs no template engine: {{must_env `X`}} and {{ env `X` `default` }}.
var corpusActionRE = regexp.MustCompile("\\{\\{\\s*(must_env|env)\\s+`([^`]*)`(?:\\s+`([^`]*)`)?\\s*\\}\\}")

// corpusDocument loads one corpus file as the checks see it: unwrapped,
// read-only fields dropped, template actions rendered from env.
func corpusDocument(t *testing.T, file string, env map[string]string) (*Node, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, file))
	if err != nil {
		t.Fatal(err)
	}
	td, err := ParseJSON(data)
	if err != nil {
		return nil, err
	}
	if inner := td.Get("taskDefinition"); inner != nil && inner.Kind == Object {
		td = inner
	}
	// describe-task-definition adds these; the template loader drops them
	// before the checks run.
	for _, k := range []string{"taskDefinitionArn", "revision", "status", "requiresAttributes",
		"compatibilities", "registeredAt", "registeredBy", "deregisteredAt"} {
		td.Delete(k)
	}
	var render func(n *Node)
	render = func(n *Node) {
		switch n.Kind {
		case String:
			n.Str = corpusActionRE.ReplaceAllStringFunc(n.Str, func(a string) string {
				m := corpusActionRE.FindStringSubmatch(a)
				if v, ok := env[m[2]]; ok {
					return v
				}
				if m[1] == "must_env" {
					t.Fatalf("%s: %s needs %s", file, a, m[2])
				}
				return m[3]
			})
		case Object:
			for _, m := range n.Members {
				render(m.Value)
			}
		case Array:
			for _, item := range n.Items {
				render(item)
			}
		}
	}
	render(td)
	return td, nil
}

// TestCheckCorpus runs the checks on real task definitions: every document
// that ECS accepts must pass with no problem at all, and every broken one
// must fail for the reason EXPECT.tsv gives.
func TestCheckCorpus(t *testing.T) {
	expect, err := os.ReadFile(filepath.Join(corpusDir, "EXPECT.tsv"))
	if os.IsNotExist(err) {
		t.Skip("no corpus at " + corpusDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(expect)) {
		line = strings.TrimRight(line, "\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		for len(cols) < 5 {
			cols = append(cols, "")
		}
		file, want, mention, envs := cols[0], cols[1], cols[2], cols[3]
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			for kv := range strings.FieldsSeq(envs) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			td, err := corpusDocument(t, file, env)
			var got []string
			if err != nil {
				got = []string{err.Error()}
			} else {
				problems, warnings := CheckTaskDefinition(td)
				for _, p := range problems {
					got = append(got, p.String())
				}
				for _, w := range warnings {
					t.Logf("warning: %s", w)
				}
			}
			switch want {
			case "ok":
				if len(got) > 0 {
					t.Errorf("ECS accepts this document, got problems:\n%s", strings.Join(got, "\n"))
				}
			case "error":
				re := regexp.MustCompile("(?i)" + mention)
				matched := false
				for _, g := range got {
					t.Logf("problem: %s", g)
					matched = matched || re.MatchString(g)
				}
				if !matched {
					t.Errorf("want a problem matching %q, got:\n%s", mention, strings.Join(got, "\n"))
				}
			default:
				t.Fatalf("EXPECT.tsv: unknown expectation %q", want)
			}
		})
	}
}
