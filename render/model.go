package render

import (
	"reflect"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

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

// TaskDefinitionShape returns the model of a RegisterTaskDefinition request.
//
// It is derived from the aws-sdk-go-v2 ECS types rather than kept by hand:
// the lower-first form of every exported field name reachable from
// ecs.RegisterTaskDefinitionInput is the ECS model's member name, so the
// checks follow the SDK version in go.mod and never drift from it.
var TaskDefinitionShape = sync.OnceValue(func() *Shape {
	return shapeOf(reflect.TypeFor[ecs.RegisterTaskDefinitionInput](), map[reflect.Type]*Shape{})
})

var unionMembers = map[reflect.Type][]reflect.Type{
	reflect.TypeFor[types.SharingStrategy](): {reflect.TypeFor[types.SharingStrategyMemberNvidiaMps]()},
}

func shapeOf(t reflect.Type, seen map[reflect.Type]*Shape) *Shape {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := seen[t]; ok {
		return s
	}
	switch t.Kind() {
	case reflect.Struct:
		s := &Shape{Kind: ShapeStruct, Name: t.Name(), Fields: map[string]*Shape{}}
		seen[t] = s
		for f := range t.Fields() {
			if !f.IsExported() {
				continue
			}
			s.Fields[lowerFirst(f.Name)] = shapeOf(f.Type, seen)
		}
		return s
	case reflect.Slice:
		return &Shape{Kind: ShapeList, Elem: shapeOf(t.Elem(), seen)}
	case reflect.Map:
		return &Shape{Kind: ShapeMap, Elem: shapeOf(t.Elem(), seen)}
	case reflect.Interface:
		// A union ("specify exactly one member") is an interface in the SDK,
		// and reflection cannot list its implementations: they are named
		// here, and a newly reachable union panics in the model's test.
		members, ok := unionMembers[t]
		if !ok {
			break
		}
		s := &Shape{Kind: ShapeStruct, Name: t.Name(), Union: true, Fields: map[string]*Shape{}}
		seen[t] = s
		for _, m := range members {
			name := strings.TrimPrefix(m.Name(), t.Name()+"Member")
			f, _ := m.FieldByName("Value")
			s.Fields[lowerFirst(name)] = shapeOf(f.Type, seen)
		}
		return s
	case reflect.Bool:
		return &Shape{Kind: ShapeBoolean}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return &Shape{Kind: ShapeInteger}
	case reflect.String:
		s := &Shape{Kind: ShapeString}
		// The SDK's enum types have a Values method listing the known values.
		if m := reflect.Zero(t).MethodByName("Values"); m.IsValid() {
			s.Name = t.Name()
			vals := m.Call(nil)[0]
			for i := range vals.Len() {
				s.Enum = append(s.Enum, vals.Index(i).String())
			}
		}
		return s
	}
	panic("render: no shape for ECS type " + t.String())
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}
