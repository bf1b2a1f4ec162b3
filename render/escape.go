package render

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EscapeControl returns s with every control character, invalid UTF-8
// byte and line or direction-changing format character written as a Go
// escape (\n, \r, \x1b, \u2028), and everything else as it is. A line of
// output that went through it cannot hold a second line, move the
// cursor, recolour a terminal or be reordered by a bidi override,
// whatever the input it quotes. It is idempotent: its output has nothing
// left to escape, so escaping twice (at the source and again in the CLI)
// changes nothing.
func EscapeControl(s string) string {
	if !strings.ContainsFunc(s, needsEscape) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && needsEscape(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case needsEscape(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// needsEscape reports whether r may not reach a log or a terminal raw:
// C0 and C1 controls and DEL (unicode.IsControl), the Unicode line and
// paragraph separators, and the bidi embedding, override and isolate
// characters that reorder what a terminal shows.
func needsEscape(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}
