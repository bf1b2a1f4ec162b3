package suggest

import "testing"

func TestSuggest(t *testing.T) {
	t.Parallel()
	// Some of the fields of a container definition.
	fields := []string{"cpu", "environment", "environmentFiles", "essential", "image", "memory", "memoryReservation", "portMappings", "inferenceDeviceResourceLimits"}
	tests := []struct{ word, want string }{
		{"environments", "environment"},
		{"Environment", "environment"},
		{"ENVIRONMENT", "environment"},
		{"portMapping", "portMappings"},
		{"memoryReservaton", "memoryReservation"},
		{"essentail", "essential"},
		{"imag", "image"},
		{"inferenceDevices", ""},
		{"foo", ""},
		{"cpus", "cpu"},
	}
	for _, tt := range tests {
		if got := Closest(tt.word, fields); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}
