// Command floor is the offline floor that .ci/bench compares ecsrender with:
// it reads a task definition, decodes it with encoding/json into any,
// re-encodes it (2-space indent, no HTML escaping, as ecsrender writes
// taskdef.json) and writes it into a directory. Nothing a Go program that
// touches the same bytes could skip, so ecsrender's offline render is judged
// against it ("within 3x").
//
//	go build -C .ci/bench-floor -o /tmp/floor . && /tmp/floor testdata/rails/taskdef.json "$(mktemp -d)"
//
// It is a module of its own because the main module cannot hold a package
// under a directory whose name starts with a dot.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: floor TASKDEF.json OUTDIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(in, outDir string) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(outDir, "taskdef.json"), out.Bytes(), 0o644)
}
