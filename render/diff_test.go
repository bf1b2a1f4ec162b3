package render

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// describedWeb is what describe-task-definition returns for a small Fargate
// service: read-only fields and the defaults ECS fills in.
const describedWeb = `{"taskDefinition": {
  "taskDefinitionArn": "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/web:7",
  "containerDefinitions": [
    {"name": "nginx", "image": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/nginx@sha256:1111", "cpu": 0,
     "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}], "essential": true,
     "environment": [], "mountPoints": [], "volumesFrom": [], "systemControls": []},
    {"name": "web", "image": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/rails@sha256:aaaa", "cpu": 0,
     "portMappings": [], "essential": true,
     "environment": [{"name": "RAILS_ENV", "value": "production"}, {"name": "RAILS_MAX_THREADS", "value": "5"}],
     "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:db-AbCdEf:password::"}],
     "mountPoints": [], "volumesFrom": [],
     "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web", "awslogs-region": "ap-northeast-1", "awslogs-stream-prefix": "web"}, "secretOptions": []},
     "healthCheck": {"command": ["CMD-SHELL", "curl -f localhost:3000/up"], "interval": 30, "timeout": 5, "retries": 3},
     "systemControls": []}
  ],
  "family": "web", "executionRoleArn": "arn:aws:iam::123456789012:role/web-exec", "taskRoleArn": "arn:aws:iam::123456789012:role/web-task",
  "networkMode": "awsvpc", "revision": 7, "volumes": [], "status": "ACTIVE",
  "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
  "placementConstraints": [], "compatibilities": ["EC2", "FARGATE"], "requiresCompatibilities": ["FARGATE"],
  "cpu": "512", "memory": "1024", "registeredAt": "2026-11-30T10:00:00.000Z", "registeredBy": "arn:aws:sts::123456789012:assumed-role/ci/x",
  "enableFaultInjection": false
}}`

// renderedWeb is the template that registers describedWeb, written the way
// people write it: fewer defaults, other orders, units.
const renderedWeb = `{
  "family": "web",
  "requiresCompatibilities": ["FARGATE"],
  "networkMode": "awsvpc",
  "cpu": ".5 vCPU",
  "memory": "1 GB",
  "executionRoleArn": "arn:aws:iam::123456789012:role/web-exec",
  "taskRoleArn": "arn:aws:iam::123456789012:role/web-task",
  "containerDefinitions": [
    {"name": "web", "image": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/rails@sha256:aaaa",
     "environment": [{"name": "RAILS_MAX_THREADS", "value": "5"}, {"name": "RAILS_ENV", "value": "production"}],
     "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:db-AbCdEf:password::"}],
     "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-region": "ap-northeast-1", "awslogs-group": "/ecs/web", "awslogs-stream-prefix": "web"}},
     "healthCheck": {"command": ["CMD-SHELL", "curl -f localhost:3000/up"]}},
    {"name": "nginx", "image": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/nginx@sha256:1111", "essential": true,
     "portMappings": [{"containerPort": 80}]}
  ]
}`

func TestDiffTaskDefinitions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// edit changes the rendered document, and editRunning the running one.
		edit, editRunning func(rendered *Node)
		want              []string
	}{
		{name: "same but for defaults, order and units"},
		{
			name: "environment value",
			edit: func(n *Node) { tEnv(n, "web", "RAILS_MAX_THREADS").Set("value", NewString("8")) },
			want: []string{`containerDefinitions[web].environment.RAILS_MAX_THREADS: "5" -> "8"`},
		},
		{
			name: "environment added and removed",
			edit: func(n *Node) {
				tEnv(n, "web", "RAILS_ENV").Set("name", NewString("RACK_ENV"))
			},
			want: []string{
				`containerDefinitions[web].environment.RACK_ENV: added "production"`,
				`containerDefinitions[web].environment.RAILS_ENV: removed (was "production")`,
			},
		},
		{
			name: "environment list added to a container without one",
			edit: func(n *Node) {
				tContainer(n, "nginx").Set("environment", tParse(`[{"name":"WORKERS","value":"4"}]`))
			},
			want: []string{`containerDefinitions[nginx].environment: added [{"name": "WORKERS", "value": "4"}]`},
		},
		{
			name: "image by digest",
			edit: func(n *Node) {
				tContainer(n, "web").Set("image", NewString("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/rails@sha256:bbbb"))
			},
			want: []string{`containerDefinitions[web].image: "sha256:aaaa" -> "sha256:bbbb"`},
		},
		{
			name: "image to another repository",
			edit: func(n *Node) {
				tContainer(n, "web").Set("image", NewString("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/api:v2"))
			},
			want: []string{`containerDefinitions[web].image: "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/rails@sha256:aaaa" -> "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/api:v2"`},
		},
		{
			name: "secret reference by ARN",
			edit: func(n *Node) {
				tSecret(n, "web", "DB_PASSWORD").Set("valueFrom", NewString("arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:db2-XyZabc"))
			},
			want: []string{`containerDefinitions[web].secrets.DB_PASSWORD: valueFrom "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:db-AbCdEf:password::" -> "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:db2-XyZabc"`},
		},
		{
			name: "secret added",
			edit: func(n *Node) {
				s := tContainer(n, "web").Get("secrets")
				s.Items = append(s.Items, tParse(`{"name":"API_KEY","valueFrom":"/prd/api-key"}`))
			},
			want: []string{`containerDefinitions[web].secrets.API_KEY: added valueFrom "/prd/api-key"`},
		},
		{
			name: "secrets removed",
			edit: func(n *Node) { tContainer(n, "web").Delete("secrets") },
			want: []string{`containerDefinitions[web].secrets: removed (was [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:db-AbCdEf:password::"}])`},
		},
		{
			name: "task cpu and memory",
			edit: func(n *Node) { n.Set("cpu", NewString("1024")); n.Set("memory", NewString("4 GB")) },
			want: []string{`cpu: "512" -> "1024"`, `memory: "1024" -> "4096"`},
		},
		{
			name: "task role",
			edit: func(n *Node) { n.Set("taskRoleArn", NewString("arn:aws:iam::123456789012:role/web-task-v2")) },
			want: []string{`taskRoleArn: "arn:aws:iam::123456789012:role/web-task" -> "arn:aws:iam::123456789012:role/web-task-v2"`},
		},
		{
			name: "task role removed",
			edit: func(n *Node) { n.Delete("taskRoleArn") },
			want: []string{`taskRoleArn: removed (was "arn:aws:iam::123456789012:role/web-task")`},
		},
		{
			name: "container added",
			edit: func(n *Node) {
				cds := n.Get("containerDefinitions")
				cds.Items = append(cds.Items, tParse(`{"name":"datadog","image":"public.ecr.aws/datadog/agent:7"}`))
			},
			want: []string{`containerDefinitions[datadog]: added container`},
		},
		{
			name: "container removed",
			edit: func(n *Node) {
				cds := n.Get("containerDefinitions")
				cds.Items = cds.Items[:1]
			},
			want: []string{`containerDefinitions[nginx]: removed container`},
		},
		{
			name: "container memory added",
			edit: func(n *Node) { tContainer(n, "web").Set("memoryReservation", &Node{Kind: Number, Str: "512"}) },
			want: []string{`containerDefinitions[web].memoryReservation: added 512`},
		},
		{
			name: "essential false",
			edit: func(n *Node) { tContainer(n, "nginx").Set("essential", &Node{Kind: Bool}) },
			want: []string{`containerDefinitions[nginx].essential: added false`},
		},
		{
			name: "port mapping changed",
			edit: func(n *Node) {
				tContainer(n, "nginx").Set("portMappings", tParse(`[{"containerPort": 8080}]`))
			},
			want: []string{
				`containerDefinitions[nginx].portMappings[8080]: added {"containerPort": 8080}`,
				`containerDefinitions[nginx].portMappings[80]: removed (was {"containerPort": 80})`,
			},
		},
		{
			name: "port mapping gets a name",
			edit: func(n *Node) {
				tContainer(n, "nginx").Set("portMappings", tParse(`[{"containerPort": 80, "name": "http"}]`))
			},
			want: []string{`containerDefinitions[nginx].portMappings[80].name: added "http"`},
		},
		{
			name: "command order matters",
			edit: func(n *Node) {
				tContainer(n, "web").Get("healthCheck").Set("command", tParse(`["CMD-SHELL", "curl -f localhost:3000/health"]`))
			},
			want: []string{`containerDefinitions[web].healthCheck.command: ["CMD-SHELL", "curl -f localhost:3000/up"] -> ["CMD-SHELL", "curl -f localhost:3000/health"]`},
		},
		{
			name: "health check interval",
			edit: func(n *Node) {
				tContainer(n, "web").Get("healthCheck").Set("interval", &Node{Kind: Number, Str: "10"})
			},
			want: []string{`containerDefinitions[web].healthCheck.interval: added 10`},
		},
		{
			name: "log option",
			edit: func(n *Node) {
				tContainer(n, "web").Get("logConfiguration").Get("options").Set("awslogs-group", NewString("/ecs/web-v2"))
			},
			want: []string{`containerDefinitions[web].logConfiguration.options.awslogs-group: "/ecs/web" -> "/ecs/web-v2"`},
		},
		{
			name: "runtime platform explicit default",
			edit: func(n *Node) {
				n.Set("runtimePlatform", tParse(`{"cpuArchitecture":"X86_64","operatingSystemFamily":"LINUX"}`))
			},
		},
		{
			name: "runtime platform arm",
			edit: func(n *Node) { n.Set("runtimePlatform", tParse(`{"cpuArchitecture":"ARM64"}`)) },
			want: []string{`runtimePlatform: added {"cpuArchitecture": "ARM64"}`},
		},
		{
			name: "tags ignored when describe has none",
			edit: func(n *Node) { n.Set("tags", tParse(`[{"key":"team","value":"web"}]`)) },
		},
		{
			name:        "tags compared when described",
			edit:        func(n *Node) { n.Set("tags", tParse(`[{"key":"team","value":"web"}]`)) },
			editRunning: func(n *Node) { n.Set("tags", tParse(`[{"key":"team","value":"api"}]`)) },
			want:        []string{`tags[team].value: "api" -> "web"`},
		},
		{
			name: "requires compatibilities is a set",
			edit: func(n *Node) { n.Set("requiresCompatibilities", tParse(`["FARGATE","EC2"]`)) },
			editRunning: func(n *Node) {
				n.Set("requiresCompatibilities", tParse(`["EC2","FARGATE"]`))
			},
		},
		{
			name: "volume added",
			edit: func(n *Node) { n.Set("volumes", tParse(`[{"name":"tmp"}]`)) },
			want: []string{`volumes: added [{"name": "tmp"}]`},
		},
		{
			name: "docker label",
			edit: func(n *Node) {
				tContainer(n, "web").Set("dockerLabels", tParse(`{"team": "web", "tier": "app"}`))
			},
			editRunning: func(n *Node) {
				tContainer(n, "web").Set("dockerLabels", tParse(`{"tier": "app", "team": "api"}`))
			},
			want: []string{`containerDefinitions[web].dockerLabels.team: "api" -> "web"`},
		},
		{
			name: "ulimit by name",
			edit: func(n *Node) {
				tContainer(n, "web").Set("ulimits", tParse(`[{"name": "nproc", "softLimit": 1024, "hardLimit": 2048}, {"name": "nofile", "softLimit": 65536, "hardLimit": 65536}]`))
			},
			editRunning: func(n *Node) {
				tContainer(n, "web").Set("ulimits", tParse(`[{"name": "nofile", "softLimit": 4096, "hardLimit": 65536}, {"name": "nproc", "softLimit": 1024, "hardLimit": 2048}]`))
			},
			want: []string{`containerDefinitions[web].ulimits[nofile].softLimit: 4096 -> 65536`},
		},
		{
			name: "depends on",
			edit: func(n *Node) {
				tContainer(n, "nginx").Set("dependsOn", tParse(`[{"containerName": "web", "condition": "HEALTHY"}]`))
			},
			editRunning: func(n *Node) {
				tContainer(n, "nginx").Set("dependsOn", tParse(`[{"containerName": "web", "condition": "START"}]`))
			},
			want: []string{`containerDefinitions[nginx].dependsOn[web].condition: "START" -> "HEALTHY"`},
		},
		{
			name: "network mode to bridge",
			edit: func(n *Node) { n.Set("networkMode", NewString("bridge")) },
			want: []string{`networkMode: "awsvpc" -> "bridge"`},
		},
		{
			name:        "network mode bridge by default",
			edit:        func(n *Node) { n.Delete("networkMode") },
			editRunning: func(n *Node) { n.Set("networkMode", NewString("bridge")) },
			want: []string{
				// bridge maps no host port by itself: the running 80 is one.
				`containerDefinitions[nginx].portMappings[80].hostPort: removed (was 80)`,
			},
		},
		{
			name: "family",
			edit: func(n *Node) { n.Set("family", NewString("web-v2")) },
			want: []string{`family: "web" -> "web-v2"`},
		},
		{
			name: "value with a newline stays on one line",
			edit: func(n *Node) { tEnv(n, "web", "RAILS_MAX_THREADS").Set("value", NewString("8\nweb: forged")) },
			want: []string{`containerDefinitions[web].environment.RAILS_MAX_THREADS: "5" -> "8\nweb: forged"`},
		},
		{
			name: "odd variable name is quoted",
			edit: func(n *Node) { tEnv(n, "web", "RAILS_ENV").Set("name", NewString("A B\n")) },
			want: []string{
				`containerDefinitions[web].environment."A B\n": added "production"`,
				`containerDefinitions[web].environment.RAILS_ENV: removed (was "production")`,
			},
		},
		{
			name: "duplicate variable names compare as a list",
			edit: func(n *Node) { tEnv(n, "web", "RAILS_ENV").Set("name", NewString("RAILS_MAX_THREADS")) },
			want: []string{`containerDefinitions[web].environment: [{"name": "RAILS_ENV", "value": "production"}, {"name": "RAILS_MAX_THREADS", "value": "5"}] -> [{"name": "RAILS_MAX_THREADS", "value": "5"}, {"name": "RAILS_MAX_THREADS", "value": "production"}]`},
		},
		{
			name: "several changes in document order",
			edit: func(n *Node) {
				n.Set("memory", NewString("2048"))
				tEnv(n, "web", "RAILS_MAX_THREADS").Set("value", NewString("8"))
				tContainer(n, "nginx").Set("image", NewString("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/nginx@sha256:2222"))
			},
			want: []string{
				`memory: "1024" -> "2048"`,
				`containerDefinitions[web].environment.RAILS_MAX_THREADS: "5" -> "8"`,
				`containerDefinitions[nginx].image: "sha256:1111" -> "sha256:2222"`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			running, err := runningTaskDefinition([]byte(describedWeb))
			if err != nil {
				t.Fatal(err)
			}
			rendered := tParse(renderedWeb)
			if tc.edit != nil {
				tc.edit(rendered)
			}
			if tc.editRunning != nil {
				tc.editRunning(running)
			}
			before := string(rendered.MarshalIndent())
			var got []string
			for _, c := range diffTaskDefinitions(running, rendered) {
				got = append(got, c.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if after := string(rendered.MarshalIndent()); after != before {
				t.Errorf("diff changed the rendered document:\n%s", after)
			}
		})
	}
}

func TestDiffChangeFields(t *testing.T) {
	t.Parallel()
	running, err := runningTaskDefinition([]byte(describedWeb))
	if err != nil {
		t.Fatal(err)
	}
	rendered := tParse(renderedWeb)
	tContainer(rendered, "web").Set("image", NewString("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/rails@sha256:bbbb"))
	tEnv(rendered, "web", "RAILS_ENV").Set("value", NewString("staging"))
	rendered.Set("cpu", NewString("1024"))
	type field struct{ Container, Field string }
	var got []field
	for _, c := range diffTaskDefinitions(running, rendered) {
		got = append(got, field{c.container, c.field})
	}
	want := []field{{"", ""}, {"web", "image"}, {"web", "environment"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestDiffShowBoundsLongValues(t *testing.T) {
	t.Parallel()
	long := &Node{Kind: Array}
	for range 100 {
		long.Items = append(long.Items, NewString("é"))
	}
	s := diffShow(long)
	if !strings.HasSuffix(s, "…") || len(s) > diffMaxShow+len("…") {
		t.Errorf("diffShow of a long list = %q (%d bytes), want it cut at %d", s, len(s), diffMaxShow)
	}
	str := strings.Repeat("x", 500)
	if got := diffShow(NewString(str)); got != `"`+str+`"` {
		t.Errorf("diffShow cut a string; environment values must be shown as written")
	}
}

func TestDiffUnits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, unit string
		want     int
		ok       bool
	}{
		{"1024", "vcpu", 1024, true},
		{"1 vCPU", "vcpu", 1024, true},
		{".25 vcpu", "vcpu", 256, true},
		{"2GB", "gb", 2048, true},
		{"0.5 GB", "gb", 512, true},
		{"2 GB", "vcpu", 0, false},
		{"0", "gb", 0, false},
		{".3 vcpu", "vcpu", 0, false},
		{"lots", "gb", 0, false},
	} {
		got, ok := diffUnits(NewString(tc.in), tc.unit)
		if got != tc.want || ok != tc.ok {
			t.Errorf("diffUnits(%q, %q) = %d, %v; want %d, %v", tc.in, tc.unit, got, ok, tc.want, tc.ok)
		}
	}
}

func tParse(s string) *Node {
	n, err := ParseJSON([]byte(s))
	if err != nil {
		panic(err)
	}
	return n
}

func tContainer(td *Node, name string) *Node {
	for _, c := range td.Get("containerDefinitions").Items {
		if c.GetString("name") == name {
			return c
		}
	}
	panic("no container " + name)
}

func tListItem(td *Node, ctr, list, name string) *Node {
	for _, e := range tContainer(td, ctr).Get(list).Items {
		if e.GetString("name") == name {
			return e
		}
	}
	panic("no " + list + " " + name)
}

func tEnv(td *Node, ctr, name string) *Node    { return tListItem(td, ctr, "environment", name) }
func tSecret(td *Node, ctr, name string) *Node { return tListItem(td, ctr, "secrets", name) }
