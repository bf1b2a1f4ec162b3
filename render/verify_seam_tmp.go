package render

// TEMPORARY copy of the verify seam's declarations (notes/verify-interface.md)
// so that render/remote compiles on its own branch. The merger deletes this
// file in favour of render/verify.go.

import (
	"context"
	"errors"
)

// ErrAccessDenied is matched with errors.Is by lookup errors that AWS refused for lack of a permission;
// such an error's message is one line that names the permission, e.g. `access denied (grant iam:GetRole)`.
var ErrAccessDenied = errors.New("access denied")

// Platform is one os/architecture an image offers (OCI names: "linux", "amd64"/"arm64", variant "v8").
type Platform struct{ OS, Architecture, Variant string }

// RoleFacts is what IAM says of a role.
type RoleFacts struct {
	Found       bool // false when IAM answers NoSuchEntity
	ARN         string
	TrustPolicy string // the assume-role policy document as JSON (already URL-decoded)
}

// ServiceLoadBalancer is one load balancer entry of an ECS service.
type ServiceLoadBalancer struct {
	ContainerName  string
	ContainerPort  int
	TargetGroupARN string
}

// ServiceFacts is what ECS says of a service and the task definition it runs now.
type ServiceFacts struct {
	Found                bool   // false when ECS reports the service MISSING
	Status               string // ACTIVE, DRAINING, INACTIVE
	DeploymentController string // ECS, CODE_DEPLOY or EXTERNAL
	LoadBalancers        []ServiceLoadBalancer
	TaskDefinitionARN    string
	// TaskDefinition is the running task definition as the ECS API returns it from
	// DescribeTaskDefinition: the raw JSON `{"taskDefinition": {...}}` (lowerCamel keys).
	TaskDefinition []byte
}

// AccountLookup answers sts:GetCallerIdentity.
type AccountLookup interface {
	CallerAccount(ctx context.Context) (string, error)
}

// RoleLookup answers iam:GetRole; ref is a role name or role ARN.
type RoleLookup interface {
	Role(ctx context.Context, ref string) (RoleFacts, error)
}

// ParameterLookup reports which SSM parameters exist.
type ParameterLookup interface {
	Parameters(ctx context.Context, region string, names []string) (map[string]bool, error)
}

// SecretLookup answers secretsmanager:DescribeSecret.
type SecretLookup interface {
	Secret(ctx context.Context, region, id string) (bool, error)
}

// LogGroupLookup answers logs:DescribeLogGroups.
type LogGroupLookup interface {
	LogGroup(ctx context.Context, region, name string) (bool, error)
}

// PlatformLookup lists the platforms an ECR image offers.
type PlatformLookup interface {
	ImagePlatforms(ctx context.Context, image string) ([]Platform, error)
}

// ServiceLookup describes an ECS service and the task definition it runs.
type ServiceLookup interface {
	Service(ctx context.Context, region, cluster, service string) (ServiceFacts, error)
}

// VerifyLookups are verify's view of the world; a nil field means that kind is not verified.
type VerifyLookups struct {
	Account    AccountLookup
	Roles      RoleLookup
	Parameters ParameterLookup
	Secrets    SecretLookup
	LogGroups  LogGroupLookup
	Images     PlatformLookup
	Services   ServiceLookup
}
