package remote

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/render"
)

// platformImageFake is one image the fake ECR holds; echo, when set, is the
// tag its answers carry instead of tag.
type platformImageFake struct {
	tag, echo, digest, manifest, mediaType string
}

// platformRegistry is a fake ECR endpoint: it answers BatchGetImage from its images, in the reverse of the
// order asked (so that matching by order would be wrong), with a failure
// for each id it lacks; config blobs are served as blobs says. It counts
// the calls by operation and repository.
type platformRegistry struct {
	repos map[string][]platformImageFake // by "account/repository"
	// fail answers BatchGetImage of a repository instead, when it is set
	// and gives an answer.
	fail func(repo string) fakeAnswer
	// download answers GetDownloadUrlForLayer of a repository, when set;
	// else the URL of the blob at /blob/DIGEST.
	download func(repo string) fakeAnswer
	// blob answers the GET of a blob, when set; else the blob itself.
	blob  func(digest string) fakeAnswer
	blobs map[string]string // by digest

	mu     sync.Mutex
	counts map[string]int // "Op account/repository", "GET blob"
	asked  [][]string     // the ids of each BatchGetImage, as asked
}

func (e *platformRegistry) count(k string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.counts == nil {
		e.counts = map[string]int{}
	}
	e.counts[k]++
}

func (e *platformRegistry) Counts() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.counts)
}

func (e *platformRegistry) serve(t *testing.T) *fakeAWS {
	var f *fakeAWS
	f = newFakeAWS(t, func(t *testing.T, c fakeCall, n int) fakeAnswer {
		var in struct {
			RegistryID     string `json:"registryId"`
			RepositoryName string `json:"repositoryName"`
			ImageIDs       []struct {
				ImageDigest string `json:"imageDigest"`
				ImageTag    string `json:"imageTag"`
			} `json:"imageIds"`
			LayerDigest string `json:"layerDigest"`
		}
		if strings.HasPrefix(c.Op, "GET /blob/") {
			e.count("GET blob")
			digest := strings.TrimPrefix(c.Op, "GET /blob/")
			if e.blob != nil {
				return e.blob(digest)
			}
			return fakeAnswer{200, e.blobs[digest]}
		}
		if err := json.Unmarshal([]byte(c.Body), &in); err != nil {
			t.Errorf("%s: %v", c.Op, err)
			return fakeAnswer{}
		}
		repo := in.RegistryID + "/" + in.RepositoryName
		e.count(c.Op + " " + repo)
		switch c.Op {
		case "BatchGetImage":
			if e.fail != nil {
				if a := e.fail(repo); a.status != 0 {
					return a
				}
			}
			var ids []string
			var images, failures []string
			for _, id := range slices.Backward(in.ImageIDs) {
				ids = append(ids, id.ImageDigest+id.ImageTag)
				i := slices.IndexFunc(e.repos[repo], func(im platformImageFake) bool {
					return im.digest == id.ImageDigest || (id.ImageDigest == "" && im.tag == id.ImageTag)
				})
				if i < 0 {
					idJSON, _ := json.Marshal(id)
					failures = append(failures, fmt.Sprintf(`{"imageId":%s,"failureCode":"ImageNotFound","failureReason":"Requested image not found"}`, idJSON))
					continue
				}
				im := e.repos[repo][i]
				images = append(images, fmt.Sprintf(`{"registryId":%q,"repositoryName":%q,"imageId":{"imageDigest":%q,"imageTag":%q},"imageManifest":%q,"imageManifestMediaType":%q}`,
					in.RegistryID, in.RepositoryName, im.digest, cmp.Or(im.echo, im.tag), im.manifest, im.mediaType))
			}
			slices.Reverse(ids)
			e.mu.Lock()
			e.asked = append(e.asked, ids)
			e.mu.Unlock()
			return fakeAnswer{200, `{"images":[` + strings.Join(images, ",") + `],"failures":[` + strings.Join(failures, ",") + `]}`}
		case "GetDownloadUrlForLayer":
			if e.download != nil {
				if a := e.download(repo); a.status != 0 {
					return a
				}
			}
			return fakeAnswer{200, fmt.Sprintf(`{"downloadUrl":%q,"layerDigest":%q}`, f.URL+"/blob/"+in.LayerDigest, in.LayerDigest)}
		}
		return fakeAnswer{}
	})
	return f
}

// singleImage returns a single-platform image of arch whose config blob
// is unique to seed, and the blob.
func singleImage(tag, arch, seed string) (platformImageFake, string) {
	config := fmt.Sprintf(`{"architecture":%q,"os":"linux","rootfs":{},"seed":%q}`, arch, seed)
	sum := sha256.Sum256([]byte(config))
	cd := "sha256:" + hex.EncodeToString(sum[:])
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":%q,"size":%d},"layers":[]}`, mediaDockerManifest, cd, len(config))
	ms := sha256.Sum256([]byte(manifest))
	return platformImageFake{tag: tag, digest: "sha256:" + hex.EncodeToString(ms[:]), manifest: manifest, mediaType: mediaDockerManifest}, config
}

func indexImage(tag string) platformImageFake {
	ms := sha256.Sum256([]byte(indexManifest + tag))
	return platformImageFake{tag: tag, digest: "sha256:" + hex.EncodeToString(ms[:]), manifest: indexManifest, mediaType: mediaOCIIndex}
}

const (
	host      = "123456789012.dkr.ecr.us-east-1.amazonaws.com/"
	otherHost = "210987654321.dkr.ecr.us-east-1.amazonaws.com/"
)

var (
	amd64 = []render.Platform{{OS: "linux", Architecture: "amd64"}}
	index = []render.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}}
)

// One BatchGetImage per registry and repository, answers matched by
// digest whatever their order, tags asked alone when the answer does not
// say which image is theirs, what ECR lacks unknown.
func TestImagePlatformsOfBatches(t *testing.T) {
	single, blob := singleImage("s1", "amd64", "a")
	idx := indexImage("multi")
	idx2 := indexImage("multi2")
	e := &platformRegistry{
		repos: map[string][]platformImageFake{
			"123456789012/app":  {single, idx, idx2},
			"123456789012/jobs": {indexImage("v1"), indexImage("v2")},
		},
		blobs: map[string]string{},
	}
	e.blobs[configDigest(t, single)] = blob
	f := e.serve(t)
	missing := "sha256:" + strings.Repeat("0", 64)
	images := []string{
		host + "app@" + single.digest,
		host + "app:s1@" + single.digest, // the same image: asked once
		host + "app@" + idx.digest,
		host + "app@" + missing,
		host + "app:multi2", // a tag in a batch: the fake echoes it
		host + "jobs:v1",    // two tags of one repository
		host + "jobs:v9",    // not there
		host + "gone:v1",    // no such repository
		"public.ecr.aws/nginx/nginx:1.27",
	}
	got, err := NewLookups(lookupsConfig(t, f.URL)).ImagePlatformsOf(context.Background(), images)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]render.Platform{
		images[0]: amd64, images[1]: amd64, images[2]: index, images[3]: nil, images[4]: index,
		images[5]: index, images[6]: nil, images[7]: nil, images[8]: nil,
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("platforms (-want +got):\n%s", diff)
	}
	wantCounts := map[string]int{
		"BatchGetImage 123456789012/app":          1,
		"BatchGetImage 123456789012/jobs":         1,
		"BatchGetImage 123456789012/gone":         1,
		"GetDownloadUrlForLayer 123456789012/app": 1,
		"GET blob": 1,
	}
	if diff := gocmp.Diff(wantCounts, e.Counts()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// ECR may echo another tag than the one asked (moto echoes the image's
// last tag): a tag among others whose answer does not say it is then
// asked alone, and that answer taken.
func TestImagePlatformsOfTagNotEchoed(t *testing.T) {
	v1 := indexImage("v1")
	v1.echo = "latest-build"
	e := &platformRegistry{repos: map[string][]platformImageFake{"123456789012/app": {v1, indexImage("v2")}}}
	f := e.serve(t)
	images := []string{host + "app:v1", host + "app:v2"}
	got, err := NewLookups(lookupsConfig(t, f.URL)).ImagePlatformsOf(context.Background(), images)
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(map[string][]render.Platform{images[0]: index, images[1]: index}, got); diff != "" {
		t.Errorf("platforms (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff([][]string{{"v1", "v2"}, {"v1"}}, e.asked); diff != "" {
		t.Errorf("BatchGetImage ids (-want +got):\n%s", diff)
	}
}

func configDigest(t *testing.T, im platformImageFake) string {
	t.Helper()
	var m struct{ Config struct{ Digest string } }
	if err := json.Unmarshal([]byte(im.manifest), &m); err != nil {
		t.Fatal(err)
	}
	return m.Config.Digest
}

// ECR takes at most 100 image ids a call.
func TestImagePlatformsOfChunks(t *testing.T) {
	var ims []platformImageFake
	var images []string
	for i := range 150 {
		im := indexImage(fmt.Sprintf("t%d", i))
		ims = append(ims, im)
		images = append(images, host+"app@"+im.digest)
	}
	e := &platformRegistry{repos: map[string][]platformImageFake{"123456789012/app": ims}}
	f := e.serve(t)
	got, err := NewLookups(lookupsConfig(t, f.URL)).ImagePlatformsOf(context.Background(), images)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 150 || slices.ContainsFunc(images, func(im string) bool { return len(got[im]) != 2 }) {
		t.Errorf("got %d answers, want 150 of two platforms each", len(got))
	}
	var sizes []int
	for _, ids := range e.asked {
		sizes = append(sizes, len(ids))
	}
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{50, 100}) {
		t.Errorf("BatchGetImage sizes %v, want [50 100]", sizes)
	}
}

// A repository whose BatchGetImage fails fails its own images alone; the
// error returned is one that ends the run when there is one, else the
// denial, worded for the repository's images.
func TestImagePlatformsOfFailures(t *testing.T) {
	app := indexImage("v1")
	e := &platformRegistry{
		repos: map[string][]platformImageFake{"123456789012/app": {app}},
		fail: func(repo string) fakeAnswer {
			switch repo {
			case "123456789012/denied":
				return jsonError(400, "AccessDeniedException", "no")
			case "123456789012/down":
				return jsonError(500, "ServerException", "down")
			}
			return fakeAnswer{}
		},
	}
	f := e.serve(t)
	for _, tc := range []struct {
		name    string
		images  []string
		wantErr string
		denied  bool
	}{
		{"denied and down", []string{host + "app@" + app.digest, host + "denied:v1", host + "denied:v2", host + "down:v1"},
			`get image manifest "` + host + `down:v1": ServerException (HTTP 500): down (3 attempts)`, false},
		{"denied", []string{host + "app@" + app.digest, host + "denied:v1", host + "denied:v2"},
			`get image manifests "` + host + `denied:v1" and 1 more: access denied (grant ecr:BatchGetImage)`, true},
		{"not a reference", []string{host + "app@" + app.digest, "app:${TAG}"},
			`image platforms: image "app:${TAG}": unrendered placeholder ${TAG}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewLookups(lookupsConfig(t, f.URL)).ImagePlatformsOf(context.Background(), tc.images)
			if err == nil || err.Error() != tc.wantErr || errors.Is(err, render.ErrAccessDenied) != tc.denied {
				t.Errorf("err = %v, want %s (access denied: %v)", err, tc.wantErr, tc.denied)
			}
			if diff := gocmp.Diff(map[string][]render.Platform{tc.images[0]: index}, got); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
			// Each failed image keeps its own failure.
			var pe *render.PlatformErrors
			if !errors.As(err, &pe) {
				t.Fatalf("err = %T, want a *render.PlatformErrors", err)
			}
			for _, im := range tc.images[1:] {
				own := pe.ByImage[im]
				denied := strings.Contains(im, "/denied:")
				if own == nil || errors.Is(own, render.ErrAccessDenied) != denied {
					t.Errorf("error of %s = %v, want its own (access denied: %v)", im, own, denied)
				}
			}
		})
	}
}

// layerWorld is two registries of single images: 123456789012 with
// repositories r0, r1 and r2 of four images each, 210987654321 with r0 of
// three.
func layerWorld(t *testing.T) (*platformRegistry, []string) {
	t.Helper()
	e := &platformRegistry{repos: map[string][]platformImageFake{}, blobs: map[string]string{}}
	var images []string
	add := func(h, account, repo string, n int) {
		for i := range n {
			im, blob := singleImage(fmt.Sprintf("v%d", i), "amd64", h+repo+fmt.Sprint(i))
			e.repos[account+"/"+repo] = append(e.repos[account+"/"+repo], im)
			e.blobs[configDigest(t, im)] = blob
			images = append(images, h+repo+"@"+im.digest)
		}
	}
	for _, r := range []string{"r0", "r1", "r2"} {
		add(host, "123456789012", r, 4)
	}
	add(otherHost, "210987654321", "r0", 3)
	return e, images
}

// closedURL is an address on 127.0.0.1 where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// Config blobs are fetched one image at a time, but a registry that serves
// no layers is asked once: its first fetch probes while the others wait,
// and an endpoint that does not serve layers (an answer that is not ECR's,
// an unsupported operation, an unreachable download host) leaves every
// later single image of the registry unknown. A missing layer, a passing
// failure (throttling, a 5xx of ECR's or of the download), a presigned
// URL's 4xx or a wrong blob is the image's alone; a denial is its
// repository's.
func TestImagePlatformsOfLayerProbe(t *testing.T) {
	closed := closedURL(t)
	for _, tc := range []struct {
		name     string
		download func(repo string) fakeAnswer
		blob     func(digest string) fakeAnswer
		read     bool           // the platforms are read
		urls     map[string]int // GetDownloadUrlForLayer calls by registry
		gets     int
		denied   string // the repository denied
	}{
		{name: "served", read: true, urls: map[string]int{"123456789012": 12, "210987654321": 3}, gets: 15},
		{name: "no layer download (moto's HTML error page)",
			download: func(string) fakeAnswer {
				return fakeAnswer{500, "<html><title>500 Internal Server Error</title></html>"}
			},
			urls: map[string]int{"123456789012": 1, "210987654321": 1}},
		{name: "unsupported",
			download: func(string) fakeAnswer { return jsonError(400, "UnsupportedOperation", "not here") },
			urls:     map[string]int{"123456789012": 1, "210987654321": 1}},
		{name: "a passing failure is the image's alone",
			download: func(string) fakeAnswer { return jsonError(400, "ThrottlingException", "slow down") },
			urls:     map[string]int{"123456789012": 12, "210987654321": 3}},
		{name: "ECR's internal error is the image's alone",
			download: func(string) fakeAnswer { return jsonError(500, "ServerException", "try again") },
			urls:     map[string]int{"123456789012": 12, "210987654321": 3}},
		{name: "blob server error is the image's alone",
			blob: func(string) fakeAnswer { return fakeAnswer{503, "slow down"} },
			urls: map[string]int{"123456789012": 12, "210987654321": 3}, gets: 15},
		{name: "blob unreachable",
			download: func(string) fakeAnswer {
				return fakeAnswer{200, fmt.Sprintf(`{"downloadUrl":%q,"layerDigest":"sha256:00"}`, closed+"/blob/x")}
			},
			urls: map[string]int{"123456789012": 1, "210987654321": 1}},
		{name: "layers not found",
			download: func(string) fakeAnswer { return jsonError(400, "LayersNotFoundException", "gone") },
			urls:     map[string]int{"123456789012": 12, "210987654321": 3}},
		{name: "blob not found",
			blob: func(string) fakeAnswer { return fakeAnswer{404, "<Error><Code>NoSuchKey</Code></Error>"} },
			urls: map[string]int{"123456789012": 12, "210987654321": 3}, gets: 15},
		{name: "one repository denied",
			download: func(repo string) fakeAnswer {
				if repo == "123456789012/r1" {
					return jsonError(400, "AccessDeniedException", "no")
				}
				return fakeAnswer{}
			},
			read: true, urls: map[string]int{"123456789012": 9, "210987654321": 3}, gets: 11, denied: "r1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, images := layerWorld(t)
			e.download, e.blob = tc.download, tc.blob
			f := e.serve(t)
			got, err := NewLookups(lookupsConfig(t, f.URL)).ImagePlatformsOf(context.Background(), images)
			want := map[string][]render.Platform{}
			wantErr := ""
			for _, im := range images {
				switch {
				case tc.denied != "" && strings.Contains(im, "/"+tc.denied+"@"):
					if wantErr == "" {
						i := slices.Index(images, im)
						wantErr = fmt.Sprintf(`get image config "%s%s@%s": access denied (grant ecr:GetDownloadUrlForLayer)`,
							host, tc.denied, configDigest(t, e.repos["123456789012/"+tc.denied][i%4]))
					}
				case tc.read:
					want[im] = amd64
				default:
					want[im] = nil
				}
			}
			if wantErr == "" && err != nil || wantErr != "" && (err == nil || err.Error() != wantErr || !errors.Is(err, render.ErrAccessDenied)) {
				t.Errorf("err = %v, want %q", err, wantErr)
			}
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("platforms (-want +got):\n%s", diff)
			}
			urls := map[string]int{}
			for k, n := range e.Counts() {
				if op, repo, ok := strings.Cut(k, " "); ok && op == "GetDownloadUrlForLayer" {
					urls[strings.Split(repo, "/")[0]] += n
				}
			}
			if diff := gocmp.Diff(tc.urls, urls); diff != "" {
				t.Errorf("GetDownloadUrlForLayer calls by registry (-want +got):\n%s", diff)
			}
			if n := e.Counts()["GET blob"]; n != tc.gets {
				t.Errorf("%d blob GETs, want %d", n, tc.gets)
			}
		})
	}
}

// The probe holds across calls and goroutines (run with -race): images
// asked one at a time, all at once, by one Lookups, cost one
// GetDownloadUrlForLayer per registry that serves no layers.
func TestImagePlatformsLayerProbeConcurrent(t *testing.T) {
	for _, served := range []bool{false, true} {
		t.Run(fmt.Sprintf("served=%v", served), func(t *testing.T) {
			e, images := layerWorld(t)
			if !served {
				e.download = func(string) fakeAnswer { return fakeAnswer{500, "<html>not yet implemented</html>"} }
			}
			f := e.serve(t)
			l := NewLookups(lookupsConfig(t, f.URL))
			var wg sync.WaitGroup
			for _, im := range images {
				for range 2 {
					wg.Go(func() {
						ps, err := l.ImagePlatforms(context.Background(), im)
						if err != nil || served != (len(ps) == 1) {
							t.Errorf("ImagePlatforms(%q) = %v, %v", im, ps, err)
						}
					})
				}
			}
			wg.Wait()
			n := 0
			for k, c := range e.Counts() {
				if strings.HasPrefix(k, "GetDownloadUrlForLayer ") {
					n += c
				}
			}
			// Served, each image is asked by each of its two askers:
			// Lookups does not cache answers (a VerifyCache does).
			want := 2
			if served {
				want = 2 * len(images)
			}
			if n != want {
				t.Errorf("%d GetDownloadUrlForLayer calls, want %d", n, want)
			}
		})
	}
}

// A lookup whose run has ended says so, naming the image.
func TestImagePlatformsOfCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := NewLookups(lookupsConfig(t, closedURL(t)))
	got, err := l.ImagePlatformsOf(ctx, []string{host + "app:v1", host + "app:v2"})
	want := `get image manifests "` + host + `app:v1" and 1 more: canceled`
	if err == nil || err.Error() != want || !errors.Is(err, context.Canceled) || len(got) != 0 {
		t.Errorf("ImagePlatformsOf = %v, %v; want no answer and %s", got, err, want)
	}
}

// A fetch waiting for a registry's probe gives up when its context ends,
// and the probe's outcome still holds for the fetches after it.
func TestLayerGateWaitCanceled(t *testing.T) {
	g := &layerGate{repos: map[string]*layerProbe{}}
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		_, _, err := g.fetch(context.Background(), "r0", func() layerFetch {
			close(started)
			<-release
			return layerFetch{verdict: layerNotServed}
		})
		done <- err
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ps, denied, err := g.fetch(ctx, "r1", func() layerFetch {
		t.Error("a second fetch ran while the registry was being probed")
		return layerFetch{}
	})
	if ps != nil || denied != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("waiting fetch = %v, %v, %v; want context.Canceled", ps, denied, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ps, denied, err = g.fetch(context.Background(), "r1", func() layerFetch {
		t.Error("a fetch ran after the registry was found to serve no layers")
		return layerFetch{}
	})
	if ps != nil || denied != nil || err != nil {
		t.Errorf("fetch after the probe = %v, %v, %v; want unknown", ps, denied, err)
	}
}

// A download host that hangs is given the attempt timeout, and then taken
// for one that serves no layers: the registry's other images are not
// asked, and the run goes on with their platforms unknown.
func TestImagePlatformsOfBlobHangs(t *testing.T) {
	e, images := layerWorld(t)
	release := make(chan struct{})
	e.blob = func(string) fakeAnswer {
		<-release
		return fakeAnswer{503, "late"}
	}
	f := e.serve(t)
	t.Cleanup(func() { close(release) })
	l := NewLookups(lookupsConfig(t, f.URL))
	l.attemptTimeout = 50 * time.Millisecond
	got, err := l.ImagePlatformsOf(context.Background(), images)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range images {
		if ps, ok := got[im]; !ok || ps != nil {
			t.Errorf("platforms of %s = %v (answered %v), want unknown", im, ps, ok)
		}
	}
	urls := 0
	for k, n := range e.Counts() {
		if strings.HasPrefix(k, "GetDownloadUrlForLayer ") {
			urls += n
		}
	}
	if urls != 2 {
		t.Errorf("%d GetDownloadUrlForLayer calls, want 2 (one probe per registry)", urls)
	}
}

// An index that lists nothing a task can run is known to offer nothing
// (an empty list), not unknown (nil): verify reports it.
func TestImagePlatformsEmptyIndex(t *testing.T) {
	for _, manifest := range []string{
		`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`,
		`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:00","size":1,"platform":{"os":"unknown","architecture":"unknown"}}]}`,
	} {
		sum := sha256.Sum256([]byte(manifest))
		im := platformImageFake{tag: "v1", digest: "sha256:" + hex.EncodeToString(sum[:]), manifest: manifest, mediaType: mediaOCIIndex}
		e := &platformRegistry{repos: map[string][]platformImageFake{"123456789012/app": {im}}}
		f := e.serve(t)
		ps, err := NewLookups(lookupsConfig(t, f.URL)).ImagePlatforms(context.Background(), host+"app@"+im.digest)
		if err != nil || ps == nil || len(ps) != 0 {
			t.Errorf("ImagePlatforms = %#v, %v; want an empty, non-nil list", ps, err)
		}
	}
}
