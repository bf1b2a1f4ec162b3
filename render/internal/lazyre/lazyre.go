// Package lazyre holds regular expressions that are compiled on first use
// instead of at package init.
//
// A regexp.MustCompile in a package-level var runs at the start of every
// process that links the package, including `ecsrender version` and a run
// that fails on its flags; patterns with counted repetitions such as
// {1,255} cost thousands of allocations each. Compiling on first use makes
// a run pay only for the expressions it uses.
package lazyre

import (
	"regexp"
	"sync"
)

// Regexp is a regular expression compiled when one of its methods is first
// called. A pattern that does not compile panics then, as
// regexp.MustCompile would have at init; the package tests compile every
// pattern, so that a typo still fails `go test`.
type Regexp struct {
	pattern string
	once    sync.Once
	re      *regexp.Regexp
}

// New returns pattern as a Regexp that compiles on first use.
func New(pattern string) *Regexp { return &Regexp{pattern: pattern} }

// Compiled returns the compiled expression, compiling it on the first call.
func (r *Regexp) Compiled() *regexp.Regexp {
	r.once.Do(func() { r.re = regexp.MustCompile(r.pattern) })
	return r.re
}

// String returns the source text of the pattern.
func (r *Regexp) String() string { return r.pattern }

// MatchString is regexp.Regexp.MatchString.
func (r *Regexp) MatchString(s string) bool { return r.Compiled().MatchString(s) }

// FindString is regexp.Regexp.FindString.
func (r *Regexp) FindString(s string) string { return r.Compiled().FindString(s) }

// FindStringSubmatch is regexp.Regexp.FindStringSubmatch.
func (r *Regexp) FindStringSubmatch(s string) []string {
	return r.Compiled().FindStringSubmatch(s)
}
