package render

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

// TemplateData is everything a template's actions can read.
type TemplateData struct {
	// Vars are the --var KEY=VALUE pairs, read with {{ var "KEY" }}.
	Vars map[string]string
	// LookupEnv reads the environment for {{ env }} and {{ must_env }};
	// os.LookupEnv in the CLI, a map in tests.
	LookupEnv func(string) (string, bool)
}

// credentialEnv matches the environment variables that hold the build's AWS
// credentials. A template may come from S3, written by someone other than
// the person running the build; it must not be able to copy the build's
// credentials into a task definition that anyone with ecs:Describe* can read.
// AWS_ACCESS_KEY and AWS_SECRET_KEY are aliases the SDKs still read.
var credentialEnv = regexp.MustCompile(`^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY|AWS_SECRET_KEY|AWS_SESSION_TOKEN|AWS_SECURITY_TOKEN|AWS_CONTAINER_CREDENTIALS_.*|AWS_CONTAINER_AUTHORIZATION_TOKEN.*|AWS_WEB_IDENTITY_TOKEN_FILE)$`)

// evaluator renders the template actions of one document, string by string,
// and collects every problem rather than stopping at the first, so that a
// user sees all missing variables in one run.
type evaluator struct {
	data     TemplateData
	problems []Problem
	// missing collects what the string being rendered asked for and did not
	// get; the template functions record here instead of failing, so that
	// one string with two missing variables reports both.
	missing []string
}

func newEvaluator(data TemplateData) *evaluator {
	if data.LookupEnv == nil {
		data.LookupEnv = func(string) (string, bool) { return "", false }
	}
	return &evaluator{data: data}
}

func (e *evaluator) funcs() template.FuncMap {
	return template.FuncMap{
		"env": func(name string, def ...string) (string, error) {
			if len(def) > 1 {
				return "", fmt.Errorf("env takes a name and at most one default, got %d defaults", len(def))
			}
			if err := allowedEnv(name); err != nil {
				return "", err
			}
			if v, ok := e.data.LookupEnv(name); ok {
				return v, nil
			}
			if len(def) == 1 {
				return def[0], nil
			}
			return "", nil
		},
		"must_env": func(name string) (string, error) {
			if err := allowedEnv(name); err != nil {
				return "", err
			}
			v, ok := e.data.LookupEnv(name)
			if !ok {
				e.missing = append(e.missing, fmt.Sprintf("environment variable %s is not set", name))
			}
			return v, nil
		},
		"var": func(key string) string {
			v, ok := e.data.Vars[key]
			if !ok {
				e.missing = append(e.missing, fmt.Sprintf("variable %q is not set (pass --var %s=VALUE)", key, key))
			}
			return v
		},
	}
}

func allowedEnv(name string) error {
	if credentialEnv.MatchString(name) {
		return fmt.Errorf("env %s refused: templates may not read AWS credentials", name)
	}
	return nil
}

// renderString evaluates the actions in one string value. It reports
// whether the string was exactly one action, which is when a result may
// become a number or a boolean. ok is false when a problem was recorded.
func (e *evaluator) renderString(path, s string) (out string, single, ok bool) {
	if !strings.Contains(s, "{{") {
		return s, false, true
	}
	t, err := template.New(path).Option("missingkey=error").Funcs(e.funcs()).Parse(s)
	if err != nil {
		e.problems = append(e.problems, Problem{Path: path, Msg: cleanTemplateError(path, err)})
		return s, false, false
	}
	b := limitedWriter{limit: maxRenderedString}
	e.missing = e.missing[:0]
	err = t.Execute(&b, nil)
	for _, m := range e.missing {
		e.problems = append(e.problems, Problem{Path: path, Msg: m})
	}
	if err != nil {
		e.problems = append(e.problems, Problem{Path: path, Msg: cleanTemplateError(path, err)})
		return s, false, false
	}
	if len(e.missing) > 0 {
		return s, false, false
	}
	root := t.Tree.Root.Nodes
	single = len(root) == 1 && root[0].Type() == parse.NodeAction
	return b.String(), single, true
}

// maxRenderedString bounds what one string may render to. A task
// definition is at most 64 KiB, so no real value comes near it, and a
// hostile template such as {{ printf "%0999999d" 1 }} repeated cannot make
// the build allocate gigabytes.
const maxRenderedString = 64 << 10

// limitedWriter fails once more than limit bytes are written, which stops
// template execution.
type limitedWriter struct {
	strings.Builder
	limit int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if w.Len()+len(p) > w.limit {
		return 0, fmt.Errorf("renders to more than %d KiB; a task definition is at most 64 KiB", w.limit>>10)
	}
	return w.Builder.Write(p)
}

// cleanTemplateError drops text/template's "template: NAME:" prefix, which
// repeats the JSON path the caller already prints, and its executor detail.
func cleanTemplateError(path string, err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "nil data; no entry for key "); i >= 0 {
		// {{.Name}} belongs to another tool (a Docker log tag, say); the
		// template has no data, so say how to keep it literal.
		key := strings.Trim(strings.TrimSpace(msg[i+len("nil data; no entry for key "):]), `"`)
		return fmt.Sprintf(`{{.%s}} reads template data, which ecsrender has none of (use var or env); to keep it for another tool, write {{"{{"}}.%s}}`, key, key)
	}
	if i := strings.Index(msg, "renders to more than"); i >= 0 {
		return msg[i:]
	}
	msg = strings.TrimPrefix(msg, "template: "+path+":")
	// Execution errors read `1:3: executing "path" at <var "x">: error calling var: ...`.
	if i := strings.Index(msg, "error calling "); i >= 0 {
		rest := msg[i+len("error calling "):]
		if j := strings.Index(rest, ": "); j >= 0 {
			return rest[j+2:]
		}
	}
	if i := strings.Index(msg, `executing "`+path+`" at `); i >= 0 {
		return strings.TrimSpace(msg[:i]) + " " + msg[i+len(`executing "`+path+`" at `):]
	}
	return "template " + strings.TrimSpace(msg)
}

// evaluate renders every string value of the tree in place, in document
// order. shape is the ECS model at n (nil where the model knows no such
// key; the checks report that later). Where the model wants a number or a
// boolean and the string is exactly one action, the result is converted:
// "{{ var \"mem\" }}" in memory becomes 2048.
func (e *evaluator) evaluate(n *Node, shape *Shape, path string) {
	switch n.Kind {
	case String:
		out, single, ok := e.renderString(path, n.Str)
		if !ok {
			return
		}
		n.Str = out
		if !single || shape == nil {
			return
		}
		switch shape.Kind {
		case ShapeInteger:
			v, err := strconv.ParseInt(out, 10, 32)
			if err != nil {
				e.problems = append(e.problems, Problem{Path: path, Msg: fmt.Sprintf("want a whole number, the template gave %q", out)})
				return
			}
			// ParseInt accepts "+512" and "007", which are not JSON.
			n.Kind, n.Str = Number, strconv.FormatInt(v, 10)
		case ShapeBoolean:
			b, err := strconv.ParseBool(out)
			if err != nil || (out != "true" && out != "false") {
				e.problems = append(e.problems, Problem{Path: path, Msg: fmt.Sprintf("want true or false, the template gave %q", out)})
				return
			}
			n.Kind, n.Bool, n.Str = Bool, b, ""
		}
	case Object:
		for _, m := range n.Members {
			var child *Shape
			if shape != nil && shape.Kind == ShapeMap {
				child = shape.Elem
			} else {
				child = shape.Field(m.Key)
			}
			e.evaluate(m.Value, child, joinPath(path, m.Key))
		}
	case Array:
		var elem *Shape
		if shape != nil && shape.Kind == ShapeList {
			elem = shape.Elem
		}
		for i, v := range n.Items {
			e.evaluate(v, elem, indexPath(path, i))
		}
	}
}

// ParseVars parses --var KEY=VALUE pairs. A later pair with the same key is
// an error rather than a silent override: two values for one key in a
// pipeline definition are almost always a mistake.
func ParseVars(pairs []string) (map[string]string, error) {
	vars := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, &InputError{fmt.Errorf("--var %q: want KEY=VALUE", p)}
		}
		if _, dup := vars[k]; dup {
			return nil, &InputError{fmt.Errorf("--var %s: given twice", k)}
		}
		vars[k] = v
	}
	return vars, nil
}

// sortedKeys returns the keys of m in order, for deterministic messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
