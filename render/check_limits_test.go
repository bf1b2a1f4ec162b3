package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCheckLimits covers the ranges and launch-type rules from the ECS API
// reference: each case is one value just inside or just outside a limit.
func TestCheckLimits(t *testing.T) {
	t.Parallel()
	const ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"
	fargateWith := func(container string) string {
		return `{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512",` +
			`"executionRoleArn":"exec","containerDefinitions":[{"name":"app","image":"nginx",` + container + `}]}`
	}
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{name: "health check at its limits", doc: ec2Task(`"healthCheck":{"command":["CMD","true"],"interval":5,"timeout":60,"retries":10,"startPeriod":300}`)},
		{name: "health check at the other limits", doc: ec2Task(`"healthCheck":{"command":["CMD","true"],"interval":300,"timeout":2,"retries":1,"startPeriod":0}`)},
		{name: "health check out of range", doc: ec2Task(`"healthCheck":{"command":["CMD","true"],"interval":4,"timeout":61,"retries":0,"startPeriod":301}`),
			want: []string{
				"containerDefinitions[0].healthCheck.interval: 4 is out of range; ecs accepts 5 to 300 seconds",
				"containerDefinitions[0].healthCheck.timeout: 61 is out of range; ecs accepts 2 to 60 seconds",
				"containerDefinitions[0].healthCheck.retries: 0 is out of range; ecs accepts 1 to 10 retries",
				"containerDefinitions[0].healthCheck.startPeriod: 301 is out of range; ecs accepts 0 to 300 seconds",
			}},
		{name: "ports in range", doc: ec2Task(`"portMappings":[{"containerPort":1,"hostPort":0},{"containerPort":65535,"hostPort":65535}]`)},
		{name: "ports out of range", doc: ec2Task(`"portMappings":[{"containerPort":0},{"containerPort":65536,"hostPort":-1}]`),
			want: []string{
				"containerDefinitions[0].portMappings[0].containerPort: 0 is out of range; ecs accepts 1 to 65535",
				"containerDefinitions[0].portMappings[1].containerPort: 65536 is out of range; ecs accepts 1 to 65535",
				"containerDefinitions[0].portMappings[1].hostPort: -1 is out of range; ecs accepts 0 to 65535",
			}},
		{name: "ephemeral storage in range", doc: fargateTask(`"ephemeralStorage":{"sizeInGiB":21}`)},
		{name: "ephemeral storage too small", doc: fargateTask(`"ephemeralStorage":{"sizeInGiB":20}`),
			want: []string{"ephemeralStorage.sizeInGiB: 20 is out of range; ecs accepts 21 to 200 GiB"}},
		{name: "ephemeral storage too large", doc: fargateTask(`"ephemeralStorage":{"sizeInGiB":201}`),
			want: []string{"ephemeralStorage.sizeInGiB: 201 is out of range; ecs accepts 21 to 200 GiB"}},
		{name: "fargate stop timeout at its limit", doc: fargateWith(`"stopTimeout":120`)},
		{name: "fargate stop timeout too long", doc: fargateWith(`"stopTimeout":121`),
			want: []string{"containerDefinitions[0].stopTimeout: 121 is out of range; ecs accepts 0 to 120 seconds on fargate"}},
		{name: "ec2 stop timeout may be long", doc: ec2Task(`"stopTimeout":3600`)},
		{name: "negative stop timeout", doc: ec2Task(`"stopTimeout":-1`),
			want: []string{"containerDefinitions[0].stopTimeout: -1 is out of range; ecs accepts 0 to 2147483647 seconds"}},
		{name: "ulimits fine", doc: ec2Task(`"ulimits":[{"name":"nofile","softLimit":1024,"hardLimit":4096}]`)},
		{name: "ulimit soft above hard", doc: ec2Task(`"ulimits":[{"name":"nofile","softLimit":4096,"hardLimit":1024}]`),
			want: []string{"containerDefinitions[0].ulimits[0].softLimit: 4096 is more than hardLimit 1024; want at most hardLimit"}},
		{name: "ulimit negative", doc: ec2Task(`"ulimits":[{"name":"core","softLimit":-1,"hardLimit":-2}]`),
			want: []string{
				"containerDefinitions[0].ulimits[0].softLimit: -1 is negative; want 0 or more",
				"containerDefinitions[0].ulimits[0].hardLimit: -2 is negative; want 0 or more",
			}},
		{name: "fargate nofile at its ceiling", doc: fargateWith(`"ulimits":[{"name":"nofile","softLimit":65535,"hardLimit":1048576}]`)},
		{name: "fargate nofile above its ceiling", doc: fargateWith(`"ulimits":[{"name":"nofile","softLimit":65535,"hardLimit":1048577}]`),
			want: []string{"containerDefinitions[0].ulimits[0].hardLimit: 1048577 is out of range; fargate accepts a nofile hardLimit up to 1048576"}},
		{name: "links on bridge", doc: `{"family":"f","networkMode":"bridge","containerDefinitions":[{"name":"app","image":"nginx","memory":64,"links":["db"]},{"name":"db","image":"postgres","memory":64}]}`},
		{name: "links under awsvpc", doc: `{"family":"f","networkMode":"awsvpc","containerDefinitions":[{"name":"app","image":"nginx","memory":64,"links":["db"]},{"name":"db","image":"postgres","memory":64}]}`,
			want: []string{`containerDefinitions[0].links: not supported with networkMode "awsvpc"; containers of the task reach each other on localhost`}},
		{name: "fargate ecr image with execution role", doc: `{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512","executionRoleArn":"exec","containerDefinitions":[{"name":"app","image":"` + ecr + `"}]}`},
		{name: "fargate ecr image without execution role", doc: `{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512","containerDefinitions":[{"name":"app","image":"` + ecr + `"}]}`,
			want: []string{"containerDefinitions[0].image: fargate pulls an ecr image with the task's executionRoleArn, which is not set"}},
		{name: "fargate public image needs no execution role", doc: fargateTask("")},
		{name: "ec2 ecr image uses the instance role", doc: `{"family":"f","containerDefinitions":[{"name":"app","image":"` + ecr + `","memory":64}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _ := checkDoc(t, tt.doc)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeTaskSize(t *testing.T) {
	t.Parallel()
	td, err := ParseJSON([]byte(`{"family":"f","cpu":256,"memory":"512","containerDefinitions":[{"name":"a","image":"i","cpu":128}]}`))
	if err != nil {
		t.Fatal(err)
	}
	notices := NormalizeTaskSize(td)
	want := []string{`cpu: the number 256 is written as the string "256", as ecs wants`}
	if diff := cmp.Diff(want, notices); diff != "" {
		t.Errorf("notices (-want +got):\n%s", diff)
	}
	if got := string(td.MarshalIndent()); got != "{\n  \"family\": \"f\",\n  \"cpu\": \"256\",\n  \"memory\": \"512\",\n  \"containerDefinitions\": [\n    {\n      \"name\": \"a\",\n      \"image\": \"i\",\n      \"cpu\": 128\n    }\n  ]\n}\n" {
		t.Errorf("document:\n%s", got)
	}
	if NormalizeTaskSize(td) != nil {
		t.Error("a second pass changed the document again")
	}
}
