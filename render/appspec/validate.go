package appspec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ecsrender/ecsrender/render/internal/ascii"

	"github.com/ecsrender/ecsrender/render/internal/suggest"
	"github.com/ecsrender/ecsrender/render/ref"
)

// Shapes of the IDs an AppSpec holds. They are checked here, not left to
// CodeDeploy, because an unrendered ${SUBNET} would otherwise only fail
// halfway through a deployment. Each is a loop rather than a regexp,
// because a one-shot CLI compiles every regexp it touches in every run;
// matchers_test.go holds the regexp each one replaces and checks that they
// agree.

// isResourceID reports whether s is prefix followed by 8 to 17 lower-case
// hex digits, as the regexps ^subnet-[0-9a-f]{8,17}$ (prefix "subnet-")
// and ^sg-[0-9a-f]{8,17}$ (prefix "sg-") say.
func isResourceID(s, prefix string) bool {
	hex, ok := strings.CutPrefix(s, prefix)
	if !ok || len(hex) < 8 || len(hex) > 17 {
		return false
	}
	for i := range len(hex) {
		if c := hex[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// isPlatformVersion reports whether s is a Fargate platform version, as the
// regexp ^(LATEST|[0-9]+\.[0-9]+\.[0-9]+)$ says: LATEST or 1.4.0.
func isPlatformVersion(s string) bool {
	if s == "LATEST" {
		return true
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if !ascii.IsDigits(p) {
			return false
		}
	}
	return true
}

// isFunction reports whether s is a Lambda function name with an optional
// version or alias, or its ARN, as the regexp
// ^(arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:function:)?[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$
// says. Without the ARN, "arn:x" is still a name with a qualifier, as the
// regexp's optional group allows.
func isFunction(s string) bool {
	if name, ok := cutFunctionARN(s); ok && isQualifiedFunctionName(name) {
		return true
	}
	return isQualifiedFunctionName(s)
}

// cutFunctionARN returns what follows the function ARN prefix
// arn:PARTITION:lambda:REGION:ACCOUNT:function: of s. None of the
// prefix's fields may hold a colon, so its first six fields are the prefix.
func cutFunctionARN(s string) (string, bool) {
	f := strings.SplitN(s, ":", 7)
	if len(f) != 7 || f[0] != "arn" || f[2] != "lambda" || f[5] != "function" {
		return "", false
	}
	partition, ok := strings.CutPrefix(f[1], "aws")
	if !ok || strings.IndexFunc(partition, func(r rune) bool { return !('a' <= r && r <= 'z' || r == '-') }) >= 0 {
		return "", false
	}
	if !isLambdaRegion(f[3]) || len(f[4]) != 12 || !ascii.IsDigits(f[4]) {
		return "", false
	}
	return f[6], true
}

// isLambdaRegion reports whether s is shaped like a region, as
// [a-z]{2}(-[a-z]+)+-[0-9] says: two letters, words, and one digit.
func isLambdaRegion(s string) bool {
	parts := strings.Split(s, "-")
	last := parts[len(parts)-1]
	if len(parts) < 3 || len(parts[0]) != 2 || len(last) != 1 || !ascii.IsDigits(last) {
		return false
	}
	for _, p := range parts[:len(parts)-1] {
		if !ascii.IsLower(p) {
			return false
		}
	}
	return true
}

// isQualifiedFunctionName reports whether s is NAME or NAME:QUALIFIER, where
// NAME is 1 to 64 and QUALIFIER 1 to 128 ASCII letters, digits, _ and -, or
// QUALIFIER is $LATEST.
func isQualifiedFunctionName(s string) bool {
	name, qualifier, ok := strings.Cut(s, ":")
	if !isWord(name, 64) {
		return false
	}
	return !ok || qualifier == "$LATEST" || isWord(qualifier, 128)
}

// isWord reports whether s is 1 to limit ASCII letters, digits, _ and -.
func isWord(s string, limit int) bool {
	if len(s) == 0 || len(s) > limit {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// isProviderName reports whether s is a capacity provider name: 1 to 255
// ASCII letters, digits, _ and -. A loop rather than the regexp
// ^[A-Za-z0-9_-]{1,255}$, which compiles into some 3,300 allocations.
func isProviderName(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Site is where a value of an AppSpec came from, so that a problem with it
// is told in the terms of its source: an option (Option and Value, as
// Build sets them) or a path in an AppSpec template (Path, and Order, its
// place in the document, as render's template parser sets them).
type Site struct {
	Option, Value string
	Path          string
	Order         int
}

// CapacityProviderSites are the sites of one CapacityProviderStrategy item.
type CapacityProviderSites struct{ Name, Base *Site }

// HookSites are the sites of one Hooks item.
type HookSites struct{ Event, Function *Site }

// Sites say where each value of an AppSpec came from. A nil site is a value
// that was not given, or that did not parse: it is not checked. The slices
// run parallel to the AppSpec's own.
type Sites struct {
	PlatformVersion *Site
	// LoadBalancer is nil when the container is not to be checked against
	// the task definition.
	LoadBalancer                    *Site
	Subnets, SecurityGroups         *Site
	SubnetItems, SecurityGroupItems []*Site
	AssignPublicIP                  *Site
	CapacityProviders               []CapacityProviderSites
	Hooks                           []HookSites
}

// Violation is one rule an AppSpec breaks, at the site of the value.
type Violation struct {
	Site *Site
	// want and got make "want WANT" for an option and "want WANT, got
	// "GOT"" in a template; msg, when set, is the whole message instead.
	want, got, msg string
	// optionWant replaces want for an option, where the value's form says more.
	optionWant string
	// count and limit are a list longer than ECS allows.
	count, limit int
}

// Message is the problem in the terms of a template: it goes after the path.
func (v Violation) Message() string {
	switch {
	case v.limit > 0:
		return fmt.Sprintf("%d given; ECS allows at most %d", v.count, v.limit)
	case v.msg != "":
		return v.msg
	}
	return fmt.Sprintf("want %s, got %q", v.want, v.got)
}

func (v Violation) optionError() error {
	var err error
	switch {
	case v.limit > 0:
		err = fmt.Errorf("given %d times; ECS allows at most %d", v.count, v.limit)
	case v.msg != "":
		err = fmt.Errorf("%s", v.msg)
	case v.optionWant != "":
		err = fmt.Errorf("want %s", v.optionWant)
	default:
		err = fmt.Errorf("want %s", v.want)
	}
	return &OptionError{Option: v.Site.Option, Value: v.Site.Value, Err: err}
}

// Validate checks the values of a that s gives a site for, and returns
// every rule they break, in the order of their sites' Order (document
// order for a template), else in the order of the AppSpec. The container
// of LoadBalancerInfo is checked against containers when s.LoadBalancer is
// set.
func Validate(a *AppSpec, s *Sites, containers []Container) []Violation {
	var out []Violation
	add := func(site *Site, v Violation) {
		v.Site = site
		out = append(out, v)
	}
	props := a.TargetService.Properties
	if site := s.LoadBalancer; site != nil {
		lb := props.LoadBalancerInfo
		if msg := checkContainer(containers, lb.ContainerName, lb.ContainerPort); msg != "" {
			add(site, Violation{msg: msg})
		}
	}
	if site := s.PlatformVersion; site != nil && !isPlatformVersion(props.PlatformVersion) {
		add(site, Violation{want: "LATEST or a version such as 1.4.0", got: props.PlatformVersion})
	}
	var vpc Awsvpc
	if props.NetworkConfiguration != nil {
		vpc = props.NetworkConfiguration.AwsvpcConfiguration
	}
	if site := s.Subnets; site != nil && len(vpc.Subnets) > maxSubnets {
		add(site, Violation{count: len(vpc.Subnets), limit: maxSubnets})
	}
	if site := s.SecurityGroups; site != nil && len(vpc.SecurityGroups) > maxSecurityGroups {
		add(site, Violation{count: len(vpc.SecurityGroups), limit: maxSecurityGroups})
	}
	for i, site := range s.SubnetItems {
		if site != nil && !isResourceID(vpc.Subnets[i], "subnet-") {
			add(site, Violation{want: "a subnet ID such as subnet-0123456789abcdef0", got: vpc.Subnets[i]})
		}
	}
	for i, site := range s.SecurityGroupItems {
		if site != nil && !isResourceID(vpc.SecurityGroups[i], "sg-") {
			add(site, Violation{want: "a security group ID such as sg-0123456789abcdef0", got: vpc.SecurityGroups[i]})
		}
	}
	if site := s.AssignPublicIP; site != nil && vpc.AssignPublicIP != "ENABLED" && vpc.AssignPublicIP != "DISABLED" {
		add(site, Violation{want: "ENABLED or DISABLED", got: vpc.AssignPublicIP})
	}

	withBase := ""
	seenProvider := map[string]bool{}
	for i, site := range s.CapacityProviders {
		item := props.CapacityProviderStrategy[i]
		if site.Name != nil {
			if !isProviderName(item.CapacityProvider) {
				add(site.Name, Violation{want: "a capacity provider name of letters, digits, _ and -", got: item.CapacityProvider})
			}
			if seenProvider[item.CapacityProvider] {
				add(site.Name, Violation{msg: ref.QuoteIfNeeded(item.CapacityProvider) + " given twice"})
			}
			seenProvider[item.CapacityProvider] = true
		}
		if site.Base != nil && item.Base > 0 {
			// ECS refuses a strategy in which two providers have a base.
			if withBase != "" {
				add(site.Base, Violation{msg: fmt.Sprintf("only one capacity provider may have a base, and %s has one", withBase)})
			}
			withBase = item.CapacityProvider
		}
	}

	seenHook := map[string]bool{}
	for i, site := range s.Hooks {
		h := a.Hooks[i]
		if site.Event == nil {
			continue
		}
		if !isHook(h.Event) {
			add(site.Event, Violation{msg: fmt.Sprintf("unknown hook%s; want one of %s", DidYouMean(h.Event, Hooks()), HookList)})
			continue
		}
		if site.Function != nil && !isFunction(h.Function) {
			add(site.Function, Violation{want: "a Lambda function name or ARN", optionWant: "a Lambda function name or ARN after the =", got: h.Function})
		}
		if seenHook[h.Event] {
			add(site.Event, Violation{msg: ref.QuoteIfNeeded(h.Event) + " given twice"})
		}
		seenHook[h.Event] = true
	}
	slices.SortStableFunc(out, func(a, b Violation) int { return a.Site.Order - b.Site.Order })
	return out
}

// checkContainer says what is wrong with name:port as the load-balanced
// container, or "" when it is right. The message lists what the task
// definition offers, since the usual mistake is a stale name or port
// copied from another service.
func checkContainer(containers []Container, name string, port int) string {
	shown := ref.QuoteIfNeeded(name)
	var names []string
	for _, c := range containers {
		if c.Name != name {
			names = append(names, c.Name)
			continue
		}
		if slices.Contains(c.Ports, port) {
			return ""
		}
		if len(c.Ports) == 0 {
			return fmt.Sprintf("container %s maps no ports (portMappings[].containerPort)", shown)
		}
		return fmt.Sprintf("container %s does not map port %d (it maps %s)", shown, port, joinPorts(c.Ports))
	}
	if len(names) == 0 {
		return fmt.Sprintf("no container %s: the task definition has no containers", shown)
	}
	items := make([]string, len(containers))
	for i, c := range containers {
		if len(c.Ports) == 0 {
			items[i] = ref.QuoteIfNeeded(c.Name) + " (no ports)"
		} else {
			items[i] = ref.QuoteIfNeeded(c.Name) + " (" + joinPorts(c.Ports) + ")"
		}
	}
	return fmt.Sprintf("no container %s in the task definition (containers: %s)", shown, strings.Join(items, ", "))
}

func joinPorts(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// DidYouMean returns ", did you mean X?" with the known name closest to s,
// or "" when none is close enough to be a likely typo: one that differs
// only in case, or else the nearest within a few edits.
func DidYouMean(s string, known []string) string {
	if best := suggest.Closest(s, known); best != "" {
		return ", did you mean " + best + "?"
	}
	return ""
}
