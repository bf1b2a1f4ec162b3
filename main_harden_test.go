package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/render"
)

func noEnv(string) (string, bool) { return "", false }

// TestStdinNeverCloses: --timeout, and a signal (the run's context ending),
// stop a read of stdin; nothing is written and the exit status is 1.
// The tests that call run are not parallel: urfave/cli writes package
// state (its help flag) while parsing, which the race detector reports.
func TestStdinNeverCloses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		signal bool
		want   string
	}{
		{"timeout", false, "error: read stdin: not closed before the deadline (--timeout); stopped: context deadline exceeded\n"},
		{"signal", true, "error: read stdin: stopped: context canceled (stopped by a signal; nothing written)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A real pipe whose writer stays open: a read of it blocks in
			// the kernel until the test ends.
			stdin, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			defer w.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			timeout := "100ms"
			if tc.signal {
				timeout = "1h"
				go cancel()
			}
			out := filepath.Join(t.TempDir(), "out")
			var stdout, stderr bytes.Buffer
			code := run(ctx, []string{"ecsrender", "render", "--offline", "--template", "-", "--timeout", timeout, "--out", out}, stdin, &stdout, &stderr, noEnv)
			if code != exitOther {
				t.Errorf("exit %d, want %d", code, exitOther)
			}
			if stderr.String() != tc.want {
				t.Errorf("stderr:\n got %q\nwant %q", stderr.String(), tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("--out was created: %v", err)
			}
		})
	}
}

// TestNoForgedLines puts a newline, a carriage return and an escape
// sequence into every piece of input that a message echoes, and checks
// that stderr holds no raw control byte and no line that the input made.
func TestNoForgedLines(t *testing.T) {
	const payload = "x\nerror: FORGED\r\x1b[31m\u2028"
	js := func(s string) string { // s as the inside of a JSON string
		b, _ := json.Marshal(s)
		return string(b[1 : len(b)-1])
	}
	tmpl := func(container string) string {
		return `{"family":"f","containerDefinitions":[` + container + `]}`
	}
	p := js(payload)
	q := js(strconv.Quote(payload)) // a Go string literal inside an action
	for _, tc := range []struct {
		name     string
		template string
		args     []string
		env      map[string]string
	}{
		{name: "key", template: `{"family":"f","` + p + `":1,"containerDefinitions":[{"name":"web","image":"nginx","memory":128}]}`},
		{name: "variable name", template: tmpl(`{"name":"web","image":"{{ var ` + q + ` }}","memory":128}`)},
		{name: "env name", template: tmpl(`{"name":"web","image":"{{ must_env ` + q + ` }}","memory":128}`)},
		{name: "env name credential", template: tmpl(`{"name":"web","image":"{{ env ` + js(strconv.Quote("aws_secret_access_key"+payload)) + ` }}","memory":128}`)},
		{name: "environment name", template: tmpl(`{"name":"web","image":"nginx","memory":128,"environment":[{"name":"` + p + `","value":"1"},{"name":"` + p + `","value":"2"}]}`)},
		{name: "container name", template: tmpl(`{"name":"` + p + `","image":"nginx","memory":128}`)},
		{name: "image in template", template: tmpl(`{"name":"web","image":"` + p + `","memory":128}`)},
		{name: "image leftover", template: tmpl(`{"name":"web","image":"${` + p + `}","memory":128}`)},
		{name: "value warning", template: tmpl(`{"name":"web","image":"nginx","memory":128,"dockerLabels":{"` + p + `":"${` + p + `}"}}`)},
		{name: "template action", template: tmpl(`{"name":"web","image":"{{ ` + p + ` }}","memory":128}`)},
		{name: "image flag", args: []string{"--image", "web=" + payload}},
		{name: "image flag name", args: []string{"--image", payload + "=nginx"}},
		{name: "var flag twice", args: []string{"--var", payload + "=1", "--var", payload + "=2"}},
		{name: "container flag", args: []string{"--container", payload + ":80"}},
		{name: "placeholder flag", args: []string{"--placeholder", "web=" + payload}},
		{name: "template path", args: []string{"--template", filepath.Join("missing", payload)}},
		{name: "s3 source", args: []string{"--template", "s3://bucket/" + payload + "?versionId="}},
		{name: "unknown flag", args: []string{"--" + payload}},
		{name: "out", args: []string{"--out", "$DIR/" + payload}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tp := filepath.Join(dir, "taskdef.json")
			template := tc.template
			if template == "" {
				template = tmpl(`{"name":"web","image":"nginx","memory":128,"portMappings":[{"containerPort":80}]}`)
			}
			if err := os.WriteFile(tp, []byte(template), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"ecsrender", "render", "--offline", "--no-appspec", "--template", tp, "--out", filepath.Join(dir, "out")}
			for _, a := range tc.args {
				args = append(args, strings.Replace(a, "$DIR", dir, 1))
			}
			if tc.name == "container flag" {
				args = slicesDelete(args, "--no-appspec")
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, nil, &stdout, &stderr, noEnv)
			if code == exitOK && tc.name != "out" && tc.name != "value warning" {
				t.Errorf("exit 0; want an error\nstderr:\n%s", stderr.String())
			}
			for _, stream := range []struct {
				name string
				text string
			}{{"stdout", stdout.String()}, {"stderr", stderr.String()}} {
				if strings.ContainsFunc(strings.TrimSuffix(stream.text, "\n"), func(r rune) bool {
					return r != '\n' && (r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\u2028')
				}) {
					t.Errorf("%s holds a raw control character: %q", stream.name, stream.text)
				}
				for _, line := range strings.Split(strings.TrimSuffix(stream.text, "\n"), "\n") {
					if line == "" {
						continue
					}
					if !hasAnyPrefix(line, "error: ", "warning: ", "note: ", "wrote ", "ok: ") {
						t.Errorf("%s line %q does not start with a prefix of ecsrender's", stream.name, line)
					}
					if strings.HasPrefix(line, "error: FORGED") || strings.HasPrefix(line, "error: error: FORGED") {
						t.Errorf("%s has a forged line: %q", stream.name, line)
					}
				}
			}
			t.Logf("stdout:\n%sstderr:\n%s", stdout.String(), stderr.String())
		})
	}
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func slicesDelete(args []string, arg string) []string {
	var out []string
	for _, a := range args {
		if a != arg {
			out = append(out, a)
		}
	}
	return out
}

func TestPrintLineCutsLongLines(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	printLine(&b, "error: ", strings.Repeat("k", 10000)+"\n")
	want := "error: " + strings.Repeat("k", maxLineBytes) + "... (5906 more bytes)\n"
	if b.String() != want {
		t.Errorf("printLine of 10000 bytes:\n got %.80q... (%d bytes)\nwant %.80q... (%d bytes)", b.String(), b.Len(), want, len(want))
	}
	b.Reset()
	printLine(&b, "note: ", "short\x1b")
	if b.String() != "note: short\\x1b\n" {
		t.Errorf("printLine(short) = %q", b.String())
	}
}

func TestErrorLines(t *testing.T) {
	t.Parallel()
	pe := &render.ProblemsError{Object: "template t", Problems: []render.Problem{{Path: "a", Msg: "one\ntwo"}, {Path: "b", Msg: "three"}}}
	for _, tc := range []struct {
		name string
		err  error
		want []string
	}{
		{"problems", pe, []string{`template t: a: one\ntwo`, "template t: b: three"}},
		{"wrapped problems", fmt.Errorf("%w (stopped by a signal; nothing written)", pe),
			[]string{`template t: a: one\ntwo`, "template t: b: three (stopped by a signal; nothing written)"}},
		{"joined", errors.Join(errors.New("write x: disk full"), pe),
			[]string{"write x: disk full", `template t: a: one\ntwo`, "template t: b: three"}},
		{"plain with a newline", errors.New("read \"a\nb\": gone"), []string{"read \"a\nb\": gone"}},
		{"services", &render.InputError{Err: &render.ServicesError{Failures: []render.ServiceFailure{
			{Name: "web", Err: pe}, {Name: "api", Err: errors.New("read x\nerror: forged")}}}},
			[]string{`service "web": template t: a: one\ntwo`, `service "web": template t: b: three`, "service \"api\": read x\nerror: forged"}},
		{"manifest", &render.InputError{Err: &render.ManifestError{File: "m.yaml", Problems: []render.ManifestProblem{
			{Line: 2, Path: "services[0].x", Msg: "unknown key\nerror: forged"}, {Line: 3, Msg: "bad"}}}},
			[]string{`m.yaml:2: services[0].x: unknown key\nerror: forged`, "m.yaml:3: bad"}},
	} {
		got := errorLines(tc.err)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: errorLines (-want +got):\n%s", tc.name, diff)
		}
	}
}
