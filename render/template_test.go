package render

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ecsrender/ecsrender/render/ref"
)

// evalString evaluates one string value as the family of a task definition.
func evalString(t *testing.T, data TemplateData, s string) (string, []Problem) {
	t.Helper()
	e := newEvaluator(data)
	out, _, ok := e.renderString("family", s)
	if err := e.stopped(); err != nil {
		t.Fatalf("evaluation stopped: %v", err)
	}
	if ok != (len(e.problems) == 0) {
		t.Fatalf("ok %v with problems %v", ok, e.problems)
	}
	if !ok {
		out = ""
	}
	return out, e.problems
}

func TestTemplateEvaluation(t *testing.T) {
	t.Parallel()
	data := TemplateData{
		Vars: map[string]string{"tag": "v1", "mem": "512"},
		LookupEnv: func(k string) (string, bool) {
			v, ok := map[string]string{"STAGE": "prod", "AWS_REGION": "eu-west-1"}[k]
			return v, ok
		},
	}
	tests := []struct {
		name, in, want string
	}{
		{"no action", "plain {text}", "plain {text}"},
		{"var", `app:{{ var "tag" }}`, "app:v1"},
		{"env", `{{ env "STAGE" }}`, "prod"},
		{"env default", `{{ env "NOPE" "dev" }}`, "dev"},
		{"env empty", `[{{ env "NOPE" }}]`, "[]"},
		{"must_env", `{{ must_env "AWS_REGION" }}`, "eu-west-1"},
		{"printf", `{{ printf "%05d-%s" 42 (var "tag") }}`, "00042-v1"},
		{"printf percent", `{{ printf "100%%" }}`, "100%"},
		{"if else", `{{ if eq (env "STAGE") "prod" }}big{{ else }}small{{ end }}`, "big"},
		{"else if", `{{ if eq (env "STAGE") "dev" }}d{{ else if eq (env "STAGE") "prod" }}p{{ end }}`, "p"},
		{"with", `{{ with env "NOPE" }}{{ . }}{{ else }}none{{ end }}`, "none"},
		{"with dot", `{{ with env "STAGE" }}[{{ . }}]{{ end }}`, "[prod]"},
		{"else with", `{{ with env "NOPE" }}{{ . }}{{ else with var "tag" }}{{ . }}{{ end }}`, "v1"},
		{"variables", `{{ $t := var "tag" }}{{ $t = printf "%s-x" $t }}{{ $t }}`, "v1-x"},
		{"pipeline", `{{ var "tag" | printf "img:%s" }}`, "img:v1"},
		{"comment", `a{{/* why */}}b`, "ab"},
		{"constants", `{{ 1 }} {{ true }} {{ "s" }} {{ 1.5 }}`, "1 true s 1.5"},
		{"len and index", `{{ len "abc" }} {{ index "abc" 1 }} {{ slice "abcd" 1 3 }}`, "3 98 bc"},
		{"braces kept for another tool", `{{"{{"}}.Name}}`, "{{.Name}}"},
		{"html js urlquery", `{{ html "<a>" }} {{ js "'" }} {{ urlquery "a b" }}`, `&lt;a&gt; \' a+b`},
		{"print println", `{{ print "a" 1 }}|{{ println "b" }}`, "a1|b\n"},
		{"and or not", `{{ and 1 "x" }} {{ or "" "y" }} {{ not true }}`, "x y false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problems := evalString(t, data, tt.in)
			if len(problems) > 0 {
				t.Fatalf("problems %v", problems)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// Every refused construct and every budget, with its message. Each is an
// input problem at the value's path, and no message holds a raw newline.
func TestTemplateRefused(t *testing.T) {
	t.Parallel()
	many := func(s string, n int) string { return strings.Repeat(s, n) }
	data := TemplateData{LookupEnv: func(k string) (string, bool) {
		if k == "BIG" {
			return strings.Repeat("x", 40<<10), true
		}
		return "", false
	}}
	tests := []struct {
		name, in, want string
	}{
		// Constructs a value does not need.
		{"range over an integer", `{{ range 1000000000 }}x{{ end }}`, msgRange},
		{"range with break", `{{ range 3 }}{{ break }}{{ end }}`, msgRange},
		{"break outside range", `{{ break }}`, "template 1: {{break}} outside {{range}}"},
		{"define", `{{ define "x" }}a{{ end }}b`, msgDefine},
		{"define alone", `{{ define "x" }}a{{ end }}`, msgDefine},
		{"define named as the value", `{{ define "family" }}{{ range 9 }}{{ end }}{{ end }}`, msgDefine},
		{"template", `{{ template "x" }}`, msgDefine},
		{"block", `{{ block "x" 1 }}a{{ end }}`, msgDefine},
		{"dot", `{{ . }}`, msgDot},
		{"dot assigned", `{{ $x := . }}{{ $x }}`, msgDot},
		{"dot in the else of a with", `{{ with "" }}{{ . }}{{ else }}{{ . }}{{ end }}`, msgDot},
		{"dot as the pipeline of a with", `{{ with . }}x{{ end }}`, msgDot},
		{"dot after a with", `{{ with "a" }}{{ . }}{{ end }}{{ . }}`, msgDot},
		{"dollar", `{{ $ }}`, msgDollar},
		{"dollar field", `{{ $.Tag }}`, `{{$.Tag}} reads template data, which ecsrender has none of (use var or env)`},
		{"field", `{{ .ImageName }}`, `{{.ImageName}} reads template data, which ecsrender has none of (use var or env); to keep it for another tool, write {{"{{"}}.ImageName}}`},
		{"variable field", `{{ $x := "a" }}{{ $x.Len }}`, msgField},
		{"chain", `{{ ("a").Len }}`, msgField},
		{"no value", `{{ or nil }}`, `an action gives no value, which text/template would write as "<no value>"`},
		{"no value through a variable", `{{ $x := and 1 nil }}{{ $x }}`, `an action gives no value, which text/template would write as "<no value>"`},

		// Functions ecsrender does not have say what to use instead.
		{"default", `{{ env "TAG" | default "latest" }}`, `function "default" not defined; use env NAME DEFAULT, as in {{ env "TAG" "latest" }}`},
		{"getenv", `{{ getenv "TAG" }}`, `function "getenv" not defined; use env NAME, or must_env NAME to fail when it is not set`},
		{"required", `{{ required "x" }}`, `function "required" not defined; use must_env NAME or var KEY, which fail when the value is not set`},
		{"call", `{{ call "f" }}`, `function "call" not defined; templates have no data, so there is no function to call`},
		{"misspelt", `{{ mustEnv "X" }}`, `function "mustEnv" not defined; did you mean "must_env"?`},
		{"unknown", `{{ upper "x" }}`, `function "upper" not defined; templates have env NAME [DEFAULT], must_env NAME, var KEY and text/template's built-ins such as printf and eq`},

		// Size of the template itself.
		{"too many actions", many("{{ 1 }}", maxTemplateActions+1), fmt.Sprintf("template has %d actions; the limit is %d", maxTemplateActions+1, maxTemplateActions)},
		{"too many nodes", many(`{{ print 1 1 1 1 1 1 1 1 1 1 1 1 }}`, 100), fmt.Sprintf(msgTooLarge, maxTemplateNodes)},
		{"too deep", many("{{ if 1 }}", 60) + many("{{ end }}", 60), fmt.Sprintf(msgTooDeep, maxTemplateDepth)},
		{"too deep parentheses", "{{ " + many("(", 60) + "1" + many(")", 60) + " }}", fmt.Sprintf(msgTooDeep, maxTemplateDepth)},

		// Budgets: what is written, and what is built but never written.
		{"huge printf width", `{{ printf "%0999999d" 1 }}`, errStringBudget.Error()},
		{"printf width from an operand", `{{ printf "%*d" 999999 1 }}`, errStringBudget.Error()},
		{"huge printf precision", `{{ printf "%.999999f" 1.0 }}`, errStringBudget.Error()},
		{"printf width in a variable only", `{{ $x := printf "%070000d" 1 }}ok`, errStringBudget.Error()},
		{"printf doubling in variables", `{{ $x := printf "%010000d" 1 }}` + many(`{{ $x = printf "%s%s" $x $x }}`, 8) + `ok`, errStringBudget.Error()},
		{"printf reusing one operand", `{{ $x := printf "%015000d" 1 }}{{ $y := printf "%[1]s%[1]s%[1]s%[1]s%[1]s" $x }}ok`, errStringBudget.Error()},
		{"print doubling", `{{ $x := printf "%020000d" 1 }}{{ $x = print $x $x }}{{ $x = print $x $x }}ok`, errStringBudget.Error()},
		{"println", `{{ $x := printf "%040000d" 1 }}{{ $y := println $x $x }}ok`, errStringBudget.Error()},
		{"js expands", `{{ $x := printf "%020000s" "<" }}{{ $y := js $x }}ok`, errStringBudget.Error()},
		{"html expands", `{{ $x := printf "%015000s" "" }}{{ $y := html $x $x }}ok`, errStringBudget.Error()},
		{"urlquery expands", `{{ $x := printf "%015000s" "" }}{{ $y := urlquery $x }}ok`, errStringBudget.Error()},
		{"env counted", `{{ $x := env "BIG" }}{{ $y := env "BIG" }}ok`, errStringBudget.Error()},
		{"output", `{{ $x := printf "%030000d" 1 }}{{ $x }}{{ $x }}{{ $x }}`, errStringBudget.Error()},

		// Credentials, whatever their case, and names echoed safely.
		{"credential", `{{ env "AWS_SECRET_ACCESS_KEY" }}`, "env AWS_SECRET_ACCESS_KEY refused: templates may not read AWS credentials"},
		{"credential lower case", `{{ env "aws_secret_access_key" }}`, "env aws_secret_access_key refused: templates may not read AWS credentials"},
		{"credential mixed case", `{{ must_env "Aws_Session_Token" }}`, "env Aws_Session_Token refused: templates may not read AWS credentials"},
		{"credential container", `{{ env "aws_container_credentials_full_uri" }}`, "env aws_container_credentials_full_uri refused: templates may not read AWS credentials"},
		{"credential alias", `{{ env "aws_secret_key" "x" }}`, "env aws_secret_key refused: templates may not read AWS credentials"},
		{"credential Kelvin sign", "{{ env \"AWS_SECRET_ACCESS_\u212aEY\" }}", `env "AWS_SECRET_ACCESS_\u212aEY" refused: templates may not read AWS credentials`},
		{"missing variable name with a newline", `{{ var "a\nerror: forged" }}`, `variable "a\nerror: forged" is not set (pass --var "a\nerror: forged=VALUE")`},
		{"missing env name with a newline", `{{ must_env "A\nB" }}`, `environment variable "A\nB" is not set`},
		{"raw newline in a template error", "{{ `x\nerror: forged` 1 }}", "1:3: <`x\\nerror: forged`>: can't give argument to non-function `x\\nerror: forged`"},
		{"escape in a template error", "{{ `\x1b[31m` 1 }}", "1:3: <`\\x1b[31m`>: can't give argument to non-function `\\x1b[31m`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := evalString(t, data, tt.in)
			if len(problems) != 1 {
				t.Fatalf("got problems %q, want one: %q", problems, tt.want)
			}
			if p := problems[0]; p.Path != "family" || p.Msg != tt.want {
				t.Errorf("got %s: %q\nwant family: %q", p.Path, p.Msg, tt.want)
			}
			if strings.ContainsAny(problems[0].Msg, "\n\r\x1b") {
				t.Errorf("message holds a raw control character: %q", problems[0].Msg)
			}
		})
	}
}

// The document's budget is shared by its strings: once spent, the string
// that crossed it is reported and no later string is evaluated.
func TestTemplateDocumentBudget(t *testing.T) {
	t.Parallel()
	var env []*Node
	// Each string builds and writes 60 KiB, under the per-string limit.
	for range maxEvaluatedDocument/(120<<10) + 5 {
		env = append(env, NewString(`{{ printf "%061440d" 1 }}`))
	}
	doc := NewObject(Member{Key: "values", Value: &Node{Kind: Array, Items: env}})
	e := newEvaluator(TemplateData{})
	e.evaluate(doc, nil, "")
	want := []Problem{{Path: fmt.Sprintf("values[%d]", maxEvaluatedDocument/(120<<10)), Msg: errDocumentBudget.Error()}}
	if fmt.Sprint(e.problems) != fmt.Sprint(want) {
		t.Errorf("problems %q, want %q", e.problems, want)
	}
	if e.total > maxEvaluatedDocument {
		t.Errorf("%d bytes counted, more than the budget of %d", e.total, maxEvaluatedDocument)
	}
}

// A cancelled context ends evaluation: between strings, inside a function
// call, and while output is written. The caller gets the context's error,
// not input problems.
func TestTemplateCancelled(t *testing.T) {
	t.Parallel()
	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		e := newEvaluator(TemplateData{Context: ctx})
		doc := NewObject(Member{Key: "a", Value: NewString(`{{ var "x" }}`)})
		e.evaluate(doc, nil, "")
		if err := e.stopped(); !errors.Is(err, context.Canceled) {
			t.Errorf("stopped() = %v, want context.Canceled", err)
		}
		if len(e.problems) > 0 || e.calls > 0 {
			t.Errorf("problems %v and %d calls after cancel", e.problems, e.calls)
		}
		if got := doc.GetString("a"); got != `{{ var "x" }}` {
			t.Errorf("value changed to %q", got)
		}
	})
	t.Run("during", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		e := newEvaluator(TemplateData{Context: ctx, LookupEnv: func(string) (string, bool) {
			cancel() // a signal arrives while the first string is evaluated
			return "v", true
		}})
		var items []*Node
		for range 1000 {
			items = append(items, NewString(`{{ env "A" }}{{ printf "%s" "b" }}`))
		}
		e.evaluate(&Node{Kind: Array, Items: items}, nil, "")
		if err := e.stopped(); !errors.Is(err, context.Canceled) {
			t.Errorf("stopped() = %v, want context.Canceled", err)
		}
		// env cancels; writing its result or calling printf sees it.
		if e.calls > 2 {
			t.Errorf("%d function calls, want at most 2", e.calls)
		}
		if len(e.problems) > 0 {
			t.Errorf("problems %v after cancel", e.problems)
		}
	})
	t.Run("appspec", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		doc := "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: <TASK_DEFINITION>\n        LoadBalancerInfo: {ContainerName: '{{ var \"c\" }}', ContainerPort: 80}\n"
		_, err := ParseAppSpec([]byte(doc), TemplateData{Context: ctx}, nil)
		if !errors.Is(err, context.Canceled) || IsInputError(err) {
			t.Errorf("err = %v, want context.Canceled and not an input error", err)
		}
		if got, want := fmt.Sprint(err), "appspec: template evaluation stopped: context canceled"; got != want {
			t.Errorf("err %q, want %q", got, want)
		}
	})
}

// Render reports a stopped evaluation as the context's error, which the
// CLI exits 1 for, and not as problems in the template.
func TestRenderStoppedInTemplate(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Render(ctx, Options{Template: ref.Source{Kind: ref.SourceStdin}, NoAppSpec: true}, Deps{Loader: LocalLoader{
		Stdin: strings.NewReader(`{"family": "{{ var \"f\" }}", "containerDefinitions": [{"name": "a", "image": "nginx", "memory": 128}]}`)}})
	if !errors.Is(err, context.Canceled) || IsInputError(err) {
		t.Errorf("err = %v, want context.Canceled and not an input error", err)
	}
}

func TestParseVarsQuotesKeys(t *testing.T) {
	t.Parallel()
	_, err := ParseVars([]string{"a\nb=1", "a\nb=2"})
	if got, want := fmt.Sprint(err), `--var "a\nb": given twice`; got != want {
		t.Errorf("err %q, want %q", got, want)
	}
}

func TestPrintfSize(t *testing.T) {
	t.Parallel()
	formats := []string{"", "%", "%%", "%d", "%5.2f", "%[2]s %[1]s", "%[0]d", "%[9]d", "%!", "%-+# 0x", "%.*d", "%*.*f",
		"%x", "%# x", "%+q", "%q", "%U", "%v %v %v", "%[1]*d", "%.[2]*[1]f", "%[", "%[1", "%[1]", "%.", "%e", "%b", "%T",
		"%05000d", "%.5000f", "%5000.300v %[1]v", "%1002170d", "%.9999999f"}
	args := [][]any{nil, {1}, {"é\x01\xff<"}, {1.5e300, "ab"}, {complex(1e300, -1e300), 3, "x"}, {true, nil, uint8(7)}, {"a", "b", "c"}}
	for _, f := range formats {
		for _, a := range args {
			got := len(fmt.Sprintf(f, a...))
			if bound := printfSize(f, a); got > bound {
				t.Errorf("printf %q %v: %d bytes, bound %d", f, a, got, bound)
			}
		}
	}
}

// BenchmarkHostileTemplate shows that templates which would run for hours
// or build gigabytes in text/template alone are refused in microseconds,
// and that a document spending its whole byte budget costs milliseconds.
func BenchmarkHostileTemplate(b *testing.B) {
	doubling := `{{ $x := "ab" }}` + strings.Repeat(`{{ $x = printf "%s%s" $x $x }}`, 40) + "{{ len $x }}"
	tests := []struct {
		name string
		doc  func() *Node // a new tree each time: evaluation rewrites it
	}{
		{"range 1e9", func() *Node { return NewString(`{{ range 1000000000 }}{{ end }}`) }},
		{"define recursion", func() *Node {
			return NewString(`{{ define "a" }}{{ template "a" }}{{ template "a" }}{{ end }}{{ template "a" }}`)
		}},
		{"printf doubling 2^40", func() *Node { return NewString(doubling) }},
		{"printf width 999999", func() *Node { return NewString(`{{ printf "%0999999d%0999999d" 1 2 }}`) }},
		{"nesting", func() *Node { return NewString(strings.Repeat("{{ if 1 }}", 250) + strings.Repeat("{{ end }}", 250)) }},
		{"document budget", func() *Node {
			var items []*Node
			for range 1000 {
				items = append(items, NewString(`{{ $x := printf "%060000d" 1 }}`))
			}
			return &Node{Kind: Array, Items: items}
		}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				doc := tt.doc()
				b.StartTimer()
				e := newEvaluator(TemplateData{})
				e.evaluate(doc, nil, "v")
				if len(e.problems) == 0 {
					b.Fatal("not refused")
				}
			}
		})
	}
}
