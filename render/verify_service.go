package render

import (
	"fmt"
	"slices"
	"strings"
)

// notDeployedMsg is the warning on a change that the ECS (rolling) deploy
// action drops: it copies the running revision and swaps only images.
const notDeployedMsg = "not deployed by the ECS action: apply it with Terraform"

// verifyService checks the deploy against the service it goes to and
// lists what it changes.
func verifyService(td *Node, in VerifyInput, svc ServiceFacts, rep *VerifyReport) error {
	t := in.Target
	name := fmt.Sprintf("service %q in cluster %q", t.Service, t.Cluster)
	problem := func(format string, args ...any) {
		rep.Problems = append(rep.Problems, Problem{Msg: name + ": " + fmt.Sprintf(format, args...)})
	}
	if !svc.Found {
		problem("not found in region %q", in.Region)
		return nil
	}
	if svc.Status != "ACTIVE" {
		problem("is %q, not ACTIVE: a deploy would not reach it", svc.Status)
		return nil
	}
	running, err := runningTaskDefinition(svc.TaskDefinition)
	if err != nil {
		return fmt.Errorf("task definition %q of %s: %w", svc.TaskDefinitionARN, name, err)
	}

	switch svc.DeploymentController {
	case "CODE_DEPLOY":
		checkAppSpecTarget(in.AppSpec, svc.LoadBalancers, problem)
	case "ECS", "":
		names := diffContainerNames(running)
		for _, c := range in.ImageDefinitions {
			if !slices.Contains(names, c) {
				problem("imagedefinitions.json names container %q, which the task definition it runs (%q) does not have (it has %s): the ECS deploy action would fail", c, svc.TaskDefinitionARN, quoteNames(names))
			}
		}
	}

	changes := diffTaskDefinitions(running, withImages(td, in.Images))
	rolling := svc.DeploymentController == "ECS" || svc.DeploymentController == ""
	var dropped int
	for _, c := range changes {
		if len(rep.Changes) < verifyMaxChanges {
			rep.Changes = append(rep.Changes, c.String())
		}
		if rolling && !(c.field == "image" && slices.Contains(in.ImageDefinitions, c.container)) {
			if dropped++; dropped <= verifyMaxChanges {
				rep.Warnings = append(rep.Warnings, Problem{Path: c.path, Msg: notDeployedMsg})
			}
		}
	}
	if more := len(changes) - verifyMaxChanges; more > 0 {
		rep.Changes = append(rep.Changes, fmt.Sprintf("and %d more changes", more))
	}
	if more := dropped - verifyMaxChanges; more > 0 {
		rep.Warnings = append(rep.Warnings, Problem{Msg: fmt.Sprintf("and %d more changes %s", more, notDeployedMsg)})
	}
	if len(changes) == 0 {
		rep.Notices = append(rep.Notices, name+": the deploy changes nothing in the task definition it runs")
	}
	return nil
}

// verifyMaxChanges bounds the change lines, and the warnings about them, in
// a build log: past a few dozen, the list is a rewrite no one reads line by
// line, and a generated template could make it endless.
const verifyMaxChanges = 50

// checkAppSpecTarget checks that CodeDeploy shifts traffic to the
// container and port the service's load balancer sends it to; otherwise
// the deployment fails after the replacement tasks have started.
func checkAppSpecTarget(a *VerifyAppSpec, lbs []ServiceLoadBalancer, problem func(string, ...any)) {
	var have []string
	for _, lb := range lbs {
		have = append(have, fmt.Sprintf("%q:%d", lb.ContainerName, lb.ContainerPort))
	}
	switch {
	case a == nil:
		problem("deploys with CODE_DEPLOY, which needs an AppSpec, and this run writes none")
	case len(lbs) == 0:
		problem("deploys with CODE_DEPLOY but has no load balancer for the AppSpec's %q:%d", a.ContainerName, a.ContainerPort)
	case a.ContainerName == "":
		problem("deploys with CODE_DEPLOY to load balancer %s, and the AppSpec names none", strings.Join(have, ", "))
	default:
		for _, lb := range lbs {
			if lb.ContainerName == a.ContainerName && lb.ContainerPort == a.ContainerPort {
				return
			}
		}
		problem("the AppSpec's load balancer container %q:%d is not the service's, %s", a.ContainerName, a.ContainerPort, strings.Join(have, ", "))
	}
}

// runningTaskDefinition parses DescribeTaskDefinition's answer.
func runningTaskDefinition(raw []byte) (*Node, error) {
	n, err := ParseJSON(raw)
	if err != nil {
		return nil, err
	}
	if inner := n.Get("taskDefinition"); inner != nil {
		n = inner
	}
	if n.Kind != Object {
		return nil, fmt.Errorf("want an object, got %s", n.Kind)
	}
	return n, nil
}

// withImages returns td with each container's image replaced by its
// resolved reference: the rendered document may hold a CodeDeploy
// placeholder where the image goes.
func withImages(td *Node, images map[string]string) *Node {
	td = diffCopy(td)
	if cds := td.Get("containerDefinitions"); cds != nil && cds.Kind == Array {
		for _, c := range cds.Items {
			if img, ok := images[c.GetString("name")]; ok && c.Kind == Object {
				c.Set("image", NewString(img))
			}
		}
	}
	return td
}

func diffContainerNames(td *Node) []string {
	var names []string
	if cds := td.Get("containerDefinitions"); cds != nil && cds.Kind == Array {
		for _, c := range cds.Items {
			names = append(names, c.GetString("name"))
		}
	}
	return names
}

func quoteNames(names []string) string {
	if len(names) == 0 {
		return "no containers"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
