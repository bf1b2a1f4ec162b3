package render_test

import (
	"context"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/artifacts"
	"github.com/ecsrender/ecsrender/render"
)

// appSpecSeed is the AppSpec template of testdata/codedeploy, the shape
// most real ones have.
const appSpecSeed = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: <TASK_DEFINITION>
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: "{{ var \"port\" }}"
        PlatformVersion: LATEST
        NetworkConfiguration:
          AwsvpcConfiguration:
            Subnets:
              - subnet-0a1b2c3d4e5f60718
            SecurityGroups:
              - sg-0123456789abcdef0
            AssignPublicIp: DISABLED
        CapacityProviderStrategy:
          - CapacityProvider: FARGATE_SPOT
            Base: 0
            Weight: 1
Hooks:
  - BeforeInstall: "{{ env \"HOOK_PREFIX\" \"prd-web\" }}-before-install"
`

// FuzzAppSpec checks the AppSpec template path (ParseAppSpec, as --appspec
// uses it) for properties: every input ends in either an input error whose
// lines hold no raw control character, or an AppSpec that encodes to YAML
// (artifacts.EncodeAppSpec, the appspec.yaml a run writes) that parses
// back to the same AppSpec. The seeds in testdata/fuzz/FuzzAppSpec run as
// ordinary tests.
func FuzzAppSpec(f *testing.F) {
	for _, s := range []string{
		appSpecSeed,
		`{"version":"0.0","Resources":[{"TargetService":{"Type":"AWS::ECS::Service","Properties":{"TaskDefinition":"<TASK_DEFINITION>","LoadBalancerInfo":{"ContainerName":"web","ContainerPort":80}}}}]}`,
		"version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: <TASK_DEFINITION>\n        LoadBalancerInfo: {ContainerName: \"a\\nerror: forged\", ContainerPort: 80}\n",
		"version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: <TASK_DEFINITION>\n        LoadBalancerInfo: {ContainerName: 'yes', ContainerPort: 80}\n        PlatformVersion: '1.4.0'\n",
		"a: &x [*x]\n", "version: 0.0\n", "", "{", "- [", "version: !!binary AAAA\n", "\ufeffversion: 0.0\n",
	} {
		f.Add(s)
	}
	td, err := render.ParseJSON([]byte(`{"family":"f","containerDefinitions":[` +
		`{"name":"web","image":"nginx","portMappings":[{"containerPort":80},{"containerPort":8080}]},` +
		`{"name":"sidecar","image":"envoy"}]}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		data := render.TemplateData{Vars: map[string]string{"port": "8080"}, Context: context.Background()}
		// Against the task definition, as a render checks it: an AppSpec
		// accepted there fronts a container and port the task maps.
		if as, err := render.ParseAppSpec([]byte(doc), data, td); err != nil {
			checkAppSpecError(t, err)
		} else if name, port := as.Container(); name != "web" || port != 80 && port != 8080 {
			t.Fatalf("ParseAppSpec accepted container %q port %d, which the task does not map", name, port)
		}
		as, err := render.ParseAppSpec([]byte(doc), data, nil)
		if err != nil {
			checkAppSpecError(t, err)
			return
		}
		if as == nil {
			t.Fatal("ParseAppSpec: no AppSpec and no error")
		}
		out, err := artifacts.EncodeAppSpec(as)
		if err != nil {
			t.Fatalf("EncodeAppSpec of a parsed AppSpec: %v", err)
		}
		// A value that renders to template text is written literally, and
		// read back would be rendered again: the round trip holds for the
		// rest.
		if strings.Contains(string(out), "{{") {
			return
		}
		again, err := render.ParseAppSpec(out, render.TemplateData{Context: context.Background()}, nil)
		if err != nil {
			t.Fatalf("the encoded AppSpec does not parse back: %v\n%s", err, out)
		}
		if diff := cmp.Diff(as, again); diff != "" {
			t.Fatalf("encode-parse changed the AppSpec (-parsed +reparsed):\n%s\n%s", diff, out)
		}
	})
}

// checkAppSpecError checks that err is an input error of clean lines.
func checkAppSpecError(t *testing.T, err error) {
	t.Helper()
	if !render.IsInputError(err) {
		t.Fatalf("ParseAppSpec: %v: want an input error", err)
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if strings.ContainsFunc(line, unicode.IsControl) {
			t.Fatalf("error line %q holds a raw control character", line)
		}
	}
}
