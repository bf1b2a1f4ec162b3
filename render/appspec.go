package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// AppSpecOptions are the CLI's AppSpec flags.
type AppSpecOptions struct {
	// Container is --container NAME:PORT; "" infers the only container that
	// maps a port.
	Container string
	// PlatformVersion is --platform-version, e.g. LATEST or 1.4.0.
	PlatformVersion string
	// Subnets are the --subnet flags.
	Subnets []string
	// SecurityGroups are the --security-group flags.
	SecurityGroups []string
	// AssignPublicIP is --assign-public-ip, ENABLED or DISABLED.
	AssignPublicIP string
	// CapacityProviders are the --capacity-provider NAME:WEIGHT[:BASE] flags.
	CapacityProviders []string
	// Hooks are the --hook HOOK=FUNCTION flags, in the order CodeDeploy
	// should list them; FUNCTION is a Lambda function name or ARN.
	Hooks []string
}

// AppSpec is a CodeDeploy AppSpec for an Amazon ECS blue/green deployment,
// in the shape CodeDeploy documents (and CodeDeployToECS reads as
// AppSpecTemplatePath).
type AppSpec struct {
	// Version is the AppSpec format version; CodeDeploy knows only "0.0".
	Version string
	// TargetService is the one resource an ECS AppSpec holds.
	TargetService AppSpecService
	// Hooks are the Lambda functions CodeDeploy calls at lifecycle events,
	// in document order.
	Hooks []AppSpecHook
}

// AppSpecService is the AppSpec's TargetService resource.
type AppSpecService struct {
	// Type is always AWS::ECS::Service.
	Type       string
	Properties AppSpecProperties
}

// AppSpecProperties are the TargetService's Properties.
type AppSpecProperties struct {
	// TaskDefinition is always "<TASK_DEFINITION>": CodeDeployToECS
	// registers taskdef.json and puts the new revision's ARN there.
	TaskDefinition string
	// LoadBalancerInfo is the container and port that receive traffic.
	LoadBalancerInfo AppSpecLoadBalancer
	// PlatformVersion is the Fargate platform version; "" leaves the
	// service's own.
	PlatformVersion string
	// NetworkConfiguration is nil to keep the service's own.
	NetworkConfiguration *AppSpecNetwork
	// CapacityProviderStrategy is nil to keep the service's own.
	CapacityProviderStrategy []AppSpecCapacityProvider
}

// AppSpecLoadBalancer is LoadBalancerInfo: the container that receives
// load balancer traffic, and its port.
type AppSpecLoadBalancer struct {
	ContainerName string
	ContainerPort int
}

// AppSpecNetwork is the replacement task set's NetworkConfiguration.
type AppSpecNetwork struct {
	AwsvpcConfiguration AppSpecAwsvpc
}

// AppSpecAwsvpc is the awsvpc network of the replacement task set.
type AppSpecAwsvpc struct {
	Subnets        []string
	SecurityGroups []string
	// AssignPublicIP is ENABLED, DISABLED or "" (ECS's default, DISABLED).
	AssignPublicIP string
}

// AppSpecCapacityProvider is one item of CapacityProviderStrategy.
type AppSpecCapacityProvider struct {
	CapacityProvider string
	Base             int
	Weight           int
}

// AppSpecHook is one entry of Hooks: a lifecycle event and the Lambda
// function (name or ARN) that CodeDeploy calls there.
type AppSpecHook struct {
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
	appSpecVersion        = "0.0"
	appSpecServiceType    = "AWS::ECS::Service"
	appSpecTaskDefinition = "<TASK_DEFINITION>"
	// appSpecMaxBytes bounds what ParseAppSpec reads; an AppSpec is a few
	// hundred bytes, so anything near this is a mistake or an attack.
	appSpecMaxBytes = 1 << 20
	// The ECS limits on a capacity provider strategy item.
	appSpecMaxWeight = 1000
	appSpecMaxBase   = 100000
	// The ECS limits of an awsvpc configuration.
	appSpecMaxSubnets        = 16
	appSpecMaxSecurityGroups = 5
)

// appSpecHookList names the ECS lifecycle hooks in the order they run.
const appSpecHookList = "BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic"

func appSpecHooks() []string { return strings.Split(appSpecHookList, ", ") }

func isAppSpecHook(name string) bool {
	for _, h := range appSpecHooks() {
		if h == name {
			return true
		}
	}
	return false
}

// Shapes of the IDs an AppSpec holds. They are checked here, not left to
// CodeDeploy, because an unrendered placeholder such as ${SUBNET} would
// otherwise only fail halfway through a deployment.
var (
	appSpecSubnetRE        = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	appSpecSecurityGroupRE = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	appSpecPlatformRE      = regexp.MustCompile(`^(LATEST|[0-9]+\.[0-9]+\.[0-9]+)$`)
	appSpecProviderRE      = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	// A Lambda function name with an optional version or alias, or its ARN.
	appSpecFunctionRE = regexp.MustCompile(`^(arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:function:)?[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$`)
)

// BuildAppSpec makes the AppSpec from the flags and the rendered task
// definition. It returns nil and no error when no container maps a port:
// there is no load balancer to shift, and rolling deploys need no AppSpec.
func BuildAppSpec(td *Node, o AppSpecOptions) (*AppSpec, error) {
	props := AppSpecProperties{TaskDefinition: appSpecTaskDefinition}
	// Every flag is checked before the container is inferred, so that a bad
	// flag is reported even for a task definition that needs no AppSpec.
	if o.PlatformVersion != "" {
		if !appSpecPlatformRE.MatchString(o.PlatformVersion) {
			return nil, appSpecInputError("--platform-version %s: want LATEST or a version such as 1.4.0", o.PlatformVersion)
		}
		props.PlatformVersion = o.PlatformVersion
	}
	network, err := appSpecNetworkFlags(o)
	if err != nil {
		return nil, err
	}
	props.NetworkConfiguration = network
	props.CapacityProviderStrategy, err = appSpecCapacityFlags(o.CapacityProviders)
	if err != nil {
		return nil, err
	}
	hooks, err := appSpecHookFlags(o.Hooks)
	if err != nil {
		return nil, err
	}

	containers := appSpecContainers(td)
	if o.Container != "" {
		name, portText, ok := strings.Cut(o.Container, ":")
		if !ok || name == "" || portText == "" {
			return nil, appSpecInputError("--container %s: want NAME:PORT", o.Container)
		}
		port, ok := appSpecPort(portText)
		if !ok {
			return nil, appSpecInputError("--container %s: want a port number from 1 to 65535 after the colon", o.Container)
		}
		if msg := appSpecCheckContainer(containers, name, port); msg != "" {
			return nil, appSpecInputError("--container %s: %s", o.Container, msg)
		}
		props.LoadBalancerInfo = AppSpecLoadBalancer{ContainerName: name, ContainerPort: port}
	} else {
		var candidates []AppSpecLoadBalancer
		var names []string
		for _, c := range containers {
			for _, p := range c.ports {
				candidates = append(candidates, AppSpecLoadBalancer{ContainerName: c.name, ContainerPort: p})
				names = append(names, c.name+":"+strconv.Itoa(p))
			}
		}
		if len(candidates) == 0 {
			return nil, nil
		}
		// Guessing among several would send production traffic to a port
		// nobody chose; the user has to say which.
		if len(candidates) > 1 {
			return nil, appSpecInputError("--container: several container ports could take the load balancer's traffic; pass --container NAME:PORT with one of %s", strings.Join(names, ", "))
		}
		props.LoadBalancerInfo = candidates[0]
	}
	return &AppSpec{
		Version:       appSpecVersion,
		TargetService: AppSpecService{Type: appSpecServiceType, Properties: props},
		Hooks:         hooks,
	}, nil
}

func appSpecInputError(format string, args ...any) error {
	return &InputError{fmt.Errorf(format, args...)}
}

func appSpecNetworkFlags(o AppSpecOptions) (*AppSpecNetwork, error) {
	if len(o.Subnets) == 0 {
		// ECS needs subnets in an awsvpc configuration; without them the
		// other two flags would describe a network CodeDeploy rejects.
		switch {
		case len(o.SecurityGroups) > 0:
			return nil, appSpecInputError("--security-group %s: needs --subnet", o.SecurityGroups[0])
		case o.AssignPublicIP != "":
			return nil, appSpecInputError("--assign-public-ip %s: needs --subnet", o.AssignPublicIP)
		}
		return nil, nil
	}
	if len(o.Subnets) > appSpecMaxSubnets {
		return nil, appSpecInputError("--subnet: given %d times; ECS allows at most %d", len(o.Subnets), appSpecMaxSubnets)
	}
	if len(o.SecurityGroups) > appSpecMaxSecurityGroups {
		return nil, appSpecInputError("--security-group: given %d times; ECS allows at most %d", len(o.SecurityGroups), appSpecMaxSecurityGroups)
	}
	for _, s := range o.Subnets {
		if !appSpecSubnetRE.MatchString(s) {
			return nil, appSpecInputError("--subnet %s: want a subnet ID such as subnet-0123456789abcdef0", s)
		}
	}
	for _, s := range o.SecurityGroups {
		if !appSpecSecurityGroupRE.MatchString(s) {
			return nil, appSpecInputError("--security-group %s: want a security group ID such as sg-0123456789abcdef0", s)
		}
	}
	if o.AssignPublicIP != "" && o.AssignPublicIP != "ENABLED" && o.AssignPublicIP != "DISABLED" {
		return nil, appSpecInputError("--assign-public-ip %s: want ENABLED or DISABLED", o.AssignPublicIP)
	}
	return &AppSpecNetwork{AwsvpcConfiguration: AppSpecAwsvpc{
		Subnets:        o.Subnets,
		SecurityGroups: o.SecurityGroups,
		AssignPublicIP: o.AssignPublicIP,
	}}, nil
}

func appSpecCapacityFlags(flags []string) ([]AppSpecCapacityProvider, error) {
	var out []AppSpecCapacityProvider
	withBase := ""
	for _, f := range flags {
		parts := strings.Split(f, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, appSpecInputError("--capacity-provider %s: want NAME:WEIGHT[:BASE]", f)
		}
		item := AppSpecCapacityProvider{CapacityProvider: parts[0]}
		if !appSpecProviderRE.MatchString(item.CapacityProvider) {
			return nil, appSpecInputError("--capacity-provider %s: want a capacity provider name of letters, digits, _ and -", f)
		}
		var ok bool
		if item.Weight, ok = appSpecWhole(parts[1], appSpecMaxWeight); !ok {
			return nil, appSpecInputError("--capacity-provider %s: weight must be a whole number from 0 to %d", f, appSpecMaxWeight)
		}
		if len(parts) == 3 {
			if item.Base, ok = appSpecWhole(parts[2], appSpecMaxBase); !ok {
				return nil, appSpecInputError("--capacity-provider %s: base must be a whole number from 0 to %d", f, appSpecMaxBase)
			}
		}
		for _, prev := range out {
			if prev.CapacityProvider == item.CapacityProvider {
				return nil, appSpecInputError("--capacity-provider %s: %s given twice", f, item.CapacityProvider)
			}
		}
		if item.Base > 0 {
			// ECS refuses a strategy in which two providers have a base.
			if withBase != "" {
				return nil, appSpecInputError("--capacity-provider %s: only one capacity provider may have a base, and %s has one", f, withBase)
			}
			withBase = item.CapacityProvider
		}
		out = append(out, item)
	}
	return out, nil
}

func appSpecHookFlags(flags []string) ([]AppSpecHook, error) {
	var out []AppSpecHook
	for _, f := range flags {
		event, fn, ok := strings.Cut(f, "=")
		if !ok || event == "" || fn == "" {
			return nil, appSpecInputError("--hook %s: want HOOK=FUNCTION", f)
		}
		if !isAppSpecHook(event) {
			return nil, appSpecInputError("--hook %s: unknown hook%s; want one of %s", f, appSpecDidYouMean(event, appSpecHooks()), appSpecHookList)
		}
		if !appSpecFunctionRE.MatchString(fn) {
			return nil, appSpecInputError("--hook %s: want a Lambda function name or ARN after the =", f)
		}
		for _, h := range out {
			if h.Event == event {
				return nil, appSpecInputError("--hook %s: %s given twice", f, event)
			}
		}
		out = append(out, AppSpecHook{Event: event, Function: fn})
	}
	return out, nil
}

// appSpecContainer is one container of the task definition and the
// container ports it maps, in document order without repeats.
type appSpecContainer struct {
	name  string
	ports []int
}

func appSpecContainers(td *Node) []appSpecContainer {
	defs := td.Get("containerDefinitions")
	if defs == nil || defs.Kind != Array {
		return nil
	}
	var out []appSpecContainer
	for _, d := range defs.Items {
		c := appSpecContainer{name: d.GetString("name")}
		if pm := d.Get("portMappings"); pm != nil && pm.Kind == Array {
			for _, m := range pm.Items {
				v := m.Get("containerPort")
				if v == nil || v.Kind != Number {
					continue
				}
				p, err := strconv.Atoi(v.Str)
				if err != nil || slices.Contains(c.ports, p) {
					continue
				}
				c.ports = append(c.ports, p)
			}
		}
		out = append(out, c)
	}
	return out
}

// appSpecCheckContainer says what is wrong with name:port as the
// load-balanced container, or "" when it is right. The message lists what
// the task definition offers, since the usual mistake is a stale name or
// port copied from another service.
func appSpecCheckContainer(containers []appSpecContainer, name string, port int) string {
	var names []string
	for _, c := range containers {
		if c.name != name {
			names = append(names, c.name)
			continue
		}
		if slices.Contains(c.ports, port) {
			return ""
		}
		if len(c.ports) == 0 {
			return fmt.Sprintf("container %s maps no ports (portMappings[].containerPort)", name)
		}
		ports := make([]string, len(c.ports))
		for i, p := range c.ports {
			ports[i] = strconv.Itoa(p)
		}
		return fmt.Sprintf("container %s does not map port %d (it maps %s)", name, port, strings.Join(ports, ", "))
	}
	if len(names) == 0 {
		return fmt.Sprintf("no container %s: the task definition has no containers", name)
	}
	return fmt.Sprintf("no container %s in the task definition (containers: %s)", name, appSpecContainerList(containers))
}

// appSpecContainerList lists containers with their ports, e.g.
// "web (80, 443), worker (no ports)".
func appSpecContainerList(containers []appSpecContainer) string {
	items := make([]string, len(containers))
	for i, c := range containers {
		if len(c.ports) == 0 {
			items[i] = c.name + " (no ports)"
			continue
		}
		ports := make([]string, len(c.ports))
		for j, p := range c.ports {
			ports[j] = strconv.Itoa(p)
		}
		items[i] = c.name + " (" + strings.Join(ports, ", ") + ")"
	}
	return strings.Join(items, ", ")
}

// appSpecPort parses a decimal port number.
func appSpecPort(s string) (int, bool) {
	p, ok := appSpecWhole(s, 65535)
	return p, ok && p > 0
}

// appSpecWhole parses a decimal whole number from 0 to hi. It refuses
// signs, spaces and YAML's other integer forms (0x50, 1_000), which
// CodeDeploy's JSON-minded reader would not take.
func appSpecWhole(s string, hi int) (int, bool) {
	if s == "" || len(s) > 9 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n <= hi
}

// appSpecDidYouMean returns ", did you mean X?" with the known name closest
// to s, or "" when none is close enough to be a likely typo. It uses the
// same measure as the task definition's checks.
func appSpecDidYouMean(s string, known []string) string {
	if best := suggest(s, known); best != "" {
		return ", did you mean " + best + "?"
	}
	return ""
}

// ParseAppSpec renders an AppSpec template (--appspec SRC: YAML or JSON, as
// CodeDeploy accepts both) and checks it against the rendered task
// definition td. Template actions inside string values are rendered with the
// same functions and variables as the task definition, each string on its
// own. Every problem is reported at once in a *ProblemsError. With a nil td
// the container is not checked.
//
// A document whose first non-blank character is "{" is read as JSON, with
// JSON's escapes and duplicate-key check, and as YAML only when it is not
// valid JSON (a YAML flow mapping); anything else as YAML. YAML anchors,
// aliases, merge keys and explicit tags are refused: an AppSpec needs none
// of them, and aliases let a small file expand into a huge one.
func ParseAppSpec(data []byte, tdata TemplateData, td *Node) (*AppSpec, error) {
	if len(data) > appSpecMaxBytes {
		return nil, appSpecProblem("document is %d bytes; the limit is 1 MiB", len(data))
	}
	var root *yaml.Node
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return nil, appSpecProblem("empty document")
	case trimmed[0] == '{':
		n, jsonErr := ParseJSON(data)
		if jsonErr == nil {
			root = appSpecFromJSON(n)
			break
		}
		var err error
		if root, err = appSpecDecodeYAML(data); err != nil {
			// Meant as JSON, most likely: JSON's message, with its line
			// and column, is the one that helps.
			return nil, appSpecProblem("%s", jsonErr)
		}
		if err := appSpecCheckYAML(root); err != nil {
			return nil, err
		}
	default:
		var err error
		if root, err = appSpecDecodeYAML(data); err != nil {
			return nil, err
		}
		if err := appSpecCheckYAML(root); err != nil {
			return nil, err
		}
	}
	p := &appSpecParser{e: newEvaluator(tdata), containers: appSpecContainers(td), checkContainer: td != nil}
	a := p.appSpec(root)
	if err := p.e.stopped(); err != nil {
		return nil, fmt.Errorf("appspec: %w", err)
	}
	if len(p.e.problems) > 0 {
		return nil, &ProblemsError{Object: "appspec", Problems: p.e.problems}
	}
	return a, nil
}

func appSpecProblem(format string, args ...any) error {
	return &ProblemsError{Object: "appspec", Problems: []Problem{{Msg: fmt.Sprintf(format, args...)}}}
}

// appSpecDecodeYAML parses one YAML document into a tree. Aliases stay
// pointers to their anchors, not copies, so parsing a YAML bomb is cheap.
func appSpecDecodeYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, appSpecProblem("empty document")
		}
		return nil, appSpecProblem("invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, appSpecProblem("more than one YAML document; an AppSpec is one")
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &doc, nil
}

// appSpecCheckYAML refuses the YAML features an AppSpec has no use for (see
// appSpecSafety).
func appSpecCheckYAML(root *yaml.Node) error {
	var safety []Problem
	appSpecSafety(root, "", &safety)
	if len(safety) > 0 {
		return &ProblemsError{Object: "appspec", Problems: safety}
	}
	return nil
}

// appSpecSafety reports the YAML features an AppSpec has no use for and
// that make a document mean more than it shows: anchors and aliases (a
// "billion laughs" document expands exponentially), merge keys, explicit
// tags (!!binary and custom types) and non-string keys. It never follows
// an alias, so it runs in time linear in the document's size.
func appSpecSafety(n *yaml.Node, path string, out *[]Problem) {
	at := func(msg string) {
		*out = append(*out, Problem{Path: path, Msg: fmt.Sprintf("line %d: %s", n.Line, msg)})
	}
	if n.Anchor != "" {
		at(fmt.Sprintf("YAML anchor &%s refused: an AppSpec may not use anchors or aliases, which can expand a small file into a huge one", n.Anchor))
	}
	switch {
	case n.Kind == yaml.AliasNode:
		// Its anchor is reported where it is defined.
		return
	case n.Style&yaml.TaggedStyle != 0:
		at(fmt.Sprintf("YAML tag %s refused: an AppSpec holds only plain strings, numbers, lists and mappings", n.Tag))
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		// A map, not a scan of the earlier keys: a 1 MiB mapping holds
		// ~100,000 keys, and comparing each with all before it takes minutes.
		firstLine := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch {
			case k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge":
				*out = append(*out, Problem{Path: path, Msg: fmt.Sprintf("line %d: YAML merge key << refused: write the keys out", k.Line)})
				continue
			case k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str":
				*out = append(*out, Problem{Path: path, Msg: fmt.Sprintf("line %d: keys must be strings, got %s", k.Line, appSpecDescribe(k))})
				continue
			}
			child := joinPath(path, k.Value)
			if line, dup := firstLine[k.Value]; dup {
				*out = append(*out, Problem{Path: child, Msg: fmt.Sprintf("line %d: duplicate key (first at line %d)", k.Line, line)})
			} else {
				firstLine[k.Value] = k.Line
			}
			appSpecSafety(v, child, out)
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			appSpecSafety(v, indexPath(path, i), out)
		}
	}
}

// appSpecFromJSON turns a parsed JSON document into the YAML tree the
// checks walk, so that both forms go through one set of checks.
func appSpecFromJSON(n *Node) *yaml.Node {
	switch n.Kind {
	case String:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: n.Str, Style: yaml.DoubleQuotedStyle}
	case Number:
		tag := "!!int"
		if strings.ContainsAny(n.Str, ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: n.Str}
	case Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(n.Bool)}
	case Object:
		y := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, m := range n.Members {
			y.Content = append(y.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: m.Key},
				appSpecFromJSON(m.Value))
		}
		return y
	case Array:
		y := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, v := range n.Items {
			y.Content = append(y.Content, appSpecFromJSON(v))
		}
		return y
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
}

// appSpecDescribe names a YAML value's type for messages, e.g.
// "a number (80)".
func appSpecDescribe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return strconv.Quote(n.Value)
		case "!!int", "!!float":
			return "a number (" + n.Value + ")"
		case "!!bool":
			return "a boolean (" + n.Value + ")"
		case "!!null":
			return "null"
		}
		return n.ShortTag() + " " + strconv.Quote(n.Value)
	}
	return "an alias"
}

// appSpecParser walks an AppSpec tree, renders its strings and records its
// problems in the evaluator, so that template problems and AppSpec
// problems come out together in document order.
type appSpecParser struct {
	e              *evaluator
	containers     []appSpecContainer
	checkContainer bool
}

func (p *appSpecParser) problem(path, format string, args ...any) {
	p.e.problems = append(p.e.problems, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// fields checks that n is a mapping with only the given keys, and returns
// the values by key. Null values count as absent, as in task definitions.
// required keys that are missing are reported with why they matter.
func (p *appSpecParser) fields(n *yaml.Node, path string, known []string, required map[string]string) (map[string]*yaml.Node, bool) {
	if n.Kind != yaml.MappingNode {
		p.problem(path, "want a mapping, got %s", appSpecDescribe(n))
		return nil, false
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		if !slices.Contains(known, k) {
			if hint := appSpecDidYouMean(k, known); hint != "" {
				p.problem(joinPath(path, k), "unknown key%s", hint)
			} else {
				p.problem(joinPath(path, k), "unknown key; want one of %s", strings.Join(known, ", "))
			}
			continue
		}
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
			continue
		}
		out[k] = v
	}
	for _, k := range known {
		if why, ok := required[k]; ok && out[k] == nil {
			p.problem(joinPath(path, k), "missing; %s", why)
		}
	}
	return out, true
}

// str renders a string value; ok is false when it is not a string or its
// template failed (the problem is recorded).
func (p *appSpecParser) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		hint := ""
		if n.Kind == yaml.ScalarNode {
			hint = "; quote it"
		}
		p.problem(path, "want a string, got %s%s", appSpecDescribe(n), hint)
		return "", false
	}
	out, _, ok := p.e.renderString(path, n.Value)
	return out, ok
}

// whole reads a whole number from lo to hi. A string that is exactly one
// template action becomes a number, as in task definitions; any other
// string is a type error, because CodeDeploy wants a number there.
func (p *appSpecParser) whole(n *yaml.Node, path string, lo, hi int) (int, bool) {
	text := n.Value
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		out, single, ok := p.e.renderString(path, n.Value)
		if !ok {
			return 0, false
		}
		if !single {
			hint := ""
			switch {
			case strings.Contains(n.Value, "{{"):
				hint = "; only a value that is exactly one template action becomes a number"
			case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
				hint = "; write it unquoted"
			}
			p.problem(path, "want a number from %d to %d, got %q%s", lo, hi, n.Value, hint)
			return 0, false
		}
		v, ok := appSpecWhole(out, hi)
		if !ok || v < lo {
			p.problem(path, "want a number from %d to %d, the template gave %q", lo, hi, out)
			return 0, false
		}
		return v, true
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int":
	default:
		p.problem(path, "want a number from %d to %d, got %s", lo, hi, appSpecDescribe(n))
		return 0, false
	}
	v, ok := appSpecWhole(text, hi)
	if !ok || v < lo {
		p.problem(path, "want a number from %d to %d, got %s", lo, hi, text)
		return 0, false
	}
	return v, true
}

func (p *appSpecParser) list(n *yaml.Node, path string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		p.problem(path, "want a list, got %s", appSpecDescribe(n))
		return nil
	}
	return n.Content
}

func (p *appSpecParser) appSpec(root *yaml.Node) *AppSpec {
	f, ok := p.fields(root, "", []string{"version", "Resources", "Hooks"}, map[string]string{
		"version":   "CodeDeploy needs version: 0.0",
		"Resources": "an ECS AppSpec needs one TargetService resource",
	})
	if !ok {
		return nil
	}
	a := &AppSpec{Version: appSpecVersion}
	if v := f["version"]; v != nil {
		// YAML reads 0.0 as a float and JSON writers may quote it; both
		// keep the text "0.0", and CodeDeploy accepts both.
		if v.Kind != yaml.ScalarNode || v.Value != appSpecVersion || (v.ShortTag() != "!!float" && v.ShortTag() != "!!str") {
			p.problem("version", "want 0.0 (the only AppSpec version CodeDeploy knows), got %s", appSpecDescribe(v))
		}
	}
	if r := f["Resources"]; r != nil {
		items := p.list(r, "Resources")
		if r.Kind == yaml.SequenceNode && len(items) != 1 {
			p.problem("Resources", "want exactly one resource (the TargetService), got %d", len(items))
		}
		if len(items) > 0 {
			a.TargetService = p.resource(items[0], "Resources[0]")
		}
	}
	if h := f["Hooks"]; h != nil {
		a.Hooks = p.hooks(h, "Hooks")
	}
	return a
}

func (p *appSpecParser) resource(n *yaml.Node, path string) AppSpecService {
	var s AppSpecService
	f, ok := p.fields(n, path, []string{"TargetService"}, map[string]string{
		"TargetService": "CodeDeploy's ECS AppSpec names its one resource TargetService",
	})
	if !ok || f["TargetService"] == nil {
		return s
	}
	path = joinPath(path, "TargetService")
	f, ok = p.fields(f["TargetService"], path, []string{"Type", "Properties"}, map[string]string{
		"Type":       "want Type: " + appSpecServiceType,
		"Properties": "it holds TaskDefinition and LoadBalancerInfo",
	})
	if !ok {
		return s
	}
	if t := f["Type"]; t != nil {
		if v, ok := p.str(t, joinPath(path, "Type")); ok {
			s.Type = v
			if v != appSpecServiceType {
				p.problem(joinPath(path, "Type"), "want %s, got %q: ecsrender makes AppSpecs for ECS deployments", appSpecServiceType, v)
			}
		}
	}
	if pr := f["Properties"]; pr != nil {
		s.Properties = p.properties(pr, joinPath(path, "Properties"))
	}
	return s
}

func (p *appSpecParser) properties(n *yaml.Node, path string) AppSpecProperties {
	var props AppSpecProperties
	f, ok := p.fields(n, path, []string{"TaskDefinition", "LoadBalancerInfo", "PlatformVersion", "NetworkConfiguration", "CapacityProviderStrategy"}, map[string]string{
		"TaskDefinition":   "want TaskDefinition: " + appSpecTaskDefinition,
		"LoadBalancerInfo": "a blue/green deployment shifts traffic to this container and port",
	})
	if !ok {
		return props
	}
	if t := f["TaskDefinition"]; t != nil {
		at := joinPath(path, "TaskDefinition")
		if v, ok := p.str(t, at); ok {
			props.TaskDefinition = v
			switch {
			case v == appSpecTaskDefinition:
			case strings.HasPrefix(v, "arn:"):
				p.problem(at, "want %s, got an ARN: CodeDeployToECS registers taskdef.json itself and puts the new revision's ARN in place of %s, so a fixed ARN here would deploy an old revision", appSpecTaskDefinition, appSpecTaskDefinition)
			default:
				p.problem(at, "want %s, got %q: CodeDeployToECS replaces exactly that placeholder with the new revision's ARN", appSpecTaskDefinition, v)
			}
		}
	}
	if lb := f["LoadBalancerInfo"]; lb != nil {
		props.LoadBalancerInfo = p.loadBalancer(lb, joinPath(path, "LoadBalancerInfo"))
	}
	if v := f["PlatformVersion"]; v != nil {
		at := joinPath(path, "PlatformVersion")
		if s, ok := p.str(v, at); ok {
			props.PlatformVersion = s
			if !appSpecPlatformRE.MatchString(s) {
				p.problem(at, "want LATEST or a version such as 1.4.0, got %q", s)
			}
		}
	}
	if v := f["NetworkConfiguration"]; v != nil {
		props.NetworkConfiguration = p.network(v, joinPath(path, "NetworkConfiguration"))
	}
	if v := f["CapacityProviderStrategy"]; v != nil {
		props.CapacityProviderStrategy = p.capacity(v, joinPath(path, "CapacityProviderStrategy"))
	}
	return props
}

func (p *appSpecParser) loadBalancer(n *yaml.Node, path string) AppSpecLoadBalancer {
	var lb AppSpecLoadBalancer
	f, ok := p.fields(n, path, []string{"ContainerName", "ContainerPort"}, map[string]string{
		"ContainerName": "the container that receives the load balancer's traffic",
		"ContainerPort": "the container port that receives the load balancer's traffic",
	})
	if !ok {
		return lb
	}
	nameOK, portOK := false, false
	if v := f["ContainerName"]; v != nil {
		lb.ContainerName, nameOK = p.str(v, joinPath(path, "ContainerName"))
	}
	if v := f["ContainerPort"]; v != nil {
		lb.ContainerPort, portOK = p.whole(v, joinPath(path, "ContainerPort"), 1, 65535)
	}
	if nameOK && portOK && p.checkContainer {
		if msg := appSpecCheckContainer(p.containers, lb.ContainerName, lb.ContainerPort); msg != "" {
			p.problem(path, "%s", msg)
		}
	}
	return lb
}

func (p *appSpecParser) network(n *yaml.Node, path string) *AppSpecNetwork {
	f, ok := p.fields(n, path, []string{"AwsvpcConfiguration"}, map[string]string{
		"AwsvpcConfiguration": "ECS blue/green deployments configure the network here",
	})
	if !ok || f["AwsvpcConfiguration"] == nil {
		return nil
	}
	path = joinPath(path, "AwsvpcConfiguration")
	f, ok = p.fields(f["AwsvpcConfiguration"], path, []string{"Subnets", "SecurityGroups", "AssignPublicIp"}, map[string]string{
		"Subnets": "ECS needs at least one subnet in an awsvpc configuration",
	})
	if !ok {
		return nil
	}
	var vpc AppSpecAwsvpc
	vpc.Subnets = p.ids(f["Subnets"], joinPath(path, "Subnets"), appSpecSubnetRE, "a subnet ID such as subnet-0123456789abcdef0", appSpecMaxSubnets)
	vpc.SecurityGroups = p.ids(f["SecurityGroups"], joinPath(path, "SecurityGroups"), appSpecSecurityGroupRE, "a security group ID such as sg-0123456789abcdef0", appSpecMaxSecurityGroups)
	if v := f["AssignPublicIp"]; v != nil {
		at := joinPath(path, "AssignPublicIp")
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
			p.problem(at, "want ENABLED or DISABLED, got %s", appSpecDescribe(v))
		} else if s, ok := p.str(v, at); ok {
			vpc.AssignPublicIP = s
			if s != "ENABLED" && s != "DISABLED" {
				p.problem(at, "want ENABLED or DISABLED, got %q", s)
			}
		}
	}
	return &AppSpecNetwork{AwsvpcConfiguration: vpc}
}

func (p *appSpecParser) ids(n *yaml.Node, path string, re *regexp.Regexp, want string, hi int) []string {
	if n == nil {
		return nil
	}
	items := p.list(n, path)
	if len(items) > hi {
		p.problem(path, "%d given; ECS allows at most %d", len(items), hi)
	}
	out := []string{}
	for i, v := range items {
		at := indexPath(path, i)
		if s, ok := p.str(v, at); ok {
			if !re.MatchString(s) {
				p.problem(at, "want %s, got %q", want, s)
			}
			out = append(out, s)
		}
	}
	return out
}

func (p *appSpecParser) capacity(n *yaml.Node, path string) []AppSpecCapacityProvider {
	items := p.list(n, path)
	out := []AppSpecCapacityProvider{}
	withBase := ""
	for i, v := range items {
		at := indexPath(path, i)
		f, ok := p.fields(v, at, []string{"CapacityProvider", "Base", "Weight"}, map[string]string{
			"CapacityProvider": "the name of a capacity provider of the cluster",
		})
		if !ok {
			continue
		}
		var item AppSpecCapacityProvider
		if c := f["CapacityProvider"]; c != nil {
			cp := joinPath(at, "CapacityProvider")
			if s, ok := p.str(c, cp); ok {
				item.CapacityProvider = s
				if !appSpecProviderRE.MatchString(s) {
					p.problem(cp, "want a capacity provider name of letters, digits, _ and -, got %q", s)
				}
				for _, prev := range out {
					if prev.CapacityProvider == s {
						p.problem(cp, "%s is listed twice", s)
					}
				}
			}
		}
		if b := f["Base"]; b != nil {
			item.Base, _ = p.whole(b, joinPath(at, "Base"), 0, appSpecMaxBase)
			if item.Base > 0 {
				if withBase != "" {
					p.problem(joinPath(at, "Base"), "only one capacity provider may have a base, and %s has one", withBase)
				}
				withBase = item.CapacityProvider
			}
		}
		if w := f["Weight"]; w != nil {
			item.Weight, _ = p.whole(w, joinPath(at, "Weight"), 0, appSpecMaxWeight)
		}
		out = append(out, item)
	}
	return out
}

func (p *appSpecParser) hooks(n *yaml.Node, path string) []AppSpecHook {
	items := p.list(n, path)
	out := []AppSpecHook{}
	for i, v := range items {
		at := indexPath(path, i)
		if v.Kind != yaml.MappingNode || len(v.Content) != 2 {
			p.problem(at, "want one HOOK: FUNCTION pair, got %s", appSpecHookShape(v))
			continue
		}
		event, fn := v.Content[0].Value, v.Content[1]
		hp := joinPath(at, event)
		if !isAppSpecHook(event) {
			p.problem(hp, "unknown hook%s; want one of %s", appSpecDidYouMean(event, appSpecHooks()), appSpecHookList)
			continue
		}
		for _, h := range out {
			if h.Event == event {
				p.problem(hp, "%s is listed twice", event)
			}
		}
		s, ok := p.str(fn, hp)
		if !ok {
			continue
		}
		if !appSpecFunctionRE.MatchString(s) {
			p.problem(hp, "want a Lambda function name or ARN, got %q", s)
		}
		out = append(out, AppSpecHook{Event: event, Function: s})
	}
	return out
}

func appSpecHookShape(n *yaml.Node) string {
	if n.Kind == yaml.MappingNode {
		return fmt.Sprintf("a mapping of %d keys", len(n.Content)/2)
	}
	return appSpecDescribe(n)
}
