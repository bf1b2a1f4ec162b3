package artifacts

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/render"
)

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func TestWriteCreatesDirAndFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "deploy", "nested")
	files := []File{{TaskDefFile, []byte("{}\n")}, {ImageDetailFile, []byte(`{"ImageURI": "x"}`)}}
	if err := Write(context.Background(), dir, files); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{TaskDefFile: "{}\n", ImageDetailFile: `{"ImageURI": "x"}`}
	if diff := cmp.Diff(want, readDir(t, dir)); diff != "" {
		t.Errorf("directory (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(filepath.Join(dir, TaskDefFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 so other tools can read the artifact", fi.Mode().Perm())
	}
}

// When a rename fails part-way, the files already renamed go back to what
// they were, and no temporary file is left.
func TestWriteRollsBack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, TaskDefFile), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A directory where the second artifact goes makes its rename fail.
	if err := os.Mkdir(filepath.Join(dir, AppSpecFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, AppSpecFile, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(context.Background(), dir, []File{{TaskDefFile, []byte("new")}, {AppSpecFile, []byte("version: 0.0\n")}, {ImageDetailFile, []byte("{}")}})
	if err == nil {
		t.Fatal("Write succeeded over a directory")
	}
	if want := "write " + strconv.Quote(filepath.Join(dir, AppSpecFile)) + ": keep the old file for a rollback: operation not permitted"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	got := readDir(t, dir)
	if diff := cmp.Diff(map[string]string{TaskDefFile: "old"}, got); diff != "" {
		t.Errorf("after the failed write (-want +got):\n%s", diff)
	}
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		// Root writes into read-only directories, so only the file-in-the-way
		// case can be shown here.
		t.Log("running as root: read-only directory case skipped")
	}
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(context.Background(), filepath.Join(file, "out"), []File{{TaskDefFile, []byte("{}")}})
	if err == nil || !strings.HasPrefix(err.Error(), "create output directory ") || !strings.HasSuffix(err.Error(), "not a directory") {
		t.Errorf("error %v, want create output directory: ...: not a directory", err)
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(base, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		err := Write(context.Background(), ro, []File{{TaskDefFile, []byte("{}")}})
		if want := "write " + strconv.Quote(filepath.Join(ro, TaskDefFile)) + ": permission denied"; err == nil || err.Error() != want {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}

func TestEncodeImageDetail(t *testing.T) {
	t.Parallel()
	r := &render.Result{
		TaskDef: render.NewObject(),
		ImageDetail: render.ImageDetail{
			ImageURI:         "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:abc",
			ImageDigest:      "sha256:abc",
			ImageTags:        []string{"latest", "v1"},
			RegistryID:       "123456789012",
			RepositoryName:   "app",
			ImagePushedAt:    time.Date(2019, 1, 21, 20, 4, 0, 0, time.UTC),
			ImageSizeInBytes: 44728918,
		},
		ImageDefinitions: []render.ImageDefinition{{Name: "app", ImageURI: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:abc"}},
	}
	files, err := Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range files {
		got[f.Name] = string(f.Data)
	}
	want := map[string]string{
		TaskDefFile: "{}\n",
		ImageDetailFile: `{
  "ImageURI": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:abc",
  "ImageDigest": "sha256:abc",
  "ImageTags": [
    "latest",
    "v1"
  ],
  "RegistryId": "123456789012",
  "RepositoryName": "app",
  "ImagePushedAt": "Mon Jan 21 20:04:00 UTC 2019",
  "ImageSizeInBytes": "44728918",
  "Version": "1.0"
}
`,
		ImageDefinitionsFile: `[
  {
    "name": "app",
    "imageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:abc"
  }
]
`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("artifacts (-want +got):\n%s", diff)
	}
}

func TestEncodeImageDefinitionsLimit(t *testing.T) {
	t.Parallel()
	r := &render.Result{TaskDef: render.NewObject(), ImageDetail: render.ImageDetail{ImageURI: "nginx"}}
	for range 2000 {
		r.ImageDefinitions = append(r.ImageDefinitions, render.ImageDefinition{Name: "app", ImageURI: strings.Repeat("a", 60)})
	}
	_, err := Encode(r)
	if err == nil || !strings.HasPrefix(err.Error(), "imagedefinitions.json would be ") || !strings.HasSuffix(err.Error(), " bytes; the Amazon ECS deploy action reads at most 100000") {
		t.Errorf("error %v, want the size limit", err)
	}
	if !render.IsInputError(err) {
		t.Errorf("error %v is not an input error", err)
	}
}
