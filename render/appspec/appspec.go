// Package appspec is the CodeDeploy AppSpec of an Amazon ECS blue/green
// deployment: its model, the options that build one, and the one validator
// that checks an AppSpec whether it was built from options or read from an
// AppSpec template (package render parses those).
package appspec

import (
	"strings"
)

// AppSpec is a CodeDeploy AppSpec for an Amazon ECS blue/green deployment,
// in the shape CodeDeploy documents (and CodeDeployToECS reads as
// AppSpecTemplatePath).
type AppSpec struct {
	// Version is the AppSpec format version; CodeDeploy knows only "0.0".
	Version string
	// TargetService is the one resource an ECS AppSpec holds.
	TargetService Service
	// Hooks are the Lambda functions CodeDeploy calls at lifecycle events,
	// in document order.
	Hooks []Hook
}

// Service is the AppSpec's TargetService resource.
type Service struct {
	// Type is always AWS::ECS::Service.
	Type       string
	Properties Properties
}

// Properties are the TargetService's Properties.
type Properties struct {
	// TaskDefinition is always "<TASK_DEFINITION>": CodeDeployToECS
	// registers taskdef.json and puts the new revision's ARN there.
	TaskDefinition string
	// LoadBalancerInfo is the container and port that receive traffic.
	LoadBalancerInfo LoadBalancer
	// PlatformVersion is the Fargate platform version; "" leaves the
	// service's own.
	PlatformVersion string
	// NetworkConfiguration is nil to keep the service's own.
	NetworkConfiguration *Network
	// CapacityProviderStrategy is nil to keep the service's own.
	CapacityProviderStrategy []CapacityProvider
}

// LoadBalancer is LoadBalancerInfo: the container that receives load
// balancer traffic, and its port.
type LoadBalancer struct {
	ContainerName string
	ContainerPort int
}

// Network is the replacement task set's NetworkConfiguration.
type Network struct {
	AwsvpcConfiguration Awsvpc
}

// Awsvpc is the awsvpc network of the replacement task set.
type Awsvpc struct {
	Subnets        []string
	SecurityGroups []string
	// AssignPublicIP is ENABLED, DISABLED or "" (ECS's default, DISABLED).
	AssignPublicIP string
}

// CapacityProvider is one item of CapacityProviderStrategy.
type CapacityProvider struct {
	CapacityProvider string
	Base             int
	Weight           int
}

// Hook is one entry of Hooks: a lifecycle event and the Lambda function
// (name or ARN) that CodeDeploy calls there.
type Hook struct {
	Event    string
	Function string
}

// Container returns the load-balanced container and port, which is the
// pipeline's primary container. It is safe on a nil AppSpec (no load
// balancer), where it returns "" and 0.
func (a *AppSpec) Container() (name string, port int) {
	if a == nil {
		return "", 0
	}
	lb := a.TargetService.Properties.LoadBalancerInfo
	return lb.ContainerName, lb.ContainerPort
}

// The fixed values of an ECS AppSpec.
const (
	// Version is the only AppSpec version CodeDeploy knows.
	Version = "0.0"
	// ServiceType is the type of an ECS AppSpec's TargetService.
	ServiceType = "AWS::ECS::Service"
	// TaskDefinition is what CodeDeployToECS replaces with the ARN of the
	// revision it registers from taskdef.json.
	TaskDefinition = "<TASK_DEFINITION>"
	// MaxWeight and MaxBase are the ECS limits on a capacity provider
	// strategy item.
	MaxWeight = 1000
	MaxBase   = 100000
	// The ECS limits of an awsvpc configuration.
	maxSubnets        = 16
	maxSecurityGroups = 5
)

// HookList names the ECS lifecycle hooks in the order they run.
const HookList = "BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic"

// Hooks returns the names of the ECS lifecycle hooks in the order they run.
func Hooks() []string { return strings.Split(HookList, ", ") }

func isHook(name string) bool {
	for _, h := range Hooks() {
		if h == name {
			return true
		}
	}
	return false
}

// Container is one container of the task definition and the container
// ports it maps, in document order without repeats: what LoadBalancerInfo
// may name.
type Container struct {
	Name  string
	Ports []int
}
