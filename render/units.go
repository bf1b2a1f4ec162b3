package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// splitAmount splits a task-level cpu or memory string into a decimal
// amount and an optional unit, as the regexp
// ^(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)$ does with its two groups: "1024",
// "1 vcpu", "2gb", ".5 gb". ECS documents these forms and matches the unit
// case-insensitively, so callers lower s first. A loop rather than the
// regexp, which a one-shot run would compile every time.
func splitAmount(s string) (amount, unit string, ok bool) {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	whole := i
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	}
	// With no digit before the dot, one must follow it: "" and "." are no amount.
	if whole == 0 && i < 2 {
		return "", "", false
	}
	amount = s[:i]
	// \s in a Go regexp is ASCII space, tab, newline, form feed and return.
	for i < len(s) && strings.IndexByte(" \t\n\f\r", s[i]) >= 0 {
		i++
	}
	unit = s[i:]
	for j := range len(unit) {
		if unit[j] < 'a' || unit[j] > 'z' {
			return "", "", false
		}
	}
	return amount, unit, true
}

// parseTaskCPU returns task-level cpu in CPU units (1024 to a vCPU). It takes
// a JSON number, or a string holding units ("1024") or vCPUs ("1 vcpu",
// ".25 vCPU"), because RegisterTaskDefinition accepts all of them.
func parseTaskCPU(n *Node) (int, bool) {
	return parseUnits(n, "vcpu")
}

// parseTaskMemory returns task-level memory in MiB. It takes a JSON number,
// or a string holding MiB ("2048") or GB ("2 GB", ".5 gb"), as ECS does.
func parseTaskMemory(n *Node) (int, bool) {
	return parseUnits(n, "gb")
}

// parseUnits reads a whole amount, where an amount written with unit is
// worth 1024 of the base unit. A fraction that does not come out whole
// (".3 vcpu") is refused rather than rounded: ECS would not guess either.
func parseUnits(n *Node, unit string) (int, bool) {
	var s string
	switch n.Kind {
	case Number, String:
		s = strings.ToLower(strings.TrimSpace(n.Str))
	default:
		return 0, false
	}
	amount, u, ok := splitAmount(s)
	if !ok || (u != "" && u != unit) {
		return 0, false
	}
	if u == "" {
		v, err := strconv.Atoi(amount)
		return v, err == nil && v > 0
	}
	f, err := strconv.ParseFloat(amount, 64)
	if err != nil {
		return 0, false
	}
	f *= 1024
	if f <= 0 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// fargateSize is the memory Fargate allows with one task cpu size: either a
// list of values, or a range from min to max in steps.
type fargateSize struct {
	cpu            int
	values         []int
	min, max, step int
}

// fargateSizes returns the cpu/memory pairs Fargate supports, in MiB.
func fargateSizes() []fargateSize {
	return []fargateSize{
		{cpu: 256, values: []int{512, 1024, 2048}},
		{cpu: 512, min: 1024, max: 4096, step: 1024},
		{cpu: 1024, min: 2048, max: 8192, step: 1024},
		{cpu: 2048, min: 4096, max: 16384, step: 1024},
		{cpu: 4096, min: 8192, max: 30720, step: 1024},
		{cpu: 8192, min: 16384, max: 61440, step: 4096},
		{cpu: 16384, min: 32768, max: 122880, step: 8192},
	}
}

func (f fargateSize) allows(memory int) bool {
	if f.values != nil {
		for _, v := range f.values {
			if v == memory {
				return true
			}
		}
		return false
	}
	return memory >= f.min && memory <= f.max && (memory-f.min)%f.step == 0
}

func (f fargateSize) String() string {
	if f.values != nil {
		var vs []string
		for _, v := range f.values {
			vs = append(vs, strconv.Itoa(v))
		}
		return fmt.Sprintf("%d allows %s or %s MiB", f.cpu, strings.Join(vs[:len(vs)-1], ", "), vs[len(vs)-1])
	}
	return fmt.Sprintf("%d allows %d to %d MiB in %d MiB steps", f.cpu, f.min, f.max, f.step)
}

// checkFargateSize returns a problem message for a cpu/memory pair that
// Fargate does not run, or "" for a supported pair.
func checkFargateSize(cpu, memory int) string {
	var cpus []string
	for _, f := range fargateSizes() {
		if f.cpu == cpu {
			if f.allows(memory) {
				return ""
			}
			return fmt.Sprintf("fargate does not support cpu %d with memory %d (%s)", cpu, memory, f)
		}
		cpus = append(cpus, strconv.Itoa(f.cpu))
	}
	return fmt.Sprintf("fargate does not support cpu %d; want one of %s", cpu, strings.Join(cpus, ", "))
}
