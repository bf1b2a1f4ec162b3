package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ecsrender/ecsrender/render/appspec"
)

// appSpecMaxBytes bounds what ParseAppSpec reads; an AppSpec is a few
// hundred bytes, so anything near this is a mistake or an attack.
const appSpecMaxBytes = 1 << 20

// ParseAppSpec renders an AppSpec template (YAML or JSON, as CodeDeploy
// accepts both) and checks it against the containers of the rendered task
// definition td; with a nil td the container is not checked. Template
// actions inside string values are rendered with the same functions and
// variables as the task definition, each string on its own. Every problem
// is reported at once in a *ProblemsError.
func ParseAppSpec(data []byte, tdata TemplateData, td *Node) (*appspec.AppSpec, error) {
	if td == nil {
		return parseAppSpec(data, tdata, nil, false)
	}
	return parseAppSpec(data, tdata, appSpecContainers(td), true)
}

// parseAppSpec is ParseAppSpec against a list of containers.
//
// A document whose first non-blank character is "{" is read as JSON, with
// JSON's escapes and duplicate-key check, and as YAML only when it is not
// valid JSON (a YAML flow mapping); anything else as YAML. YAML anchors,
// aliases, merge keys and explicit tags are refused: an AppSpec needs none
// of them, and aliases let a small file expand into a huge one.
func parseAppSpec(data []byte, tdata TemplateData, containers []appspec.Container, checkContainer bool) (*appspec.AppSpec, error) {
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
	p := &appSpecParser{e: newEvaluator(tdata), checkContainer: checkContainer}
	a := p.appSpec(root)
	if err := p.e.stopped(); err != nil {
		return nil, fmt.Errorf("appspec: %w", err)
	}
	if problems := p.merge(appspec.Validate(a, &p.sites, containers)); len(problems) > 0 {
		return nil, &ProblemsError{Object: "appspec", Problems: problems}
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
				*out = append(*out, Problem{Path: path, Msg: fmt.Sprintf("line %d: keys must be strings, got %s", k.Line, yamlTypeName(k))})
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

// yamlTypeName names a YAML value's type for messages, e.g.
// "a number (80)".
func yamlTypeName(n *yaml.Node) string {
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
//
// The parser checks what a value is (a string, a number, a known key); what
// the value must be is left to appspec.Validate, the rules options are
// checked by too. The parser notes the site of each value it parsed, so
// that Validate's findings come out among the parser's own in document
// order.
type appSpecParser struct {
	e              *evaluator
	checkContainer bool
	sites          appspec.Sites
	// seq counts the sites noted so far; stamps[i] orders e.problems[i]
	// among them.
	seq    int
	stamps []int
}

// site notes a value parsed at path, after the problems parsing it found.
func (p *appSpecParser) site(path string) *appspec.Site {
	p.stamp()
	s := &appspec.Site{Path: path, Order: 2*p.seq + 1}
	p.seq++
	return s
}

// stamp orders the problems found since the last site before the next one.
func (p *appSpecParser) stamp() {
	for len(p.stamps) < len(p.e.problems) {
		p.stamps = append(p.stamps, 2*p.seq)
	}
}

// merge returns the parser's problems and the violations in document order.
func (p *appSpecParser) merge(vs []appspec.Violation) []Problem {
	p.stamp()
	type keyed struct {
		order int
		p     Problem
	}
	all := make([]keyed, 0, len(p.e.problems)+len(vs))
	for i, pr := range p.e.problems {
		all = append(all, keyed{p.stamps[i], pr})
	}
	for _, v := range vs {
		all = append(all, keyed{v.Site.Order, Problem{Path: v.Site.Path, Msg: v.Message()}})
	}
	slices.SortStableFunc(all, func(a, b keyed) int { return a.order - b.order })
	out := make([]Problem, len(all))
	for i, k := range all {
		out[i] = k.p
	}
	return out
}

func (p *appSpecParser) problem(path, format string, args ...any) {
	p.e.problems = append(p.e.problems, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// fields checks that n is a mapping with only the given keys, and returns
// the values by key. Null values count as absent, as in task definitions.
// required keys that are missing are reported with why they matter.
func (p *appSpecParser) fields(n *yaml.Node, path string, known []string, required map[string]string) (map[string]*yaml.Node, bool) {
	if n.Kind != yaml.MappingNode {
		p.problem(path, "want a mapping, got %s", yamlTypeName(n))
		return nil, false
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		if !slices.Contains(known, k) {
			if hint := appspec.DidYouMean(k, known); hint != "" {
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
		p.problem(path, "want a string, got %s%s", yamlTypeName(n), hint)
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
		v, ok := appspec.Whole(out, hi)
		if !ok || v < lo {
			p.problem(path, "want a number from %d to %d, the template gave %q", lo, hi, out)
			return 0, false
		}
		return v, true
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int":
	default:
		p.problem(path, "want a number from %d to %d, got %s", lo, hi, yamlTypeName(n))
		return 0, false
	}
	v, ok := appspec.Whole(text, hi)
	if !ok || v < lo {
		p.problem(path, "want a number from %d to %d, got %s", lo, hi, text)
		return 0, false
	}
	return v, true
}

func (p *appSpecParser) list(n *yaml.Node, path string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		p.problem(path, "want a list, got %s", yamlTypeName(n))
		return nil
	}
	return n.Content
}

func (p *appSpecParser) appSpec(root *yaml.Node) *appspec.AppSpec {
	f, ok := p.fields(root, "", []string{"version", "Resources", "Hooks"}, map[string]string{
		"version":   "CodeDeploy needs version: 0.0",
		"Resources": "an ECS AppSpec needs one TargetService resource",
	})
	if !ok {
		return &appspec.AppSpec{}
	}
	a := &appspec.AppSpec{Version: appspec.Version}
	if v := f["version"]; v != nil {
		// YAML reads 0.0 as a float and JSON writers may quote it; both
		// keep the text "0.0", and CodeDeploy accepts both.
		if v.Kind != yaml.ScalarNode || v.Value != appspec.Version || (v.ShortTag() != "!!float" && v.ShortTag() != "!!str") {
			p.problem("version", "want 0.0 (the only AppSpec version CodeDeploy knows), got %s", yamlTypeName(v))
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

func (p *appSpecParser) resource(n *yaml.Node, path string) appspec.Service {
	var s appspec.Service
	f, ok := p.fields(n, path, []string{"TargetService"}, map[string]string{
		"TargetService": "CodeDeploy's ECS AppSpec names its one resource TargetService",
	})
	if !ok || f["TargetService"] == nil {
		return s
	}
	path = joinPath(path, "TargetService")
	f, ok = p.fields(f["TargetService"], path, []string{"Type", "Properties"}, map[string]string{
		"Type":       "want Type: " + appspec.ServiceType,
		"Properties": "it holds TaskDefinition and LoadBalancerInfo",
	})
	if !ok {
		return s
	}
	if t := f["Type"]; t != nil {
		if v, ok := p.str(t, joinPath(path, "Type")); ok {
			s.Type = v
			if v != appspec.ServiceType {
				p.problem(joinPath(path, "Type"), "want %s, got %q: ecsrender makes AppSpecs for ECS deployments", appspec.ServiceType, v)
			}
		}
	}
	if pr := f["Properties"]; pr != nil {
		s.Properties = p.properties(pr, joinPath(path, "Properties"))
	}
	return s
}

func (p *appSpecParser) properties(n *yaml.Node, path string) appspec.Properties {
	var props appspec.Properties
	f, ok := p.fields(n, path, []string{"TaskDefinition", "LoadBalancerInfo", "PlatformVersion", "NetworkConfiguration", "CapacityProviderStrategy"}, map[string]string{
		"TaskDefinition":   "want TaskDefinition: " + appspec.TaskDefinition,
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
			case v == appspec.TaskDefinition:
			case strings.HasPrefix(v, "arn:"):
				p.problem(at, "want %s, got an ARN: CodeDeployToECS registers taskdef.json itself and puts the new revision's ARN in place of %s, so a fixed ARN here would deploy an old revision", appspec.TaskDefinition, appspec.TaskDefinition)
			default:
				p.problem(at, "want %s, got %q: CodeDeployToECS replaces exactly that placeholder with the new revision's ARN", appspec.TaskDefinition, v)
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
			p.sites.PlatformVersion = p.site(at)
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

func (p *appSpecParser) loadBalancer(n *yaml.Node, path string) appspec.LoadBalancer {
	var lb appspec.LoadBalancer
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
		p.sites.LoadBalancer = p.site(path)
	}
	return lb
}

func (p *appSpecParser) network(n *yaml.Node, path string) *appspec.Network {
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
	var vpc appspec.Awsvpc
	vpc.Subnets, p.sites.Subnets, p.sites.SubnetItems = p.ids(f["Subnets"], joinPath(path, "Subnets"))
	vpc.SecurityGroups, p.sites.SecurityGroups, p.sites.SecurityGroupItems = p.ids(f["SecurityGroups"], joinPath(path, "SecurityGroups"))
	if v := f["AssignPublicIp"]; v != nil {
		at := joinPath(path, "AssignPublicIp")
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
			p.problem(at, "want ENABLED or DISABLED, got %s", yamlTypeName(v))
		} else if s, ok := p.str(v, at); ok {
			vpc.AssignPublicIP = s
			p.sites.AssignPublicIP = p.site(at)
		}
	}
	return &appspec.Network{AwsvpcConfiguration: vpc}
}

// ids reads a list of IDs, with the site of the list and of each item.
func (p *appSpecParser) ids(n *yaml.Node, path string) ([]string, *appspec.Site, []*appspec.Site) {
	if n == nil {
		return nil, nil, nil
	}
	items := p.list(n, path)
	list := p.site(path)
	out := []string{}
	var sites []*appspec.Site
	for i, v := range items {
		at := indexPath(path, i)
		// An item that did not parse keeps its place, for the count, but
		// has no site: it is not checked further.
		s, ok := p.str(v, at)
		out = append(out, s)
		if ok {
			sites = append(sites, p.site(at))
		} else {
			sites = append(sites, nil)
		}
	}
	return out, list, sites
}

func (p *appSpecParser) capacity(n *yaml.Node, path string) []appspec.CapacityProvider {
	items := p.list(n, path)
	out := []appspec.CapacityProvider{}
	for i, v := range items {
		at := indexPath(path, i)
		f, ok := p.fields(v, at, []string{"CapacityProvider", "Base", "Weight"}, map[string]string{
			"CapacityProvider": "the name of a capacity provider of the cluster",
		})
		if !ok {
			continue
		}
		var item appspec.CapacityProvider
		var sites appspec.CapacityProviderSites
		if c := f["CapacityProvider"]; c != nil {
			cp := joinPath(at, "CapacityProvider")
			if s, ok := p.str(c, cp); ok {
				item.CapacityProvider = s
				sites.Name = p.site(cp)
			}
		}
		if b := f["Base"]; b != nil {
			item.Base, _ = p.whole(b, joinPath(at, "Base"), 0, appspec.MaxBase)
			sites.Base = p.site(joinPath(at, "Base"))
		}
		if w := f["Weight"]; w != nil {
			item.Weight, _ = p.whole(w, joinPath(at, "Weight"), 0, appspec.MaxWeight)
		}
		out = append(out, item)
		p.sites.CapacityProviders = append(p.sites.CapacityProviders, sites)
	}
	return out
}

func (p *appSpecParser) hooks(n *yaml.Node, path string) []appspec.Hook {
	items := p.list(n, path)
	out := []appspec.Hook{}
	for i, v := range items {
		at := indexPath(path, i)
		if v.Kind != yaml.MappingNode || len(v.Content) != 2 {
			p.problem(at, "want one HOOK: FUNCTION pair, got %s", appSpecHookShape(v))
			continue
		}
		event, fn := v.Content[0].Value, v.Content[1]
		hp := joinPath(at, event)
		sites := appspec.HookSites{Event: p.site(hp)}
		h := appspec.Hook{Event: event}
		if s, ok := p.str(fn, hp); ok {
			h.Function = s
			sites.Function = p.site(hp)
		}
		out = append(out, h)
		p.sites.Hooks = append(p.sites.Hooks, sites)
	}
	return out
}

func appSpecHookShape(n *yaml.Node) string {
	if n.Kind == yaml.MappingNode {
		return fmt.Sprintf("a mapping of %d keys", len(n.Content)/2)
	}
	return yamlTypeName(n)
}
