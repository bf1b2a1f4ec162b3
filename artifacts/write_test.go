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

// failTemp is a temporary file whose Write or Close fails after the real
// file was created, so the test also sees that it is removed.
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
			// The first file's temporary file is complete by then, and
			// goes too.
			name: "write the second temp",
			fault: func(f *fsys) {
				f.createTemp = func(dir, pattern string) (tempFile, error) {
					t, err := os.CreateTemp(dir, pattern)
					if strings.HasPrefix(pattern, "."+ImageDefinitionsFile) {
						return failTemp{t, "write"}, err
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
			name:   "stale backup of a killed run",
			before: map[string]string{TaskDefFile: "old taskdef", "." + AppSpecFile + ".ecsrender-old": "killed run"},
			fault: func(f *fsys) {
				f.remove = func(name string) error {
					if on(name, "."+AppSpecFile+".ecsrender-old") {
						return &os.PathError{Op: "remove", Path: name, Err: errInjected}
					}
					return os.Remove(name)
				}
			},
			want:  []string{`remove stale backup "DIR/.appspec.yaml.ecsrender-old": injected failure`},
			after: map[string]string{TaskDefFile: "old taskdef", "." + AppSpecFile + ".ecsrender-old": "killed run"},
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

// A backup that a killed run left for an artifact this run does not write
// is removed with the other leftovers, not published by the pipeline.
func TestWriteRemovesStaleBackups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"." + AppSpecFile + ".ecsrender-old", "." + ImageDefinitionsFile + ".ecsrender-old"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("stale"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Write(context.Background(), dir, []File{{TaskDefFile, []byte("new")}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{TaskDefFile: "new"}, readDir(t, dir)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
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

// Names that could leave DIR, collide with Write's own files, or are not
// artifacts are refused before anything is touched.
func TestWriteRefusesBadNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		files []File
		want  string
	}{
		{[]File{{"../escape.json", nil}}, `write "../escape.json": path element ".."; want a clean path inside the output directory`},
		{[]File{{"../taskdef.json", nil}}, `write "../taskdef.json": path element ".."; want a clean path inside the output directory`},
		{[]File{{"web/../../taskdef.json", nil}}, `write "web/../../taskdef.json": path element ".."; want a clean path inside the output directory`},
		{[]File{{"./taskdef.json", nil}}, `write "./taskdef.json": path element "."; want a clean path inside the output directory`},
		{[]File{{"/etc/taskdef.json", nil}}, `write "/etc/taskdef.json": an absolute path; want one relative to the output directory`},
		{[]File{{"web//taskdef.json", nil}}, `write "web//taskdef.json": an empty path element`},
		{[]File{{"web/", nil}}, `write "web/": "" is not an artifact name`},
		{[]File{{"", nil}}, `write "": "" is not an artifact name`},
		{[]File{{"web/notes.txt", nil}}, `write "web/notes.txt": "notes.txt" is not an artifact name`},
		{[]File{{"taskdef.json/imageDetail.json", nil}}, `write "taskdef.json/imageDetail.json": directory "taskdef.json" has an artifact's name`},
		{[]File{{".hidden/taskdef.json", nil}}, `write ".hidden/taskdef.json": directory ".hidden"; want letters, digits, _, - and . (not first)`},
		{[]File{{`a\b/taskdef.json`, nil}}, `write "a\\b/taskdef.json": directory "a\\b"; want letters, digits, _, - and . (not first)`},
		{[]File{{"we\nb/taskdef.json", nil}}, `write "we\nb/taskdef.json": directory "we\nb"; want letters, digits, _, - and . (not first)`},
		{[]File{{TaskDefFile, nil}, {TaskDefFile, nil}}, `write "taskdef.json": given twice`},
		{[]File{{"web/" + TaskDefFile, nil}, {ImageDetailFile, nil}, {"web/" + TaskDefFile, nil}}, `write "web/taskdef.json": given twice`},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		err := Write(context.Background(), dir, tt.files)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Write(%q): error %v, want %s", tt.files[0].Name, err, tt.want)
		}
		if diff := cmp.Diff(map[string]string{}, readTree(t, dir)); diff != "" {
			t.Errorf("Write(%q): directory (-want +got):\n%s", tt.files[0].Name, diff)
		}
	}
}

// readTree returns every file under dir by its slash-separated path, and
// every directory as its path with a trailing slash.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			out[rel+"/"] = ""
		case d.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "-> " + target
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Files in sub-directories land there, with the directories created, each
// file readable by other tools.
func TestWriteSubdirectories(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "out")
	files := []File{
		{TaskDefFile, []byte("td")},
		{ImageDetailFile, []byte("d1")},
		{"IMAGE2_NAME/" + ImageDetailFile, []byte("d2")},
		{"web/IMAGE3_NAME/" + ImageDetailFile, []byte("d3")},
		{"web/" + TaskDefFile, []byte("web td")},
	}
	if err := Write(context.Background(), dir, files); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		TaskDefFile: "td", ImageDetailFile: "d1",
		"IMAGE2_NAME/": "", "IMAGE2_NAME/imageDetail.json": "d2",
		"web/": "", "web/taskdef.json": "web td",
		"web/IMAGE3_NAME/": "", "web/IMAGE3_NAME/imageDetail.json": "d3",
	}
	if diff := cmp.Diff(want, readTree(t, dir)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
	for _, name := range []string{"IMAGE2_NAME/imageDetail.json", "web/IMAGE3_NAME"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if want := os.FileMode(0o644); fi.IsDir() {
			want = 0o755
			if fi.Mode().Perm() != want {
				t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), want)
			}
		} else if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
}

// Earlier artifacts and killed runs' temporary files go only from the
// directories this run writes into: another directory may be another
// service's, and DIR itself is one only when a file goes there.
func TestWriteSubdirectoryStaleArtifacts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		TaskDefFile:                          "top, not written into",
		"web/" + AppSpecFile:                 "old web appspec",
		"web/" + ImageDetailFile:             "old web detail",
		"web/.imageDetail.json.12.tmp":       "killed run",
		"web/.appspec.yaml.ecsrender-old":    "killed run",
		"web/notes.txt":                      "mine",
		"web/IMAGE2_NAME/" + ImageDetailFile: "old, not written into",
		"api/" + TaskDefFile:                 "another service",
		"api/.taskdef.json.5.tmp":            "another service's killed run",
		"IMAGE2_NAME/" + ImageDetailFile:     "old second image",
	})
	files := []File{{"web/" + TaskDefFile, []byte("new web")}, {"IMAGE2_NAME/" + ImageDefinitionsFile, []byte("[]")}}
	if err := Write(context.Background(), dir, files); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		TaskDefFile:                           "top, not written into",
		"web/":                                "",
		"web/taskdef.json":                    "new web",
		"web/notes.txt":                       "mine",
		"web/IMAGE2_NAME/":                    "",
		"web/IMAGE2_NAME/" + ImageDetailFile:  "old, not written into",
		"api/":                                "",
		"api/" + TaskDefFile:                  "another service",
		"api/.taskdef.json.5.tmp":             "another service's killed run",
		"IMAGE2_NAME/":                        "",
		"IMAGE2_NAME/" + ImageDefinitionsFile: "[]",
	}
	if diff := cmp.Diff(want, readTree(t, dir)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
}

// A failure in one sub-directory undoes the whole run: files in the other
// sub-directories go back to what they were, earlier artifacts moved aside
// come back, and the sub-directories this run created are removed.
func TestWriteSubdirectoryRollback(t *testing.T) {
	t.Parallel()
	before := map[string]string{
		"a/":                  "",
		"a/" + TaskDefFile:    "old a taskdef",
		"a/" + AppSpecFile:    "old a appspec",
		TaskDefFile:           "old top",
		"keep/" + TaskDefFile: "other service",
	}
	files := []File{
		{TaskDefFile, []byte("new top")},
		{"a/" + TaskDefFile, []byte("new a")},
		{"b/" + ImageDetailFile, []byte("new b")},
		{"c/d/" + ImageDefinitionsFile, []byte("new c/d")},
	}
	renameFails := func(f *fsys) {
		f.rename = func(old, new string) error {
			if on(new, ImageDefinitionsFile) && isTemp(old) {
				return &os.LinkError{Op: "rename", Old: old, New: new, Err: errInjected}
			}
			return os.Rename(old, new)
		}
	}
	tests := []struct {
		name  string
		fault func(f *fsys)
		want  []string
		after map[string]string
	}{
		{
			name:  "last rename",
			fault: renameFails,
			want:  []string{`write "DIR/c/d/imagedefinitions.json": injected failure`},
		},
		{
			name: "create a directory",
			fault: func(f *fsys) {
				f.mkdir = func(name string, perm os.FileMode) error {
					if on(name, "d") {
						return &os.PathError{Op: "mkdir", Path: name, Err: errInjected}
					}
					return os.Mkdir(name, perm)
				}
			},
			want: []string{`create directory "DIR/c/d": injected failure`},
		},
		{
			name: "look at an existing directory",
			fault: func(f *fsys) {
				f.lstat = func(name string) (os.FileInfo, error) {
					if on(name, "a") {
						return nil, &os.PathError{Op: "lstat", Path: name, Err: errInjected}
					}
					return os.Lstat(name)
				}
			},
			want: []string{`create directory "DIR/a": injected failure`},
		},
		{
			name: "write a temporary file in a new directory",
			fault: func(f *fsys) {
				f.createTemp = func(dir, pattern string) (tempFile, error) {
					t, err := os.CreateTemp(dir, pattern)
					if on(dir, "b") {
						return failTemp{t, "write"}, err
					}
					return t, err
				}
			},
			want: []string{`write "DIR/b/imageDetail.json": injected failure`},
		},
		{
			name: "new directory not removed",
			fault: func(f *fsys) {
				renameFails(f)
				f.remove = func(name string) error {
					if on(name, "b") {
						return &os.PathError{Op: "remove", Path: name, Err: syscall.EIO}
					}
					return os.Remove(name)
				}
			},
			want: []string{
				`write "DIR/c/d/imagedefinitions.json": injected failure`,
				`roll back "DIR/b": remove the new directory: input/output error`,
			},
			after: map[string]string{"b/": ""},
		},
		{
			name: "new file not removed keeps its directory",
			fault: func(f *fsys) {
				renameFails(f)
				f.remove = func(name string) error {
					if on(name, ImageDetailFile) {
						return &os.PathError{Op: "remove", Path: name, Err: syscall.EIO}
					}
					return os.Remove(name)
				}
			},
			want: []string{
				`write "DIR/c/d/imagedefinitions.json": injected failure`,
				`roll back "DIR/b/imageDetail.json": remove the new file: input/output error`,
				`roll back "DIR/b": remove the new directory: directory not empty`,
			},
			after: map[string]string{"b/": "", "b/imageDetail.json": "new b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, before)
			f := osFS()
			tt.fault(&f)
			err := f.write(context.Background(), dir, files)
			if err == nil {
				t.Fatal("write succeeded")
			}
			got := strings.ReplaceAll(err.Error(), dir, "DIR")
			if diff := cmp.Diff(tt.want, strings.Split(got, "\n")); diff != "" {
				t.Errorf("error lines (-want +got):\n%s", diff)
			}
			want := map[string]string{"keep/": ""}
			for k, v := range before {
				want[k] = v
			}
			for k, v := range tt.after {
				want[k] = v
			}
			if diff := cmp.Diff(want, readTree(t, dir)); diff != "" {
				t.Errorf("directory after the failed write (-want +got):\n%s", diff)
			}
		})
	}
}

// A file or a link where a sub-directory goes is not ecsrender's to
// remove, and a link could lead out of DIR: the run fails and leaves
// everything as it was.
func TestWriteSubdirectoryInTheWay(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	for _, tt := range []struct {
		name   string
		before func(dir string) error
		after  map[string]string
	}{
		{"file", func(dir string) error { return os.WriteFile(filepath.Join(dir, "web"), []byte("mine"), 0o644) }, map[string]string{"web": "mine"}},
		{"link", func(dir string) error { return os.Symlink(outside, filepath.Join(dir, "web")) }, map[string]string{"web": "-> " + outside}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := tt.before(dir); err != nil {
				t.Fatal(err)
			}
			err := Write(context.Background(), dir, []File{{"new/" + TaskDefFile, []byte("x")}, {"web/" + TaskDefFile, []byte("x")}})
			want := fmt.Sprintf("create directory %q: a file or link is in the way, not a directory; remove it", filepath.Join(dir, "web"))
			if err == nil || err.Error() != want {
				t.Errorf("error %v, want %q", err, want)
			}
			if diff := cmp.Diff(tt.after, readTree(t, dir)); diff != "" {
				t.Errorf("directory (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]string{}, readTree(t, outside)); diff != "" {
				t.Errorf("written through the link (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWriteStopsWhenCancelled: a run stopped (its deadline, a signal)
// while its files are written ends there, and the directory is as it was,
// whether it was writing temporary files, into DIR or into sub-directories
// it created, or already renaming them into place.
func TestWriteStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	before := map[string]string{TaskDefFile: "old top", "s0/": "", "s0/" + TaskDefFile: "old s0"}
	few := []File{{TaskDefFile, []byte("new top")}, {ImageDetailFile, []byte("new detail")}}
	var many []File
	for i := range 40 {
		many = append(many, File{fmt.Sprintf("s%d/%s", i, TaskDefFile), []byte("new")})
	}
	tests := []struct {
		name  string
		files []File
		fault func(f *fsys, cancel func())
		// temps is how many temporary files the run creates: none
		// after the one during which it was stopped.
		temps int
	}{
		{"writing few", few, func(f *fsys, cancel func()) {
			f.createTemp = func(dir, pattern string) (tempFile, error) { cancel(); return os.CreateTemp(dir, pattern) }
		}, 1},
		{"writing many", many, func(f *fsys, cancel func()) {
			f.createTemp = func(dir, pattern string) (tempFile, error) { cancel(); return os.CreateTemp(dir, pattern) }
		}, 1},
		{"renaming", many, func(f *fsys, cancel func()) {
			f.rename = func(old, new string) error { cancel(); return os.Rename(old, new) }
		}, len(many)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, before)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := osFS()
			tt.fault(&f, cancel)
			temps := 0
			createTemp := f.createTemp
			f.createTemp = func(dir, pattern string) (tempFile, error) { temps++; return createTemp(dir, pattern) }
			err := f.write(ctx, dir, tt.files)
			if err == nil || !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want the write stopped", err)
			}
			if got, want := strings.ReplaceAll(err.Error(), dir, "DIR"), `write "DIR": stopped: context canceled`; got != want {
				t.Errorf("err = %q, want %q", got, want)
			}
			if diff := cmp.Diff(before, readTree(t, dir)); diff != "" {
				t.Errorf("directory after the stopped write (-want +got):\n%s", diff)
			}
			if temps != tt.temps {
				t.Errorf("%d temporary files created, want %d", temps, tt.temps)
			}
		})
	}
}
