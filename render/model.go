package render

import (
	"sort"
	"sync"
)

//go:generate go run ./internal/modelgen -o model_gen.go

// ShapeKind is the type the ECS API model wants at one place in a document.
type ShapeKind uint8

// The kinds of value in the ECS API model.
const (
	ShapeStruct ShapeKind = iota
	ShapeList
	ShapeMap
	ShapeString
	ShapeInteger
	ShapeBoolean
)

// Shape describes what the ECS API model accepts at one place in a task
// definition.
type Shape struct {
	Kind ShapeKind
	// Name is the model's name for a structure or enum, e.g. "ContainerDefinition".
	Name string
	// Fields are a structure's members by their JSON name.
	Fields map[string]*Shape
	// Elem is the element of a list or the value of a map.
	Elem *Shape
	// Union is true for a structure of which exactly one member may be set.
	Union bool
	// Enum lists the values an enum string accepts; nil for a free string.
	Enum []string
}

// FieldNames returns a structure's member names, sorted.
func (s *Shape) FieldNames() []string {
	names := make([]string, 0, len(s.Fields))
	for k := range s.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Field returns the shape of a structure's member, or nil when the model has
// no such member. It is safe on a nil Shape, which stands for "unknown".
func (s *Shape) Field(name string) *Shape {
	if s == nil || s.Kind != ShapeStruct {
		return nil
	}
	return s.Fields[name]
}

// taskDefinitionShape returns the model of a RegisterTaskDefinition request.
// Callers must not modify it.
//
// The model is derived from the aws-sdk-go-v2 ECS types rather than kept by
// hand: the lower-first form of every exported field name reachable from
// ecs.RegisterTaskDefinitionInput is the ECS model's member name, so the
// checks follow the SDK version in go.mod. The derivation runs at go generate
// time (internal/modelgen writes model_gen.go), not at every start, so the
// binary links no ECS client; TestModelGenerated fails when model_gen.go is
// stale.
func taskDefinitionShape() *Shape {
	taskDefinitionModel.once.Do(func() { taskDefinitionModel.shape = newtaskDefinitionShape() })
	return taskDefinitionModel.shape
}

// taskDefinitionModel holds the model once built. It is built on first use,
// not during init, because `ecsrender version` and a run that fails on its
// flags never need it; after that it is only read.
var taskDefinitionModel struct {
	once  sync.Once
	shape *Shape
}
