// Package ascii holds the byte-class checks that the hand-written matchers
// of render, render/ref and render/appspec share. Each reports false for the
// empty string: every pattern they replace wants at least one character.
package ascii

// IsDigits reports whether s is one or more ASCII digits.
func IsDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsLower reports whether s is one or more ASCII lower-case letters.
func IsLower(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}
