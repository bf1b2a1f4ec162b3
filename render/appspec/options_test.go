package appspec

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The containers of the task definitions the tests build against.
var (
	// web maps 80 (twice in the task definition, tcp and udp, which is
	// one port to a load balancer); the sidecar maps none.
	webContainers = []Container{{Name: "web", Ports: []int{80}}, {Name: "log-router"}}
	twoPorts      = []Container{{Name: "web", Ports: []int{80, 443}}}
	twoContainers = []Container{{Name: "web", Ports: []int{80}}, {Name: "admin", Ports: []int{9000}}, {Name: "worker"}}
	noPorts       = []Container{{Name: "worker"}, {Name: "cron"}}
)

// minimal is the AppSpec every CodeDeployToECS pipeline needs, for web:80.
func minimal() *AppSpec {
	return &AppSpec{
		Version: "0.0",
		TargetService: Service{
			Type: "AWS::ECS::Service",
			Properties: Properties{
				TaskDefinition:   "<TASK_DEFINITION>",
				LoadBalancerInfo: LoadBalancer{ContainerName: "web", ContainerPort: 80},
			},
		},
	}
}

func with(f func(a *AppSpec)) *AppSpec {
	a := minimal()
	f(a)
	return a
}

func TestBuild(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:lambda:us-east-1:123456789012:function:check-traffic:live"
	tests := []struct {
		name string
		td   []Container
		opts Options
		want *AppSpec
		err  string
	}{
		{name: "infer the only port", td: webContainers, want: minimal()},
		{name: "container given", td: twoContainers, opts: Options{Container: "admin:9000"},
			want: with(func(a *AppSpec) {
				a.TargetService.Properties.LoadBalancerInfo = LoadBalancer{ContainerName: "admin", ContainerPort: 9000}
			})},
		{name: "one of several ports", td: twoPorts, opts: Options{Container: "web:443"},
			want: with(func(a *AppSpec) { a.TargetService.Properties.LoadBalancerInfo.ContainerPort = 443 })},
		{name: "every flag", td: webContainers, opts: Options{
			PlatformVersion:   "1.4.0",
			Subnets:           []string{"subnet-0123456789abcdef0", "subnet-1234abcd"},
			SecurityGroups:    []string{"sg-1234abcd"},
			AssignPublicIP:    "DISABLED",
			CapacityProviders: []string{"FARGATE_SPOT:3:1", "FARGATE:1"},
			Hooks:             []string{"AfterAllowTestTraffic=" + arn, "BeforeInstall=validate"},
		}, want: with(func(a *AppSpec) {
			p := &a.TargetService.Properties
			p.PlatformVersion = "1.4.0"
			p.NetworkConfiguration = &Network{AwsvpcConfiguration: Awsvpc{
				Subnets:        []string{"subnet-0123456789abcdef0", "subnet-1234abcd"},
				SecurityGroups: []string{"sg-1234abcd"},
				AssignPublicIP: "DISABLED",
			}}
			p.CapacityProviderStrategy = []CapacityProvider{
				{CapacityProvider: "FARGATE_SPOT", Base: 1, Weight: 3},
				{CapacityProvider: "FARGATE", Weight: 1},
			}
			a.Hooks = []Hook{{Event: "AfterAllowTestTraffic", Function: arn}, {Event: "BeforeInstall", Function: "validate"}}
		})},
		{name: "subnets alone", td: webContainers, opts: Options{Subnets: []string{"subnet-1234abcd"}, PlatformVersion: "LATEST"},
			want: with(func(a *AppSpec) {
				a.TargetService.Properties.PlatformVersion = "LATEST"
				a.TargetService.Properties.NetworkConfiguration = &Network{AwsvpcConfiguration: Awsvpc{Subnets: []string{"subnet-1234abcd"}}}
			})},
		{name: "no ports, no appspec", td: noPorts, want: nil},
		{name: "no containers, no appspec", td: nil, want: nil},

		{name: "several ports", td: twoPorts,
			err: "container: several container ports could take the load balancer's traffic; pass --container NAME:PORT with one of web:80, web:443"},
		{name: "several containers", td: twoContainers,
			err: "container: several container ports could take the load balancer's traffic; pass --container NAME:PORT with one of web:80, admin:9000"},
		{name: "container without port", td: webContainers, opts: Options{Container: "web"},
			err: "container web: want NAME:PORT"},
		{name: "container empty name", td: webContainers, opts: Options{Container: ":80"},
			err: "container :80: want NAME:PORT"},
		{name: "container port not a number", td: webContainers, opts: Options{Container: "web:http"},
			err: "container web:http: want a port number from 1 to 65535 after the colon"},
		{name: "container port zero", td: webContainers, opts: Options{Container: "web:0"},
			err: "container web:0: want a port number from 1 to 65535 after the colon"},
		{name: "container port too big", td: webContainers, opts: Options{Container: "web:65536"},
			err: "container web:65536: want a port number from 1 to 65535 after the colon"},
		{name: "unknown container", td: twoContainers, opts: Options{Container: "api:80"},
			err: "container api:80: no container api in the task definition (containers: web (80), admin (9000), worker (no ports))"},
		{name: "container in empty task definition", td: nil, opts: Options{Container: "web:80"},
			err: "container web:80: no container web: the task definition has no containers"},
		{name: "port not mapped", td: twoPorts, opts: Options{Container: "web:8080"},
			err: "container web:8080: container web does not map port 8080 (it maps 80, 443)"},
		{name: "container maps no ports", td: webContainers, opts: Options{Container: "log-router:80"},
			err: "container log-router:80: container log-router maps no ports (portMappings[].containerPort)"},
		{name: "platform version", td: webContainers, opts: Options{PlatformVersion: "1.4"},
			err: "platform-version 1.4: want LATEST or a version such as 1.4.0"},
		{name: "subnet", td: webContainers, opts: Options{Subnets: []string{"${SUBNET}"}},
			err: "subnet ${SUBNET}: want a subnet ID such as subnet-0123456789abcdef0"},
		{name: "too many subnets", td: webContainers, opts: Options{Subnets: slices.Repeat([]string{"subnet-1234abcd"}, 17)},
			err: "subnet: given 17 times; ECS allows at most 16"},
		{name: "security group", td: webContainers, opts: Options{Subnets: []string{"subnet-1234abcd"}, SecurityGroups: []string{"default"}},
			err: "security-group default: want a security group ID such as sg-0123456789abcdef0"},
		{name: "too many security groups", td: webContainers, opts: Options{Subnets: []string{"subnet-1234abcd"}, SecurityGroups: []string{"sg-1234abc1", "sg-1234abc2", "sg-1234abc3", "sg-1234abc4", "sg-1234abc5", "sg-1234abc6"}},
			err: "security-group: given 6 times; ECS allows at most 5"},
		{name: "security group without subnet", td: webContainers, opts: Options{SecurityGroups: []string{"sg-1234abcd"}},
			err: "security-group sg-1234abcd: needs --subnet"},
		{name: "assign public ip", td: webContainers, opts: Options{Subnets: []string{"subnet-1234abcd"}, AssignPublicIP: "true"},
			err: "assign-public-ip true: want ENABLED or DISABLED"},
		{name: "assign public ip without subnet", td: webContainers, opts: Options{AssignPublicIP: "ENABLED"},
			err: "assign-public-ip ENABLED: needs --subnet"},
		{name: "capacity provider without weight", td: webContainers, opts: Options{CapacityProviders: []string{"FARGATE"}},
			err: "capacity-provider FARGATE: want NAME:WEIGHT[:BASE]"},
		{name: "capacity provider too many parts", td: webContainers, opts: Options{CapacityProviders: []string{"FARGATE:1:0:2"}},
			err: "capacity-provider FARGATE:1:0:2: want NAME:WEIGHT[:BASE]"},
		{name: "capacity provider name", td: webContainers, opts: Options{CapacityProviders: []string{"my provider:1"}},
			err: "capacity-provider my provider:1: want a capacity provider name of letters, digits, _ and -"},
		{name: "capacity provider weight", td: webContainers, opts: Options{CapacityProviders: []string{"FARGATE:-1"}},
			err: "capacity-provider FARGATE:-1: weight must be a whole number from 0 to 1000"},
		{name: "capacity provider weight too big", td: webContainers, opts: Options{CapacityProviders: []string{"FARGATE:1001"}},
			err: "capacity-provider FARGATE:1001: weight must be a whole number from 0 to 1000"},
		{name: "capacity provider base", td: webContainers, opts: Options{CapacityProviders: []string{"FARGATE:1:x"}},
			err: "capacity-provider FARGATE:1:x: base must be a whole number from 0 to 100000"},
		{name: "capacity provider twice", td: webContainers, opts: Options{CapacityProviders: []string{"FARGATE:1", "FARGATE:2"}},
			err: "capacity-provider FARGATE:2: FARGATE given twice"},
		{name: "two bases", td: webContainers, opts: Options{CapacityProviders: []string{"FARGATE:1:1", "FARGATE_SPOT:1:2"}},
			err: "capacity-provider FARGATE_SPOT:1:2: only one capacity provider may have a base, and FARGATE has one"},
		{name: "hook without function", td: webContainers, opts: Options{Hooks: []string{"BeforeInstall"}},
			err: "hook BeforeInstall: want HOOK=FUNCTION"},
		{name: "hook unknown", td: webContainers, opts: Options{Hooks: []string{"BeforeTraffic=fn"}},
			err: "hook BeforeTraffic=fn: unknown hook; want one of BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic"},
		{name: "hook misspelled", td: webContainers, opts: Options{Hooks: []string{"beforeinstall=fn"}},
			err: "hook beforeinstall=fn: unknown hook, did you mean BeforeInstall?; want one of BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic"},
		{name: "hook EC2 lifecycle event", td: webContainers, opts: Options{Hooks: []string{"ApplicationStart=fn"}},
			err: "hook ApplicationStart=fn: unknown hook; want one of BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic"},
		{name: "hook function", td: webContainers, opts: Options{Hooks: []string{"BeforeInstall=my function"}},
			err: "hook BeforeInstall=my function: want a Lambda function name or ARN after the ="},
		{name: "hook function unrendered ARN", td: webContainers, opts: Options{Hooks: []string{"BeforeInstall=arn:aws:lambda:us-east-1:${ACCOUNT}:function:f"}},
			err: "hook BeforeInstall=arn:aws:lambda:us-east-1:${ACCOUNT}:function:f: want a Lambda function name or ARN after the ="},
		{name: "hook twice", td: webContainers, opts: Options{Hooks: []string{"BeforeInstall=a", "BeforeInstall=b"}},
			err: "hook BeforeInstall=b: BeforeInstall given twice"},
		{name: "bad flag reported even without ports", td: noPorts, opts: Options{Hooks: []string{"Before=fn"}},
			err: "hook Before=fn: unknown hook; want one of BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Build(tt.opts, tt.td)
			if tt.err != "" {
				var oe *OptionError
				if !errors.As(err, &oe) {
					t.Fatalf("Build error = %v (%T), want *OptionError %q", err, err, tt.err)
				}
				if diff := cmp.Diff(tt.err, err.Error()); diff != "" {
					t.Errorf("Build error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Build (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppSpecContainer(t *testing.T) {
	t.Parallel()
	var none *AppSpec
	if name, port := none.Container(); name != "" || port != 0 {
		t.Errorf("nil AppSpec Container() = %q, %d; want \"\", 0", name, port)
	}
	if name, port := minimal().Container(); name != "web" || port != 80 {
		t.Errorf("Container() = %q, %d; want web, 80", name, port)
	}
}
