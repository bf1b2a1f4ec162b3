//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package artifacts

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A second writer waits while another holds the lock, and writes once it
// is released.
func TestWriteWaitsForLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	unlock, err := lockDir(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{})
	done := make(chan error)
	f := osFS()
	f.busy = func() { close(waiting) }
	go func() { done <- f.write(context.Background(), dir, []File{{TaskDefFile, []byte("{}")}}) }()
	<-waiting
	if diff := cmp.Diff(map[string]string{}, readDir(t, dir)); diff != "" {
		t.Errorf("written while locked (-want +got):\n%s", diff)
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{TaskDefFile: "{}"}, readDir(t, dir)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}

// A writer that cannot get the lock before its context ends fails with one
// line naming the directory, and writes nothing.
func TestWriteGivesUpOnLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	unlock, err := lockDir(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	f := osFS()
	f.busy = cancel // stopped by a signal while waiting
	err = f.write(ctx, dir, []File{{TaskDefFile, []byte("{}")}})
	want := fmt.Sprintf("another ecsrender is writing to %q; gave up waiting: context canceled", dir)
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if diff := cmp.Diff(map[string]string{}, readDir(t, dir)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}

func TestLockDirMissing(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "gone")
	_, err := lockDir(context.Background(), dir, nil)
	want := fmt.Sprintf("lock output directory %q: no such file or directory", dir)
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// Many concurrent runs into one directory end with exactly one run's
// complete set of artifacts and nothing else.
func TestWriteConcurrent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const runs = 24
	sets := make([]map[string]string, runs)
	var wg sync.WaitGroup
	errs := make([]error, runs)
	for i := range runs {
		set := map[string]string{
			TaskDefFile:          fmt.Sprintf("taskdef %d", i),
			ImageDefinitionsFile: fmt.Sprintf("defs %d", i),
		}
		// Half the runs write an AppSpec, a third an image detail, so a
		// mix would show as a missing or extra file.
		if i%2 == 0 {
			set[AppSpecFile] = fmt.Sprintf("appspec %d", i)
		}
		if i%3 == 0 {
			set[ImageDetailFile] = fmt.Sprintf("detail %d", i)
		}
		sets[i] = set
		var files []File
		for _, name := range artifactNames() {
			if data, ok := set[name]; ok {
				files = append(files, File{name, []byte(data)})
			}
		}
		wg.Go(func() { errs[i] = Write(context.Background(), dir, files) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	got := readDir(t, dir)
	for _, set := range sets {
		if cmp.Equal(set, got) {
			return
		}
	}
	t.Errorf("directory holds no single run's artifacts: %v", got)
}
