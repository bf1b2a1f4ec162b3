package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ecsrender/ecsrender/render/appspec"
	"github.com/ecsrender/ecsrender/render/internal/suggest"
	"github.com/ecsrender/ecsrender/render/ref"
)

// MaxManifestSize is the largest manifest accepted, in bytes: the bound of
// a template, because a manifest is read and parsed the same way.
const MaxManifestSize = MaxTemplateSize

// Manifest is the services of one run, read from a manifest file such as
// ecsrender.yaml (see DESIGN.md "Many services in one run").
type Manifest struct {
	// File names the manifest in messages, as the user gave it.
	File     string
	Services []ManifestService
}

// ManifestService is one service of a manifest.
type ManifestService struct {
	// Name is the service's name and the directory of its artifacts.
	Name string
	// Line is the line of the service's entry, for messages.
	Line int
	// Options are the service's render options, from its keys alone: the
	// command line's --image and --var are added by RenderManifest.
	Options Options
	// Cluster and Service name the running ECS service to verify against;
	// both or neither are set.
	Cluster, Service string
	// imageLines and varLines are the lines of the images and vars keys,
	// for the message when the command line gives one of them again.
	imageLines, varLines map[string]int
}

// manifestServiceKeys are the keys of a service entry: the render flags'
// names, plural where the flag repeats.
var manifestServiceKeys = []string{
	"name", "template", "appspec", "no-appspec", "container", "images", "vars", "placeholders",
	"cluster", "service", "platform-version", "subnets", "security-groups", "assign-public-ip",
	"capacity-providers", "hooks",
}

// isServiceName reports whether name may name a service: it becomes a
// directory name and a CodeBuild identifier, so nothing that needs quoting
// anywhere, and at most 128 characters.
func isServiceName(name string) bool { return len(name) <= 128 && IsECSName(name) }

// ManifestError is a manifest that is not valid. Every problem is listed,
// each as FILE:LINE: PATH: MESSAGE, like the errors of a template.
type ManifestError struct {
	// File names the manifest, escaped for a log line.
	File string
	// Problems are in the order of their lines.
	Problems []ManifestProblem
}

// ManifestProblem is one problem of a manifest, at a line and a path such
// as services[1].images.
type ManifestProblem struct {
	// Line is 1-based; 0 when the problem is the whole file's.
	Line int
	// Path is empty when the problem is the document's.
	Path string
	Msg  string
}

// Error returns one line per problem, at most maxProblemLines of them.
func (e *ManifestError) Error() string { return strings.Join(e.Lines(), "\n") }

// Lines are Error's lines, each with its control characters escaped, so
// that a printer can tell the lines apart from what the input held.
func (e *ManifestError) Lines() []string {
	ps := e.Problems
	var more int
	if len(ps) > maxProblemLines {
		ps, more = ps[:maxProblemLines], len(ps)-maxProblemLines
	}
	lines := make([]string, 0, len(ps)+1)
	for _, p := range ps {
		at := e.File
		if p.Line > 0 {
			at += ":" + strconv.Itoa(p.Line)
		}
		if p.Path != "" {
			at += ": " + p.Path
		}
		lines = append(lines, EscapeControl(at+": "+p.Msg))
	}
	if more > 0 {
		lines = append(lines, EscapeControl(fmt.Sprintf("%s: and %d more problems", e.File, more)))
	}
	return lines
}

// ParseManifest reads a manifest. file names it in messages and is the
// directory that relative template and AppSpec paths are taken from, so
// that a manifest means the same whatever the working directory. Every
// problem is reported at once, with its line, as a *ManifestError wrapped
// in an *InputError.
func ParseManifest(file string, data []byte) (*Manifest, error) {
	p := &manifestParser{file: file, dir: filepath.Dir(file)}
	m := p.parse(data)
	if len(p.problems) > 0 {
		// Reported in the order of the file, whichever check found them.
		slices.SortStableFunc(p.problems, func(a, b ManifestProblem) int { return a.Line - b.Line })
		return nil, &InputError{Err: &ManifestError{File: escapeControl(file), Problems: p.problems}}
	}
	return m, nil
}

type manifestParser struct {
	file, dir string
	problems  []ManifestProblem
	// aliased is set when the manifest holds an alias: it is then read no
	// further, as reading it would mean following the alias.
	aliased bool
}

func (p *manifestParser) problem(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.problems = append(p.problems, ManifestProblem{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (p *manifestParser) parse(data []byte) *Manifest {
	if len(data) > MaxManifestSize {
		p.problem(nil, "", "%d bytes; the limit is 1 MiB", len(data))
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.problem(nil, "", "empty manifest; want services: with a list of services")
			return nil
		}
		// yaml's message carries its own "line N:"; it is moved to the front.
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if n, after, ok := strings.Cut(rest, ": "); ok {
				if l, err := strconv.Atoi(n); err == nil {
					line, msg = l, after
				}
			}
		}
		p.problems = append(p.problems, ManifestProblem{Line: line, Msg: "invalid YAML: " + escapeControl(msg)})
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		p.problem(&next, "", "more than one YAML document; a manifest is one")
		return nil
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	// Anchors and aliases are refused before anything is read, so that no
	// alias is ever followed: a "billion laughs" manifest costs its size.
	if p.safety(root, ""); p.aliased {
		return nil
	}
	m := &Manifest{File: p.file}
	top := p.mapping(root, "", []string{"services"})
	if top == nil {
		return nil
	}
	list, ok := top["services"]
	if !ok {
		p.problem(root, "", "no services key; want services: with a list of services")
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		p.problem(list, "services", "want a list of services, got %s", yamlTypeName(list))
		return nil
	}
	if len(list.Content) == 0 {
		p.problem(list, "services", "empty list; want at least one service")
		return nil
	}
	first := map[string]int{}
	for i, n := range list.Content {
		path := indexPath("services", i)
		s, ok := p.service(n, path)
		if !ok {
			continue
		}
		// Names that differ only in case are one directory on a
		// case-insensitive file system (a developer's Mac).
		key := strings.ToLower(s.Name)
		if line, dup := first[key]; dup {
			p.problem(n, path+".name", "duplicate name %q (first at line %d); every service needs its own", s.Name, line)
			continue
		}
		first[key] = s.Line
		m.Services = append(m.Services, s)
	}
	return m
}

// safety reports anchors, aliases, merge keys, explicit tags, non-string
// keys and duplicate keys. It never follows an alias, so it runs in time
// linear in the manifest's size.
func (p *manifestParser) safety(n *yaml.Node, path string) {
	if n.Anchor != "" {
		p.problem(n, path, "YAML anchor &%s refused: a manifest may not use anchors or aliases; write the value out", n.Anchor)
	}
	switch {
	case n.Kind == yaml.AliasNode:
		// Its anchor is reported where it is defined.
		p.aliased = true
		return
	case n.Style&yaml.TaggedStyle != 0:
		p.problem(n, path, "YAML tag %s refused: a manifest holds only plain strings, lists and mappings", escapeControl(n.Tag))
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		first := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch {
			case k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge":
				p.problem(k, path, "YAML merge key << refused: write the keys out")
				continue
			case k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str":
				p.problem(k, path, "keys must be strings, got %s", yamlTypeName(k))
				continue
			}
			child := joinPath(path, k.Value)
			if line, dup := first[k.Value]; dup {
				p.problem(k, child, "duplicate key (first at line %d)", line)
			} else {
				first[k.Value] = k.Line
			}
			p.safety(v, child)
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			p.safety(v, indexPath(path, i))
		}
	}
}

// mapping returns the keys of a mapping node, reporting every key not in
// known with a did-you-mean; nil if n is no mapping.
func (p *manifestParser) mapping(n *yaml.Node, path string, known []string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		what := "the manifest"
		if path != "" {
			what = path
			path = ""
		}
		p.problem(n, path, "%s: want a mapping, got %s", what, yamlTypeName(n))
		return nil
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			continue // reported by safety
		}
		if !slices.Contains(known, k.Value) {
			msg := "unknown key"
			if s := suggest.Closest(k.Value, known); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				msg += "; want one of " + strings.Join(known, ", ")
			}
			p.problem(k, joinPath(path, k.Value), "%s", msg)
			continue
		}
		out[k.Value] = v
	}
	return out
}

// str reads a string scalar. Numbers and booleans are refused where a
// string is wanted: "container: 80" is a mistake, not a name.
func (p *manifestParser) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		p.problem(n, path, "want a string, got %s", yamlTypeName(n))
		return "", false
	}
	if n.Value == "" {
		p.problem(n, path, "empty string")
		return "", false
	}
	return n.Value, true
}

// strs reads a list of strings.
func (p *manifestParser) strs(n *yaml.Node, path string) ([]string, bool) {
	if n.Kind != yaml.SequenceNode {
		p.problem(n, path, "want a list of strings, got %s", yamlTypeName(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for i, v := range n.Content {
		s, good := p.str(v, indexPath(path, i))
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// pairs reads a mapping of strings to scalars, in the order written, with
// the line of each key. Values may be numbers or booleans where
// anyScalar is set (a variable PORT: 8080 means "8080", as written).
func (p *manifestParser) pairs(n *yaml.Node, path string, anyScalar bool) ([]manifestPair, map[string]int, bool) {
	if n.Kind != yaml.MappingNode {
		p.problem(n, path, "want a mapping of NAME: VALUE, got %s", yamlTypeName(n))
		return nil, nil, false
	}
	var out []manifestPair
	lines := make(map[string]int, len(n.Content)/2)
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		child := joinPath(path, k.Value)
		if k.Value == "" {
			p.problem(k, path, "empty name")
			ok = false
			continue
		}
		switch {
		case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str":
		case anyScalar && v.Kind == yaml.ScalarNode && slices.Contains([]string{"!!int", "!!float", "!!bool"}, v.ShortTag()):
		default:
			p.problem(v, child, "want a string, got %s", yamlTypeName(v))
			ok = false
			continue
		}
		if v.Value == "" && !anyScalar {
			p.problem(v, child, "empty string")
			ok = false
			continue
		}
		out = append(out, manifestPair{k.Value, v.Value})
		lines[k.Value] = k.Line
	}
	return out, lines, ok
}

// source reads a template or AppSpec source. A relative path is taken from
// the manifest's directory; stdin is refused, as many services cannot
// share one standard input.
func (p *manifestParser) source(n *yaml.Node, path string) (ref.Source, bool) {
	s, ok := p.str(n, path)
	if !ok {
		return ref.Source{}, false
	}
	src, err := ref.ParseSource(s)
	if err != nil {
		p.problem(n, path, "%v", err)
		return ref.Source{}, false
	}
	switch src.Kind {
	case ref.SourceStdin:
		p.problem(n, path, "stdin (-) is not a source in a manifest; give a file or s3://BUCKET/KEY")
		return ref.Source{}, false
	case ref.SourceFile:
		if !filepath.IsAbs(src.Path) {
			src.Path = filepath.Join(p.dir, src.Path)
		}
	}
	return src, true
}

func (p *manifestParser) service(n *yaml.Node, path string) (ManifestService, bool) {
	keys := p.mapping(n, path, manifestServiceKeys)
	if keys == nil {
		return ManifestService{}, false
	}
	before := len(p.problems)
	s := ManifestService{Line: n.Line, Options: Options{Pin: true}}
	if v, ok := keys["name"]; !ok {
		p.problem(n, path, "no name; every service needs one ([A-Za-z0-9_-]+)")
	} else if name, ok := p.str(v, path+".name"); ok {
		if !isServiceName(name) {
			p.problem(v, path+".name", "%s: want letters, digits, _ and - only (at most 128): it names the service's directory", quoteIfNeeded(name))
		} else {
			s.Name = name
		}
	}
	if v, ok := keys["template"]; !ok {
		p.problem(n, path, "no template; give a file or s3://BUCKET/KEY")
	} else if src, ok := p.source(v, path+".template"); ok {
		s.Options.Template = src
	}
	if v, ok := keys["appspec"]; ok {
		if src, ok := p.source(v, path+".appspec"); ok {
			s.Options.AppSpecTemplate = &src
		}
	}
	if v, ok := keys["no-appspec"]; ok {
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
			p.problem(v, path+".no-appspec", "want true or false, got %s", yamlTypeName(v))
		} else {
			s.Options.NoAppSpec = v.Value == "true"
		}
	}
	strKey := func(key string, dst *string) {
		if v, ok := keys[key]; ok {
			*dst, _ = p.str(v, path+"."+key)
		}
	}
	strsKey := func(key string, dst *[]string) {
		if v, ok := keys[key]; ok {
			*dst, _ = p.strs(v, path+"."+key)
		}
	}
	a := &s.Options.AppSpec
	strKey("container", &a.Container)
	strKey("platform-version", &a.PlatformVersion)
	strKey("assign-public-ip", &a.AssignPublicIP)
	strsKey("subnets", &a.Subnets)
	strsKey("security-groups", &a.SecurityGroups)
	strsKey("capacity-providers", &a.CapacityProviders)
	if v, ok := keys["hooks"]; ok {
		// A mapping HOOK: FUNCTION, in CodeDeploy's order as written.
		if hooks, _, ok := p.pairs(v, path+".hooks", false); ok {
			for _, h := range hooks {
				a.Hooks = append(a.Hooks, h.name+"="+h.value)
			}
		}
	}
	strKey("cluster", &s.Cluster)
	strKey("service", &s.Service)
	if (s.Cluster == "") != (s.Service == "") {
		p.problem(n, path, "cluster and service: give both or neither")
	}
	if v, ok := keys["images"]; ok {
		images, lines, _ := p.pairs(v, path+".images", false)
		s.imageLines = lines
		for _, img := range images {
			r, err := ref.ParseImageRef(img.value)
			if err != nil {
				p.problem(keyNode(v, img.name), joinPath(path+".images", img.name), "%v", err)
				continue
			}
			s.Options.Images = append(s.Options.Images, Image{Container: img.name, Ref: r})
		}
	}
	if v, ok := keys["placeholders"]; ok {
		phs, _, _ := p.pairs(v, path+".placeholders", false)
		for _, ph := range phs {
			if err := ref.CheckToken(ph.value); err != nil {
				p.problem(keyNode(v, ph.name), joinPath(path+".placeholders", ph.name), "%q: %v", ph.value, err)
				continue
			}
			s.Options.Placeholders = append(s.Options.Placeholders, Placeholder{Container: ph.name, Token: ph.value})
		}
	}
	s.Options.Variables = map[string]string{}
	if v, ok := keys["vars"]; ok {
		vars, lines, _ := p.pairs(v, path+".vars", true)
		s.varLines = lines
		for _, kv := range vars {
			s.Options.Variables[kv.name] = kv.value
		}
	}
	// The rules of the AppSpec flags, in the manifest's words.
	given := manifestAppSpecKeys(*a)
	switch {
	case s.Options.AppSpecTemplate != nil && s.Options.NoAppSpec:
		p.problem(n, path, "appspec and no-appspec: give one or the other")
	case s.Options.AppSpecTemplate != nil && len(given) > 0:
		p.problem(keys[given[0]], path+"."+given[0], "the AppSpec comes from appspec; set it there")
	case s.Options.NoAppSpec && (len(given) > 0 && given[0] != "container" || len(given) > 1):
		last := given[len(given)-1]
		p.problem(keys[last], path+"."+last, "no AppSpec is written with no-appspec")
	case len(p.problems) == before:
		p.appSpecKeys(keys, path, *a)
	}
	return s, len(p.problems) == before
}

// appSpecKeys checks the service's AppSpec keys as the AppSpec flags are
// checked, but all at once, each at its line and in the manifest's key
// names: left to the render, they would come one at a time, worded as
// flags, with no line. The container's port is checked against the
// template at render time.
func (p *manifestParser) appSpecKeys(keys map[string]*yaml.Node, path string, o appspec.Options) {
	site := func(n *yaml.Node, at string) *appspec.Site {
		return &appspec.Site{Path: at, Order: n.Line}
	}
	props := appspec.Properties{PlatformVersion: o.PlatformVersion}
	sites := &appspec.Sites{}
	if n, ok := keys["container"]; ok && o.Container != "" {
		name, portText, ok := strings.Cut(o.Container, ":")
		port, good := appspec.Whole(portText, 65535)
		if !ok || name == "" || !good || port == 0 {
			p.problem(n, path+".container", "want NAME:PORT with a port from 1 to 65535, got %q", o.Container)
		}
	}
	if n, ok := keys["platform-version"]; ok && o.PlatformVersion != "" {
		sites.PlatformVersion = site(n, path+".platform-version")
	}
	items := func(key string, ids []string) (*appspec.Site, []*appspec.Site) {
		n := keys[key]
		var out []*appspec.Site
		for i := range ids {
			out = append(out, site(n.Content[i], indexPath(path+"."+key, i)))
		}
		return site(n, path+"."+key), out
	}
	if len(o.Subnets) > 0 {
		vpc := appspec.Awsvpc{Subnets: o.Subnets, SecurityGroups: o.SecurityGroups, AssignPublicIP: o.AssignPublicIP}
		props.NetworkConfiguration = &appspec.Network{AwsvpcConfiguration: vpc}
		sites.Subnets, sites.SubnetItems = items("subnets", o.Subnets)
		if len(o.SecurityGroups) > 0 {
			sites.SecurityGroups, sites.SecurityGroupItems = items("security-groups", o.SecurityGroups)
		}
		if o.AssignPublicIP != "" {
			sites.AssignPublicIP = site(keys["assign-public-ip"], path+".assign-public-ip")
		}
	} else {
		// ECS needs subnets in an awsvpc configuration.
		for _, key := range []string{"security-groups", "assign-public-ip"} {
			if n, ok := keys[key]; ok {
				p.problem(n, path+"."+key, "needs subnets")
			}
		}
	}
	for i, f := range o.CapacityProviders {
		n := keys["capacity-providers"].Content[i]
		at := indexPath(path+".capacity-providers", i)
		parts := strings.Split(f, ":")
		item := appspec.CapacityProvider{CapacityProvider: parts[0]}
		ok := len(parts) == 2 || len(parts) == 3
		if ok {
			item.Weight, ok = appspec.Whole(parts[1], appspec.MaxWeight)
		}
		if ok && len(parts) == 3 {
			item.Base, ok = appspec.Whole(parts[2], appspec.MaxBase)
		}
		if !ok {
			p.problem(n, at, "want NAME:WEIGHT[:BASE] (weight 0 to %d, base 0 to %d), got %q", appspec.MaxWeight, appspec.MaxBase, f)
			continue
		}
		props.CapacityProviderStrategy = append(props.CapacityProviderStrategy, item)
		sites.CapacityProviders = append(sites.CapacityProviders, appspec.CapacityProviderSites{Name: site(n, at), Base: site(n, at)})
	}
	var hooks []appspec.Hook
	for _, h := range o.Hooks {
		event, fn, _ := strings.Cut(h, "=")
		n := keyNode(keys["hooks"], event)
		at := joinPath(path+".hooks", event)
		hooks = append(hooks, appspec.Hook{Event: event, Function: fn})
		sites.Hooks = append(sites.Hooks, appspec.HookSites{Event: site(n, at), Function: site(n, at)})
	}
	as := &appspec.AppSpec{TargetService: appspec.Service{Properties: props}, Hooks: hooks}
	for _, v := range appspec.Validate(as, sites, nil) {
		p.problems = append(p.problems, ManifestProblem{Line: v.Site.Order, Path: v.Site.Path, Msg: v.Message()})
	}
}

// manifestAppSpecKeys names the AppSpec keys that were given, in the
// order of the flags' rules.
func manifestAppSpecKeys(a appspec.Options) []string {
	var given []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"container", a.Container != ""},
		{"platform-version", a.PlatformVersion != ""},
		{"subnets", len(a.Subnets) > 0},
		{"security-groups", len(a.SecurityGroups) > 0},
		{"assign-public-ip", a.AssignPublicIP != ""},
		{"capacity-providers", len(a.CapacityProviders) > 0},
		{"hooks", len(a.Hooks) > 0},
	} {
		if f.set {
			given = append(given, f.name)
		}
	}
	return given
}

// keyNode returns the key node of key in mapping n, for its line.
func keyNode(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return n
}

// manifestPair is one NAME: VALUE of a manifest mapping.
type manifestPair struct{ name, value string }
