package lazyre

import (
	"regexp"
	"testing"
)

func TestRegexp(t *testing.T) {
	t.Parallel()
	r := New(`^([a-z]+)-([0-9]+)$`)
	if r.re != nil {
		t.Fatal("compiled before first use")
	}
	tests := []struct {
		in    string
		match bool
		sub   []string
	}{
		{"web-1", true, []string{"web-1", "web", "1"}},
		{"web-", false, nil},
		{"Web-1", false, nil},
	}
	for _, tt := range tests {
		if got := r.MatchString(tt.in); got != tt.match {
			t.Errorf("MatchString(%q) = %v, want %v", tt.in, got, tt.match)
		}
		if got := r.FindStringSubmatch(tt.in); len(got) != len(tt.sub) {
			t.Errorf("FindStringSubmatch(%q) = %q, want %q", tt.in, got, tt.sub)
		}
	}
	if got := New(`\d+`).FindString("abc 42 7"); got != "42" {
		t.Errorf("FindString = %q, want 42", got)
	}
	if r.String() != `^([a-z]+)-([0-9]+)$` {
		t.Errorf("String = %q", r.String())
	}
}

// TestCompiledOnce checks that concurrent first uses share one compile, as
// renders of many services run side by side.
func TestCompiledOnce(t *testing.T) {
	t.Parallel()
	r := New(`^a+$`)
	got := make(chan *regexp.Regexp, 8)
	for range 8 {
		go func() { got <- r.Compiled() }()
	}
	first := <-got
	for range 7 {
		if re := <-got; re != first {
			t.Fatal("two compiles of one pattern")
		}
	}
}

func TestBadPatternPanicsOnUse(t *testing.T) {
	t.Parallel()
	r := New(`(`) // built without a panic: nothing is compiled yet
	defer func() {
		if recover() == nil {
			t.Error("no panic on first use of a bad pattern")
		}
	}()
	r.MatchString("x")
}
