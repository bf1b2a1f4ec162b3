// Package matchtest holds each hand-written matcher of render, render/ref
// and render/appspec to the regexp it replaces: on a table of inputs in
// tests, and on whatever the fuzzer finds. Only tests import it.
package matchtest

import (
	"fmt"
	"regexp"
	"testing"
)

// Matcher is a hand-written matcher next to the regexp it replaces. Both
// are reduced to one string (whether it matched, and the groups a caller
// reads) so that they can be compared.
type Matcher struct {
	Name    string
	Pattern string
	Got     func(string) string
	Want    func(*regexp.Regexp, string) string
	// Edges are inputs at this matcher's own bounds, on top of the
	// package's common inputs.
	Edges []string
}

// Matches adapts a matcher that only says yes or no.
func Matches(name, pattern string, f func(string) bool, edges ...string) Matcher {
	return Matcher{Name: name, Pattern: pattern, Edges: edges,
		Got:  func(s string) string { return fmt.Sprint(f(s)) },
		Want: func(re *regexp.Regexp, s string) string { return fmt.Sprint(re.MatchString(s)) },
	}
}

// Agree fails t for every input of common and of a matcher's edges on
// which that matcher and its regexp disagree.
func Agree(t *testing.T, common []string, ms []Matcher) {
	t.Helper()
	for _, m := range ms {
		re := regexp.MustCompile(m.Pattern)
		for _, in := range append(append([]string(nil), common...), m.Edges...) {
			if got, want := m.Got(in), m.Want(re, in); got != want {
				t.Errorf("%s(%q) = %s, the regexp %s says %s", m.Name, in, got, m.Pattern, want)
			}
		}
	}
}

// Fuzz seeds f with common and every matcher's edges and looks for an
// input on which a matcher and its regexp disagree.
func Fuzz(f *testing.F, common []string, ms []Matcher) {
	for _, in := range common {
		f.Add(in)
	}
	for _, m := range ms {
		for _, in := range m.Edges {
			f.Add(in)
		}
	}
	res := make([]*regexp.Regexp, len(ms))
	for i, m := range ms {
		res[i] = regexp.MustCompile(m.Pattern)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for i, m := range ms {
			if got, want := m.Got(in), m.Want(res[i], in); got != want {
				t.Errorf("%s(%q) = %s, the regexp %s says %s", m.Name, in, got, m.Pattern, want)
			}
		}
	})
}
