package render

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/ecsrender/ecsrender/render/internal/suggest"
	"github.com/ecsrender/ecsrender/render/ref"
)

// maxDocumentSize is the largest task definition ECS registers, measured on
// the compact JSON of the request.
const maxDocumentSize = 64 << 10

// maxContainers is the most containers one task definition may hold.
const maxContainers = 10

// IsECSName reports whether s is what ECS accepts for a family, a
// container, a cluster or a service name: 1 to 255 ASCII letters, digits,
// _ and -. A loop rather than a regexp: ^[A-Za-z0-9_-]{1,255}$ compiles into some 3,300
// allocations, which every run would pay for.
func IsECSName(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// CheckTaskDefinition checks a rendered RegisterTaskDefinition document
// against the ECS API model and the rules ECS applies at registration, so
// that a mistake fails the build with its JSON path instead of the deploy
// with a one-line service error. It reports every problem at once, in
// document order, and warnings (such as a plain-text secret) that do not
// stop a deploy. A null value is treated as absent, as ECS does.
func CheckTaskDefinition(td *Node) (problems, warnings []Problem) {
	if td == nil || td.Kind != Object {
		return []Problem{{Msg: "want a task definition object, got " + typeOf(td)}}, nil
	}
	c := &checker{td: td}
	c.walk(td, taskDefinitionShape(), "")
	c.rules()
	order := documentOrder(td)
	sortProblems(c.problems, order)
	sortProblems(c.warnings, order)
	return c.problems, c.warnings
}

type checker struct {
	td                 *Node
	problems, warnings []Problem
}

func (c *checker) errorf(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) warnf(path, format string, args ...any) {
	c.warnings = append(c.warnings, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// requiredMembers returns the members the ECS model marks required in the
// structure of that model name. Reflection cannot see them (the SDK says so
// only in comments), so they are listed here and TestRequiredMembers
// compares the list with the SDK source. ContainerDefinition has none in
// the model; its name and image are checked by the rules with their own
// messages, and the task's family and containerDefinitions likewise.
func requiredMembers(shape string) []string {
	switch shape {
	case "ContainerDependency":
		return []string{"containerName", "condition"}
	case "ContainerRestartPolicy":
		return []string{"enabled"}
	case "Device":
		return []string{"hostPath"}
	case "EFSVolumeConfiguration":
		return []string{"fileSystemId"}
	case "EnvironmentFile":
		return []string{"value", "type"}
	case "EphemeralStorage":
		return []string{"sizeInGiB"}
	case "FirelensConfiguration":
		return []string{"type"}
	case "FSxWindowsFileServerAuthorizationConfig":
		return []string{"credentialsParameter", "domain"}
	case "FSxWindowsFileServerVolumeConfiguration":
		return []string{"fileSystemId", "rootDirectory", "authorizationConfig"}
	case "HealthCheck":
		return []string{"command"}
	case "HostEntry":
		return []string{"hostname", "ipAddress"}
	case "InferenceAccelerator":
		return []string{"deviceName", "deviceType"}
	case "LogConfiguration":
		return []string{"logDriver"}
	case "ProxyConfiguration":
		return []string{"containerName"}
	case "RepositoryCredentials":
		return []string{"credentialsParameter"}
	case "NvidiaMpsAllocation":
		return []string{"memory"}
	case "ResourceRequirement":
		return []string{"type"}
	case "S3FilesVolumeConfiguration":
		return []string{"fileSystemArn"}
	case "TrustedExecutionConfiguration":
		return []string{"isolationMode"}
	case "Secret":
		return []string{"name", "valueFrom"}
	case "Tmpfs":
		return []string{"containerPath", "size"}
	case "Ulimit":
		return []string{"name", "softLimit", "hardLimit"}
	}
	return nil
}

// walk checks n against the model: known keys, JSON types, enum values and
// unions. It goes in document order so that problems read top to bottom.
func (c *checker) walk(n *Node, s *Shape, path string) {
	switch s.Kind {
	case ShapeStruct:
		if n.Kind != Object {
			c.errorf(path, "want an object, got %s", typeOf(n))
			return
		}
		var set []string
		for _, m := range n.Members {
			p := joinPath(path, m.Key)
			f, ok := s.Fields[m.Key]
			if !ok {
				c.unknownKey(p, m.Key, s)
				continue
			}
			if m.Value.Kind == Null {
				continue
			}
			set = append(set, m.Key)
			// Task-level cpu and memory are strings in the model, but ECS
			// also takes a JSON number there; rules() parses both.
			if path == "" && (m.Key == "cpu" || m.Key == "memory") && m.Value.Kind == Number {
				continue
			}
			c.walk(m.Value, f, p)
		}
		if s.Union && len(set) != 1 {
			got := "none"
			if len(set) > 0 {
				got = strings.Join(set, " and ")
			}
			c.errorf(path, "want exactly one of %s, got %s", strings.Join(s.FieldNames(), ", "), got)
		}
		for _, r := range requiredMembers(s.Name) {
			if n.Get(r) == nil {
				c.errorf(joinPath(path, r), "missing; %s requires it", s.Name)
			}
		}
	case ShapeList:
		if n.Kind != Array {
			c.errorf(path, "want an array, got %s", typeOf(n))
			return
		}
		for i, item := range n.Items {
			c.walk(item, s.Elem, indexPath(path, i))
		}
	case ShapeMap:
		if n.Kind != Object {
			c.errorf(path, "want an object, got %s", typeOf(n))
			return
		}
		for _, m := range n.Members {
			if m.Value.Kind != Null {
				c.walk(m.Value, s.Elem, joinPath(path, m.Key))
			}
		}
	case ShapeString:
		if n.Kind != String {
			c.errorf(path, "want a string, got %s", typeOf(n))
			return
		}
		c.leftover(path, n.Str)
		if s.Enum != nil && !slices.Contains(s.Enum, n.Str) {
			if sug := suggest.Closest(n.Str, s.Enum); sug != "" {
				c.errorf(path, "unknown value %q; did you mean %q?", n.Str, sug)
			} else {
				c.errorf(path, "unknown value %q; want one of %s", n.Str, strings.Join(s.Enum, ", "))
			}
		}
	case ShapeInteger:
		if n.Kind != Number {
			c.errorf(path, "want a number, got %s", typeOf(n))
			return
		}
		if _, err := strconv.ParseInt(n.Str, 10, 32); err != nil {
			c.errorf(path, "want a whole number up to %d, got number %s", int32(1<<31-1), n.Str)
		}
	case ShapeBoolean:
		if n.Kind != Bool {
			c.errorf(path, "want a boolean, got %s", typeOf(n))
		}
	}
}

// missingContainerProblems returns the problems of a document that has no
// containerDefinitions array, or nil when it has one. Render asks before
// it sets images: a misspelt "containerDefinition" would otherwise be
// reported as the follow-on "--image web: no container named web", and
// the real mistake, with its did-you-mean, never shown.
func missingContainerProblems(td *Node) []Problem {
	if td == nil || td.Kind != Object {
		return nil
	}
	if defs := td.Get("containerDefinitions"); defs != nil && defs.Kind == Array {
		return nil
	}
	problems, _ := CheckTaskDefinition(td)
	return problems
}

func (c *checker) unknownKey(path, key string, s *Shape) {
	if sug := suggest.Closest(key, s.FieldNames()); sug != "" {
		c.errorf(path, "unknown key; did you mean %q?", sug)
		return
	}
	what := s.Name
	if path == key {
		what = "a task definition"
	}
	c.errorf(path, "unknown key; not a field of %s", what)
}

// findTerraformLeftover returns the first ${...} interpolation in s, or "",
// as the regexp \$\{[^}]*\} finds it. Terraform's templatefile replaces
// these, so one stays in the document when the template was uploaded as it
// is (aws_s3_object's source instead of content) or the variable was
// escaped by mistake. Only the first ${ can start a match: a later one
// sees a suffix of the same text, with no } in it either.
func findTerraformLeftover(s string) string {
	i := strings.Index(s, "${")
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(s[i+2:], '}')
	if j < 0 {
		return ""
	}
	return s[i : i+2+j+1]
}

// leftover warns about a ${...} that Terraform left in a string. It is a
// warning, not an error: ECS takes the text as it is, and ${X} may be
// meant literally. Shell commands are skipped, where ${VAR} is the
// shell's own expansion. One warning per path, naming the first one.
func (c *checker) leftover(path, s string) {
	m := findTerraformLeftover(s)
	if m == "" || isShellCommand(path) {
		return
	}
	c.warnf(path, "%q looks like Terraform interpolation left unrendered; render the template with templatefile (or write $%s in it for a literal ${)", m, EscapeControl(m))
}

// isShellCommand reports whether path is an item of a container's
// command, entryPoint or healthCheck.command, where a shell expands ${X}.
func isShellCommand(path string) bool {
	i := strings.LastIndexByte(path, '[')
	if i < 0 || !strings.HasSuffix(path, "]") {
		return false
	}
	list := path[:i]
	return strings.HasSuffix(list, ".command") || strings.HasSuffix(list, ".entryPoint")
}

// joinQuotedIfNeeded lists names from the document, each as written unless
// it holds something that must be quoted to reach a log safely.
func joinQuotedIfNeeded(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = ref.QuoteIfNeeded(n)
	}
	return strings.Join(q, ", ")
}

// misspelt reports whether the document has a top-level key that is a
// likely misspelling of key (and so was reported with a did-you-mean).
func (c *checker) misspelt(key string) bool {
	for _, m := range c.td.Members {
		if m.Key != key && suggest.Closest(m.Key, []string{key}) == key {
			return true
		}
	}
	return false
}

// typeOf names a value's type and, for a scalar, the value itself, so that
// a type error shows what was actually written.
func typeOf(n *Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case String:
		s := n.Str
		if r := []rune(s); len(r) > 40 {
			s = string(r[:40]) + "..."
		}
		return "string " + strconv.Quote(s)
	case Number:
		return "number " + n.Str
	case Bool:
		return "boolean " + strconv.FormatBool(n.Bool)
	case Array:
		return "an array"
	case Object:
		return "an object"
	}
	return "null"
}

// container is one entry of containerDefinitions that is an object.
type container struct {
	path string
	n    *Node
	name string
}

// rules applies the ECS registration rules that the model alone does not
// express. It reads values defensively: a value of the wrong type has
// already been reported by walk and is skipped here.
func (c *checker) rules() {
	td := c.td
	c.checkName("family", td.Get("family"), "family")

	defs := td.Get("containerDefinitions")
	var containers []container
	switch {
	case defs == nil && c.misspelt("containerDefinitions"):
		// The unknown key's did-you-mean says it; "missing" would only
		// draw the eye away from the typo.
	case defs == nil:
		c.errorf("containerDefinitions", "missing; want at least one container")
	case defs.Kind == Array && len(defs.Items) == 0:
		c.errorf("containerDefinitions", "empty; want at least one container")
	case defs.Kind == Array:
		for i, item := range defs.Items {
			if item.Kind == Object {
				containers = append(containers, container{path: indexPath("containerDefinitions", i), n: item, name: item.GetString("name")})
			}
		}
		if len(defs.Items) > maxContainers {
			c.errorf("containerDefinitions", "%d containers; ecs allows at most %d", len(defs.Items), maxContainers)
		}
	}

	names := c.uniqueNames(containers)
	c.essential(containers)
	c.roles()
	c.taskSize()
	c.ports(containers)
	c.secrets(containers)
	c.references(containers, names)
	c.containerMemory(containers)
	c.memoryReservation(containers)
	c.environment(containers)
	c.limits(containers)
	c.size()
}

func (c *checker) checkName(path string, n *Node, what string) {
	switch {
	case n == nil:
		c.errorf(path, "missing; want a %s name", what)
	case n.Kind == String && !IsECSName(n.Str):
		c.errorf(path, "invalid %s name %q; want 1 to 255 letters, digits, hyphens or underscores", what, n.Str)
	}
}

// uniqueNames checks each container's name and image and returns the
// names in document order.
func (c *checker) uniqueNames(containers []container) []string {
	var names []string
	first := map[string]string{}
	for _, ct := range containers {
		nameNode := ct.n.Get("name")
		c.checkName(joinPath(ct.path, "name"), nameNode, "container")
		if nameNode != nil && nameNode.Kind == String {
			if prev, ok := first[ct.name]; ok {
				c.errorf(joinPath(ct.path, "name"), "duplicate container name %q (also %s)", ct.name, prev)
			} else {
				first[ct.name] = ct.path
				names = append(names, ct.name)
			}
		}
		switch img := ct.n.Get("image"); {
		case img == nil:
			c.errorf(joinPath(ct.path, "image"), "missing; want an image reference")
		case img.Kind == String && strings.TrimSpace(img.Str) == "":
			c.errorf(joinPath(ct.path, "image"), "empty; want an image reference")
		}
	}
	return names
}

// essential requires one essential container: a task of only non-essential
// containers is refused by ECS. essential defaults to true.
func (c *checker) essential(containers []container) {
	if len(containers) == 0 {
		return
	}
	for _, ct := range containers {
		if e := ct.n.Get("essential"); e == nil || e.Kind != Bool || e.Bool {
			return
		}
	}
	c.errorf("containerDefinitions", "no essential container; want at least one with essential true (the default)")
}

func (c *checker) roles() {
	for _, key := range []string{"taskRoleArn", "executionRoleArn"} {
		if n := c.td.Get(key); n != nil && n.Kind == String {
			if err := checkRole(n.Str); err != nil {
				c.errorf(key, "want an iam role arn or role name, got %q (%v)", n.Str, err)
			}
		}
	}
}

// compatibilities says which launch types the task must run on. With no
// requiresCompatibilities ECS validates the task for EC2.
func (c *checker) compatibilities() (fargate, ec2 bool) {
	rc := c.td.Get("requiresCompatibilities")
	if rc == nil || rc.Kind != Array || len(rc.Items) == 0 {
		return false, true
	}
	for _, item := range rc.Items {
		if item.Kind != String {
			continue
		}
		switch item.Str {
		case "FARGATE":
			fargate = true
		case "EC2", "EXTERNAL":
			ec2 = true
		}
	}
	return fargate, ec2
}

// taskSize checks task-level cpu and memory, which may be written with
// units, and on Fargate the network mode and the cpu/memory pair.
func (c *checker) taskSize() {
	cpuNode, memNode := c.td.Get("cpu"), c.td.Get("memory")
	cpu, cpuOK := 0, false
	if cpuNode != nil && (cpuNode.Kind == String || cpuNode.Kind == Number) {
		if cpu, cpuOK = parseTaskCPU(cpuNode); !cpuOK {
			c.errorf("cpu", `want cpu units (1024) or vcpus ("1 vcpu"), got %s`, typeOf(cpuNode))
		}
	}
	mem, memOK := 0, false
	if memNode != nil && (memNode.Kind == String || memNode.Kind == Number) {
		if mem, memOK = parseTaskMemory(memNode); !memOK {
			c.errorf("memory", `want MiB (2048) or GB ("2 GB"), got %s`, typeOf(memNode))
		}
	}
	fargate, _ := c.compatibilities()
	if !fargate {
		return
	}
	switch nm := c.td.Get("networkMode"); {
	case nm == nil:
		c.errorf("networkMode", `missing; fargate needs networkMode "awsvpc"`)
	case nm.Kind == String && nm.Str != "awsvpc":
		c.errorf("networkMode", `fargate needs networkMode "awsvpc", got %q`, nm.Str)
	}
	if cpuNode == nil {
		c.errorf("cpu", "missing; fargate needs task-level cpu")
	}
	if memNode == nil {
		c.errorf("memory", "missing; fargate needs task-level memory")
	}
	if cpuOK && memOK {
		if msg := checkFargateSize(cpu, mem); msg != "" {
			c.errorf("cpu", "%s", msg)
		}
	}
}

// ports requires hostPort to equal containerPort where the container shares
// the task's or the host's network stack and cannot remap ports.
func (c *checker) ports(containers []container) {
	mode := c.td.GetString("networkMode")
	if mode != "awsvpc" && mode != "host" {
		return
	}
	for _, ct := range containers {
		forEachObject(ct.n, "portMappings", ct.path, func(path string, pm *Node) {
			cp, hp := pm.Get("containerPort"), pm.Get("hostPort")
			if cp == nil || hp == nil || cp.Kind != Number || hp.Kind != Number || cp.Str == hp.Str {
				return
			}
			c.errorf(joinPath(path, "hostPort"), "%s needs hostPort equal to containerPort %s, got %s", mode, cp.Str, hp.Str)
		})
	}
}

// secrets checks where secrets come from and that the task can fetch them:
// ECS reads them with the task execution role. On Fargate the execution
// role also carries awslogs.
func (c *checker) secrets(containers []container) {
	hasRole := c.td.Get("executionRoleArn") != nil
	fargate, _ := c.compatibilities()
	for _, ct := range containers {
		lc := ct.n.Get("logConfiguration")
		lcPath := joinPath(ct.path, "logConfiguration")
		for _, list := range []struct {
			parent *Node
			path   string
			key    string
		}{{ct.n, ct.path, "secrets"}, {lc, lcPath, "secretOptions"}} {
			if list.parent == nil || list.parent.Kind != Object {
				continue
			}
			if s := list.parent.Get(list.key); !hasRole && s != nil && s.Kind == Array && len(s.Items) > 0 {
				c.errorf(joinPath(list.path, list.key), "secrets need the task's executionRoleArn, which is not set")
			}
			forEachObject(list.parent, list.key, list.path, func(path string, sec *Node) {
				if v := sec.Get("valueFrom"); v != nil && v.Kind == String {
					if err := checkSecretRef(v.Str); err != nil {
						c.errorf(joinPath(path, "valueFrom"), "want an ssm parameter name or arn, or a secrets manager arn, got %q (%v)", v.Str, err)
					}
				}
			})
		}
		if fargate && !hasRole && lc != nil && lc.GetString("logDriver") == "awslogs" {
			c.errorf(joinPath(lcPath, "logDriver"), "fargate with awslogs needs the task's executionRoleArn, which is not set")
		}
		if rc := ct.n.Get("repositoryCredentials"); rc != nil {
			if v := rc.Get("credentialsParameter"); v != nil && v.Kind == String {
				if err := checkSecretsManagerARN(v.Str); err != nil {
					c.errorf(joinPath(ct.path, "repositoryCredentials.credentialsParameter"), "want a secrets manager arn, got %q (%v)", v.Str, err)
				}
			}
		}
	}
}

// references checks every name that points at another part of the task:
// containers in dependsOn, volumesFrom and proxyConfiguration, volumes in
// mountPoints.
func (c *checker) references(containers []container, names []string) {
	// containerRef checks a reference to a container; self is the name of
	// the referring container, which may not point at itself.
	containerRef := func(path string, ref *Node, self string) {
		switch {
		case ref == nil || ref.Kind != String:
		case ref.Str == "":
			c.errorf(path, "empty; want a container name")
		case ref.Str == self:
			c.errorf(path, "container %q depends on itself", ref.Str)
		case !slices.Contains(names, ref.Str):
			c.errorf(path, "unknown container %q; containers: %s", ref.Str, joinQuotedIfNeeded(names))
		}
	}
	var volumes []string
	if vs := c.td.Get("volumes"); vs != nil && vs.Kind == Array {
		for _, v := range vs.Items {
			if name := v.GetString("name"); name != "" {
				volumes = append(volumes, name)
			}
		}
	}
	for _, ct := range containers {
		forEachObject(ct.n, "dependsOn", ct.path, func(path string, dep *Node) {
			containerRef(joinPath(path, "containerName"), dep.Get("containerName"), ct.name)
		})
		forEachObject(ct.n, "volumesFrom", ct.path, func(path string, vf *Node) {
			containerRef(joinPath(path, "sourceContainer"), vf.Get("sourceContainer"), ct.name)
		})
		forEachObject(ct.n, "mountPoints", ct.path, func(path string, mp *Node) {
			n := mp.Get("sourceVolume")
			if n == nil || n.Kind != String || slices.Contains(volumes, n.Str) {
				return
			}
			if n.Str == "" {
				c.errorf(joinPath(path, "sourceVolume"), "empty; want a volume name")
				return
			}
			if len(volumes) == 0 {
				c.errorf(joinPath(path, "sourceVolume"), "unknown volume %q; the task declares no volumes", n.Str)
				return
			}
			c.errorf(joinPath(path, "sourceVolume"), "unknown volume %q; volumes: %s", n.Str, joinQuotedIfNeeded(volumes))
		})
	}
	if pc := c.td.Get("proxyConfiguration"); pc != nil && len(containers) > 0 {
		containerRef("proxyConfiguration.containerName", pc.Get("containerName"), "")
	}
}

// containerMemory: on EC2 (and ECS Anywhere) a container needs a memory
// limit or reservation unless the task sets memory for all of them.
func (c *checker) containerMemory(containers []container) {
	if _, ec2 := c.compatibilities(); !ec2 || c.td.Get("memory") != nil {
		return
	}
	for _, ct := range containers {
		if ct.n.Get("memory") == nil && ct.n.Get("memoryReservation") == nil {
			c.errorf(ct.path, "no memory or memoryReservation; an ec2 task without task-level memory needs one in every container")
		}
	}
}

// memoryReservation is a soft limit, so ECS refuses one above the hard
// limit of the same container.
func (c *checker) memoryReservation(containers []container) {
	for _, ct := range containers {
		hard, soft := ct.n.Get("memory"), ct.n.Get("memoryReservation")
		if hard == nil || soft == nil || hard.Kind != Number || soft.Kind != Number {
			continue
		}
		h, err1 := strconv.Atoi(hard.Str)
		s, err2 := strconv.Atoi(soft.Str)
		if err1 == nil && err2 == nil && s > h {
			c.errorf(joinPath(ct.path, "memoryReservation"), "%d is more than memory %d; want at most memory", s, h)
		}
	}
}

// environment reports a name set twice in one container (Docker keeps one
// of them, silently) and warns about secrets in plain text.
func (c *checker) environment(containers []container) {
	for _, ct := range containers {
		seen := map[string]string{}
		forEachObject(ct.n, "environment", ct.path, func(path string, kv *Node) {
			n := kv.Get("name")
			if n == nil || n.Kind != String {
				return
			}
			if prev, ok := seen[n.Str]; ok {
				c.errorf(joinPath(path, "name"), "duplicate environment variable %q (also %s)", n.Str, prev)
			} else {
				seen[n.Str] = path
			}
			if kv.GetString("value") != "" && looksSecret(n.Str) {
				c.warnf(path, "%q looks like a secret in plain text; move it to secrets (ssm or secrets manager)", n.Str)
			}
		})
	}
}

// size measures the document as ECS does, on its compact JSON.
func (c *checker) size() {
	var b bytes.Buffer
	c.td.writeCompact(&b)
	if b.Len() > maxDocumentSize {
		c.errorf("", "document is %d bytes of compact json; ecs allows at most %d (64 KiB)", b.Len(), maxDocumentSize)
	}
}

// forEachObject calls f for every object in the array parent[key].
func forEachObject(parent *Node, key, parentPath string, f func(path string, item *Node)) {
	list := parent.Get(key)
	if list == nil || list.Kind != Array {
		return
	}
	for i, item := range list.Items {
		if item.Kind == Object {
			f(indexPath(joinPath(parentPath, key), i), item)
		}
	}
}

// isSecretWord reports whether a name part marks an environment variable as
// a secret. KEY alone is too common (KEY_PREFIX, SORT_KEY), so looksSecret
// counts it only after API or PRIVATE.
func isSecretWord(p string) bool {
	switch p {
	case "PASSWORD", "PASSWORDS", "PASSWD", "PASSPHRASE", "SECRET", "SECRETS", "TOKEN", "TOKENS",
		"APIKEY", "PRIVATEKEY", "CREDENTIAL", "CREDENTIALS":
		return true
	}
	return false
}

// isAboutSecret reports whether the last part of a name says that the
// variable is about a secret without holding one: TOKEN_URL, SECRET_ARN,
// PASSWORD_FILE.
func isAboutSecret(last string) bool {
	switch last {
	case "URL", "URI", "ENDPOINT", "HOST", "PATH", "FILE", "ARN", "NAME", "ID", "ENABLED", "TYPE", "TTL":
		return true
	}
	return false
}

// looksSecret reports whether an environment variable name suggests a
// secret. The name is split into words at _, -, . and camelCase, so that
// DB_PASSWORD, dbPassword and DD_API_KEY match and TOKENIZER does not.
func looksSecret(name string) bool {
	parts := nameParts(name)
	if len(parts) == 0 || isAboutSecret(parts[len(parts)-1]) {
		return false
	}
	for i, p := range parts {
		if isSecretWord(p) || (p == "KEY" && i > 0 && (parts[i-1] == "API" || parts[i-1] == "PRIVATE")) {
			return true
		}
	}
	return false
}

// nameParts splits an identifier into upper-case words.
func nameParts(name string) []string {
	var parts []string
	var cur []rune
	rs := []rune(name)
	flush := func() {
		if len(cur) > 0 {
			parts = append(parts, strings.ToUpper(string(cur)))
			cur = cur[:0]
		}
	}
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if i > 0 && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return parts
}

// documentOrder numbers every path of the document in pre-order, so that
// problems found by different checks can be sorted into reading order.
func documentOrder(td *Node) map[string]int {
	order := map[string]int{}
	var visit func(n *Node, path string)
	visit = func(n *Node, path string) {
		if _, ok := order[path]; !ok {
			order[path] = len(order)
		}
		switch n.Kind {
		case Object:
			for _, m := range n.Members {
				visit(m.Value, joinPath(path, m.Key))
			}
		case Array:
			for i, item := range n.Items {
				visit(item, indexPath(path, i))
			}
		}
	}
	visit(td, "")
	return order
}

// position returns the place of path in the document; a path that is not
// there (a missing member) sorts with its nearest present ancestor.
func position(order map[string]int, path string) int {
	for {
		if o, ok := order[path]; ok {
			return o
		}
		if path == "" {
			return 0
		}
		if strings.HasSuffix(path, "]") {
			path = path[:strings.LastIndexByte(path, '[')]
		} else if i := strings.LastIndexByte(path, '.'); i >= 0 {
			path = path[:i]
		} else {
			path = ""
		}
	}
}

func sortProblems(ps []Problem, order map[string]int) {
	sort.SliceStable(ps, func(i, j int) bool {
		return position(order, ps[i].Path) < position(order, ps[j].Path)
	})
}
