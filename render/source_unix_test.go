//go:build unix

package render

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ecsrender/ecsrender/render/ref"
)

// TestLoadFIFO opens a FIFO that has no writer: a plain open would block
// for ever, so the test returning at all is half of what it shows.
func TestLoadFIFO(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "taskdef.json")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err := LocalLoader{}.Load(context.Background(), ref.Source{Kind: ref.SourceFile, Path: p})
	checkErr(t, err, "read "+p+": a named pipe (FIFO), not a regular file; give a file, - for stdin, or s3://BUCKET/KEY")
	if !IsInputError(err) {
		t.Error("a FIFO is an input error")
	}
}

// TestOpenNonBlockingFIFO: the open that follows the stat must not wait
// for a writer either, for a FIFO put in place between the two.
func TestOpenNonBlockingFIFO(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	f, err := openNonBlocking(p)
	if err != nil {
		t.Fatalf("openNonBlocking(FIFO): %v", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("fstat of the FIFO: %v, %v", fi, err)
	}
}
