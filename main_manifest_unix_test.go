//go:build unix

package main

import (
	"bytes"
	"context"
	"path/filepath"
	"syscall"
	"testing"
)

// TestManifestNotRegularFile gives a FIFO and a device as --manifest: the
// error says to give a file, not stdin or S3, which a manifest cannot be.
func TestManifestNotRegularFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "ecsrender.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, tc := range []struct{ path, want string }{
		{fifo, "error: --manifest " + fifo + ": a named pipe (FIFO), not a regular file; give the manifest as a file path (not - or s3://)\n"},
		{"/dev/zero", "error: --manifest /dev/zero: a character device, not a regular file; give the manifest as a file path (not - or s3://)\n"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			argv := []string{"ecsrender", "render", "--offline", "--manifest", tc.path, "--out", filepath.Join(t.TempDir(), "out")}
			if code := run(context.Background(), argv, nil, &stdout, &stderr, noEnv); code != exitInput {
				t.Errorf("exit %d, want %d", code, exitInput)
			}
			if stderr.String() != tc.want {
				t.Errorf("stderr:\n got %q\nwant %q", stderr.String(), tc.want)
			}
		})
	}
}
