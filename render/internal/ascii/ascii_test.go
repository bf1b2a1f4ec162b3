package ascii

import "testing"

func TestClasses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in            string
		digits, lower bool
	}{
		{"", false, false},
		{"0123456789", true, false},
		{"abcxyz", false, true},
		{"12a", false, false},
		{"aB", false, false},
		{"a\n", false, false},
		{"１", false, false}, // a full-width digit is not ASCII
		{"é", false, false},
		{"/", false, false},
		{":", false, false},
		{"`", false, false},
		{"{", false, false},
	} {
		if got := IsDigits(tc.in); got != tc.digits {
			t.Errorf("IsDigits(%q) = %v, want %v", tc.in, got, tc.digits)
		}
		if got := IsLower(tc.in); got != tc.lower {
			t.Errorf("IsLower(%q) = %v, want %v", tc.in, got, tc.lower)
		}
	}
}
