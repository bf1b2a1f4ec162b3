package render_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/render"
	"github.com/ecsrender/ecsrender/render/appspec"
)

// Task definitions the AppSpec tests check against.
const (
	// web maps 80 twice (tcp and udp), which is still one port to a load
	// balancer; the sidecar maps none.
	tdWeb = `{"family": "app", "containerDefinitions": [
		{"name": "web", "portMappings": [{"containerPort": 80}, {"containerPort": 80, "protocol": "udp"}]},
		{"name": "log-router"}]}`
	tdTwoPorts = `{"family": "app", "containerDefinitions": [
		{"name": "web", "portMappings": [{"containerPort": 80}, {"containerPort": 443}]}]}`
	tdTwoContainers = `{"family": "app", "containerDefinitions": [
		{"name": "web", "portMappings": [{"containerPort": 80}]},
		{"name": "admin", "portMappings": [{"containerPort": 9000}]},
		{"name": "worker"}]}`
	tdNoPorts = `{"family": "app", "containerDefinitions": [{"name": "worker"}, {"name": "cron", "portMappings": []}]}`
	tdEmpty   = `{"family": "app"}`
)

func mustTD(t *testing.T, s string) *render.Node {
	t.Helper()
	n, err := render.ParseJSON([]byte(s))
	if err != nil {
		t.Fatalf("ParseJSON: %v", err)
	}
	return n
}

// minimal is the AppSpec every CodeDeployToECS pipeline needs, for web:80.
func minimal() *appspec.AppSpec {
	return &appspec.AppSpec{
		Version: "0.0",
		TargetService: appspec.Service{
			Type: "AWS::ECS::Service",
			Properties: appspec.Properties{
				TaskDefinition:   "<TASK_DEFINITION>",
				LoadBalancerInfo: appspec.LoadBalancer{ContainerName: "web", ContainerPort: 80},
			},
		},
	}
}

func with(f func(a *appspec.AppSpec)) *appspec.AppSpec {
	a := minimal()
	f(a)
	return a
}

const goodYAML = `# The AppSpec CodeDeploy documents, with every optional part.
version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: <TASK_DEFINITION>
        LoadBalancerInfo:
          ContainerName: "web"
          ContainerPort: 80
        PlatformVersion: "LATEST"
        NetworkConfiguration:
          AwsvpcConfiguration:
            Subnets: ["subnet-1234abcd", "subnet-5678abcd"]
            SecurityGroups: ["sg-12345678"]
            AssignPublicIp: "ENABLED"
        CapacityProviderStrategy:
          - Base: 1
            CapacityProvider: "FARGATE_SPOT"
            Weight: 2
          - Base: 0
            CapacityProvider: "FARGATE"
            Weight: 1
Hooks:
  - BeforeInstall: "LambdaFunctionToValidateBeforeInstall"
  - AfterInstall: "LambdaFunctionToValidateAfterInstall"
  - AfterAllowTestTraffic: "LambdaFunctionToValidateAfterTestTrafficStarts"
  - BeforeAllowTraffic: "LambdaFunctionToValidateBeforeAllowingProductionTraffic"
  - AfterAllowTraffic: "LambdaFunctionToValidateAfterAllowingProductionTraffic"
`

func full() *appspec.AppSpec {
	return with(func(a *appspec.AppSpec) {
		p := &a.TargetService.Properties
		p.PlatformVersion = "LATEST"
		p.NetworkConfiguration = &appspec.Network{AwsvpcConfiguration: appspec.Awsvpc{
			Subnets:        []string{"subnet-1234abcd", "subnet-5678abcd"},
			SecurityGroups: []string{"sg-12345678"},
			AssignPublicIP: "ENABLED",
		}}
		p.CapacityProviderStrategy = []appspec.CapacityProvider{
			{CapacityProvider: "FARGATE_SPOT", Base: 1, Weight: 2},
			{CapacityProvider: "FARGATE", Base: 0, Weight: 1},
		}
		a.Hooks = []appspec.Hook{
			{Event: "BeforeInstall", Function: "LambdaFunctionToValidateBeforeInstall"},
			{Event: "AfterInstall", Function: "LambdaFunctionToValidateAfterInstall"},
			{Event: "AfterAllowTestTraffic", Function: "LambdaFunctionToValidateAfterTestTrafficStarts"},
			{Event: "BeforeAllowTraffic", Function: "LambdaFunctionToValidateBeforeAllowingProductionTraffic"},
			{Event: "AfterAllowTraffic", Function: "LambdaFunctionToValidateAfterAllowingProductionTraffic"},
		}
	})
}

const goodJSON = `{
	"version": 0.0,
	"Resources": [{"TargetService": {
		"Type": "AWS::ECS::Service",
		"Properties": {
			"TaskDefinition": "<TASK_DEFINITION>",
			"LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 80},
			"PlatformVersion": "LATEST",
			"NetworkConfiguration": {"AwsvpcConfiguration": {
				"Subnets": ["subnet-1234abcd", "subnet-5678abcd"],
				"SecurityGroups": ["sg-12345678"],
				"AssignPublicIp": "ENABLED"}},
			"CapacityProviderStrategy": [
				{"Base": 1, "CapacityProvider": "FARGATE_SPOT", "Weight": 2},
				{"Base": 0, "CapacityProvider": "FARGATE", "Weight": 1}]
		}}}],
	"Hooks": [
		{"BeforeInstall": "LambdaFunctionToValidateBeforeInstall"},
		{"AfterInstall": "LambdaFunctionToValidateAfterInstall"},
		{"AfterAllowTestTraffic": "LambdaFunctionToValidateAfterTestTrafficStarts"},
		{"BeforeAllowTraffic": "LambdaFunctionToValidateBeforeAllowingProductionTraffic"},
		{"AfterAllowTraffic": "LambdaFunctionToValidateAfterAllowingProductionTraffic"}]
}`

// appSpecYAML is a minimal valid AppSpec with its Properties replaced, for
// tests of one property at a time.
func appSpecYAML(props string) string {
	return `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
` + indent(props, "        ")
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}

const lbWeb = "TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: web, ContainerPort: 80}\n"

func TestParseAppSpec(t *testing.T) {
	t.Parallel()
	data := render.TemplateData{
		Vars: map[string]string{"port": "80", "container": "web", "name": "web:80", "subnet": "subnet-1234abcd", "badport": "http"},
		LookupEnv: func(k string) (string, bool) {
			v, ok := map[string]string{"HOOK": "validate"}[k]
			return v, ok
		},
	}
	const (
		lbPath   = "Resources[0].TargetService.Properties.LoadBalancerInfo"
		props    = "Resources[0].TargetService.Properties"
		awsvpc   = props + ".NetworkConfiguration.AwsvpcConfiguration"
		strategy = props + ".CapacityProviderStrategy"
	)
	tests := []struct {
		name string
		doc  string
		td   string // tdWeb when empty
		want *appspec.AppSpec
		errs []string // the ProblemsError's lines
	}{
		{name: "documented YAML", doc: goodYAML, want: full()},
		{name: "documented JSON", doc: goodJSON, want: full()},
		{name: "minimal", doc: appSpecYAML(lbWeb), want: minimal()},
		{name: "version quoted", doc: strings.Replace(appSpecYAML(lbWeb), "version: 0.0", `version: "0.0"`, 1), want: minimal()},
		{name: "JSON version quoted", doc: `{"version": "0.0", "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {"TaskDefinition": "<TASK_DEFINITION>", "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 80}}}}]}`, want: minimal()},
		{name: "templated", doc: appSpecYAML(`TaskDefinition: <TASK_DEFINITION>
LoadBalancerInfo:
  ContainerName: '{{ var "container" }}'
  ContainerPort: '{{ var "port" }}'
NetworkConfiguration:
  AwsvpcConfiguration:
    Subnets: ['{{ var "subnet" }}']
`) + "Hooks:\n  - BeforeInstall: '{{ env \"HOOK\" }}-{{ env \"STAGE\" \"prod\" }}'\n",
			want: with(func(a *appspec.AppSpec) {
				a.TargetService.Properties.NetworkConfiguration = &appspec.Network{AwsvpcConfiguration: appspec.Awsvpc{Subnets: []string{"subnet-1234abcd"}}}
				a.Hooks = []appspec.Hook{{Event: "BeforeInstall", Function: "validate-prod"}}
			})},
		{name: "template value stays literal", doc: appSpecYAML(lbWeb + `PlatformVersion: '{{ var "name" }}'`),
			errs: []string{`appspec: ` + props + `.PlatformVersion: want LATEST or a version such as 1.4.0, got "web:80"`}},
		{name: "null is absent", doc: appSpecYAML(lbWeb+"PlatformVersion:\nNetworkConfiguration: null\n") + "Hooks:\n", want: minimal()},
		{name: "other container", td: tdTwoContainers, doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: admin, ContainerPort: 9000}\n"),
			want: with(func(a *appspec.AppSpec) {
				a.TargetService.Properties.LoadBalancerInfo = appspec.LoadBalancer{ContainerName: "admin", ContainerPort: 9000}
			})},

		// The document as a whole.
		{name: "empty", doc: "", errs: []string{"appspec: empty document"}},
		{name: "only a comment", doc: "# nothing\n", errs: []string{"appspec: empty document"}},
		{name: "invalid YAML", doc: "version: 0.0\nResources: [\n", errs: []string{"appspec: invalid YAML: line 2: did not find expected node content"}},
		{name: "invalid JSON", doc: `{"version": 0.0`, errs: []string{"appspec: line 1, column 16: invalid JSON: unexpected end of the document"}},
		{name: "JSON trailing comma, YAML's flow mapping", doc: `{"version": 0.0,}`, errs: []string{"appspec: Resources: missing; an ECS AppSpec needs one TargetService resource"}},
		// A document that opens with "{" is read as JSON first; YAML gets
		// it only when it is not JSON, and JSON's message wins when neither
		// can read it.
		{name: "YAML flow mapping", doc: `{version: 0.0, Resources: [{TargetService: {Type: "AWS::ECS::Service", Properties: {TaskDefinition: <TASK_DEFINITION>, LoadBalancerInfo: {ContainerName: web, ContainerPort: 80}}}}]}`,
			want: minimal()},
		{name: "YAML flow mapping with alias", doc: `{version: &v 0.0, x: *v}`,
			errs: []string{"appspec: version: line 1: YAML anchor &v refused: an AppSpec may not use anchors or aliases, which can expand a small file into a huge one"}},
		{name: "neither JSON nor YAML", doc: `{"version": 0.0,, }`, errs: []string{"appspec: line 1, column 17: invalid JSON: invalid character ',' looking for beginning of object key string"}},
		{name: "JSON duplicate key", doc: `{"version": 0.0, "version": 0.0}`, errs: []string{"appspec: version: line 1: duplicate key (first at line 1)"}},
		{name: "two documents", doc: appSpecYAML(lbWeb) + "---\nversion: 0.0\n", errs: []string{"appspec: more than one YAML document; an AppSpec is one"}},
		{name: "not a mapping", doc: "- version: 0.0\n", errs: []string{"appspec: want a mapping, got a list"}},
		{name: "missing everything", doc: "{}", errs: []string{
			"appspec: version: missing; CodeDeploy needs version: 0.0",
			"appspec: Resources: missing; an ECS AppSpec needs one TargetService resource",
		}},

		// YAML features an AppSpec refuses.
		{name: "anchor and alias", doc: appSpecYAML("TaskDefinition: &td <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: web, ContainerPort: 80}\nPlatformVersion: *td\n"),
			errs: []string{"appspec: " + props + ".TaskDefinition: line 6: YAML anchor &td refused: an AppSpec may not use anchors or aliases, which can expand a small file into a huge one"}},
		{name: "merge key", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo:\n  <<: {ContainerName: web, ContainerPort: 80}\n"),
			errs: []string{"appspec: " + lbPath + ": line 8: YAML merge key << refused: write the keys out"}},
		{name: "binary tag", doc: appSpecYAML(lbWeb + "PlatformVersion: !!binary TEFURVNU\n"),
			errs: []string{"appspec: " + props + ".PlatformVersion: line 8: YAML tag !!binary refused: an AppSpec holds only plain strings, numbers, lists and mappings"}},
		{name: "custom tag", doc: appSpecYAML(lbWeb + "PlatformVersion: !Ref Version\n"),
			errs: []string{"appspec: " + props + ".PlatformVersion: line 8: YAML tag !Ref refused: an AppSpec holds only plain strings, numbers, lists and mappings"}},
		{name: "explicit str tag", doc: appSpecYAML(lbWeb + "PlatformVersion: !!str LATEST\n"),
			errs: []string{"appspec: " + props + ".PlatformVersion: line 8: YAML tag !!str refused: an AppSpec holds only plain strings, numbers, lists and mappings"}},
		{name: "number key", doc: appSpecYAML(lbWeb) + "1: one\n",
			errs: []string{"appspec: line 8: keys must be strings, got a number (1)"}},
		{name: "mapping key", doc: appSpecYAML(lbWeb) + "? {a: 1}\n: x\n",
			errs: []string{"appspec: line 8: keys must be strings, got a mapping"}},
		{name: "YAML duplicate key", doc: appSpecYAML(lbWeb + "PlatformVersion: LATEST\nPlatformVersion: 1.4.0\n"),
			errs: []string{"appspec: " + props + ".PlatformVersion: line 9: duplicate key (first at line 8)"}},
		{name: "too large", doc: "version: 0.0\n#" + strings.Repeat("x", 1<<20) + "\n",
			errs: []string{"appspec: document is 1048591 bytes; the limit is 1 MiB"}},

		// Keys.
		{name: "unknown key with suggestion", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerinfo: {ContainerName: web, ContainerPort: 80}\n"),
			errs: []string{
				"appspec: " + props + ".LoadBalancerinfo: unknown key, did you mean LoadBalancerInfo?",
				"appspec: " + lbPath + ": missing; a blue/green deployment shifts traffic to this container and port",
			}},
		{name: "unknown key without suggestion", doc: appSpecYAML(lbWeb) + "files:\n  - source: /\n",
			errs: []string{"appspec: files: unknown key; want one of version, Resources, Hooks"}},
		{name: "lower-case resources", doc: "version: 0.0\nresources: []\n",
			errs: []string{
				"appspec: resources: unknown key, did you mean Resources?",
				"appspec: Resources: missing; an ECS AppSpec needs one TargetService resource",
			}},
		{name: "resource name", doc: "version: 0.0\nResources:\n  - MyService: {Type: AWS::ECS::Service}\n",
			errs: []string{
				"appspec: Resources[0].MyService: unknown key; want one of TargetService",
				"appspec: Resources[0].TargetService: missing; CodeDeploy's ECS AppSpec names its one resource TargetService",
			}},
		{name: "missing type and properties", doc: "version: 0.0\nResources:\n  - TargetService: {}\n",
			errs: []string{
				"appspec: Resources[0].TargetService.Type: missing; want Type: AWS::ECS::Service",
				"appspec: Resources[0].TargetService.Properties: missing; it holds TaskDefinition and LoadBalancerInfo",
			}},
		{name: "missing task definition", doc: appSpecYAML("LoadBalancerInfo: {ContainerName: web, ContainerPort: 80}\n"),
			errs: []string{"appspec: " + props + ".TaskDefinition: missing; want TaskDefinition: <TASK_DEFINITION>"}},
		{name: "missing container name and port", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {}\n"),
			errs: []string{
				"appspec: " + lbPath + ".ContainerName: missing; the container that receives the load balancer's traffic",
				"appspec: " + lbPath + ".ContainerPort: missing; the container port that receives the load balancer's traffic",
			}},

		// Values.
		{name: "version 1.0", doc: strings.Replace(appSpecYAML(lbWeb), "version: 0.0", "version: 1.0", 1),
			errs: []string{"appspec: version: want 0.0 (the only AppSpec version CodeDeploy knows), got a number (1.0)"}},
		{name: "version 0", doc: strings.Replace(appSpecYAML(lbWeb), "version: 0.0", "version: 0", 1),
			errs: []string{"appspec: version: want 0.0 (the only AppSpec version CodeDeploy knows), got a number (0)"}},
		{name: "resources not a list", doc: "version: 0.0\nResources: {TargetService: {}}\n",
			errs: []string{"appspec: Resources: want a list, got a mapping"}},
		{name: "no resources", doc: "version: 0.0\nResources: []\n",
			errs: []string{"appspec: Resources: want exactly one resource (the TargetService), got 0"}},
		{name: "two resources", doc: appSpecYAML(lbWeb) + "  - TargetService: {}\n",
			errs: []string{"appspec: Resources: want exactly one resource (the TargetService), got 2"}},
		{name: "lambda type", doc: strings.Replace(appSpecYAML(lbWeb), "AWS::ECS::Service", "AWS::Lambda::Function", 1),
			errs: []string{`appspec: Resources[0].TargetService.Type: want AWS::ECS::Service, got "AWS::Lambda::Function": ecsrender makes AppSpecs for ECS deployments`}},
		{name: "task definition ARN", doc: appSpecYAML("TaskDefinition: arn:aws:ecs:us-east-1:123456789012:task-definition/app:3\nLoadBalancerInfo: {ContainerName: web, ContainerPort: 80}\n"),
			errs: []string{"appspec: " + props + ".TaskDefinition: want <TASK_DEFINITION>, got an ARN: CodeDeployToECS registers taskdef.json itself and puts the new revision's ARN in place of <TASK_DEFINITION>, so a fixed ARN here would deploy an old revision"}},
		{name: "task definition other placeholder", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION_ARN>\nLoadBalancerInfo: {ContainerName: web, ContainerPort: 80}\n"),
			errs: []string{`appspec: ` + props + `.TaskDefinition: want <TASK_DEFINITION>, got "<TASK_DEFINITION_ARN>": CodeDeployToECS replaces exactly that placeholder with the new revision's ARN`}},
		{name: "properties not a mapping", doc: "version: 0.0\nResources:\n  - TargetService: {Type: AWS::ECS::Service, Properties: [a]}\n",
			errs: []string{"appspec: " + props + ": want a mapping, got a list"}},
		{name: "container name a number", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: 8080, ContainerPort: 80}\n"),
			errs: []string{"appspec: " + lbPath + ".ContainerName: want a string, got a number (8080); quote it"}},
		{name: "container name a list", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: [web], ContainerPort: 80}\n"),
			errs: []string{"appspec: " + lbPath + ".ContainerName: want a string, got a list"}},
		{name: "unknown container", td: tdTwoContainers, doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: api, ContainerPort: 80}\n"),
			errs: []string{"appspec: " + lbPath + ": no container api in the task definition (containers: web (80), admin (9000), worker (no ports))"}},
		{name: "port not mapped", td: tdTwoPorts, doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: web, ContainerPort: 8080}\n"),
			errs: []string{"appspec: " + lbPath + ": container web does not map port 8080 (it maps 80, 443)"}},
		{name: "container maps no ports", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: log-router, ContainerPort: 80}\n"),
			errs: []string{"appspec: " + lbPath + ": container log-router maps no ports (portMappings[].containerPort)"}},
		{name: "port quoted", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: web, ContainerPort: \"80\"}\n"),
			errs: []string{`appspec: ` + lbPath + `.ContainerPort: want a number from 1 to 65535, got "80"; write it unquoted`}},
		{name: "port zero", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: web, ContainerPort: 0}\n"),
			errs: []string{"appspec: " + lbPath + ".ContainerPort: want a number from 1 to 65535, got 0"}},
		{name: "port hex", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: web, ContainerPort: 0x50}\n"),
			errs: []string{"appspec: " + lbPath + ".ContainerPort: want a number from 1 to 65535, got 0x50"}},
		{name: "port float", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: web, ContainerPort: 80.5}\n"),
			errs: []string{"appspec: " + lbPath + ".ContainerPort: want a number from 1 to 65535, got a number (80.5)"}},
		{name: "port boolean", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: web, ContainerPort: true}\n"),
			errs: []string{"appspec: " + lbPath + ".ContainerPort: want a number from 1 to 65535, got a boolean (true)"}},
		{name: "templated port not a number", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: web, ContainerPort: '{{ var \"badport\" }}'}\n"),
			errs: []string{`appspec: ` + lbPath + `.ContainerPort: want a number from 1 to 65535, the template gave "http"`}},
		{name: "templated port not one action", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: web, ContainerPort: '{{ var \"port\" }}0'}\n"),
			errs: []string{`appspec: ` + lbPath + `.ContainerPort: want a number from 1 to 65535, got "{{ var \"port\" }}0"; only a value that is exactly one template action becomes a number`}},
		{name: "missing variables", doc: appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: '{{ var \"nope\" }}', ContainerPort: '{{ must_env \"PORT\" }}'}\n"),
			errs: []string{
				`appspec: ` + lbPath + `.ContainerName: variable "nope" is not set (pass --var nope=VALUE)`,
				`appspec: ` + lbPath + `.ContainerPort: environment variable PORT is not set`,
			}},
		{name: "template refuses credentials", doc: appSpecYAML(lbWeb + "PlatformVersion: '{{ env \"AWS_SECRET_ACCESS_KEY\" }}'\n"),
			errs: []string{`appspec: ` + props + `.PlatformVersion: env AWS_SECRET_ACCESS_KEY refused: templates may not read AWS credentials`}},
		{name: "platform version", doc: appSpecYAML(lbWeb + "PlatformVersion: 1.4\n"),
			errs: []string{"appspec: " + props + ".PlatformVersion: want a string, got a number (1.4); quote it"}},
		{name: "platform version text", doc: appSpecYAML(lbWeb + "PlatformVersion: latest\n"),
			errs: []string{`appspec: ` + props + `.PlatformVersion: want LATEST or a version such as 1.4.0, got "latest"`}},
		{name: "network without awsvpc", doc: appSpecYAML(lbWeb + "NetworkConfiguration: {}\n"),
			errs: []string{"appspec: " + props + ".NetworkConfiguration.AwsvpcConfiguration: missing; ECS blue/green deployments configure the network here"}},
		{name: "awsvpc without subnets", doc: appSpecYAML(lbWeb + "NetworkConfiguration: {AwsvpcConfiguration: {SecurityGroups: [sg-12345678]}}\n"),
			errs: []string{"appspec: " + awsvpc + ".Subnets: missing; ECS needs at least one subnet in an awsvpc configuration"}},
		{name: "awsvpc values", doc: appSpecYAML(lbWeb + `NetworkConfiguration:
  AwsvpcConfiguration:
    Subnets: subnet-1234abcd
    SecurityGroups: ["${SG}", 12345678]
    AssignPublicIp: true
`),
			errs: []string{
				"appspec: " + awsvpc + ".Subnets: want a list, got \"subnet-1234abcd\"",
				`appspec: ` + awsvpc + `.SecurityGroups[0]: want a security group ID such as sg-0123456789abcdef0, got "${SG}"`,
				"appspec: " + awsvpc + ".SecurityGroups[1]: want a string, got a number (12345678); quote it",
				"appspec: " + awsvpc + ".AssignPublicIp: want ENABLED or DISABLED, got a boolean (true)",
			}},
		{name: "awsvpc text values", doc: appSpecYAML(lbWeb + `NetworkConfiguration:
  AwsvpcConfiguration:
    Subnets: [subnet-XYZ]
    AssignPublicIp: enabled
`),
			errs: []string{
				`appspec: ` + awsvpc + `.Subnets[0]: want a subnet ID such as subnet-0123456789abcdef0, got "subnet-XYZ"`,
				`appspec: ` + awsvpc + `.AssignPublicIp: want ENABLED or DISABLED, got "enabled"`,
			}},
		{name: "awsvpc too many", doc: appSpecYAML(lbWeb + "NetworkConfiguration:\n  AwsvpcConfiguration:\n    Subnets: [" + strings.Repeat("subnet-1234abcd, ", 16) + "subnet-1234abcd]\n    SecurityGroups: [sg-12345678, sg-12345678, sg-12345678, sg-12345678, sg-12345678, sg-12345678]\n"),
			errs: []string{
				"appspec: " + awsvpc + ".Subnets: 17 given; ECS allows at most 16",
				"appspec: " + awsvpc + ".SecurityGroups: 6 given; ECS allows at most 5",
			}},
		{name: "capacity provider strategy", doc: appSpecYAML(lbWeb + `CapacityProviderStrategy:
  - {CapacityProvider: FARGATE, Base: 1, Weight: "2"}
  - {CapacityProvider: FARGATE, Base: 2, Weight: 1001}
  - {Base: -1, Weight: x}
  - {CapacityProvider: "my provider", weight: 1}
  - FARGATE
`),
			errs: []string{
				`appspec: ` + strategy + `[0].Weight: want a number from 0 to 1000, got "2"; write it unquoted`,
				"appspec: " + strategy + "[1].CapacityProvider: FARGATE given twice",
				"appspec: " + strategy + "[1].Base: only one capacity provider may have a base, and FARGATE has one",
				"appspec: " + strategy + "[1].Weight: want a number from 0 to 1000, got 1001",
				"appspec: " + strategy + "[2].CapacityProvider: missing; the name of a capacity provider of the cluster",
				"appspec: " + strategy + "[2].Base: want a number from 0 to 100000, got -1",
				`appspec: ` + strategy + `[2].Weight: want a number from 0 to 1000, got "x"`,
				"appspec: " + strategy + "[3].weight: unknown key, did you mean Weight?",
				`appspec: ` + strategy + `[3].CapacityProvider: want a capacity provider name of letters, digits, _ and -, got "my provider"`,
				`appspec: ` + strategy + `[4]: want a mapping, got "FARGATE"`,
			}},
		{name: "capacity provider strategy not a list", doc: appSpecYAML(lbWeb + "CapacityProviderStrategy: FARGATE\n"),
			errs: []string{`appspec: ` + strategy + `: want a list, got "FARGATE"`}},
		{name: "hooks", doc: appSpecYAML(lbWeb) + `Hooks:
  - BeforeTraffic: fn
  - beforeInstall: fn
  - BeforeInstall: "my function"
  - AfterInstall: fn
    BeforeInstall: fn
  - AfterInstall
  - AfterInstall: [fn]
  - AfterAllowTraffic: arn:aws:lambda:us-east-1:123456789012:function:done
  - AfterAllowTraffic: fn
`,
			errs: []string{
				"appspec: Hooks[0].BeforeTraffic: unknown hook; want one of BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic",
				"appspec: Hooks[1].beforeInstall: unknown hook, did you mean BeforeInstall?; want one of BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic",
				`appspec: Hooks[2].BeforeInstall: want a Lambda function name or ARN, got "my function"`,
				"appspec: Hooks[3]: want one HOOK: FUNCTION pair, got a mapping of 2 keys",
				`appspec: Hooks[4]: want one HOOK: FUNCTION pair, got "AfterInstall"`,
				"appspec: Hooks[5].AfterInstall: want a string, got a list",
				"appspec: Hooks[7].AfterAllowTraffic: AfterAllowTraffic given twice",
			}},
		{name: "hooks not a list", doc: appSpecYAML(lbWeb) + "Hooks: {BeforeInstall: fn}\n",
			errs: []string{"appspec: Hooks: want a list, got a mapping"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			td := tt.td
			if td == "" {
				td = tdWeb
			}
			got, err := render.ParseAppSpec([]byte(tt.doc), data, mustTD(t, td))
			if tt.errs != nil {
				var pe *render.ProblemsError
				if !errors.As(err, &pe) {
					t.Fatalf("ParseAppSpec error = %v (%T), want *ProblemsError", err, err)
				}
				if diff := cmp.Diff(tt.errs, strings.Split(err.Error(), "\n")); diff != "" {
					t.Errorf("ParseAppSpec problems (-want +got):\n%s", diff)
				}
				if !render.IsInputError(err) {
					t.Errorf("IsInputError(%v) = false, want true", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAppSpec: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseAppSpec (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseAppSpecNilTaskDefinition shows that without a task definition
// the container is not checked, for callers that check an AppSpec alone.
func TestParseAppSpecNilTaskDefinition(t *testing.T) {
	t.Parallel()
	doc := appSpecYAML("TaskDefinition: <TASK_DEFINITION>\nLoadBalancerInfo: {ContainerName: api, ContainerPort: 8080}\n")
	got, err := render.ParseAppSpec([]byte(doc), render.TemplateData{}, nil)
	if err != nil {
		t.Fatalf("ParseAppSpec: %v", err)
	}
	if name, port := got.Container(); name != "api" || port != 8080 {
		t.Errorf("Container() = %q, %d; want api, 8080", name, port)
	}
}

// billionLaughs returns the classic YAML bomb: a few hundred bytes that
// expand to 10^levels copies of a string.
func billionLaughs(levels int) string {
	var b strings.Builder
	b.WriteString("version: 0.0\nl0: &l0 lol\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestParseAppSpecBillionLaughs(t *testing.T) {
	t.Parallel()
	doc := billionLaughs(9)
	start := time.Now()
	_, err := render.ParseAppSpec([]byte(doc), render.TemplateData{}, mustTD(t, tdWeb))
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("refusing a YAML bomb took %v; it must not be expanded", elapsed)
	}
	var pe *render.ProblemsError
	if !errors.As(err, &pe) {
		t.Fatalf("ParseAppSpec error = %v (%T), want *ProblemsError", err, err)
	}
	var want []string
	for i := range 10 {
		want = append(want, fmt.Sprintf("appspec: l%d: line %d: YAML anchor &l%d refused: an AppSpec may not use anchors or aliases, which can expand a small file into a huge one", i, i+2, i))
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("ParseAppSpec problems (-want +got):\n%s", diff)
	}
}

// TestParseAppSpecHostile feeds documents built to be slow or noisy; each
// must be refused quickly, with a bounded list of problems.
func TestParseAppSpecHostile(t *testing.T) {
	t.Parallel()
	manyKeys := func(dup bool) string {
		var b strings.Builder
		b.WriteString("version: 0.0\n")
		for i := range 60000 {
			k := i
			if dup {
				k = i % 30000
			}
			fmt.Fprintf(&b, "k%d: 1\n", k)
		}
		return b.String()
	}
	tests := []struct {
		name        string
		doc         string
		first, last string
		lines       int
	}{
		{name: "deep nesting", doc: strings.Repeat("[", 500000),
			first: "appspec: invalid YAML: exceeded max depth of 10000", last: "appspec: invalid YAML: exceeded max depth of 10000", lines: 1},
		{name: "many duplicate keys", doc: manyKeys(true),
			first: "appspec: k0: line 30002: duplicate key (first at line 2)", last: "appspec: and 29950 more problems", lines: 51},
		{name: "many unknown keys", doc: manyKeys(false),
			first: "appspec: k0: unknown key; want one of version, Resources, Hooks", last: "appspec: and 59951 more problems", lines: 51},
		{name: "many anchors", doc: "version: 0.0\nx: [" + strings.Repeat("&a 1, ", 50000) + "]\n",
			first: "appspec: x[0]: line 2: YAML anchor &a refused: an AppSpec may not use anchors or aliases, which can expand a small file into a huge one", last: "appspec: and 49950 more problems", lines: 51},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			_, err := render.ParseAppSpec([]byte(tt.doc), render.TemplateData{}, mustTD(t, tdWeb))
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("refusing it took %v", elapsed)
			}
			if err == nil {
				t.Fatal("ParseAppSpec succeeded, want an error")
			}
			lines := strings.Split(err.Error(), "\n")
			got := []any{lines[0], lines[len(lines)-1], len(lines)}
			if diff := cmp.Diff([]any{tt.first, tt.last, tt.lines}, got); diff != "" {
				t.Errorf("first line, last line, line count (-want +got):\n%s", diff)
			}
		})
	}
}
