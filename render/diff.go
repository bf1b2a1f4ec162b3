package render

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// diffChange is one difference between the running task definition and
// the rendered one, for a line of the build log.
type diffChange struct {
	// path is keyed by names, not indexes, so that it reads the same
	// whatever the order of containers and variables:
	// containerDefinitions[web].environment.RAILS_MAX_THREADS.
	path string
	// container and field say which container member changed ("" at the
	// task level), so that verify can tell image changes from the rest.
	container, field string
	text             string
}

// String gives the change as "path: old -> new".
func (c diffChange) String() string { return c.path + ": " + c.text }

// diffReadOnly are the members DescribeTaskDefinition adds that a
// registration does not set.
var diffReadOnly = []string{"taskDefinitionArn", "revision", "status", "requiresAttributes",
	"compatibilities", "registeredAt", "registeredBy", "deregisteredAt"}

// diffKeys name the member that identifies an element of a list, so that
// lists compare by element and not by position: ECS keeps no meaning in
// the order of environment variables, and a reordered list is no change.
var diffKeys = map[string]string{
	"containerDefinitions":  "name",
	"environment":           "name",
	"secrets":               "name",
	"secretOptions":         "name",
	"ulimits":               "name",
	"volumes":               "name",
	"systemControls":        "namespace",
	"resourceRequirements":  "type",
	"dependsOn":             "containerName",
	"mountPoints":           "containerPath",
	"volumesFrom":           "sourceContainer",
	"portMappings":          "containerPort",
	"extraHosts":            "hostname",
	"inferenceAccelerators": "deviceName",
	"tags":                  "key",
	"properties":            "name",
}

// diffSets are lists of plain values whose order means nothing.
var diffSets = map[string]bool{"requiresCompatibilities": true, "placementConstraints": true, "add": true, "drop": true}

// diffTaskDefinitions lists what registering rendered changes compared
// with running, in the rendered document's order (what only running has
// comes after). Both are compared as ECS reads them: defaults that
// DescribeTaskDefinition fills in, empty lists and the order of keyed lists
// make no difference.
func diffTaskDefinitions(running, rendered *Node) []diffChange {
	a, b := diffNormalize(running), diffNormalize(rendered)
	// describe-task-definition leaves tags out unless asked for them.
	if a.Get("tags") == nil {
		b.Delete("tags")
	}
	d := &differ{}
	d.object("", a, b, diffAt{})
	return d.out
}

type differ struct{ out []diffChange }

// diffAt is where in the document the differ is.
type diffAt struct{ container, field string }

func (d *differ) add(path string, at diffAt, text string) {
	d.out = append(d.out, diffChange{path: path, container: at.container, field: at.field, text: text})
}

// object compares two objects member by member.
func (d *differ) object(path string, a, b *Node, at diffAt) {
	for _, k := range diffUnion(a, b) {
		p := diffJoin(path, k)
		at := at
		if at.container != "" && at.field == "" {
			at.field = k
		}
		av, bv := a.Get(k), b.Get(k)
		switch {
		case path == "" && k == "containerDefinitions":
			d.keyed(k, k, av, bv, at)
		case av == nil:
			d.add(p, at, "added "+diffShow(bv))
		case bv == nil:
			d.add(p, at, "removed (was "+diffShow(av)+")")
		default:
			d.value(p, k, av, bv, at)
		}
	}
}

func (d *differ) value(path, key string, a, b *Node, at diffAt) {
	if diffCanon(a, key) == diffCanon(b, key) {
		return
	}
	switch {
	case a.Kind == Object && b.Kind == Object:
		d.object(path, a, b, at)
	case a.Kind == Array && b.Kind == Array && diffKeyed(a, key) && diffKeyed(b, key):
		d.keyed(path, key, a, b, at)
	case at.field == "image" && a.Kind == String && b.Kind == String:
		d.add(path, at, diffImages(a.Str, b.Str))
	default:
		d.add(path, at, diffShow(a)+" -> "+diffShow(b))
	}
}

// keyed compares two lists element by element, matched by their key.
func (d *differ) keyed(path, key string, a, b *Node, at diffAt) {
	field := diffKeys[key]
	am, bm := diffIndex(a, field), diffIndex(b, field)
	if am == nil || bm == nil {
		// containerDefinitions without unique names: checks report that.
		if diffCanon(a, key) != diffCanon(b, key) {
			d.add(path, at, diffShow(a)+" -> "+diffShow(b))
		}
		return
	}
	var order []string
	seen := map[string]bool{}
	for _, n := range []*Node{b, a} {
		if n == nil {
			continue
		}
		for _, it := range n.Items {
			if k := diffKeyText(it.Get(field)); !seen[k] {
				seen[k] = true
				order = append(order, k)
			}
		}
	}
	for _, k := range order {
		av, bv := am[k], bm[k]
		switch key {
		case "containerDefinitions":
			p := path + "[" + diffName(k) + "]"
			cat := diffAt{container: k}
			switch {
			case av == nil:
				d.add(p, cat, "added container")
			case bv == nil:
				d.add(p, cat, "removed container")
			default:
				d.object(p, diffWithout(av, field), diffWithout(bv, field), cat)
			}
		case "environment", "secrets", "secretOptions":
			// One line per variable, its value (or its secret's ARN, never
			// the secret) in place of a nested path.
			p := path + "." + diffName(k)
			member, prefix := "valueFrom", "valueFrom "
			if key == "environment" {
				member, prefix = "value", ""
			}
			show := func(n *Node) string { return diffShow(n.Get(member)) }
			switch {
			case av == nil:
				d.add(p, at, "added "+prefix+show(bv))
			case bv == nil:
				d.add(p, at, "removed (was "+prefix+show(av)+")")
			case diffCanon(av, "") != diffCanon(bv, ""):
				d.add(p, at, prefix+show(av)+" -> "+show(bv))
			}
		default:
			p := path + "[" + diffName(k) + "]"
			switch {
			case av == nil:
				d.add(p, at, "added "+diffShow(bv))
			case bv == nil:
				d.add(p, at, "removed (was "+diffShow(av)+")")
			default:
				d.object(p, diffWithout(av, field), diffWithout(bv, field), at)
			}
		}
	}
}

// diffImages shows an image change by digest when only the digest
// changed: a repository path repeated twice hides what matters.
func diffImages(a, b string) string {
	an, ad, aok := strings.Cut(a, "@")
	bn, bd, bok := strings.Cut(b, "@")
	if aok && bok && an == bn {
		return strconv.Quote(ad) + " -> " + strconv.Quote(bd)
	}
	return strconv.Quote(a) + " -> " + strconv.Quote(b)
}

// diffKeyed reports whether list is a list of objects that each carry a
// distinct key.
func diffKeyed(list *Node, key string) bool {
	field, ok := diffKeys[key]
	return ok && diffIndex(list, field) != nil
}

// diffIndex maps each element's key to the element, or returns nil when an
// element has no key or two share one.
func diffIndex(list *Node, field string) map[string]*Node {
	out := map[string]*Node{}
	if list == nil {
		return out
	}
	if list.Kind != Array {
		return nil
	}
	for _, it := range list.Items {
		k := it.Get(field)
		if it.Kind != Object || k == nil || (k.Kind != String && k.Kind != Number) {
			return nil
		}
		if _, dup := out[diffKeyText(k)]; dup {
			return nil
		}
		out[diffKeyText(k)] = it
	}
	return out
}

func diffKeyText(n *Node) string {
	if n == nil {
		return ""
	}
	return n.Str
}

// diffWithout returns obj without the member key (the list key, already in
// the path).
func diffWithout(obj *Node, key string) *Node {
	out := &Node{Kind: Object}
	for _, m := range obj.Members {
		if m.Key != key {
			out.Members = append(out.Members, m)
		}
	}
	return out
}

// diffUnion lists the keys of b, then those only a has.
func diffUnion(a, b *Node) []string {
	var keys []string
	seen := map[string]bool{}
	for _, n := range []*Node{b, a} {
		for _, m := range n.Members {
			if !seen[m.Key] {
				seen[m.Key] = true
				keys = append(keys, m.Key)
			}
		}
	}
	return keys
}

// diffCanon encodes n so that equal values give equal text: object keys
// sorted, keyed lists and sets in sorted order, a number and a string of
// the same text alike (task-level cpu is a string, container cpu a number).
func diffCanon(n *Node, key string) string {
	var b strings.Builder
	diffCanonTo(&b, n, key)
	return b.String()
}

func diffCanonTo(b *strings.Builder, n *Node, key string) {
	if n == nil {
		b.WriteString("null")
		return
	}
	switch n.Kind {
	case Null:
		b.WriteString("null")
	case String, Number:
		b.WriteString(strconv.Quote(n.Str))
	case Bool:
		b.WriteString(strconv.FormatBool(n.Bool))
	case Object:
		ms := make([]Member, len(n.Members))
		copy(ms, n.Members)
		sort.Slice(ms, func(i, j int) bool { return ms[i].Key < ms[j].Key })
		b.WriteByte('{')
		for _, m := range ms {
			b.WriteString(strconv.Quote(m.Key))
			b.WriteByte(':')
			diffCanonTo(b, m.Value, m.Key)
			b.WriteByte(',')
		}
		b.WriteByte('}')
	case Array:
		items := make([]string, len(n.Items))
		for i, it := range n.Items {
			items[i] = diffCanon(it, "")
		}
		if _, ok := diffKeys[key]; ok || diffSets[key] {
			sort.Strings(items)
		}
		b.WriteString("[" + strings.Join(items, ",") + "]")
	}
}

// diffMaxShow bounds how much of a list or object a change line shows.
const diffMaxShow = 160

// diffShow writes a value for a change line: strings quoted as %q does, so
// that a newline in a value cannot forge a log line.
func diffShow(n *Node) string {
	if n == nil {
		return "null"
	}
	var b strings.Builder
	diffShowTo(&b, n)
	s := b.String()
	if (n.Kind == Object || n.Kind == Array) && len(s) > diffMaxShow {
		cut := diffMaxShow
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func diffShowTo(b *strings.Builder, n *Node) {
	switch n.Kind {
	case Null:
		b.WriteString("null")
	case String:
		b.WriteString(strconv.Quote(n.Str))
	case Number:
		b.WriteString(n.Str)
	case Bool:
		b.WriteString(strconv.FormatBool(n.Bool))
	case Object:
		b.WriteByte('{')
		for i, m := range n.Members {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(m.Key) + ": ")
			diffShowTo(b, m.Value)
		}
		b.WriteByte('}')
	case Array:
		b.WriteByte('[')
		for i, it := range n.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			diffShowTo(b, it)
		}
		b.WriteByte(']')
	}
}

// diffName gives a key or name as it goes into a path: as it is when it is
// letters, digits and _./@:+=- (the regexp ^[A-Za-z0-9_./@:+=-]+$) with no
// "->", and quoted otherwise, so that a path cannot carry a newline or a
// fake "->".
func diffName(s string) string {
	if isNameOf(s, "_./@:+=-") && !strings.Contains(s, "->") {
		return s
	}
	return strconv.Quote(s)
}

func diffJoin(path, key string) string {
	if path == "" {
		return diffName(key)
	}
	return path + "." + diffName(key)
}

// diffNormalize returns a copy of td as ECS reads it: no read-only or null
// members, no empty lists or objects, and no member set to the default
// DescribeTaskDefinition reports when it was not given.
func diffNormalize(td *Node) *Node {
	td = diffCopy(td)
	for _, f := range diffReadOnly {
		td.Delete(f)
	}
	// An absent networkMode is bridge; filling it in (rather than dropping
	// "bridge") makes a move to or from it read "awsvpc" -> "bridge".
	if td.Get("networkMode") == nil {
		td.Set("networkMode", NewString("bridge"))
	}
	netMode := td.GetString("networkMode")
	diffDropIf(td, "enableFaultInjection", "false")
	if rp := td.Get("runtimePlatform"); rp != nil {
		diffDropIf(rp, "cpuArchitecture", "X86_64")
		diffDropIf(rp, "operatingSystemFamily", "LINUX")
	}
	for _, k := range []string{"cpu", "memory"} {
		if v := td.Get(k); v != nil {
			if n, ok := diffUnits(v, map[string]string{"cpu": "vcpu", "memory": "gb"}[k]); ok {
				td.Set(k, NewString(strconv.Itoa(n)))
			}
		}
	}
	if cds := td.Get("containerDefinitions"); cds != nil && cds.Kind == Array {
		for _, c := range cds.Items {
			diffDropIf(c, "cpu", "0")
			diffDropIf(c, "essential", "true")
			diffDropIf(c, "versionConsistency", "enabled")
			if hc := c.Get("healthCheck"); hc != nil {
				diffDropIf(hc, "interval", "30")
				diffDropIf(hc, "timeout", "5")
				diffDropIf(hc, "retries", "3")
			}
			if pms := c.Get("portMappings"); pms != nil && pms.Kind == Array {
				for _, pm := range pms.Items {
					diffDropIf(pm, "protocol", "tcp")
					diffDropIf(pm, "hostPort", "0")
					// awsvpc and host map the container port to itself.
					if cp := pm.Get("containerPort"); cp != nil && (netMode == "awsvpc" || netMode == "host") {
						diffDropIf(pm, "hostPort", cp.Str)
					}
				}
			}
		}
	}
	diffPrune(td)
	return td
}

// diffDropIf deletes key from obj when it holds the scalar text value.
func diffDropIf(obj *Node, key, value string) {
	if obj == nil || obj.Kind != Object {
		return
	}
	v := obj.Get(key)
	if v == nil {
		return
	}
	if (v.Kind == String || v.Kind == Number) && v.Str == value || v.Kind == Bool && strconv.FormatBool(v.Bool) == value {
		obj.Delete(key)
	}
}

// diffPrune deletes null members and empty lists and objects, bottom up,
// and reports whether n itself is now empty.
func diffPrune(n *Node) bool {
	switch n.Kind {
	case Null:
		return true
	case Object:
		kept := n.Members[:0]
		for _, m := range n.Members {
			if !diffPrune(m.Value) {
				kept = append(kept, m)
			}
		}
		n.Members = kept
		return len(n.Members) == 0
	case Array:
		for _, it := range n.Items {
			diffPrune(it)
		}
		return len(n.Items) == 0
	}
	return false
}

// diffCopy copies n deeply, so that normalising never touches the
// rendered document.
func diffCopy(n *Node) *Node {
	if n == nil {
		return &Node{Kind: Object}
	}
	c := *n
	if n.Members != nil {
		c.Members = make([]Member, len(n.Members))
		for i, m := range n.Members {
			c.Members[i] = Member{Key: m.Key, Value: diffCopy(m.Value)}
		}
	}
	if n.Items != nil {
		c.Items = make([]*Node, len(n.Items))
		for i, it := range n.Items {
			c.Items[i] = diffCopy(it)
		}
	}
	return &c
}

// diffUnits reads task-level cpu ("1 vCPU") or memory ("2 GB") the way
// ECS stores it, in CPU units or MiB: DescribeTaskDefinition returns
// "1024" for a template's "1 vcpu".
func diffUnits(n *Node, unit string) (int, bool) {
	if n.Kind != String && n.Kind != Number {
		return 0, false
	}
	amount, u, ok := splitAmount(strings.ToLower(strings.TrimSpace(n.Str)))
	if !ok || (u != "" && u != unit) {
		return 0, false
	}
	f, err := strconv.ParseFloat(amount, 64)
	if err != nil {
		return 0, false
	}
	if u != "" {
		f *= 1024
	}
	if f <= 0 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}
