package render

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/render/ref"
)

// fakeBatchPlatforms is a PlatformBatchLookup of function fields; a nil
// field fails the test when called. It records every batch it is given.
type fakeBatchPlatforms struct {
	t    *testing.T
	one  func(ctx context.Context, image string) ([]Platform, error)
	many func(ctx context.Context, images []string) (map[string][]Platform, error)

	mu      sync.Mutex
	batches [][]string
}

func (f *fakeBatchPlatforms) ImagePlatforms(ctx context.Context, image string) ([]Platform, error) {
	if f.one == nil {
		f.t.Errorf("ImagePlatforms(%q): a batch lookup was asked one image at a time", image)
		return nil, nil
	}
	return f.one(ctx, image)
}

func (f *fakeBatchPlatforms) ImagePlatformsOf(ctx context.Context, images []string) (map[string][]Platform, error) {
	f.mu.Lock()
	f.batches = append(f.batches, slices.Clone(images))
	f.mu.Unlock()
	if f.many == nil {
		f.t.Errorf("ImagePlatformsOf(%q): unexpected", images)
		return nil, nil
	}
	return f.many(ctx, images)
}

// asked returns every image of every batch, sorted, and the number of
// batches.
func (f *fakeBatchPlatforms) asked() ([]string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []string
	for _, b := range f.batches {
		all = append(all, b...)
	}
	slices.Sort(all)
	return all, len(f.batches)
}

// answerFrom answers a batch from platforms, leaving out the images of
// failed, which then take err.
func answerFrom(platforms map[string][]Platform, failed []string, err error) func(context.Context, []string) (map[string][]Platform, error) {
	return func(_ context.Context, images []string) (map[string][]Platform, error) {
		out := map[string][]Platform{}
		for _, image := range images {
			if !slices.Contains(failed, image) {
				out[image] = platforms[image]
			}
		}
		if len(failed) == 0 {
			return out, nil
		}
		return out, err
	}
}

// Verify asks a batch lookup for all of a document's images in one call,
// and reads each image's answer, or its failure, from it.
func TestVerifyPlatformsBatch(t *testing.T) {
	t.Parallel()
	good := map[string][]Platform{railsImage: multiArch, nginxImage: {{OS: "linux", Architecture: "arm64"}}}
	amd64 := map[string][]Platform{railsImage: multiArch, nginxImage: {{OS: "linux", Architecture: "amd64"}}}
	for _, tc := range []struct {
		name      string
		platforms map[string][]Platform
		failed    []string
		err       error
		problems  []string
		warnings  []string
		wantErr   string
	}{
		{name: "every image answered", platforms: good},
		{name: "unknown", platforms: map[string][]Platform{railsImage: nil, nginxImage: nil}},
		{name: "no variant", platforms: amd64, problems: []string{
			`containerDefinitions[1].image: image "` + nginxImage + `" has no linux/arm64/v8 variant, which the task's runtimePlatform needs; it offers linux/amd64`,
		}},
		// An image left out of the answer takes the batch's error; the
		// other is judged on its own answer.
		{name: "one denied", platforms: amd64, failed: []string{railsImage}, err: deniedError{"ecr:BatchGetImage"},
			problems: []string{
				`containerDefinitions[1].image: image "` + nginxImage + `" has no linux/arm64/v8 variant, which the task's runtimePlatform needs; it offers linux/amd64`,
			},
			warnings: []string{"image platforms not verified: access denied (grant ecr:BatchGetImage)"}},
		{name: "left out without an error is unknown", platforms: good, failed: []string{nginxImage}},
		{name: "an index that lists nothing", platforms: map[string][]Platform{railsImage: multiArch, nginxImage: {}}, problems: []string{
			`containerDefinitions[1].image: image "` + nginxImage + `" is an index that lists no image a task can run (only attestations, or nothing); rebuild it for linux/arm64/v8`,
		}},
		{name: "an index of attestations only", platforms: map[string][]Platform{railsImage: multiArch, nginxImage: {{OS: "unknown", Architecture: "unknown"}}}, problems: []string{
			`containerDefinitions[1].image: image "` + nginxImage + `" is an index that lists no image a task can run (only attestations, or nothing); rebuild it for linux/arm64/v8`,
		}},
		{name: "one failed", platforms: good, failed: []string{nginxImage}, err: errors.New(`get image manifest "x": ServerException (HTTP 500): down (3 attempts)`),
			wantErr: `get image manifest "x": ServerException (HTTP 500): down (3 attempts)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := goodWorld()
			lk := w.lookups()
			f := &fakeBatchPlatforms{t: t, many: answerFrom(tc.platforms, tc.failed, tc.err)}
			lk.Images = f
			rep, err := Verify(context.Background(), tParse(verifyTemplate), verifyInput(), lk, nil)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var problems, warnings []string
			for _, p := range rep.Problems {
				problems = append(problems, p.String())
			}
			for _, p := range rep.Warnings {
				warnings = append(warnings, p.String())
			}
			if diff := cmp.Diff(tc.problems, problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.warnings, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			asked, batches := f.asked()
			if want := []string{nginxImage, railsImage}; batches != 1 || !slices.Equal(asked, want) {
				t.Errorf("%d batches of %q, want one of %q", batches, asked, want)
			}
		})
	}
}

// Renders sharing a cache ask about each image once, however their
// batches overlap, and wait for an image another render is asking about
// (run with -race).
func TestPlatformsAheadOverlapping(t *testing.T) {
	t.Parallel()
	image := func(i int) string {
		return fmt.Sprintf("123456789012.dkr.ecr.us-east-1.amazonaws.com/r%d@%s", i%7, digestN(i))
	}
	var mu sync.Mutex
	counts := map[string]int{}
	f := &fakeBatchPlatforms{t: t, many: func(_ context.Context, images []string) (map[string][]Platform, error) {
		out := map[string][]Platform{}
		mu.Lock()
		defer mu.Unlock()
		for _, im := range images {
			counts[im]++
			out[im] = multiArch
		}
		return out, nil
	}}
	cache := NewVerifyCache()
	var wg sync.WaitGroup
	for s := range 20 {
		wg.Go(func() {
			found := map[string]ResolvedImage{}
			for i := s; i < s+10; i++ {
				ri := ResolvedImage{Ref: mustRef(t, image(i)), Digest: digestN(i)}
				found[image(i)] = ri
			}
			platformsAhead(context.Background(), VerifyLookups{Images: f}, cache, found)
			for i := s; i < s+10; i++ {
				if ps, err := cached(context.Background(), cache, verifyKey(verifyImage, "", image(i)), func(context.Context) ([]Platform, error) {
					t.Errorf("%s: not in the cache after platformsAhead", image(i))
					return nil, nil
				}); err != nil || len(ps) != 2 {
					t.Errorf("%s: %v, %v", image(i), ps, err)
				}
			}
		})
	}
	wg.Wait()
	if len(counts) != 29 {
		t.Errorf("%d images asked, want 29", len(counts))
	}
	for im, n := range counts {
		if n != 1 {
			t.Errorf("%s asked %d times, want once", im, n)
		}
	}
}

func mustRef(t *testing.T, s string) ref.ImageRef {
	t.Helper()
	r, err := ref.ParseImageRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A manifest run asks for every service's image platforms in one batch,
// claimed once the run's images are resolved, before any service renders:
// no service asks a batch of its own, though each has an image of its own.
func TestRenderManifestPlatformsOneBatch(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "web.json"), []byte(rvTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("services:\n")
	for i := range 12 {
		fmt.Fprintf(&b, "  - {name: s%02d, template: web.json, no-appspec: true, images: {app: %s:s%02d}, vars: {threads: \"8\"}}\n", i, appRepo, i)
	}
	m, err := ParseManifest(filepath.Join(dir, "ecsrender.yaml"), []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	w := rvWorld()
	d := rvDeps(w)
	resolver := seededResolver()
	want := []string{nginxRepo + "@" + digestN(2)}
	for i := range 12 {
		resolver.images[fmt.Sprintf("%s:s%02d", appRepo, i)] = ResolvedImage{Digest: digestN(100 + i), RegistryID: testAccount, RepositoryName: "app"}
		image := appRepo + "@" + digestN(100+i)
		w.images[image] = multiArch
		want = append(want, image)
	}
	slices.Sort(want)
	d.Resolver = resolver
	f := &fakeBatchPlatforms{t: t, many: answerFrom(w.images, nil, nil)}
	d.Lookups.Images = f
	if _, err := RenderManifest(context.Background(), m, ManifestOptions{Pin: true, Verify: true, Parallel: 4}, d); err != nil {
		t.Fatal(err)
	}
	asked, batches := f.asked()
	if batches != 1 || !slices.Equal(asked, want) {
		t.Errorf("%d batches of %q, want one of %q", batches, asked, want)
	}
}

// Images that failed for different reasons are each judged on their own
// failure, never on another image's: a denied image is a warning, the
// image whose lookup failed is the one the run's error names, and an image
// the answer holds no error for is unknown.
func TestVerifyPlatformsBatchOwnErrors(t *testing.T) {
	t.Parallel()
	fatal := errors.New(`get image manifest "` + nginxImage + `": ServerException (HTTP 500): down (3 attempts)`)
	w := goodWorld()
	lk := w.lookups()
	lk.Images = &fakeBatchPlatforms{t: t, many: func(context.Context, []string) (map[string][]Platform, error) {
		return map[string][]Platform{}, &PlatformErrors{
			Err:     fatal,
			ByImage: map[string]error{railsImage: deniedError{"ecr:BatchGetImage"}, nginxImage: fatal},
		}
	}}
	_, err := Verify(context.Background(), tParse(verifyTemplate), verifyInput(), lk, nil)
	if err == nil || !strings.Contains(err.Error(), `"`+nginxImage+`"`) || strings.Contains(err.Error(), "rails") {
		t.Errorf("err = %v, want the failure of %s alone", err, nginxImage)
	}

	lk.Images = &fakeBatchPlatforms{t: t, many: func(context.Context, []string) (map[string][]Platform, error) {
		return map[string][]Platform{}, &PlatformErrors{
			Err:     deniedError{"ecr:BatchGetImage"},
			ByImage: map[string]error{railsImage: deniedError{"ecr:BatchGetImage"}},
		}
	}}
	rep, err := Verify(context.Background(), tParse(verifyTemplate), verifyInput(), lk, nil)
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, p := range rep.Warnings {
		warnings = append(warnings, p.String())
	}
	if want := []string{"image platforms not verified: access denied (grant ecr:BatchGetImage)"}; !slices.Equal(warnings, want) {
		t.Errorf("warnings = %q, want %q", warnings, want)
	}
	if len(rep.Problems) != 0 {
		t.Errorf("problems = %v, want none (nginx is unknown)", rep.Problems)
	}
}
