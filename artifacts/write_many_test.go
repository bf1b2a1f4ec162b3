package artifacts

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// manyServices is a manifest run's files: four per service, OUT/NAME/ each,
// more than Write writes one by one.
func manyServices(n int) []File {
	var files []File
	for s := range n {
		for _, name := range artifactNames() {
			files = append(files, File{Name: fmt.Sprintf("svc%04d/%s", s, name), Data: []byte(fmt.Sprintf("svc%04d %s", s, name))})
		}
	}
	return files
}

// tree lists every file under dir with its contents, by slash path.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWriteManyFiles writes the files of 30 services, whose syncs overlap,
// and shows the same all or nothing as a single service's: a write that
// fails part-way leaves no file and no directory behind.
func TestWriteManyFiles(t *testing.T) {
	t.Parallel()
	files := manyServices(30)
	if len(files) <= maxParallelSyncs {
		t.Fatalf("%d files are written one by one; the test needs more", len(files))
	}

	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := Write(context.Background(), dir, files); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, f := range files {
			want[f.Name] = string(f.Data)
		}
		if diff := cmp.Diff(want, tree(t, dir)); diff != "" {
			t.Errorf("(-want +got)\n%s", diff)
		}
	})

	t.Run("one fails", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		f := osFS()
		f.createTemp = func(d, pattern string) (tempFile, error) {
			if filepath.Base(d) == "svc0017" && strings.HasPrefix(pattern, "."+AppSpecFile) {
				return nil, &os.PathError{Op: "open", Path: filepath.Join(d, pattern), Err: errInjected}
			}
			return os.CreateTemp(d, pattern)
		}
		err := f.write(context.Background(), dir, files)
		if err == nil {
			t.Fatal("write succeeded")
		}
		if got, want := strings.ReplaceAll(err.Error(), dir, "DIR"), `write "DIR/svc0017/appspec.yaml": injected failure`; got != want {
			t.Errorf("error %q, want %q", got, want)
		}
		if got := tree(t, dir); len(got) > 0 {
			t.Errorf("files left: %v", got)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) > 0 {
			t.Errorf("%d entries left in DIR, the first %q", len(entries), entries[0].Name())
		}
	})
}

// BenchmarkWriteManyServices writes the files of a 1000-service manifest
// run, 4000 files in 1000 sub-directories, into a fresh directory.
func BenchmarkWriteManyServices(b *testing.B) {
	files := manyServices(1000)
	for b.Loop() {
		if err := Write(context.Background(), b.TempDir(), files); err != nil {
			b.Fatal(err)
		}
	}
}

// fakeFS is a file system sync that records its calls and fails as told.
type fakeFS struct {
	mu    sync.Mutex
	calls int
	// fail is the error of each call in turn; nil past its end.
	fail   []error
	closed bool
}

func (f *fakeFS) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= len(f.fail) {
		return f.fail[f.calls-1]
	}
	return nil
}

func (f *fakeFS) Close() error {
	f.closed = true
	return nil
}

// TestWriteManySync shows how a write of many files makes them durable:
// one sync of the file system before the first rename and one after the
// last, and the fallbacks where that sync is unsupported or fails. Every
// failure leaves DIR empty.
func TestWriteManySync(t *testing.T) {
	t.Parallel()
	files := manyServices(5)
	if len(files) <= maxParallelSyncs {
		t.Fatalf("%d files are written one by one; the test needs more", len(files))
	}
	errNoSyncfs := fmt.Errorf("syncfs: %w", syscall.ENOSYS)
	tests := []struct {
		name string
		// open is openFS's error; fail the file system syncs' errors.
		open error
		fail []error
		// syncFile fails for this service's taskdef.json, if set.
		syncFileFails string
		want          string
		// wantFS, wantFileSyncs, wantSyncFiles, wantDirSyncs count the
		// file system syncs, the fsyncs of open temporary files, the
		// fsyncs of files by name and the directory syncs.
		wantFS, wantFileSyncs, wantSyncFiles, wantDirSyncs int
	}{
		{name: "one sync before the renames, one after", wantFS: 2},
		{name: "no syncfs on this system", open: errors.ErrUnsupported, wantFileSyncs: 20, wantDirSyncs: 6},
		{name: "syncfs refused", fail: []error{errNoSyncfs}, wantFS: 2, wantSyncFiles: 20},
		{name: "the sync after the renames fails", fail: []error{nil, errInjected}, wantFS: 2, wantDirSyncs: 6},
		{
			name: "open fails", open: &os.PathError{Op: "open", Path: "DIR", Err: errInjected},
			want: `write "DIR": open for syncing: injected failure`,
		},
		{
			name: "sync fails", fail: []error{fmt.Errorf("syncfs: %w", syscall.EIO)}, wantFS: 1,
			want: `write "DIR": sync the written files: syncfs: input/output error`,
		},
		{
			name: "a file's sync fails", fail: []error{errNoSyncfs}, syncFileFails: "svc0003", wantFS: 1, wantSyncFiles: 20,
			want: `write "DIR/svc0003/taskdef.json": injected failure`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var mu sync.Mutex
			var fileSyncs, syncFiles, dirSyncs int
			renamed := false
			fake := &fakeFS{fail: tt.fail}
			f := osFS()
			f.openFS = func(string) (fsSyncer, error) {
				if tt.open != nil {
					return nil, tt.open
				}
				return fake, nil
			}
			f.createTemp = func(d, pattern string) (tempFile, error) {
				tf, err := os.CreateTemp(d, pattern)
				return countSync{tf, func() { mu.Lock(); fileSyncs++; mu.Unlock() }}, err
			}
			f.syncFile = func(name string) error {
				mu.Lock()
				defer mu.Unlock()
				syncFiles++
				if renamed {
					t.Errorf("%s synced after a rename", name)
				}
				if tt.syncFileFails != "" && filepath.Base(filepath.Dir(name)) == tt.syncFileFails && strings.HasPrefix(filepath.Base(name), "."+TaskDefFile) {
					return errInjected
				}
				return nil
			}
			f.rename = func(oldpath, newpath string) error {
				mu.Lock()
				renamed = true
				if fake.calls == 0 && tt.open == nil {
					t.Errorf("%s renamed before the file system was synced", newpath)
				}
				mu.Unlock()
				return os.Rename(oldpath, newpath)
			}
			f.syncDir = func(string) { mu.Lock(); dirSyncs++; mu.Unlock() }
			err := f.write(context.Background(), dir, files)
			got := ""
			if err != nil {
				got = strings.ReplaceAll(err.Error(), dir, "DIR")
			}
			if got != tt.want {
				t.Errorf("error %q, want %q", got, tt.want)
			}
			if tt.want != "" {
				if entries, _ := os.ReadDir(dir); len(entries) > 0 {
					t.Errorf("%d entries left in DIR, the first %q", len(entries), entries[0].Name())
				}
			} else if got := len(tree(t, dir)); got != len(files) {
				t.Errorf("%d files written, want %d", got, len(files))
			}
			counts := [4]int{fake.calls, fileSyncs, syncFiles, dirSyncs}
			if want := [4]int{tt.wantFS, tt.wantFileSyncs, tt.wantSyncFiles, tt.wantDirSyncs}; counts != want {
				t.Errorf("file system, file, by-name and directory syncs %v, want %v", counts, want)
			}
			if tt.open == nil && !fake.closed {
				t.Error("the file system sync was not closed")
			}
		})
	}
}

// countSync is a temporary file that counts its fsyncs.
type countSync struct {
	*os.File
	count func()
}

func (c countSync) Sync() error {
	c.count()
	return c.File.Sync()
}
