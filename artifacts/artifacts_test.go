package artifacts

import (
	"context"
	"encoding/json"
	"os"
	"path"
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
		ImageDetails: []render.ImageDetail{{
			Container:        "app",
			ImageURI:         "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:abc",
			ImageDigest:      "sha256:abc",
			ImageTags:        []string{"latest", "v1"},
			RegistryID:       "123456789012",
			RepositoryName:   "app",
			ImagePushedAt:    time.Date(2019, 1, 21, 20, 4, 0, 0, time.UTC),
			ImageSizeInBytes: 44728918,
		}},
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
	r := &render.Result{TaskDef: render.NewObject(), ImageDetails: []render.ImageDetail{{ImageURI: "nginx"}}}
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

// Encode lays out the image artifacts: one imageDetail.json without
// placeholders or with one, a directory per token with several (and the
// first one's at the top), and no imagedefinitions.json without entries.
func TestEncodeImageLayout(t *testing.T) {
	t.Parallel()
	detail := func(container, token, uri string) render.ImageDetail {
		return render.ImageDetail{Container: container, Token: token, ImageURI: uri}
	}
	defs := []render.ImageDefinition{{Name: "app", ImageURI: "app:1"}, {Name: "nginx", ImageURI: "nginx:1"}}
	tests := []struct {
		name    string
		details []render.ImageDetail
		defs    []render.ImageDefinition
		want    map[string]string
	}{
		{
			name:    "no placeholder",
			details: []render.ImageDetail{detail("app", "", "app:1")},
			defs:    defs,
			want:    map[string]string{ImageDetailFile: "app:1", ImageDefinitionsFile: "app, nginx"},
		},
		{
			name: "nothing to describe, nothing to define",
			want: map[string]string{},
		},
		{
			name:    "one placeholder",
			details: []render.ImageDetail{detail("app", "IMAGE1_NAME", "app:1")},
			defs:    defs,
			want:    map[string]string{ImageDetailFile: "app:1", ImageDefinitionsFile: "app, nginx"},
		},
		{
			name:    "two placeholders",
			details: []render.ImageDetail{detail("nginx", "IMAGE1_NAME", "nginx:1"), detail("app", "IMAGE2_NAME", "app:1")},
			defs:    defs,
			want: map[string]string{
				ImageDetailFile: "nginx:1", ImageDefinitionsFile: "app, nginx",
				"IMAGE1_NAME/imageDetail.json": "nginx:1", "IMAGE2_NAME/imageDetail.json": "app:1",
			},
		},
		{
			name: "four placeholders",
			details: []render.ImageDetail{detail("a", "IMAGE1_NAME", "a:1"), detail("b", "IMAGE2_NAME", "b:1"),
				detail("c", "IMAGE3_NAME", "c:1"), detail("d", "IMAGE4_NAME", "d:1")},
			want: map[string]string{
				ImageDetailFile:                "a:1",
				"IMAGE1_NAME/imageDetail.json": "a:1", "IMAGE2_NAME/imageDetail.json": "b:1",
				"IMAGE3_NAME/imageDetail.json": "c:1", "IMAGE4_NAME/imageDetail.json": "d:1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files, err := Encode(&render.Result{TaskDef: render.NewObject(), ImageDetails: tt.details, ImageDefinitions: tt.defs})
			if err != nil {
				t.Fatal(err)
			}
			if files[0].Name != TaskDefFile {
				t.Errorf("first file %q, want %q", files[0].Name, TaskDefFile)
			}
			got := map[string]string{}
			var order []string
			for _, f := range files[1:] {
				order = append(order, f.Name)
				switch path.Base(f.Name) {
				case ImageDetailFile:
					var d struct{ ImageURI string }
					if err := json.Unmarshal(f.Data, &d); err != nil {
						t.Fatalf("%s: %v", f.Name, err)
					}
					got[f.Name] = d.ImageURI
				case ImageDefinitionsFile:
					var ds []struct{ Name string }
					if err := json.Unmarshal(f.Data, &ds); err != nil {
						t.Fatalf("%s: %v", f.Name, err)
					}
					var names []string
					for _, d := range ds {
						names = append(names, d.Name)
					}
					got[f.Name] = strings.Join(names, ", ")
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			// The top-level files come first, then the directories in
			// the order of the placeholders.
			var wantOrder []string
			for _, n := range []string{ImageDetailFile, ImageDefinitionsFile} {
				if _, ok := tt.want[n]; ok {
					wantOrder = append(wantOrder, n)
				}
			}
			if len(tt.details) > 1 {
				for _, d := range tt.details {
					wantOrder = append(wantOrder, d.Token+"/"+ImageDetailFile)
				}
			}
			if diff := cmp.Diff(wantOrder, order); diff != "" {
				t.Errorf("file order (-want +got):\n%s", diff)
			}
		})
	}
}
