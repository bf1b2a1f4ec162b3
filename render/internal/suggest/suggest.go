// Package suggest finds the likely intended word for a typo, for the
// "did you mean" of messages about task definitions and AppSpecs alike.
package suggest

import "strings"

// Closest returns the candidate closest to word, for a "did you mean": one
// that differs only in case, or else the nearest within a few edits. Longer
// words may be further off ("memoryReservaton"), while a short word allows
// one slip only, so that a suggestion is a likely fix and not noise. It
// returns "" when nothing is close.
func Closest(word string, candidates []string) string {
	lw := strings.ToLower(word)
	for _, c := range candidates {
		if strings.ToLower(c) == lw {
			return c
		}
	}
	limit := 1
	switch {
	case len(word) >= 10:
		limit = 3
	case len(word) >= 5:
		limit = 2
	}
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if d := editDistance(lw, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
