package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsrender/ecsrender/render/appspec"
	"github.com/ecsrender/ecsrender/render/ref"
)

// memLoader is the fake loader of the benchmarks: it hands out one template
// from memory, so that a benchmark measures the render and not the disk.
type memLoader struct{ body []byte }

func (l memLoader) Load(context.Context, ref.Source) ([]byte, error) { return l.body, nil }

// benchTemplate writes a Fargate task definition of n containers shaped
// like the Rails sample: each has an ECR image, a port, envs environment
// entries (every fourth one a {{ var }} action), secrets, a health check, a
// stop timeout from a variable and awslogs. Container c0 is the one the
// load balancer fronts and --image sets.
func benchTemplate(n, envs int) []byte {
	var b strings.Builder
	b.WriteString(`{
  "family": "bench",
  "requiresCompatibilities": ["FARGATE"],
  "networkMode": "awsvpc",
  "cpu": "4096",
  "memory": "{{ var \"memory\" }}",
  "executionRoleArn": "arn:aws:iam::123456789012:role/bench-ecs-execution",
  "taskRoleArn": "arn:aws:iam::123456789012:role/bench-task",
  "containerDefinitions": [`)
	for c := range n {
		if c > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `
    {
      "name": "c%[1]d",
      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/bench-c%[1]d:v1.%[1]d.0",
      "essential": %[2]t,
      "command": ["bundle", "exec", "puma", "-C", "config/puma.rb"],
      "portMappings": [{ "containerPort": %[3]d, "hostPort": %[3]d, "protocol": "tcp" }],
      "environment": [`, c, c == 0, 8000+c)
		for e := range envs {
			if e > 0 {
				b.WriteString(",")
			}
			value := fmt.Sprintf("value-%d-%d", c, e)
			if e%4 == 0 {
				value = `{{ var \"web_concurrency\" }}`
			}
			fmt.Fprintf(&b, "\n        { \"name\": \"SETTING_%d_%d\", \"value\": \"%s\" }", c, e, value)
		}
		fmt.Fprintf(&b, `
      ],
      "secrets": [
        { "name": "DATABASE_URL", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/bench/c%[1]d/database_url" },
        { "name": "MASTER_KEY", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench/c%[1]d/master-key-AbCdEf" }
      ],
      "healthCheck": {
        "command": ["CMD-SHELL", "curl -fsS http://localhost:%[2]d/up || exit 1"],
        "interval": 15, "timeout": 5, "retries": 3, "startPeriod": 30
      },
      "stopTimeout": "{{ var \"stop_timeout\" }}",
      "logConfiguration": {
        "logDriver": "awslogs",
        "options": { "awslogs-group": "/ecs/bench", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "c%[1]d" }
      }
    }`, c, 8000+c)
	}
	b.WriteString(`
  ],
  "tags": [{ "key": "service", "value": "bench" }]
}
`)
	return []byte(b.String())
}

// BenchmarkRender is the CPU cost of one service's offline render: parse,
// evaluate, check, build the AppSpec and image artifacts, with the template
// already in memory. sample=rails is testdata/rails; the generated ones are
// 1 and 10 containers of 8 environment entries each, and 10 containers
// grown to a 60 KiB template, near ECS's 64 KiB limit. MB/s is template
// bytes rendered per second.
func BenchmarkRender(b *testing.B) {
	rails, err := os.ReadFile(filepath.Join("..", "testdata", "rails", "taskdef.json"))
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name  string
		body  []byte
		image string
		lb    string
	}{
		{"sample=rails", rails, "app=123456789012.dkr.ecr.us-east-1.amazonaws.com/prd-rails:v1.4.2", "nginx:80"},
		{"containers=1", benchTemplate(1, 8), "c0=123456789012.dkr.ecr.us-east-1.amazonaws.com/bench-c0:v2", "c0:8000"},
		{"containers=10", benchTemplate(10, 8), "c0=123456789012.dkr.ecr.us-east-1.amazonaws.com/bench-c0:v2", "c0:8000"},
		{"size=60KiB", benchTemplate(10, 79), "c0=123456789012.dkr.ecr.us-east-1.amazonaws.com/bench-c0:v2", "c0:8000"},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			o := Options{
				Template:  ref.Source{Kind: ref.SourceFile, Path: "taskdef.json"},
				Images:    images(tc.image),
				Variables: map[string]string{"web_concurrency": "2", "stop_timeout": "30", "memory": "8192"},
				AppSpec:   appspec.Options{Container: tc.lb},
			}
			d := Deps{Loader: memLoader{tc.body}}
			// Fail on a template that does not render rather than time its error.
			if _, err := Render(context.Background(), o, d); err != nil {
				b.Fatalf("%s: %v", tc.name, err)
			}
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Render(context.Background(), o, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestBenchTemplateSize keeps the size=60KiB case what its name says, and
// within what ECS registers.
func TestBenchTemplateSize(t *testing.T) {
	t.Parallel()
	body := benchTemplate(10, 79)
	if n := len(body); n < 59<<10 || n > 61<<10 {
		t.Errorf("size=60KiB template is %d bytes, want 60 KiB ± 1 KiB", n)
	}
}
