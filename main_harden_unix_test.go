//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFIFOSource gives a FIFO with no writer as --template and as
// --appspec: opening one for reading would wait for a writer for ever.
func TestFIFOSource(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	tmpl := filepath.Join(dir, "taskdef.json")
	if err := os.WriteFile(tmpl, []byte(`{"family":"f","containerDefinitions":[{"name":"web","image":"nginx","memory":128,"portMappings":[{"containerPort":80}]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"template", []string{"--template", fifo},
			"error: --template " + fifo + ": a named pipe (FIFO), not a regular file; give a file, - for stdin, or s3://BUCKET/KEY\n"},
		{"appspec", []string{"--template", tmpl, "--appspec", fifo},
			"error: --appspec " + fifo + ": a named pipe (FIFO), not a regular file; give a file, - for stdin, or s3://BUCKET/KEY\n"},
		{"device", []string{"--template", tmpl, "--appspec", "/dev/zero"},
			"error: --appspec /dev/zero: a character device, not a regular file; give a file, - for stdin, or s3://BUCKET/KEY\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"ecsrender", "render", "--offline", "--out", out}, tc.args...)
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), args, nil, &stdout, &stderr, noEnv); code != exitInput {
				t.Errorf("exit %d, want %d", code, exitInput)
			}
			if stderr.String() != tc.want {
				t.Errorf("stderr:\n got %q\nwant %q", stderr.String(), tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("--out was created: %v", err)
			}
		})
	}
}
