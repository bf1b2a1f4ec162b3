package render

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/render/ref"
)

func TestLoadDevice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ path, want string }{
		{"/dev/zero", "read /dev/zero: a character device, not a regular file; give a file, - for stdin, or s3://BUCKET/KEY"},
		{"/dev/null", "read /dev/null: a character device, not a regular file; give a file, - for stdin, or s3://BUCKET/KEY"},
	} {
		_, err := LocalLoader{}.Load(context.Background(), ref.Source{Kind: ref.SourceFile, Path: tc.path})
		if err != nil && strings.Contains(err.Error(), "no such file") {
			t.Skipf("%s: %v", tc.path, err)
		}
		checkErr(t, err, tc.want)
		if !IsInputError(err) {
			t.Errorf("%s: want an input error", tc.path)
		}
		var nr *NotRegularFileError
		if !errors.As(err, &nr) || nr.Src.Path != tc.path {
			t.Errorf("%s: want a *NotRegularFileError naming the source, got %#v", tc.path, err)
		}
	}
}

// blockingReader is a stdin that never ends and never gives a byte, like
// a terminal or a pipe whose writer stays open; closing it ends its read.
type blockingReader struct{ closed chan struct{} }

func (r blockingReader) Read([]byte) (int, error) {
	<-r.closed
	return 0, io.ErrClosedPipe
}

func TestLoadStdinStops(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want string
		is   error
	}{
		{
			name: "deadline",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), time.Millisecond)
			},
			want: "read stdin: not closed before the deadline (--timeout); stopped: context deadline exceeded",
			is:   context.DeadlineExceeded,
		},
		{
			name: "signal",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				go cancel() // as a signal arrives while the read waits
				return ctx, cancel
			},
			want: "read stdin: stopped: context canceled",
			is:   context.Canceled,
		},
		{
			name: "already done",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			want: "read stdin: stopped: context canceled",
			is:   context.Canceled,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stdin := blockingReader{make(chan struct{})}
			defer close(stdin.closed) // lets the abandoned read end
			ctx, cancel := tc.ctx()
			defer cancel()
			_, err := LocalLoader{Stdin: stdin}.Load(ctx, ref.Source{Kind: ref.SourceStdin})
			checkErr(t, err, tc.want)
			if !errors.Is(err, tc.is) {
				t.Errorf("want errors.Is %v", tc.is)
			}
			if IsInputError(err) {
				t.Error("a stdin that does not end is not an input error (exit 1)")
			}
		})
	}
}

func TestEscapeControl(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain text, é and 日本", "plain text, é and 日本"},
		{`already \n escaped`, `already \n escaped`},
		{"a\nerror: forged", `a\nerror: forged`},
		{"cr\rover", `cr\rover`},
		{"tab\there", `tab\there`},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"nul\x00 del\x7f", `nul\x00 del\x7f`},
		{"c1 \u0085 \u009b", `c1 \u0085 \u009b`},
		{"line\u2028sep\u2029", `line\u2028sep\u2029`},
		{"bidi \u202e txt \u2066", `bidi \u202e txt \u2066`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
	} {
		got := EscapeControl(tc.in)
		if got != tc.want {
			t.Errorf("EscapeControl(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := EscapeControl(got); again != got {
			t.Errorf("EscapeControl is not idempotent on %q: %q", got, again)
		}
	}
}

func TestProblemsErrorEscapesEachLine(t *testing.T) {
	t.Parallel()
	err := &ProblemsError{Object: "template t\x1b[2J", Problems: []Problem{
		{Path: "containerDefinitions[0].environment[0].name", Msg: "duplicate environment variable \"A\nerror: forged\""},
		{Path: "x\r", Msg: "two"},
	}}
	want := "template t\\x1b[2J: containerDefinitions[0].environment[0].name: duplicate environment variable \"A\\nerror: forged\"\n" +
		"template t\\x1b[2J: x\\r: two"
	checkErr(t, err, want)
}

func TestMisspeltContainerDefinitions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, key string
		want      []string
	}{
		{"singular", "containerDefinition", []string{
			`T: containerDefinition: unknown key; did you mean "containerDefinitions"?`,
		}},
		{"capitalised", "ContainerDefinitions", []string{
			`T: ContainerDefinitions: unknown key; did you mean "containerDefinitions"?`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := writeTemplate(t, `{"family":"web","`+tc.key+`":[{"name":"web","image":"nginx","memory":128,"portMappings":[{"containerPort":80}]}]}`)
			for _, o := range []Options{
				{Template: src, Images: images("web=nginx:1.27")},
				{Template: src, Placeholders: []Placeholder{{Container: "web", Token: "IMAGE1_NAME"}}},
				{Template: src},
			} {
				_, err := Render(context.Background(), o, Deps{Loader: LocalLoader{}})
				var pe *ProblemsError
				if !errors.As(err, &pe) {
					t.Fatalf("want a *ProblemsError, got %v", err)
				}
				pe.Object = "T"
				if diff := cmp.Diff(tc.want, strings.Split(pe.Error(), "\n")); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
				if strings.Contains(err.Error(), "no container named") {
					t.Errorf("a follow-on container error: %v", err)
				}
			}
		})
	}
	// A document with containers is left to the other checks.
	td, err := ParseJSON([]byte(`{"family":"web","containerDefinitions":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := missingContainerProblems(td); got != nil {
		t.Errorf("missingContainerProblems with an empty array = %q, want nil", got)
	}
}

func TestLeftoverWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{name: "log option", doc: ec2Task(`"logConfiguration":{"logDriver":"awslogs","options":{"awslogs-region":"${region}","awslogs-group":"/ecs/${env}-${app}"}}`),
			want: []string{
				`containerDefinitions[0].logConfiguration.options.awslogs-region: "${region}" looks like Terraform interpolation left unrendered; render the template with templatefile (or write $${region} in it for a literal ${)`,
				`containerDefinitions[0].logConfiguration.options.awslogs-group: "${env}" looks like Terraform interpolation left unrendered; render the template with templatefile (or write $${env} in it for a literal ${)`,
			}},
		{name: "environment value and label", doc: ec2Task(`"environment":[{"name":"DB_HOST","value":"${db_host}"}],"dockerLabels":{"team":"${team}"}`),
			want: []string{
				`containerDefinitions[0].environment[0].value: "${db_host}" looks like Terraform interpolation left unrendered; render the template with templatefile (or write $${db_host} in it for a literal ${)`,
				`containerDefinitions[0].dockerLabels.team: "${team}" looks like Terraform interpolation left unrendered; render the template with templatefile (or write $${team} in it for a literal ${)`,
			}},
		{name: "odd key is quoted in the path", doc: ec2Task(`"dockerLabels":{"a b\n":"${x}"}`),
			want: []string{
				`containerDefinitions[0].dockerLabels["a b\n"]: "${x}" looks like Terraform interpolation left unrendered; render the template with templatefile (or write $${x} in it for a literal ${)`,
			}},
		{name: "shell commands expand their own", doc: ec2Task(`"command":["sh","-c","echo ${HOME}"],"entryPoint":["${X}"],"healthCheck":{"command":["CMD-SHELL","curl localhost:${PORT}"]}`)},
		{name: "no interpolation", doc: ec2Task(`"environment":[{"name":"A","value":"$HOME {x} $ {y}"}]`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			problems, got := checkDoc(t, tt.doc)
			if len(problems) > 0 {
				t.Errorf("want no problems, got %q", problems)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppSpecContainerQuoted(t *testing.T) {
	t.Parallel()
	td, err := ParseJSON([]byte(`{"family":"f","containerDefinitions":[{"name":"web","image":"nginx","portMappings":[{"containerPort":80}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	doc := "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: <TASK_DEFINITION>\n        LoadBalancerInfo: {ContainerName: \"a\\nerror: forged\", ContainerPort: 80}\n"
	_, err = ParseAppSpec([]byte(doc), TemplateData{Context: context.Background()}, td)
	checkErr(t, err, `appspec: Resources[0].TargetService.Properties.LoadBalancerInfo: no container "a\nerror: forged" in the task definition (containers: web (80))`)
}
