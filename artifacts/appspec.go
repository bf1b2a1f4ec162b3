package artifacts

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/ecsrender/ecsrender/render/appspec"
)

// EncodeAppSpec returns appspec.yaml in the form CodeDeploy documents:
// `version: 0.0` as written there, keys in the documented order, lists in
// block style, ContainerPort as a YAML integer, and strings quoted only
// where YAML would otherwise read them as something else. The output
// depends only on a, so a rerun of a pipeline writes the same bytes.
func EncodeAppSpec(a *appspec.AppSpec) ([]byte, error) {
	if a == nil {
		return nil, errors.New("encode appspec: no appspec")
	}
	if a.Version != "0.0" {
		// Written as given, any other version would be a float CodeDeploy
		// refuses at deploy time; refuse it here instead.
		return nil, fmt.Errorf("encode appspec: version %q; CodeDeploy knows only 0.0", a.Version)
	}
	props := a.TargetService.Properties
	lb := props.LoadBalancerInfo
	var p yamlMapping
	p.add("TaskDefinition", yamlStr(props.TaskDefinition))
	p.add("LoadBalancerInfo", (&yamlMapping{}).
		add("ContainerName", yamlStr(lb.ContainerName)).
		add("ContainerPort", yamlInt(lb.ContainerPort)).node())
	if props.PlatformVersion != "" {
		p.add("PlatformVersion", yamlStr(props.PlatformVersion))
	}
	if nc := props.NetworkConfiguration; nc != nil {
		vpc := nc.AwsvpcConfiguration
		var m yamlMapping
		m.add("Subnets", yamlStrs(vpc.Subnets))
		if len(vpc.SecurityGroups) > 0 {
			m.add("SecurityGroups", yamlStrs(vpc.SecurityGroups))
		}
		if vpc.AssignPublicIP != "" {
			m.add("AssignPublicIp", yamlStr(vpc.AssignPublicIP))
		}
		p.add("NetworkConfiguration", (&yamlMapping{}).add("AwsvpcConfiguration", m.node()).node())
	}
	if len(props.CapacityProviderStrategy) > 0 {
		items := &yaml.Node{Kind: yaml.SequenceNode}
		for _, c := range props.CapacityProviderStrategy {
			items.Content = append(items.Content, (&yamlMapping{}).
				add("CapacityProvider", yamlStr(c.CapacityProvider)).
				add("Base", yamlInt(c.Base)).
				add("Weight", yamlInt(c.Weight)).node())
		}
		p.add("CapacityProviderStrategy", items)
	}

	service := (&yamlMapping{}).
		add("Type", yamlStr(a.TargetService.Type)).
		add("Properties", p.node())
	var doc yamlMapping
	// A float tag with the text 0.0 is what makes the encoder write
	// `version: 0.0` plainly: a string would be quoted and a number
	// shortened to 0.
	doc.add("version", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: a.Version})
	doc.add("Resources", &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{
		(&yamlMapping{}).add("TargetService", service.node()).node(),
	}})
	if len(a.Hooks) > 0 {
		hooks := &yaml.Node{Kind: yaml.SequenceNode}
		for _, h := range a.Hooks {
			hooks.Content = append(hooks.Content, (&yamlMapping{}).add(h.Event, yamlStr(h.Function)).node())
		}
		doc.add("Hooks", hooks)
	}

	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc.node()); err != nil {
		return nil, fmt.Errorf("encode appspec: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode appspec: %w", err)
	}
	return b.Bytes(), nil
}

// yamlMapping builds a YAML mapping in insertion order; yaml.v3 would sort the
// keys of a Go map, and CodeDeploy's documented order reads better.
type yamlMapping struct{ content []*yaml.Node }

func (m *yamlMapping) add(key string, v *yaml.Node) *yamlMapping {
	m.content = append(m.content, yamlStr(key), v)
	return m
}

func (m *yamlMapping) node() *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Content: m.content}
}

// yamlStr is a string scalar. The !!str tag lets the encoder quote a value
// such as "80" or "true" that YAML would otherwise read as another type,
// and leave everything else plain.
func yamlStr(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func yamlInt(n int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(n)}
}

func yamlStrs(ss []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range ss {
		n.Content = append(n.Content, yamlStr(s))
	}
	return n
}
