package artifacts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var errInjected = errors.New("injected failure")

// tempName matches the random part of a temporary file's name.
var tempName = regexp.MustCompile(`\.[0-9]+\.tmp`)

// failTemp is a temporary file whose Write, Sync or Close fails after the
// real file was created, so the test also sees that it is removed.
type failTemp struct {
	*os.File
	op string
}

func (f failTemp) Write(b []byte) (int, error) {
	if f.op == "write" {
		return 0, errInjected
	}
	return f.File.Write(b)
}

func (f failTemp) Sync() error {
	if f.op == "sync" {
		return errInjected
	}
	return f.File.Sync()
}

func (f failTemp) Close() error {
	err := f.File.Close()
	if f.op == "close" {
		return errInjected
	}
	return err
}

// on reports whether path is the file named base in the test directory.
func on(path, base string) bool { return filepath.Base(path) == base }

func isTemp(path string) bool { return strings.HasSuffix(path, ".tmp") }

func isBackup(path string) bool { return strings.HasSuffix(path, ".ecsrender-old") }

// TestWriteFailures makes each file system call fail in turn and shows the
// message, and that the directory is left exactly as it was: earlier
// artifacts back in place, no temporary or backup file, other files alone.
func TestWriteFailures(t *testing.T) {
	t.Parallel()
	before := map[string]string{
		TaskDefFile:     "old taskdef",
		AppSpecFile:     "old appspec",
		ImageDetailFile: "old detail",
		"notes.txt":     "not ours",
	}
	// The run writes taskdef.json and imagedefinitions.json, so the old
	// appspec.yaml and imageDetail.json are moved aside first.
	files := []File{{TaskDefFile, []byte("new taskdef")}, {ImageDefinitionsFile, []byte("[]")}}
	tests := []struct {
		name string
		// before is the directory beforehand when it differs from the
		// common one.
		before map[string]string
		fault  func(f *fsys)
		// want is the error's lines; DIR stands for the directory.
		want []string
		// after is the directory afterwards when it differs from before.
		after map[string]string
	}{
		{
			name: "create temp",
			fault: func(f *fsys) {
				f.createTemp = func(string, string) (tempFile, error) {
					return nil, &os.PathError{Op: "open", Path: "x", Err: errInjected}
				}
			},
			want: []string{`write "DIR/taskdef.json": injected failure`},
		},
		{
			name: "write temp",
			fault: func(f *fsys) {
				f.createTemp = func(dir, pattern string) (tempFile, error) {
					t, err := os.CreateTemp(dir, pattern)
					return failTemp{t, "write"}, err
				}
			},
			want: []string{`write "DIR/taskdef.json": injected failure`},
		},
		{
			name: "sync temp",
			fault: func(f *fsys) {
				f.createTemp = func(dir, pattern string) (tempFile, error) {
					t, err := os.CreateTemp(dir, pattern)
					if strings.HasPrefix(pattern, "."+ImageDefinitionsFile) {
						return failTemp{t, "sync"}, err
					}
					return t, err
				}
			},
			want: []string{`write "DIR/imagedefinitions.json": injected failure`},
		},
		{
			name: "close temp",
			fault: func(f *fsys) {
				f.createTemp = func(dir, pattern string) (tempFile, error) {
					t, err := os.CreateTemp(dir, pattern)
					return failTemp{t, "close"}, err
				}
			},
			want: []string{`write "DIR/taskdef.json": injected failure`},
		},
		{
			name: "chmod temp",
			fault: func(f *fsys) {
				f.chmod = func(string, os.FileMode) error { return errInjected }
			},
			want: []string{`write "DIR/taskdef.json": injected failure`},
		},
		{
			name: "temp not removed",
			fault: func(f *fsys) {
				f.chmod = func(string, os.FileMode) error { return errInjected }
				f.remove = func(name string) error {
					if isTemp(name) {
						return &os.PathError{Op: "remove", Path: name, Err: errInjected}
					}
					return os.Remove(name)
				}
			},
			want: []string{
				`write "DIR/taskdef.json": injected failure`,
				`remove temporary file "DIR/.taskdef.json.TMP": injected failure`,
			},
			after: map[string]string{TaskDefFile: "old taskdef", AppSpecFile: "old appspec", ImageDetailFile: "old detail", "notes.txt": "not ours", ".taskdef.json.TMP": "new taskdef"},
		},
		{
			name: "read directory",
			fault: func(f *fsys) {
				f.readDir = func(name string) ([]os.DirEntry, error) {
					return nil, &os.PathError{Op: "open", Path: name, Err: errInjected}
				}
			},
			want: []string{`read output directory "DIR": injected failure`},
		},
		{
			name:   "stale temporary file",
			before: map[string]string{TaskDefFile: "old taskdef", ".taskdef.json.77.tmp": "killed run"},
			fault: func(f *fsys) {
				f.remove = func(name string) error {
					if isTemp(name) {
						return &os.PathError{Op: "remove", Path: name, Err: errInjected}
					}
					return os.Remove(name)
				}
			},
			want:  []string{`remove stale temporary file "DIR/.taskdef.json.TMP": injected failure`},
			after: map[string]string{TaskDefFile: "old taskdef", ".taskdef.json.TMP": "killed run"},
		},
		{
			name: "stat earlier artifact",
			fault: func(f *fsys) {
				f.lstat = func(name string) (os.FileInfo, error) {
					if on(name, AppSpecFile) {
						return nil, &os.PathError{Op: "lstat", Path: name, Err: errInjected}
					}
					return os.Lstat(name)
				}
			},
			want: []string{`remove earlier "DIR/appspec.yaml": injected failure`},
		},
		{
			name: "stale backup not removable",
			fault: func(f *fsys) {
				f.remove = func(name string) error {
					if on(name, "."+AppSpecFile+".ecsrender-old") {
						return &os.PathError{Op: "remove", Path: name, Err: errInjected}
					}
					return os.Remove(name)
				}
			},
			want: []string{`remove earlier "DIR/appspec.yaml": remove stale backup "DIR/.appspec.yaml.ecsrender-old": injected failure`},
		},
		{
			name: "move earlier artifact aside",
			fault: func(f *fsys) {
				f.rename = func(old, new string) error {
					if on(old, ImageDetailFile) {
						return &os.LinkError{Op: "rename", Old: old, New: new, Err: errInjected}
					}
					return os.Rename(old, new)
				}
			},
			want: []string{`remove earlier "DIR/imageDetail.json": injected failure`},
		},
		{
			name: "stat a file to replace",
			fault: func(f *fsys) {
				f.lstat = func(name string) (os.FileInfo, error) {
					if on(name, TaskDefFile) {
						return nil, &os.PathError{Op: "lstat", Path: name, Err: errInjected}
					}
					return os.Lstat(name)
				}
			},
			want: []string{`write "DIR/taskdef.json": injected failure`},
		},
		{
			name: "keep old file",
			fault: func(f *fsys) {
				f.link = func(old, new string) error {
					return &os.LinkError{Op: "link", Old: old, New: new, Err: errInjected}
				}
			},
			want: []string{`write "DIR/taskdef.json": keep the old file for a rollback: injected failure`},
		},
		{
			name: "backup name for a replaced file",
			fault: func(f *fsys) {
				f.remove = func(name string) error {
					if on(name, "."+TaskDefFile+".ecsrender-old") {
						return &os.PathError{Op: "remove", Path: name, Err: errInjected}
					}
					return os.Remove(name)
				}
			},
			want: []string{`write "DIR/taskdef.json": remove stale backup "DIR/.taskdef.json.ecsrender-old": injected failure`},
		},
		{
			name: "rename into place",
			fault: func(f *fsys) {
				f.rename = func(old, new string) error {
					if on(new, ImageDefinitionsFile) {
						return &os.LinkError{Op: "rename", Old: old, New: new, Err: errInjected}
					}
					return os.Rename(old, new)
				}
			},
			want: []string{`write "DIR/imagedefinitions.json": injected failure`},
		},
		{
			name: "rename into place, backup not removed",
			fault: func(f *fsys) {
				f.rename = func(old, new string) error {
					if on(new, TaskDefFile) && isTemp(old) {
						return &os.LinkError{Op: "rename", Old: old, New: new, Err: errInjected}
					}
					return os.Rename(old, new)
				}
				f.remove = func(name string) error {
					if on(name, "."+TaskDefFile+".ecsrender-old") {
						if _, err := os.Lstat(name); err == nil {
							return &os.PathError{Op: "remove", Path: name, Err: errInjected}
						}
					}
					return os.Remove(name)
				}
			},
			want: []string{
				`write "DIR/taskdef.json": injected failure`,
				`remove backup "DIR/.taskdef.json.ecsrender-old": injected failure`,
			},
			after: map[string]string{TaskDefFile: "old taskdef", AppSpecFile: "old appspec", ImageDetailFile: "old detail", "notes.txt": "not ours", ".taskdef.json.ecsrender-old": "old taskdef"},
		},
		{
			name: "rollback fails everywhere",
			fault: func(f *fsys) {
				f.rename = func(old, new string) error {
					switch {
					case on(new, ImageDefinitionsFile) && isTemp(old):
						return &os.LinkError{Op: "rename", Old: old, New: new, Err: errInjected}
					case isBackup(old):
						return &os.LinkError{Op: "rename", Old: old, New: new, Err: syscall.EIO}
					}
					return os.Rename(old, new)
				}
			},
			want: []string{
				`write "DIR/imagedefinitions.json": injected failure`,
				`roll back "DIR/taskdef.json": restore the earlier file from "DIR/.taskdef.json.ecsrender-old": input/output error`,
				`roll back "DIR/imageDetail.json": restore the earlier file from "DIR/.imageDetail.json.ecsrender-old": input/output error`,
				`roll back "DIR/appspec.yaml": restore the earlier file from "DIR/.appspec.yaml.ecsrender-old": input/output error`,
			},
			after: map[string]string{
				TaskDefFile:                       "new taskdef",
				".taskdef.json.ecsrender-old":     "old taskdef",
				".appspec.yaml.ecsrender-old":     "old appspec",
				".imageDetail.json.ecsrender-old": "old detail",
				"notes.txt":                       "not ours",
			},
		},
		{
			name: "rollback cannot remove a new file",
			fault: func(f *fsys) {
				f.rename = func(old, new string) error {
					if on(new, ImageDefinitionsFile) && isTemp(old) {
						return &os.LinkError{Op: "rename", Old: old, New: new, Err: errInjected}
					}
					return os.Rename(old, new)
				}
				f.remove = func(name string) error {
					if on(name, TaskDefFile) {
						return &os.PathError{Op: "remove", Path: name, Err: syscall.EIO}
					}
					return os.Remove(name)
				}
			},
			// No taskdef.json before this run, so rolling it back is a
			// remove.
			before: map[string]string{AppSpecFile: "old appspec", "notes.txt": "not ours"},
			after:  map[string]string{AppSpecFile: "old appspec", "notes.txt": "not ours", TaskDefFile: "new taskdef"},
			want: []string{
				`write "DIR/imagedefinitions.json": injected failure`,
				`roll back "DIR/taskdef.json": remove the new file: input/output error`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			start := before
			if tt.before != nil {
				start = tt.before
			}
			for name, data := range start {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f := osFS()
			tt.fault(&f)
			err := f.write(context.Background(), dir, files)
			if err == nil {
				t.Fatal("write succeeded")
			}
			got := strings.ReplaceAll(err.Error(), dir, "DIR")
			got = tempName.ReplaceAllString(got, ".TMP")
			if diff := cmp.Diff(tt.want, strings.Split(got, "\n")); diff != "" {
				t.Errorf("error lines (-want +got):\n%s", diff)
			}
			want := start
			if tt.after != nil {
				want = tt.after
			}
			after := readDir(t, dir)
			for name, data := range after {
				if n := tempName.ReplaceAllString(name, ".TMP"); n != name {
					delete(after, name)
					after[n] = data
				}
			}
			if diff := cmp.Diff(want, after); diff != "" {
				t.Errorf("directory after the failed write (-want +got):\n%s", diff)
			}
		})
	}
}

// After a success the directory holds exactly this run's artifacts: an
// earlier run's appspec.yaml and imageDetail.json go, other files stay.
func TestWriteRemovesEarlierArtifacts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, data := range map[string]string{
		TaskDefFile: "old", AppSpecFile: "old", ImageDetailFile: "old", "README": "mine",
		// Leftovers of a run killed mid-write.
		"." + TaskDefFile + ".ecsrender-old": "stale", "." + AppSpecFile + ".ecsrender-old": "stale",
		"." + ImageDetailFile + ".4027.tmp": "stale",
		// Names ecsrender does not make.
		".taskdef.json.abc.tmp": "mine", "taskdef.json.1.tmp": "mine", ".notes.1.tmp": "mine",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", filepath.Join(dir, ImageDefinitionsFile)); err != nil {
		t.Fatal(err)
	}
	err := Write(context.Background(), dir, []File{{TaskDefFile, []byte("new")}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{TaskDefFile: "new", "README": "mine",
		".taskdef.json.abc.tmp": "mine", "taskdef.json.1.tmp": "mine", ".notes.1.tmp": "mine"}
	if diff := cmp.Diff(want, readDir(t, dir)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "sub")); err != nil {
		t.Errorf("a subdirectory that is not an artifact was touched: %v", err)
	}
}

// A directory where an earlier artifact would be is not ecsrender's to
// remove, so the run fails and leaves everything as it was.
func TestWriteEarlierArtifactIsADirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, TaskDefFile), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, AppSpecFile), 0o755); err != nil {
		t.Fatal(err)
	}
	err := Write(context.Background(), dir, []File{{TaskDefFile, []byte("new")}})
	want := fmt.Sprintf("remove earlier %q: a directory, not an artifact ecsrender wrote; remove it", filepath.Join(dir, AppSpecFile))
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if diff := cmp.Diff(map[string]string{TaskDefFile: "old"}, readDir(t, dir)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}

func TestWriteRefusesOtherNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, files := range [][]File{
		{{"../escape.json", []byte("x")}},
		{{TaskDefFile, nil}, {TaskDefFile, nil}},
	} {
		err := Write(context.Background(), dir, files)
		want := fmt.Sprintf("write %q: not an artifact name, or given twice", files[len(files)-1].Name)
		if err == nil || err.Error() != want {
			t.Errorf("error %v, want %q", err, want)
		}
	}
	if diff := cmp.Diff(map[string]string{}, readDir(t, dir)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}
