package render

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// ecsTasksPrincipal is the service principal that ECS assumes task and
// execution roles as.
const ecsTasksPrincipal = "ecs-tasks.amazonaws.com"

// trustPolicy is the part of an IAM role's trust policy that says who may
// assume the role.
type trustPolicy struct {
	statements []trustStatement
}

type trustStatement struct {
	allow bool
	// conditional statements hold a Condition, which cannot be evaluated
	// without the request.
	conditional bool
	// anyone is a Principal of "*".
	anyone       bool
	services     []string
	notPrincipal bool // services lists NotPrincipal's services
	actions      []string
	notAction    bool
}

// parseTrustPolicy reads an assume-role policy document. It is lenient
// where IAM is (a Statement, Principal.Service or Action may be one value
// or a list) and strict about what is not a policy.
func parseTrustPolicy(doc string) (trustPolicy, error) {
	n, err := ParseJSON([]byte(doc))
	if err != nil {
		return trustPolicy{}, fmt.Errorf("not JSON: %w", err)
	}
	if n.Kind != Object {
		return trustPolicy{}, fmt.Errorf("want an object, got %s", n.Kind)
	}
	st := n.Get("Statement")
	if st == nil {
		return trustPolicy{}, errors.New("no Statement")
	}
	items := []*Node{st}
	if st.Kind == Array {
		items = st.Items
	}
	var tp trustPolicy
	for i, s := range items {
		if s.Kind != Object {
			//lint:ignore ST1005 the message starts with the IAM policy key, which is capitalised
			return trustPolicy{}, fmt.Errorf("Statement[%d]: want an object, got %s", i, s.Kind)
		}
		ts, err := parseTrustStatement(s)
		if err != nil {
			//lint:ignore ST1005 the message starts with the IAM policy key, which is capitalised
			return trustPolicy{}, fmt.Errorf("Statement[%d]: %w", i, err)
		}
		tp.statements = append(tp.statements, ts)
	}
	return tp, nil
}

func parseTrustStatement(s *Node) (trustStatement, error) {
	var ts trustStatement
	switch e := s.GetString("Effect"); e {
	case "Allow":
		ts.allow = true
	case "Deny":
	default:
		//lint:ignore ST1005 the message starts with the IAM policy key, which is capitalised
		return ts, fmt.Errorf("Effect: want Allow or Deny, got %q", e)
	}
	ts.conditional = s.Get("Condition") != nil
	pr := s.Get("Principal")
	if np := s.Get("NotPrincipal"); np != nil && pr == nil {
		pr, ts.notPrincipal = np, true
	}
	switch {
	case pr == nil:
		return ts, errors.New("no Principal")
	case pr.Kind == String && pr.Str == "*":
		ts.anyone = true
	case pr.Kind == Object:
		svc, err := stringOrList(pr.Get("Service"))
		if err != nil {
			return ts, fmt.Errorf("Principal.Service: %w", err)
		}
		ts.services = svc
	default:
		//lint:ignore ST1005 the message starts with the IAM policy key, which is capitalised
		return ts, fmt.Errorf("Principal: want \"*\" or an object, got %s", pr.Kind)
	}
	act := s.Get("Action")
	if na := s.Get("NotAction"); na != nil && act == nil {
		act, ts.notAction = na, true
	}
	if act == nil {
		return ts, errors.New("no Action")
	}
	var err error
	if ts.actions, err = stringOrList(act); err != nil {
		//lint:ignore ST1005 the message starts with the IAM policy key, which is capitalised
		return ts, fmt.Errorf("Action: %w", err)
	}
	return ts, nil
}

// stringOrList reads an IAM value that may be one string or a list of them.
func stringOrList(n *Node) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	switch n.Kind {
	case String:
		return []string{n.Str}, nil
	case Array:
		out := make([]string, 0, len(n.Items))
		for _, it := range n.Items {
			if it.Kind != String {
				return nil, fmt.Errorf("want strings, got %s", it.Kind)
			}
			out = append(out, it.Str)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a string or a list of strings, got %s", n.Kind)
}

// allows reports whether the policy lets service call action, and if not,
// why not. An explicit
// Deny wins over any Allow, as in IAM. A Deny with a Condition is not
// counted: whether it applies depends on the request, and a build should
// not fail on a guess; an Allow with a Condition is counted, since the
// conditions seen on task roles (aws:SourceAccount, aws:SourceArn) hold
// for the account's own tasks.
func (tp trustPolicy) allows(service, action string) (bool, string) {
	allowed := false
	for i, s := range tp.statements {
		if !s.matches(service, action) {
			continue
		}
		if !s.allow {
			if !s.conditional {
				return false, fmt.Sprintf("Statement[%d] denies it", i)
			}
			continue
		}
		allowed = true
	}
	if !allowed {
		return false, tp.trusted()
	}
	return true, ""
}

func (s trustStatement) matches(service, action string) bool {
	principal := s.anyone
	for _, p := range s.services {
		if strings.EqualFold(p, service) || strings.EqualFold(p, service+".cn") {
			principal = true
		}
	}
	if s.notPrincipal {
		principal = !principal
	}
	act := false
	for _, a := range s.actions {
		// IAM matches actions case-insensitively, with * and ? wildcards.
		if ok, _ := path.Match(strings.ToLower(a), strings.ToLower(action)); ok {
			act = true
		}
	}
	if s.notAction {
		act = !act
	}
	return principal && act
}

// trusted says whom the policy lets assume the role, for the message
// that says ECS is not among them.
func (tp trustPolicy) trusted() string {
	var who []string
	for _, s := range tp.statements {
		if !s.allow || s.notPrincipal {
			continue
		}
		if s.anyone {
			who = append(who, `"*"`)
		}
		for _, p := range s.services {
			who = append(who, fmt.Sprintf("%q", p))
		}
	}
	if len(who) == 0 {
		return "it trusts no service"
	}
	return "it trusts " + strings.Join(who, ", ")
}
