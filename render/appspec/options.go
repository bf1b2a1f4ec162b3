package appspec

import (
	"fmt"
	"strconv"
	"strings"
)

// Options are an AppSpec given as options rather than as a template, in
// the forms the CLI's flags take.
type Options struct {
	// Container is NAME:PORT; "" infers the only container that maps a port.
	Container string
	// PlatformVersion is e.g. LATEST or 1.4.0.
	PlatformVersion string
	// Subnets and SecurityGroups are IDs of the awsvpc network.
	Subnets        []string
	SecurityGroups []string
	// AssignPublicIP is ENABLED or DISABLED.
	AssignPublicIP string
	// CapacityProviders are NAME:WEIGHT[:BASE] items.
	CapacityProviders []string
	// Hooks are HOOK=FUNCTION items, in the order CodeDeploy should list
	// them; FUNCTION is a Lambda function name or ARN.
	Hooks []string
}

// OptionError is an option that is wrong or does not fit the template.
// Option is its name in the domain's words (image, placeholder, container,
// platform-version, subnet, security-group, assign-public-ip,
// capacity-provider, hook) and Value the item as given, e.g. "web" or
// "web=IMAGE1_NAME", or "" when the option as a whole is wrong. Package
// render uses this type for its own options too.
type OptionError struct {
	Option, Value string
	Err           error
}

// Error returns "OPTION VALUE: message", or "OPTION: message".
func (e *OptionError) Error() string {
	if e.Value == "" {
		return e.Option + ": " + e.Err.Error()
	}
	return e.Option + " " + e.Value + ": " + e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *OptionError) Unwrap() error { return e.Err }

func optionError(option, value, format string, args ...any) error {
	return &OptionError{Option: option, Value: value, Err: fmt.Errorf(format, args...)}
}

// Build makes the AppSpec from o and the task definition's containers. It
// returns nil and no error when o names no container and no container maps
// a port: there is no load balancer to shift, and rolling deploys need no
// AppSpec. The first problem is returned as an *OptionError.
func Build(o Options, containers []Container) (*AppSpec, error) {
	a, s, err := fromOptions(o)
	if err != nil {
		return nil, err
	}
	// Every option is checked before the container is inferred, so that a
	// bad option is reported even for a task definition that needs no AppSpec.
	lb := s.LoadBalancer
	s.LoadBalancer = nil
	if vs := Validate(a, s, nil); len(vs) > 0 {
		return nil, vs[0].optionError()
	}
	if lb != nil {
		if vs := Validate(a, &Sites{LoadBalancer: lb}, containers); len(vs) > 0 {
			return nil, vs[0].optionError()
		}
		return a, nil
	}
	var candidates []LoadBalancer
	var names []string
	for _, c := range containers {
		for _, p := range c.Ports {
			candidates = append(candidates, LoadBalancer{ContainerName: c.Name, ContainerPort: p})
			names = append(names, c.Name+":"+strconv.Itoa(p))
		}
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	// Guessing among several would send production traffic to a port
	// nobody chose; the user has to say which.
	if len(candidates) > 1 {
		return nil, optionError("container", "", "several container ports could take the load balancer's traffic; pass --container NAME:PORT with one of %s", strings.Join(names, ", "))
	}
	a.TargetService.Properties.LoadBalancerInfo = candidates[0]
	return a, nil
}

// fromOptions parses the forms of o (NAME:PORT, NAME:WEIGHT[:BASE],
// HOOK=FUNCTION) into an AppSpec, and notes which option each value came
// from. What the values must be is left to Validate.
func fromOptions(o Options) (*AppSpec, *Sites, error) {
	props := Properties{TaskDefinition: TaskDefinition, PlatformVersion: o.PlatformVersion}
	s := &Sites{}
	if o.PlatformVersion != "" {
		s.PlatformVersion = &Site{Option: "platform-version", Value: o.PlatformVersion}
	}
	if len(o.Subnets) == 0 {
		// ECS needs subnets in an awsvpc configuration; without them the
		// other two options would describe a network CodeDeploy rejects.
		switch {
		case len(o.SecurityGroups) > 0:
			return nil, nil, optionError("security-group", o.SecurityGroups[0], "needs --subnet")
		case o.AssignPublicIP != "":
			return nil, nil, optionError("assign-public-ip", o.AssignPublicIP, "needs --subnet")
		}
	} else {
		props.NetworkConfiguration = &Network{AwsvpcConfiguration: Awsvpc{
			Subnets:        o.Subnets,
			SecurityGroups: o.SecurityGroups,
			AssignPublicIP: o.AssignPublicIP,
		}}
		s.Subnets = &Site{Option: "subnet"}
		for _, id := range o.Subnets {
			s.SubnetItems = append(s.SubnetItems, &Site{Option: "subnet", Value: id})
		}
		s.SecurityGroups = &Site{Option: "security-group"}
		for _, id := range o.SecurityGroups {
			s.SecurityGroupItems = append(s.SecurityGroupItems, &Site{Option: "security-group", Value: id})
		}
		if o.AssignPublicIP != "" {
			s.AssignPublicIP = &Site{Option: "assign-public-ip", Value: o.AssignPublicIP}
		}
	}

	for _, f := range o.CapacityProviders {
		parts := strings.Split(f, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, nil, optionError("capacity-provider", f, "want NAME:WEIGHT[:BASE]")
		}
		item := CapacityProvider{CapacityProvider: parts[0]}
		var ok bool
		if item.Weight, ok = Whole(parts[1], MaxWeight); !ok {
			return nil, nil, optionError("capacity-provider", f, "weight must be a whole number from 0 to %d", MaxWeight)
		}
		if len(parts) == 3 {
			if item.Base, ok = Whole(parts[2], MaxBase); !ok {
				return nil, nil, optionError("capacity-provider", f, "base must be a whole number from 0 to %d", MaxBase)
			}
		}
		props.CapacityProviderStrategy = append(props.CapacityProviderStrategy, item)
		site := &Site{Option: "capacity-provider", Value: f}
		s.CapacityProviders = append(s.CapacityProviders, CapacityProviderSites{Name: site, Base: site})
	}

	var hooks []Hook
	for _, f := range o.Hooks {
		event, fn, ok := strings.Cut(f, "=")
		if !ok || event == "" || fn == "" {
			return nil, nil, optionError("hook", f, "want HOOK=FUNCTION")
		}
		hooks = append(hooks, Hook{Event: event, Function: fn})
		site := &Site{Option: "hook", Value: f}
		s.Hooks = append(s.Hooks, HookSites{Event: site, Function: site})
	}

	if o.Container != "" {
		name, portText, ok := strings.Cut(o.Container, ":")
		if !ok || name == "" || portText == "" {
			return nil, nil, optionError("container", o.Container, "want NAME:PORT")
		}
		port, ok := Whole(portText, 65535)
		if !ok || port == 0 {
			return nil, nil, optionError("container", o.Container, "want a port number from 1 to 65535 after the colon")
		}
		props.LoadBalancerInfo = LoadBalancer{ContainerName: name, ContainerPort: port}
		s.LoadBalancer = &Site{Option: "container", Value: o.Container}
	}
	return &AppSpec{
		Version:       Version,
		TargetService: Service{Type: ServiceType, Properties: props},
		Hooks:         hooks,
	}, s, nil
}

// Whole parses a decimal whole number from 0 to hi. It refuses signs,
// spaces and YAML's other integer forms (0x50, 1_000), which CodeDeploy's
// JSON-minded reader would not take.
func Whole(s string, hi int) (int, bool) {
	if s == "" || len(s) > 9 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n <= hi
}
