package artifacts_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/artifacts"
	"github.com/ecsrender/ecsrender/render"
	"github.com/ecsrender/ecsrender/render/appspec"
)

const td = `{"family": "app", "containerDefinitions": [
	{"name": "web", "portMappings": [{"containerPort": 80}]},
	{"name": "8080", "portMappings": [{"containerPort": 8080}]}]}`

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

func full() *appspec.AppSpec {
	a := minimal()
	p := &a.TargetService.Properties
	p.PlatformVersion = "1.4.0"
	p.NetworkConfiguration = &appspec.Network{AwsvpcConfiguration: appspec.Awsvpc{
		Subnets:        []string{"subnet-1234abcd", "subnet-0123456789abcdef0"},
		SecurityGroups: []string{"sg-12345678"},
		AssignPublicIP: "ENABLED",
	}}
	p.CapacityProviderStrategy = []appspec.CapacityProvider{
		{CapacityProvider: "FARGATE_SPOT", Base: 1, Weight: 2},
		{CapacityProvider: "FARGATE", Weight: 1},
	}
	a.Hooks = []appspec.Hook{
		{Event: "BeforeInstall", Function: "LambdaFunctionToValidateBeforeInstall"},
		{Event: "AfterAllowTestTraffic", Function: "arn:aws:lambda:us-east-1:123456789012:function:smoke-test:live"},
	}
	return a
}

func TestEncodeAppSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   *appspec.AppSpec
		want string
	}{
		{name: "minimal", in: minimal(), want: `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: <TASK_DEFINITION>
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: 80
`},
		{name: "full", in: full(), want: `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: <TASK_DEFINITION>
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: 80
        PlatformVersion: 1.4.0
        NetworkConfiguration:
          AwsvpcConfiguration:
            Subnets:
              - subnet-1234abcd
              - subnet-0123456789abcdef0
            SecurityGroups:
              - sg-12345678
            AssignPublicIp: ENABLED
        CapacityProviderStrategy:
          - CapacityProvider: FARGATE_SPOT
            Base: 1
            Weight: 2
          - CapacityProvider: FARGATE
            Base: 0
            Weight: 1
Hooks:
  - BeforeInstall: LambdaFunctionToValidateBeforeInstall
  - AfterAllowTestTraffic: arn:aws:lambda:us-east-1:123456789012:function:smoke-test:live
`},
		// Strings YAML would read as numbers are quoted, and only those.
		{name: "quoted where YAML needs it", in: func() *appspec.AppSpec {
			a := minimal()
			a.TargetService.Properties.LoadBalancerInfo = appspec.LoadBalancer{ContainerName: "8080", ContainerPort: 8080}
			a.TargetService.Properties.NetworkConfiguration = &appspec.Network{AwsvpcConfiguration: appspec.Awsvpc{
				Subnets: []string{"subnet-12345678"},
			}}
			a.Hooks = []appspec.Hook{{Event: "AfterInstall", Function: "12345"}}
			return a
		}(), want: `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: <TASK_DEFINITION>
        LoadBalancerInfo:
          ContainerName: "8080"
          ContainerPort: 8080
        NetworkConfiguration:
          AwsvpcConfiguration:
            Subnets:
              - subnet-12345678
Hooks:
  - AfterInstall: "12345"
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := artifacts.EncodeAppSpec(tt.in)
			if err != nil {
				t.Fatalf("EncodeAppSpec: %v", err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("EncodeAppSpec (-want +got):\n%s", diff)
			}

			// What ecsrender writes, ecsrender reads back unchanged.
			taskdef, err := render.ParseJSON([]byte(td))
			if err != nil {
				t.Fatalf("ParseJSON: %v", err)
			}
			back, err := render.ParseAppSpec(got, render.TemplateData{}, taskdef)
			if err != nil {
				t.Fatalf("ParseAppSpec of the encoded AppSpec: %v", err)
			}
			if diff := cmp.Diff(tt.in, back); diff != "" {
				t.Errorf("round trip (-encoded +parsed):\n%s", diff)
			}
		})
	}
}

// TestEncodeBuiltAppSpec encodes what the flags build, as the CLI does.
func TestEncodeBuiltAppSpec(t *testing.T) {
	t.Parallel()
	a, err := appspec.Build(appspec.Options{Hooks: []string{"BeforeAllowTraffic=gate"}}, []appspec.Container{{Name: "web", Ports: []int{8080}}})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	got, err := artifacts.EncodeAppSpec(a)
	if err != nil {
		t.Fatalf("EncodeAppSpec: %v", err)
	}
	want := `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: <TASK_DEFINITION>
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: 8080
Hooks:
  - BeforeAllowTraffic: gate
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("EncodeAppSpec (-want +got):\n%s", diff)
	}
}

func TestEncodeAppSpecNil(t *testing.T) {
	t.Parallel()
	_, err := artifacts.EncodeAppSpec(nil)
	if diff := cmp.Diff("encode appspec: no appspec", errString(err)); diff != "" {
		t.Errorf("EncodeAppSpec(nil) error (-want +got):\n%s", diff)
	}
}

func TestEncodeAppSpecVersion(t *testing.T) {
	t.Parallel()
	a := minimal()
	a.Version = ""
	_, err := artifacts.EncodeAppSpec(a)
	if diff := cmp.Diff(`encode appspec: version ""; CodeDeploy knows only 0.0`, errString(err)); diff != "" {
		t.Errorf("EncodeAppSpec error (-want +got):\n%s", diff)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
