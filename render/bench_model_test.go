package render

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// BenchmarkModelBuild compares what building the model costs once per
// process: the generated table (built on first use) against the reflection
// walk over the SDK types that it replaced.
func BenchmarkModelBuild(b *testing.B) {
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			newtaskDefinitionShape()
		}
	})
	b.Run("reflection", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			reflectShape(reflect.TypeFor[ecs.RegisterTaskDefinitionInput](), map[reflect.Type]*Shape{})
		}
	})
}

// BenchmarkModelLookup is the walk the checks and the template evaluator do
// for each key: from the task definition down to a container's environment
// entry and a log driver's enum values.
func BenchmarkModelLookup(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		cd := taskDefinitionShape().Field("containerDefinitions").Elem
		if cd.Field("environment").Elem.Field("value") == nil {
			b.Fatal("no containerDefinitions[].environment[].value in the model")
		}
		if len(cd.Field("logConfiguration").Field("logDriver").Enum) == 0 {
			b.Fatal("no logDriver values in the model")
		}
		if cd.Field("environments") != nil {
			b.Fatal("environments is in the model")
		}
	}
}
