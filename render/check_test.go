package render

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func checkDoc(t *testing.T, doc string) (problems, warnings []string) {
	t.Helper()
	td, err := ParseJSON([]byte(doc))
	if err != nil {
		t.Fatalf("test document: %v", err)
	}
	ps, ws := CheckTaskDefinition(td)
	for _, p := range ps {
		problems = append(problems, p.String())
	}
	for _, w := range ws {
		warnings = append(warnings, w.String())
	}
	return problems, warnings
}

// ec2Task is a minimal valid EC2 task definition around one container's
// extra members, for tests of container-level rules.
func ec2Task(container string) string {
	if container != "" {
		container = "," + container
	}
	return `{"family":"f","containerDefinitions":[{"name":"app","image":"nginx","memory":128` + container + `}]}`
}

// fargateTask is a minimal valid Fargate task definition with extra
// task-level members.
func fargateTask(extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return `{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512",` +
		`"containerDefinitions":[{"name":"app","image":"nginx"}]` + extra + `}`
}

func TestCheckTaskDefinition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		// Valid documents: no false positives.
		{name: "minimal ec2", doc: ec2Task("")},
		{name: "minimal fargate", doc: fargateTask("")},
		{name: "nulls are absent", doc: `{"family":"f","taskRoleArn":null,"cpu":null,"memory":null,"containerDefinitions":[{"name":"app","image":"nginx","memory":null,"memoryReservation":64,"secrets":null,"ulimits":null,"readOnly":null,"dockerLabels":{"a":null}}]}`,
			want: []string{`containerDefinitions[0].readOnly: unknown key; not a field of ContainerDefinition`}},
		{name: "map keys are free", doc: ec2Task(`"dockerLabels":{"com.example/Any Key":"v"},"logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"g","Name":"x"}}`)},
		{name: "task memory covers containers", doc: `{"family":"f","memory":"1 GB","containerDefinitions":[{"name":"a","image":"i"}]}`},
		{name: "fargate units", doc: `{"family":"f","requiresCompatibilities":["EC2","FARGATE"],"networkMode":"awsvpc","cpu":".25 VCPU","memory":".5 gb","containerDefinitions":[{"name":"a","image":"i"}]}`},
		{name: "fargate numbers", doc: `{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":4096,"memory":30720,"containerDefinitions":[{"name":"a","image":"i"}]}`},
		{name: "fargate 16 vcpu", doc: `{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"16 vcpu","memory":"120GB","containerDefinitions":[{"name":"a","image":"i"}]}`},
		{name: "roles and secrets", doc: `{"family":"f","executionRoleArn":"arn:aws-us-gov:iam::123456789012:role/service-role/exec","taskRoleArn":"task-role+x@y",` +
			`"containerDefinitions":[{"name":"a","image":"i","memory":64,"secrets":[` +
			`{"name":"A","valueFrom":"plain_name"},{"name":"B","valueFrom":"/path/to/name"},` +
			`{"name":"C","valueFrom":"arn:aws:ssm:us-east-1:123456789012:parameter/path/name"},` +
			`{"name":"D","valueFrom":"arn:aws:ssm:cn-north-1:123456789012:parameter/name"},` +
			`{"name":"E","valueFrom":"arn:aws:secretsmanager:us-gov-west-1:123456789012:secret:db/main-AbCdEf"},` +
			`{"name":"F","valueFrom":"arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:db-AbCdEf:host::"},` +
			`{"name":"G","valueFrom":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password:AWSCURRENT:"}],` +
			`"repositoryCredentials":{"credentialsParameter":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:dockerhub"}}]}`},
		{name: "awsvpc without hostPort", doc: `{"family":"f","networkMode":"awsvpc","memory":"512","containerDefinitions":[{"name":"a","image":"i","portMappings":[{"containerPort":80},{"containerPort":81,"hostPort":81}]}]}`},
		{name: "document at the size limit", doc: ec2Task(`"command":["` + strings.Repeat("x", 65438) + `"]`)},
		{name: "bridge dynamic hostPort", doc: ec2Task(`"portMappings":[{"containerPort":80,"hostPort":0},{"containerPort":81}]`)},
		{name: "references", doc: `{"family":"f","volumes":[{"name":"data"}],"proxyConfiguration":{"type":"APPMESH","containerName":"envoy"},"containerDefinitions":[` +
			`{"name":"app","image":"i","memory":64,"dependsOn":[{"containerName":"envoy","condition":"HEALTHY"}],"mountPoints":[{"sourceVolume":"data","containerPath":"/d"}],"volumesFrom":[{"sourceContainer":"envoy"}]},` +
			`{"name":"envoy","image":"i","memoryReservation":64,"essential":false}]}`},
		{name: "image placeholder for codedeploy", doc: `{"family":"f","memory":"512","containerDefinitions":[{"name":"a","image":"<IMAGE1_NAME>"}]}`},
		{name: "managed instances need no container memory", doc: `{"family":"f","requiresCompatibilities":["MANAGED_INSTANCES"],"containerDefinitions":[{"name":"a","image":"<IMAGE1_NAME>"}]}`},

		// Keys.
		{name: "misspelt key", doc: ec2Task(`"environments":[]`),
			want: []string{`containerDefinitions[0].environments: unknown key; did you mean "environment"?`}},
		{name: "wrong case key", doc: ec2Task(`"Environment":[]`),
			want: []string{`containerDefinitions[0].Environment: unknown key; did you mean "environment"?`}},
		{name: "unknown key without suggestion", doc: ec2Task(`"inferenceDevices":["d"]`),
			want: []string{`containerDefinitions[0].inferenceDevices: unknown key; not a field of ContainerDefinition`}},
		{name: "unknown top-level key", doc: `{"family":"f","taskDefinitionArn":"x","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`taskDefinitionArn: unknown key; not a field of a task definition`}},
		{name: "union takes exactly one", doc: ec2Task(`"resourceRequirements":[{"type":"GPU","value":"1","sharingStrategy":{}}]`),
			want: []string{`containerDefinitions[0].resourceRequirements[0].sharingStrategy: want exactly one of nvidiaMps, got none`}},

		// Types.
		{name: "string for a number", doc: ec2Task(`"portMappings":[{"containerPort":"8080"}]`),
			want: []string{`containerDefinitions[0].portMappings[0].containerPort: want a number, got string "8080"`}},
		{name: "fraction for an integer", doc: ec2Task(`"cpu":1.5`),
			want: []string{`containerDefinitions[0].cpu: want a whole number up to 2147483647, got number 1.5`}},
		{name: "number for a string", doc: ec2Task(`"environment":[{"name":"PORT","value":8080}]`),
			want: []string{`containerDefinitions[0].environment[0].value: want a string, got number 8080`}},
		{name: "string for a boolean", doc: ec2Task(`"essential":"true"`),
			want: []string{`containerDefinitions[0].essential: want a boolean, got string "true"`}},
		{name: "string for a list", doc: ec2Task(`"links":"db"`),
			want: []string{`containerDefinitions[0].links: want an array, got string "db"`}},
		{name: "list for an object", doc: ec2Task(`"logConfiguration":[]`),
			want: []string{`containerDefinitions[0].logConfiguration: want an object, got an array`}},
		{name: "list for a map", doc: ec2Task(`"dockerLabels":["a"]`),
			want: []string{`containerDefinitions[0].dockerLabels: want an object, got an array`}},
		{name: "number in a map", doc: ec2Task(`"dockerLabels":{"a":1}`),
			want: []string{`containerDefinitions[0].dockerLabels.a: want a string, got number 1`}},
		{name: "null in a list", doc: ec2Task(`"command":["a",null]`),
			want: []string{`containerDefinitions[0].command[1]: want a string, got null`}},
		{name: "enum wrong case", doc: `{"family":"f","requiresCompatibilities":["fargate"],"containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`requiresCompatibilities[0]: unknown value "fargate"; did you mean "FARGATE"?`}},
		{name: "enum no suggestion", doc: `{"family":"f","networkMode":"vpc","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`networkMode: unknown value "vpc"; want one of bridge, host, awsvpc, none`}},
		{name: "required member", doc: ec2Task(`"ulimits":[{"name":"nofile","softLimit":1}]`),
			want: []string{`containerDefinitions[0].ulimits[0].hardLimit: missing; Ulimit requires it`}},
		{name: "task cpu of the wrong type", doc: `{"family":"f","cpu":true,"containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`cpu: want a string, got boolean true`}},
		{name: "root not an object", doc: `[]`,
			want: []string{`want a task definition object, got an array`}},

		// Names.
		{name: "family missing", doc: `{"containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`family: missing; want a family name`}},
		{name: "family invalid", doc: `{"family":"my app","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`family: invalid family name "my app"; want 1 to 255 letters, digits, hyphens or underscores`}},
		{name: "family too long", doc: `{"family":"` + strings.Repeat("a", 256) + `","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`family: invalid family name "` + strings.Repeat("a", 256) + `"; want 1 to 255 letters, digits, hyphens or underscores`}},
		{name: "containers missing", doc: `{"family":"f"}`,
			want: []string{`containerDefinitions: missing; want at least one container`}},
		{name: "containers empty", doc: `{"family":"f","containerDefinitions":[]}`,
			want: []string{`containerDefinitions: empty; want at least one container`}},
		{name: "container name missing", doc: `{"family":"f","containerDefinitions":[{"image":"i","memory":6}]}`,
			want: []string{`containerDefinitions[0].name: missing; want a container name`}},
		{name: "container name invalid", doc: `{"family":"f","containerDefinitions":[{"name":"web.1","image":"i","memory":6}]}`,
			want: []string{`containerDefinitions[0].name: invalid container name "web.1"; want 1 to 255 letters, digits, hyphens or underscores`}},
		{name: "duplicate container", doc: `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":6},{"name":"a","image":"i","memory":6}]}`,
			want: []string{`containerDefinitions[1].name: duplicate container name "a" (also containerDefinitions[0])`}},
		{name: "too many containers", doc: `{"family":"f","containerDefinitions":[` + strings.Repeat(`{"name":"a","image":"i","memory":6,"essential":false},`, 10) + `{"name":"b","image":"i","memory":6}]}`,
			want: []string{
				`containerDefinitions: 11 containers; ecs allows at most 10`,
				`containerDefinitions[1].name: duplicate container name "a" (also containerDefinitions[0])`,
				`containerDefinitions[2].name: duplicate container name "a" (also containerDefinitions[0])`,
				`containerDefinitions[3].name: duplicate container name "a" (also containerDefinitions[0])`,
				`containerDefinitions[4].name: duplicate container name "a" (also containerDefinitions[0])`,
				`containerDefinitions[5].name: duplicate container name "a" (also containerDefinitions[0])`,
				`containerDefinitions[6].name: duplicate container name "a" (also containerDefinitions[0])`,
				`containerDefinitions[7].name: duplicate container name "a" (also containerDefinitions[0])`,
				`containerDefinitions[8].name: duplicate container name "a" (also containerDefinitions[0])`,
				`containerDefinitions[9].name: duplicate container name "a" (also containerDefinitions[0])`,
			}},
		{name: "no essential container", doc: ec2Task(`"essential":false`),
			want: []string{`containerDefinitions: no essential container; want at least one with essential true (the default)`}},
		{name: "image missing", doc: `{"family":"f","containerDefinitions":[{"name":"a","memory":6}]}`,
			want: []string{`containerDefinitions[0].image: missing; want an image reference`}},
		{name: "image empty", doc: `{"family":"f","containerDefinitions":[{"name":"a","image":" ","memory":6}]}`,
			want: []string{`containerDefinitions[0].image: empty; want an image reference`}},

		// References.
		{name: "dependsOn unknown", doc: ec2Task(`"dependsOn":[{"containerName":"db","condition":"START"}]`),
			want: []string{`containerDefinitions[0].dependsOn[0].containerName: unknown container "db"; containers: app`}},
		{name: "dependsOn itself", doc: ec2Task(`"dependsOn":[{"containerName":"app","condition":"START"}]`),
			want: []string{`containerDefinitions[0].dependsOn[0].containerName: container "app" depends on itself`}},
		{name: "dependsOn empty", doc: ec2Task(`"dependsOn":[{"containerName":"","condition":"START"}]`),
			want: []string{`containerDefinitions[0].dependsOn[0].containerName: empty; want a container name`}},
		{name: "volumesFrom itself", doc: ec2Task(`"volumesFrom":[{"sourceContainer":"app"}]`),
			want: []string{`containerDefinitions[0].volumesFrom[0].sourceContainer: container "app" depends on itself`}},
		{name: "empty references with an empty container name", doc: `{"family":"f","proxyConfiguration":{"containerName":""},"containerDefinitions":[{"name":"","image":"i","memory":6,"dependsOn":[{"containerName":"","condition":"START"}],"volumesFrom":[{"sourceContainer":""}]}]}`,
			want: []string{
				`proxyConfiguration.containerName: empty; want a container name`,
				`containerDefinitions[0].name: invalid container name ""; want 1 to 255 letters, digits, hyphens or underscores`,
				`containerDefinitions[0].dependsOn[0].containerName: empty; want a container name`,
				`containerDefinitions[0].volumesFrom[0].sourceContainer: empty; want a container name`,
			}},
		{name: "volumesFrom unknown", doc: ec2Task(`"volumesFrom":[{"sourceContainer":"data"}]`),
			want: []string{`containerDefinitions[0].volumesFrom[0].sourceContainer: unknown container "data"; containers: app`}},
		{name: "proxy container unknown", doc: `{"family":"f","proxyConfiguration":{"containerName":"envoy"},"containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`proxyConfiguration.containerName: unknown container "envoy"; containers: a`}},
		{name: "unknown volume", doc: `{"family":"f","volumes":[{"name":"v1"},{"name":"v2"}],"containerDefinitions":[{"name":"a","image":"i","memory":6,"mountPoints":[{"sourceVolume":"v3","containerPath":"/x"}]}]}`,
			want: []string{`containerDefinitions[0].mountPoints[0].sourceVolume: unknown volume "v3"; volumes: v1, v2`}},
		{name: "unknown volume none declared", doc: ec2Task(`"mountPoints":[{"sourceVolume":"v","containerPath":"/x"}]`),
			want: []string{`containerDefinitions[0].mountPoints[0].sourceVolume: unknown volume "v"; the task declares no volumes`}},
		{name: "empty volume", doc: ec2Task(`"mountPoints":[{"sourceVolume":"","containerPath":"/x"}]`),
			want: []string{`containerDefinitions[0].mountPoints[0].sourceVolume: empty; want a volume name`}},

		// Task size and launch types.
		{name: "fargate pair", doc: `{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"1024","memory":"1024","containerDefinitions":[{"name":"a","image":"i"}]}`,
			want: []string{`cpu: fargate does not support cpu 1024 with memory 1024 (1024 allows 2048 to 8192 MiB in 1024 MiB steps)`}},
		{name: "fargate pair 256", doc: `{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"4 GB","containerDefinitions":[{"name":"a","image":"i"}]}`,
			want: []string{`cpu: fargate does not support cpu 256 with memory 4096 (256 allows 512, 1024 or 2048 MiB)`}},
		{name: "fargate pair off step", doc: `{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"8 vcpu","memory":"18 GB","containerDefinitions":[{"name":"a","image":"i"}]}`,
			want: []string{`cpu: fargate does not support cpu 8192 with memory 18432 (8192 allows 16384 to 61440 MiB in 4096 MiB steps)`}},
		{name: "fargate cpu size", doc: `{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"300","memory":"512","containerDefinitions":[{"name":"a","image":"i"}]}`,
			want: []string{`cpu: fargate does not support cpu 300; want one of 256, 512, 1024, 2048, 4096, 8192, 16384`}},
		{name: "fargate needs sizes and awsvpc", doc: `{"family":"f","requiresCompatibilities":["FARGATE"],"containerDefinitions":[{"name":"a","image":"i"}]}`,
			want: []string{
				`networkMode: missing; fargate needs networkMode "awsvpc"`,
				`cpu: missing; fargate needs task-level cpu`,
				`memory: missing; fargate needs task-level memory`,
			}},
		{name: "fargate bridge", doc: `{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"bridge","cpu":"256","memory":"512","containerDefinitions":[{"name":"a","image":"i"}]}`,
			want: []string{`networkMode: fargate needs networkMode "awsvpc", got "bridge"`}},
		{name: "bad units", doc: `{"family":"f","cpu":"1 core","memory":"1 GiB","containerDefinitions":[{"name":"a","image":"i"}]}`,
			want: []string{
				`cpu: want cpu units (1024) or vcpus ("1 vcpu"), got string "1 core"`,
				`memory: want MiB (2048) or GB ("2 GB"), got string "1 GiB"`,
			}},
		{name: "ec2 container memory", doc: `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memoryReservation":6},{"name":"b","image":"i"}]}`,
			want: []string{`containerDefinitions[1]: no memory or memoryReservation; an ec2 task without task-level memory needs one in every container`}},
		{name: "external container memory", doc: `{"family":"f","requiresCompatibilities":["EXTERNAL"],"containerDefinitions":[{"name":"a","image":"i"}]}`,
			want: []string{`containerDefinitions[0]: no memory or memoryReservation; an ec2 task without task-level memory needs one in every container`}},
		{name: "memoryReservation above memory", doc: ec2Task(`"memoryReservation":256`),
			want: []string{`containerDefinitions[0].memoryReservation: 256 is more than memory 128; want at most memory`}},
		{name: "awsvpc hostPort", doc: `{"family":"f","networkMode":"awsvpc","containerDefinitions":[{"name":"a","image":"i","memory":6,"portMappings":[{"containerPort":8080,"hostPort":8080},{"containerPort":8080,"hostPort":80}]}]}`,
			want: []string{`containerDefinitions[0].portMappings[1].hostPort: awsvpc needs hostPort equal to containerPort 8080, got 80`}},
		{name: "host hostPort", doc: `{"family":"f","networkMode":"host","containerDefinitions":[{"name":"a","image":"i","memory":6,"portMappings":[{"containerPort":8080,"hostPort":0}]}]}`,
			want: []string{`containerDefinitions[0].portMappings[0].hostPort: host needs hostPort equal to containerPort 8080, got 0`}},

		// Roles and secrets.
		{name: "role placeholder", doc: `{"family":"f","executionRoleArn":"${YOUR_EXECUTION_ROLE}","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`executionRoleArn: want an iam role arn or role name, got "${YOUR_EXECUTION_ROLE}" (unrendered placeholder ${YOUR_EXECUTION_ROLE})`}},
		{name: "role agent placeholder", doc: `{"family":"f","taskRoleArn":"$$$TASK_ROLE$$$","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`taskRoleArn: want an iam role arn or role name, got "$$$TASK_ROLE$$$" (unrendered placeholder $$$TASK_ROLE$$$)`}},
		{name: "role doc placeholder account", doc: `{"family":"f","taskRoleArn":"arn:aws:iam::aws_account_id:role/r","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`taskRoleArn: want an iam role arn or role name, got "arn:aws:iam::aws_account_id:role/r" (account "aws_account_id" is not 12 digits)`}},
		{name: "role 11 digit account", doc: `{"family":"f","taskRoleArn":"arn:aws:iam::11111111111:role/r","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`taskRoleArn: want an iam role arn or role name, got "arn:aws:iam::11111111111:role/r" (account "11111111111" is not 12 digits)`}},
		{name: "role X account", doc: `{"family":"f","taskRoleArn":"arn:aws:iam::XXXXXXXXXXXX:role/r","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`taskRoleArn: want an iam role arn or role name, got "arn:aws:iam::XXXXXXXXXXXX:role/r" (account "XXXXXXXXXXXX" is not 12 digits)`}},
		{name: "role empty", doc: `{"family":"f","taskRoleArn":"","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`taskRoleArn: want an iam role arn or role name, got "" (empty)`}},
		{name: "role with region", doc: `{"family":"f","taskRoleArn":"arn:aws:iam:us-east-1:123456789012:role/r","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`taskRoleArn: want an iam role arn or role name, got "arn:aws:iam:us-east-1:123456789012:role/r" (iam arns have no region, got "us-east-1")`}},
		{name: "role not a role", doc: `{"family":"f","taskRoleArn":"arn:aws:iam::123456789012:user/bob","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`taskRoleArn: want an iam role arn or role name, got "arn:aws:iam::123456789012:user/bob" (resource "user/bob" is not role/NAME)`}},
		{name: "role wrong service", doc: `{"family":"f","taskRoleArn":"arn:aws:sts::123456789012:assumed-role/r/s","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`taskRoleArn: want an iam role arn or role name, got "arn:aws:sts::123456789012:assumed-role/r/s" (service "sts" is not iam)`}},
		{name: "role partition placeholder", doc: `{"family":"f","taskRoleArn":"arn:partition:iam::123456789012:role/r","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`taskRoleArn: want an iam role arn or role name, got "arn:partition:iam::123456789012:role/r" (partition "partition" is not aws, aws-cn or aws-us-gov)`}},
		{name: "role name invalid", doc: `{"family":"f","taskRoleArn":"my role","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`taskRoleArn: want an iam role arn or role name, got "my role" (not an arn, and a role name has 1 to 64 letters, digits or +=,.@_-)`}},
		{name: "role arn bad name", doc: `{"family":"f","taskRoleArn":"arn:aws:iam::123456789012:role/","containerDefinitions":[{"name":"a","image":"i","memory":6}]}`,
			want: []string{`taskRoleArn: want an iam role arn or role name, got "arn:aws:iam::123456789012:role/" ("" is not a role name)`}},
		{name: "secrets need execution role", doc: ec2Task(`"secrets":[{"name":"A","valueFrom":"a"}],"logConfiguration":{"logDriver":"splunk","secretOptions":[{"name":"t","valueFrom":"t"}]}`),
			want: []string{
				`containerDefinitions[0].secrets: secrets need the task's executionRoleArn, which is not set`,
				`containerDefinitions[0].logConfiguration.secretOptions: secrets need the task's executionRoleArn, which is not set`,
			}},
		{name: "fargate awslogs needs execution role", doc: `{"family":"f","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","cpu":"256","memory":"512","containerDefinitions":[{"name":"a","image":"i","logConfiguration":{"logDriver":"awslogs"}}]}`,
			want: []string{`containerDefinitions[0].logConfiguration.logDriver: fargate with awslogs needs the task's executionRoleArn, which is not set`}},
		{name: "ec2 awslogs needs no execution role", doc: ec2Task(`"logConfiguration":{"logDriver":"awslogs"}`)},
		{name: "secret placeholders", doc: `{"family":"f","executionRoleArn":"r","containerDefinitions":[{"name":"a","image":"i","memory":6,"secrets":[` +
			`{"name":"A","valueFrom":"arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}"},` +
			`{"name":"B","valueFrom":"arn:aws:secretsmanager:region:aws_account_id:secret:s-AbCdEf"},` +
			`{"name":"C","valueFrom":"arn:aws:secretsmanager:us-east-1:123456789012:secret:s:a:b"},` +
			`{"name":"D","valueFrom":"arn:aws:ssm:us-east-1:123456789012:param/x"},` +
			`{"name":"E","valueFrom":"arn:aws:s3:::bucket/key"},` +
			`{"name":"F","valueFrom":"not a name"},` +
			`{"name":"G","valueFrom":""},` +
			`{"name":"H","valueFrom":"arn:aws:secretsmanager:us-east-1:123456789012:secret"}]}]}`,
			want: []string{
				`containerDefinitions[0].secrets[0].valueFrom: want an ssm parameter name or arn, or a secrets manager arn, got "arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}" (unrendered placeholder ${Partition})`,
				`containerDefinitions[0].secrets[1].valueFrom: want an ssm parameter name or arn, or a secrets manager arn, got "arn:aws:secretsmanager:region:aws_account_id:secret:s-AbCdEf" (region "region" is not a region name)`,
				`containerDefinitions[0].secrets[2].valueFrom: want an ssm parameter name or arn, or a secrets manager arn, got "arn:aws:secretsmanager:us-east-1:123456789012:secret:s:a:b" ("s:a:b" is not NAME or NAME:json-key:version-stage:version-id)`,
				`containerDefinitions[0].secrets[3].valueFrom: want an ssm parameter name or arn, or a secrets manager arn, got "arn:aws:ssm:us-east-1:123456789012:param/x" (resource "param/x" is not parameter/NAME)`,
				`containerDefinitions[0].secrets[4].valueFrom: want an ssm parameter name or arn, or a secrets manager arn, got "arn:aws:s3:::bucket/key" (region "" is not a region name)`,
				`containerDefinitions[0].secrets[5].valueFrom: want an ssm parameter name or arn, or a secrets manager arn, got "not a name" (not an arn, and a parameter name has letters, digits or _.-/)`,
				`containerDefinitions[0].secrets[6].valueFrom: want an ssm parameter name or arn, or a secrets manager arn, got "" (empty)`,
				`containerDefinitions[0].secrets[7].valueFrom: want an ssm parameter name or arn, or a secrets manager arn, got "arn:aws:secretsmanager:us-east-1:123456789012:secret" (resource "secret" is not secret:NAME)`,
			}},
		{name: "secret other service", doc: `{"family":"f","executionRoleArn":"r","containerDefinitions":[{"name":"a","image":"i","memory":6,"secrets":[{"name":"A","valueFrom":"arn:aws:kms:us-east-1:123456789012:key/k"}]}]}`,
			want: []string{`containerDefinitions[0].secrets[0].valueFrom: want an ssm parameter name or arn, or a secrets manager arn, got "arn:aws:kms:us-east-1:123456789012:key/k" (service "kms" is neither ssm nor secretsmanager)`}},
		{name: "repository credentials", doc: ec2Task(`"repositoryCredentials":{"credentialsParameter":"arn:aws:ssm:us-east-1:123456789012:parameter/p"}`),
			want: []string{`containerDefinitions[0].repositoryCredentials.credentialsParameter: want a secrets manager arn, got "arn:aws:ssm:us-east-1:123456789012:parameter/p" (service "ssm" is not secretsmanager)`}},
		{name: "repository credentials placeholder", doc: ec2Task(`"repositoryCredentials":{"credentialsParameter":"$$$REPOSITORY_CREDENTIALS$$$"}`),
			want: []string{`containerDefinitions[0].repositoryCredentials.credentialsParameter: want a secrets manager arn, got "$$$REPOSITORY_CREDENTIALS$$$" (unrendered placeholder $$$REPOSITORY_CREDENTIALS$$$)`}},

		// Environment.
		{name: "duplicate environment", doc: ec2Task(`"environment":[{"name":"A","value":"1"},{"name":"B","value":"2"},{"name":"A","value":"3"}]`),
			want: []string{`containerDefinitions[0].environment[2].name: duplicate environment variable "A" (also containerDefinitions[0].environment[0])`}},

		// Size.
		{name: "document too large", doc: ec2Task(`"command":["` + strings.Repeat("x", 65439) + `"]`),
			want: []string{`document is 65537 bytes of compact json; ecs allows at most 65536 (64 KiB)`}},

		// Order: all problems at once, in document order.
		{name: "document order", doc: `{"containerDefinitions":[{"name":"a","image":"","Memory":6,"portMappings":[{"containerPort":"80"}]}],"family":"x y","networkMode":"awsvpc","cpu":"abc"}`,
			want: []string{
				`containerDefinitions[0]: no memory or memoryReservation; an ec2 task without task-level memory needs one in every container`,
				`containerDefinitions[0].image: empty; want an image reference`,
				`containerDefinitions[0].Memory: unknown key; did you mean "memory"?`,
				`containerDefinitions[0].portMappings[0].containerPort: want a number, got string "80"`,
				`family: invalid family name "x y"; want 1 to 255 letters, digits, hyphens or underscores`,
				`cpu: want cpu units (1024) or vcpus ("1 vcpu"), got string "abc"`,
			}},
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

func TestCheckTaskDefinitionWarnings(t *testing.T) {
	t.Parallel()
	env := func(pairs ...string) string {
		var items []string
		for i := 0; i < len(pairs); i += 2 {
			items = append(items, `{"name":"`+pairs[i]+`","value":"`+pairs[i+1]+`"}`)
		}
		return ec2Task(`"environment":[` + strings.Join(items, ",") + `]`)
	}
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{name: "secret names", doc: env("DB_PASSWORD", "p", "dbPassword", "p", "DD_API_KEY", "k", "apiKey", "k", "GITHUB_TOKEN", "t", "JWT_SECRET", "s", "SSH_PRIVATE_KEY", "k", "MYSQL_PASSWD", "p", "GOOGLE_CREDENTIALS", "c"),
			want: []string{
				`containerDefinitions[0].environment[0]: "DB_PASSWORD" looks like a secret in plain text; move it to secrets (ssm or secrets manager)`,
				`containerDefinitions[0].environment[1]: "dbPassword" looks like a secret in plain text; move it to secrets (ssm or secrets manager)`,
				`containerDefinitions[0].environment[2]: "DD_API_KEY" looks like a secret in plain text; move it to secrets (ssm or secrets manager)`,
				`containerDefinitions[0].environment[3]: "apiKey" looks like a secret in plain text; move it to secrets (ssm or secrets manager)`,
				`containerDefinitions[0].environment[4]: "GITHUB_TOKEN" looks like a secret in plain text; move it to secrets (ssm or secrets manager)`,
				`containerDefinitions[0].environment[5]: "JWT_SECRET" looks like a secret in plain text; move it to secrets (ssm or secrets manager)`,
				`containerDefinitions[0].environment[6]: "SSH_PRIVATE_KEY" looks like a secret in plain text; move it to secrets (ssm or secrets manager)`,
				`containerDefinitions[0].environment[7]: "MYSQL_PASSWD" looks like a secret in plain text; move it to secrets (ssm or secrets manager)`,
				`containerDefinitions[0].environment[8]: "GOOGLE_CREDENTIALS" looks like a secret in plain text; move it to secrets (ssm or secrets manager)`,
			}},
		{name: "names about secrets", doc: env("TOKEN_URL", "u", "DB_SECRET_ARN", "a", "PASSWORD_FILE", "/f", "SECRET_NAME", "n", "AWS_ACCESS_KEY_ID", "i", "TOKENIZER", "t", "SORT_KEY", "k", "PWD", "/", "ENV", "prod")},
		{name: "empty value", doc: env("DB_PASSWORD", "")},
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

func TestParseTaskSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		node   *Node
		cpu    int
		cpuOK  bool
		memory int
		memOK  bool
	}{
		{node: &Node{Kind: Number, Str: "1024"}, cpu: 1024, cpuOK: true, memory: 1024, memOK: true},
		{node: NewString("1024"), cpu: 1024, cpuOK: true, memory: 1024, memOK: true},
		{node: NewString(" 512 "), cpu: 512, cpuOK: true, memory: 512, memOK: true},
		{node: NewString("1 vcpu"), cpu: 1024, cpuOK: true},
		{node: NewString("1vCPU"), cpu: 1024, cpuOK: true},
		{node: NewString(".25 vCPU"), cpu: 256, cpuOK: true},
		{node: NewString("0.5 VCPU"), cpu: 512, cpuOK: true},
		{node: NewString("2 gb"), memory: 2048, memOK: true},
		{node: NewString(".5 GB"), memory: 512, memOK: true},
		{node: NewString("1GB"), memory: 1024, memOK: true},
		{node: NewString("")},
		{node: NewString("0")},
		{node: NewString("-1")},
		{node: NewString("1.5")},
		{node: NewString(".3 vcpu")},
		{node: NewString("1 GiB")},
		{node: NewString("1 MB")},
		{node: NewString("1e3")},
		{node: NewString("Inf vcpu")},
		{node: NewString("{{ var \"cpu\" }}")},
		{node: &Node{Kind: Number, Str: "1.5"}},
		{node: &Node{Kind: Bool, Bool: true}},
	}
	for _, tt := range tests {
		cpu, cpuOK := parseTaskCPU(tt.node)
		mem, memOK := parseTaskMemory(tt.node)
		if cpu != tt.cpu || cpuOK != tt.cpuOK || mem != tt.memory || memOK != tt.memOK {
			t.Errorf("%s %q: got cpu %d %v memory %d %v, want cpu %d %v memory %d %v", tt.node.Kind, tt.node.Str,
				cpu, cpuOK, mem, memOK, tt.cpu, tt.cpuOK, tt.memory, tt.memOK)
		}
	}
}

func TestFargateSizes(t *testing.T) {
	t.Parallel()
	valid := map[int][]int{
		256:   {512, 1024, 2048},
		512:   {1024, 2048, 3072, 4096},
		1024:  {2048, 3072, 4096, 5120, 6144, 7168, 8192},
		2048:  {4096, 9216, 16384},
		4096:  {8192, 15360, 30720},
		8192:  {16384, 20480, 61440},
		16384: {32768, 40960, 122880},
	}
	invalid := map[int][]int{
		256:   {256, 1536, 3072},
		512:   {512, 1536, 5120},
		1024:  {1024, 9216},
		2048:  {3072, 17408},
		4096:  {7168, 31744},
		8192:  {12288, 18432, 65536},
		16384: {24576, 36864, 131072},
		128:   {512},
	}
	for cpu, mems := range valid {
		for _, m := range mems {
			if msg := checkFargateSize(cpu, m); msg != "" {
				t.Errorf("cpu %d memory %d: want valid, got %q", cpu, m, msg)
			}
		}
	}
	for cpu, mems := range invalid {
		for _, m := range mems {
			if msg := checkFargateSize(cpu, m); msg == "" {
				t.Errorf("cpu %d memory %d: want a problem, got none", cpu, m)
			}
		}
	}
}

// TestRequiredMembers compares requiredMembers with the "This member is
// required." comments of the SDK's types.go, so that a new SDK version with
// a new required member fails here instead of slipping past the checks.
func TestRequiredMembers(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-sdk-go-v2/service/ecs").Output()
	if err != nil {
		t.Skipf("no SDK source: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "types", "types.go"))
	if err != nil {
		t.Skipf("no SDK source: %v", err)
	}
	sdk := map[string][]string{}
	typeRE := regexp.MustCompile(`^type (\w+) struct \{$`)
	fieldRE := regexp.MustCompile(`^\t(\w+) `)
	var typ string
	required := false
	for line := range strings.Lines(string(src)) {
		line = strings.TrimRight(line, "\n")
		switch {
		case typeRE.MatchString(line):
			typ = typeRE.FindStringSubmatch(line)[1]
		case line == "}":
			typ = ""
		case strings.TrimSpace(line) == "// This member is required.":
			required = true
		case typ != "" && required && fieldRE.MatchString(line):
			sdk[typ] = append(sdk[typ], lowerFirst(fieldRE.FindStringSubmatch(line)[1]))
			required = false
		}
	}
	seen := map[*Shape]bool{}
	var visit func(s *Shape)
	visit = func(s *Shape) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		if s.Kind == ShapeStruct && s != taskDefinitionShape() {
			got := slices.Sorted(slices.Values(requiredMembers(s.Name)))
			want := slices.Sorted(slices.Values(sdk[s.Name]))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("requiredMembers(%q) (-sdk +ours):\n%s", s.Name, diff)
			}
		}
		visit(s.Elem)
		for _, f := range s.Fields {
			visit(f)
		}
	}
	visit(taskDefinitionShape())
}

func ExampleCheckTaskDefinition() {
	td, err := ParseJSON([]byte(`{
  "family": "web",
  "requiresCompatibilities": ["FARGATE"],
  "networkMode": "awsvpc",
  "cpu": "1 vcpu",
  "memory": "1 GB",
  "containerDefinitions": [{
    "name": "web",
    "image": "nginx",
    "essentail": true,
    "portMappings": [{"containerPort": "8080"}],
    "environment": [{"name": "DB_PASSWORD", "value": "hunter2"}]
  }]
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	problems, warnings := CheckTaskDefinition(td)
	for _, p := range problems {
		fmt.Println("error:", p)
	}
	for _, w := range warnings {
		fmt.Println("warning:", w)
	}
	// Output:
	// error: cpu: fargate does not support cpu 1024 with memory 1024 (1024 allows 2048 to 8192 MiB in 1024 MiB steps)
	// error: containerDefinitions[0].essentail: unknown key; did you mean "essential"?
	// error: containerDefinitions[0].portMappings[0].containerPort: want a number, got string "8080"
	// warning: containerDefinitions[0].environment[0]: "DB_PASSWORD" looks like a secret in plain text; move it to secrets (ssm or secrets manager)
}
