package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ecsrender/ecsrender/render/internal/lazyre"
)

// unitRE matches a task-level cpu or memory string: a decimal amount with an
// optional unit. ECS documents "1024", "1 vCPU", "1GB" and ".5 GB" as
// accepted forms and matches the unit case-insensitively.
var unitRE = lazyre.New(`^(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)$`)

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
	m := unitRE.FindStringSubmatch(s)
	if m == nil || (m[2] != "" && m[2] != unit) {
		return 0, false
	}
	if m[2] == "" {
		v, err := strconv.Atoi(m[1])
		return v, err == nil && v > 0
	}
	f, err := strconv.ParseFloat(m[1], 64)
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
