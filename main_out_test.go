//go:build linux || darwin

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// outRun is one render into dir of the rails sample; runs that differ in
// i write different bytes, and odd ones write no appspec.yaml.
func outRun(ctx context.Context, dir string, i int, extra ...string) (code int, stderr string) {
	args := []string{"ecsrender", "render", "--offline", "--out", dir,
		"--template", "testdata/rails/taskdef.json", "--container", "nginx:80",
		"--var", "web_concurrency=" + strconv.Itoa(i), "--var", "stop_timeout=30"}
	if i%2 == 1 {
		args = append(args, "--no-appspec")
	}
	var out, errb bytes.Buffer
	code = run(ctx, append(args, extra...), nil, &out, &errb, func(string) (string, bool) { return "", false })
	return code, errb.String()
}

func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = string(b)
	}
	return got
}

// A run that finds --out locked by another writer waits until its
// --timeout and fails with one line naming the directory, writing nothing.
// The deadline bounds the wait; the test measures no time.
func TestOutLockedByAnotherRun(t *testing.T) {
	dir := t.TempDir()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	code, stderr := outRun(context.Background(), dir, 0, "--timeout", "2s")
	if code != exitOther {
		t.Errorf("exit %d, want %d", code, exitOther)
	}
	want := fmt.Sprintf("error: another ecsrender is writing to %q; gave up waiting: context deadline exceeded\n", dir)
	if stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	if diff := cmp.Diff(map[string]string{}, dirFiles(t, dir)); diff != "" {
		t.Errorf("written while locked (-want +got):\n%s", diff)
	}
}
