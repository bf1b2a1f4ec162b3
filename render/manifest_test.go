package render

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/render/appspec"
	"github.com/ecsrender/ecsrender/render/ref"
)

func TestParseManifest(t *testing.T) {
	web := ref.Source{Kind: ref.SourceFile, Path: "ci/web.json"}
	tests := []struct {
		name string
		in   string
		want []ManifestService // Line, Name, Options, Cluster, Service only
	}{
		{
			name: "every key",
			in: `# ecsrender.yaml
services:
  - name: web
    template: web.json
    container: nginx:80
    images: {app: 123456789012.dkr.ecr.us-east-1.amazonaws.com/rails:abc}
    vars: {RAILS_ENV: production, PORT: 8080, DEBUG: false, EMPTY: ""}
    placeholders: {app: IMAGE1_NAME}
    cluster: prd
    service: web
    platform-version: 1.4.0
    subnets: [subnet-0a1b2c3d, subnet-0a1b2c3e]
    security-groups: [sg-0a1b2c3d]
    assign-public-ip: DISABLED
    capacity-providers: ["FARGATE:1"]
    hooks: {AfterAllowTestTraffic: smoke, BeforeInstall: pre}
  - name: Worker_2
    template: s3://infra/worker.json?versionId=v1
    no-appspec: true
    container: worker:9000
  - name: cd
    template: /abs/cd.json
    appspec: appspec.yaml
`,
			want: []ManifestService{
				{Name: "web", Line: 3, Cluster: "prd", Service: "web", Options: Options{
					Template: web,
					AppSpec: appspec.Options{Container: "nginx:80", PlatformVersion: "1.4.0", Subnets: []string{"subnet-0a1b2c3d", "subnet-0a1b2c3e"},
						SecurityGroups: []string{"sg-0a1b2c3d"}, AssignPublicIP: "DISABLED", CapacityProviders: []string{"FARGATE:1"},
						Hooks: []string{"AfterAllowTestTraffic=smoke", "BeforeInstall=pre"}},
					Images:       images("app=123456789012.dkr.ecr.us-east-1.amazonaws.com/rails:abc"),
					Placeholders: []Placeholder{{Container: "app", Token: "IMAGE1_NAME"}},
					Variables:    map[string]string{"RAILS_ENV": "production", "PORT": "8080", "DEBUG": "false", "EMPTY": ""},
					Pin:          true,
				}},
				{Name: "Worker_2", Line: 17, Options: Options{
					Template:  ref.Source{Kind: ref.SourceS3, Bucket: "infra", Key: "worker.json", VersionID: "v1"},
					NoAppSpec: true, AppSpec: appspec.Options{Container: "worker:9000"},
					Variables: map[string]string{}, Pin: true,
				}},
				{Name: "cd", Line: 21, Options: Options{
					Template:        ref.Source{Kind: ref.SourceFile, Path: "/abs/cd.json"},
					AppSpecTemplate: &ref.Source{Kind: ref.SourceFile, Path: "ci/appspec.yaml"},
					Variables:       map[string]string{}, Pin: true,
				}},
			},
		},
		{
			name: "flow style",
			in:   `{services: [{name: a, template: web.json}]}`,
			want: []ManifestService{{Name: "a", Line: 1, Options: Options{Template: web, Variables: map[string]string{}, Pin: true}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManifest("ci/ecsrender.yaml", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			var got []ManifestService
			for _, s := range m.Services {
				s.imageLines, s.varLines = nil, nil
				got = append(got, s)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(ManifestService{}, ref.ImageRef{})); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestParseManifestErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // every line, without the "m.yaml:" prefix
	}{
		{"empty", ``, `m.yaml: empty manifest; want services: with a list of services`},
		{"not a mapping", `[1]`, `m.yaml:1: the manifest: want a mapping, got a list`},
		{"no services", `{}`, `m.yaml:1: no services key; want services: with a list of services`},
		{"services not a list", `services: web`, `m.yaml:1: services: want a list of services, got "web"`},
		{"empty list", `services: []`, `m.yaml:1: services: empty list; want at least one service`},
		{"unknown top key", "services: [{name: a, template: t.json}]\nservice: x", `m.yaml:2: service: unknown key; did you mean "services"?`},
		{"invalid YAML", "services: [\n", `m.yaml:1: invalid YAML: did not find expected node content`},
		{"two documents", "services: [{name: a, template: t}]\n---\nx: 1\n", `m.yaml:2: more than one YAML document; a manifest is one`},
		{
			// The AppSpec keys' problems come all at once, at their lines,
			// in the manifest's key names, not one by one as flags at render.
			name: "AppSpec keys",
			in: `services:
  - name: web
    template: web.json
    container: nginx
    platform-version: latest
    subnets: [subnet-0a1b2c3d, "${SUBNET}"]
    security-groups: [sg-x]
    assign-public-ip: yes
    capacity-providers: ["FARGATE:1", "FARGATE_SPOT"]
    hooks: {AfterInstall: smoke, Later: f, BeforeInstall: "a b"}
  - name: api
    template: api.json
    security-groups: [sg-0a1b2c3d]
    assign-public-ip: ENABLED
`,
			want: `m.yaml:4: services[0].container: want NAME:PORT with a port from 1 to 65535, got "nginx"
m.yaml:5: services[0].platform-version: want LATEST or a version such as 1.4.0, got "latest"
m.yaml:6: services[0].subnets[1]: want a subnet ID such as subnet-0123456789abcdef0, got "${SUBNET}"
m.yaml:7: services[0].security-groups[0]: want a security group ID such as sg-0123456789abcdef0, got "sg-x"
m.yaml:8: services[0].assign-public-ip: want ENABLED or DISABLED, got "yes"
m.yaml:9: services[0].capacity-providers[1]: want NAME:WEIGHT[:BASE] (weight 0 to 1000, base 0 to 100000), got "FARGATE_SPOT"
m.yaml:10: services[0].hooks.Later: unknown hook; want one of BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic
m.yaml:10: services[0].hooks.BeforeInstall: want a Lambda function name or ARN, got "a b"
m.yaml:13: services[1].security-groups: needs subnets
m.yaml:14: services[1].assign-public-ip: needs subnets`,
		},
		{
			name: "unknown key with suggestion",
			in: `services:
  - name: web
    template: web.json
  - name: api
    template: api.json
    imagez: {web: nginx}
    subnet: [s]
    zzz: 1
`,
			want: `m.yaml:6: services[1].imagez: unknown key; did you mean "images"?
m.yaml:7: services[1].subnet: unknown key; did you mean "subnets"?
m.yaml:8: services[1].zzz: unknown key; want one of name, template, appspec, no-appspec, container, images, vars, placeholders, cluster, service, platform-version, subnets, security-groups, assign-public-ip, capacity-providers, hooks`,
		},
		{
			name: "names",
			in: `services:
  - template: a.json
  - name: "a b"
    template: a.json
  - name: "x\ny"
    template: a.json
  - name: web
    template: a.json
  - name: WEB
    template: a.json
  - name: 7
    template: a.json
`,
			want: `m.yaml:2: services[0]: no name; every service needs one ([A-Za-z0-9_-]+)
m.yaml:3: services[1].name: "a b": want letters, digits, _ and - only (at most 128): it names the service's directory
m.yaml:5: services[2].name: "x\ny": want letters, digits, _ and - only (at most 128): it names the service's directory
m.yaml:9: services[4].name: duplicate name "WEB" (first at line 7); every service needs its own
m.yaml:11: services[5].name: want a string, got a number (7)`,
		},
		{
			name: "duplicate key",
			in: `services:
  - name: web
    template: a.json
    name: api
`,
			want: `m.yaml:4: services[0].name: duplicate key (first at line 2)`,
		},
		{
			name: "anchors and aliases",
			in: `services:
  - &base {name: web, template: a.json}
  - *base
`,
			want: `m.yaml:2: services[0]: YAML anchor &base refused: a manifest may not use anchors or aliases; write the value out`,
		},
		{
			name: "merge key and tag",
			in: `services:
  - name: web
    template: !!str a.json
    <<: {x: 1}
`,
			want: `m.yaml:3: services[0].template: YAML tag !!str refused: a manifest holds only plain strings, lists and mappings
m.yaml:4: services[0]: YAML merge key << refused: write the keys out`,
		},
		{
			name: "types",
			in: `services:
  - name: web
    template: ""
    container: 80
    subnets: subnet-1
    security-groups: [sg-1, {a: b}]
    no-appspec: "yes"
    vars: [A]
    images: {web: 5}
    hooks: {AfterInstall: [f]}
`,
			want: `m.yaml:3: services[0].template: empty string
m.yaml:4: services[0].container: want a string, got a number (80)
m.yaml:5: services[0].subnets: want a list of strings, got "subnet-1"
m.yaml:6: services[0].security-groups[1]: want a string, got a mapping
m.yaml:7: services[0].no-appspec: want true or false, got "yes"
m.yaml:8: services[0].vars: want a mapping of NAME: VALUE, got a list
m.yaml:9: services[0].images.web: want a string, got a number (5)
m.yaml:10: services[0].hooks.AfterInstall: want a string, got a list`,
		},
		{
			name: "bad values",
			in: `services:
  - name: web
    template: stdin
    appspec: "-"
    images: {web: "Bad Ref"}
    placeholders: {web: "IMAGE 1"}
    cluster: prd
`,
			want: `m.yaml:2: services[0]: cluster and service: give both or neither
m.yaml:4: services[0].appspec: stdin (-) is not a source in a manifest; give a file or s3://BUCKET/KEY
m.yaml:5: services[0].images.web: ` + imageRefError(t, "Bad Ref") + `
m.yaml:6: services[0].placeholders.web: "IMAGE 1": want a token of letters, digits and _ such as IMAGE1_NAME`,
		},
		{
			name: "appspec rules",
			in: `services:
  - name: a
    template: t.json
    appspec: as.yaml
    no-appspec: true
  - name: b
    template: t.json
    appspec: as.yaml
    subnets: [s]
  - name: c
    template: t.json
    no-appspec: true
    container: web:80
    hooks: {AfterInstall: f}
`,
			want: `m.yaml:2: services[0]: appspec and no-appspec: give one or the other
m.yaml:9: services[1].subnets: the AppSpec comes from appspec; set it there
m.yaml:14: services[2].hooks: no AppSpec is written with no-appspec`,
		},
		{
			name: "hostile key",
			in:   "services:\n  - name: a\n    template: t.json\n    \"x\\ny\\u001b[31m\": 1\n",
			want: `m.yaml:4: services[0]["x\ny\x1b[31m"]: unknown key; want one of name, template, appspec, no-appspec, container, images, vars, placeholders, cluster, service, platform-version, subnets, security-groups, assign-public-ip, capacity-providers, hooks`,
		},
		{"too large", "services: []\n" + strings.Repeat("#", MaxManifestSize), `m.yaml: 1048589 bytes; the limit is 1 MiB`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest("m.yaml", []byte(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !IsInputError(err) {
				t.Errorf("IsInputError = false for %v", err)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// TestParseManifestAliasBomb shows a "billion laughs" manifest refused at
// its anchors, in time linear in its size: no alias is ever followed.
func TestParseManifestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 30; i++ {
		b.WriteString("a" + strconv.Itoa(i) + ": &a" + strconv.Itoa(i) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + strconv.Itoa(i-1))
		}
		b.WriteString("]\n")
	}
	b.WriteString("services: [{name: a, template: t.json}]\n")
	_, err := ParseManifest("m.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "m.yaml:1: a0: YAML anchor &a0 refused") {
		t.Fatalf("err = %v", err)
	}
}

func imageRefError(t *testing.T, s string) string {
	t.Helper()
	_, err := ref.ParseImageRef(s)
	if err == nil {
		t.Fatalf("ParseImageRef(%q) succeeded", s)
	}
	return err.Error()
}
