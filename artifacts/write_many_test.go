package artifacts

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// manyServices is a manifest run's files: four per service, OUT/NAME/ each.
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

// TestWriteManyFiles writes the files of 30 services and shows the same
// all or nothing as a single service's: a write that fails part-way leaves
// no file and no directory behind.
func TestWriteManyFiles(t *testing.T) {
	t.Parallel()
	files := manyServices(30)

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
