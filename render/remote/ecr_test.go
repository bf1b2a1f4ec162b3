package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/render"
	"github.com/ecsrender/ecsrender/render/ref"
)

// fakeECR is an ECRAPI whose behaviour each test sets through function
// fields; every call is recorded in log first.
type fakeECR struct {
	region         string
	log            *callLog
	describeImages func(context.Context, *ecr.DescribeImagesInput) (*ecr.DescribeImagesOutput, error)
	batchGetImage  func(context.Context, *ecr.BatchGetImageInput) (*ecr.BatchGetImageOutput, error)
}

func (f *fakeECR) DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, _ ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error) {
	f.log.add(f.region, "DescribeImages", in.RegistryId, in.RepositoryName, in.ImageIds)
	if f.describeImages == nil {
		return nil, errors.New("fake: unexpected DescribeImages")
	}
	return f.describeImages(ctx, in)
}

func (f *fakeECR) BatchGetImage(ctx context.Context, in *ecr.BatchGetImageInput, _ ...func(*ecr.Options)) (*ecr.BatchGetImageOutput, error) {
	f.log.add(f.region, "BatchGetImage", in.RegistryId, in.RepositoryName, in.ImageIds)
	if f.batchGetImage == nil {
		return nil, errors.New("fake: unexpected BatchGetImage")
	}
	return f.batchGetImage(ctx, in)
}

// ecrCall is one recorded call, in a form that diffs readably.
type ecrCall struct {
	Region, Op, Registry, Repository string
	IDs                              []string // "tag" or "sha256:..."
}

type callLog struct {
	mu    sync.Mutex
	calls []ecrCall
}

func (l *callLog) add(region, op string, registry, repo *string, ids []types.ImageIdentifier) {
	c := ecrCall{Region: region, Op: op, Registry: aws.ToString(registry), Repository: aws.ToString(repo)}
	for _, id := range ids {
		c.IDs = append(c.IDs, aws.ToString(id.ImageTag)+aws.ToString(id.ImageDigest))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// take returns the calls so far, sorted so that parallel calls compare
// stably, and forgets them.
func (l *callLog) take() []ecrCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	calls := l.calls
	l.calls = nil
	slices.SortFunc(calls, func(a, b ecrCall) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	return calls
}

// fakeStore is an in-memory ECR that answers the way ECR does: DescribeImages
// fails as a whole when any id is missing, BatchGetImage lists failures per
// id and, like moto, echoes an image's last tag rather than the one asked.
type fakeStore struct {
	mu    sync.Mutex
	repos map[string][]types.ImageDetail // by "region/account/repo"
}

func newFakeStore() *fakeStore { return &fakeStore{repos: make(map[string][]types.ImageDetail)} }

func (s *fakeStore) createRepo(region, account, repo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := region + "/" + account + "/" + repo
	if _, ok := s.repos[key]; !ok {
		s.repos[key] = []types.ImageDetail{}
	}
}

// push adds an image; a tag moves to it from any older image, as in ECR.
func (s *fakeStore) push(region, account, repo, digest string, tags ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := region + "/" + account + "/" + repo
	images := s.repos[key]
	for i := range images {
		images[i].ImageTags = slices.DeleteFunc(images[i].ImageTags, func(t string) bool { return slices.Contains(tags, t) })
	}
	s.repos[key] = append(images, types.ImageDetail{
		RegistryId:             aws.String(account),
		RepositoryName:         aws.String(repo),
		ImageDigest:            aws.String(digest),
		ImageTags:              tags,
		ImagePushedAt:          aws.Time(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)),
		ImageSizeInBytes:       aws.Int64(1234),
		ImageManifestMediaType: aws.String("application/vnd.docker.distribution.manifest.v2+json"),
		ImageStatus:            types.ImageStatusActive,
	})
}

func (s *fakeStore) find(region string, registry, repo *string, id types.ImageIdentifier) (types.ImageDetail, bool, error) {
	images, ok := s.repos[region+"/"+aws.ToString(registry)+"/"+aws.ToString(repo)]
	if !ok {
		return types.ImageDetail{}, false, &types.RepositoryNotFoundException{Message: aws.String(fmt.Sprintf(
			"The repository with name '%s' does not exist in the registry with id '%s'", aws.ToString(repo), aws.ToString(registry)))}
	}
	for _, d := range images {
		if id.ImageDigest != nil && *id.ImageDigest == *d.ImageDigest || id.ImageTag != nil && slices.Contains(d.ImageTags, *id.ImageTag) {
			return d, true, nil
		}
	}
	return types.ImageDetail{}, false, nil
}

func (s *fakeStore) describeImages(region string) func(context.Context, *ecr.DescribeImagesInput) (*ecr.DescribeImagesOutput, error) {
	return func(_ context.Context, in *ecr.DescribeImagesInput) (*ecr.DescribeImagesOutput, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		out := &ecr.DescribeImagesOutput{}
		for _, id := range in.ImageIds {
			d, ok, err := s.find(region, in.RegistryId, in.RepositoryName, id)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, &types.ImageNotFoundException{Message: aws.String(fmt.Sprintf(
					"The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'",
					aws.ToString(id.ImageDigest), aws.ToString(id.ImageTag), aws.ToString(in.RepositoryName), aws.ToString(in.RegistryId)))}
			}
			out.ImageDetails = append(out.ImageDetails, d)
		}
		return out, nil
	}
}

func (s *fakeStore) batchGetImage(region string) func(context.Context, *ecr.BatchGetImageInput) (*ecr.BatchGetImageOutput, error) {
	return func(_ context.Context, in *ecr.BatchGetImageInput) (*ecr.BatchGetImageOutput, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		out := &ecr.BatchGetImageOutput{}
		for _, id := range in.ImageIds {
			d, ok, err := s.find(region, in.RegistryId, in.RepositoryName, id)
			if err != nil {
				return nil, err
			}
			if !ok {
				out.Failures = append(out.Failures, types.ImageFailure{
					ImageId:       &types.ImageIdentifier{ImageTag: id.ImageTag, ImageDigest: id.ImageDigest},
					FailureCode:   types.ImageFailureCodeImageNotFound,
					FailureReason: aws.String("Requested image not found"),
				})
				continue
			}
			var last *string
			if n := len(d.ImageTags); n > 0 {
				last = aws.String(d.ImageTags[n-1])
			}
			out.Images = append(out.Images, types.Image{
				RegistryId: d.RegistryId, RepositoryName: d.RepositoryName,
				ImageId:       &types.ImageIdentifier{ImageDigest: d.ImageDigest, ImageTag: last},
				ImageManifest: aws.String("{}"),
			})
		}
		return out, nil
	}
}

// client returns a client factory over the store that logs into log.
func (s *fakeStore) client(log *callLog) func(string) ECRAPI {
	return func(region string) ECRAPI {
		return &fakeECR{region: region, log: log, describeImages: s.describeImages(region), batchGetImage: s.batchGetImage(region)}
	}
}

func mustRefs(t *testing.T, refs ...string) []ref.ImageRef {
	t.Helper()
	out := make([]ref.ImageRef, len(refs))
	for i, s := range refs {
		r, err := ref.ParseImageRef(s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = r
	}
	return out
}

func digestN(n int) string { return fmt.Sprintf("sha256:%064x", n) }

const testAccount = "123456789012"

func TestResolveOneCallPerRepository(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	for i, tag := range []string{"v1", "v2", "v3"} {
		store.push("us-east-1", testAccount, "app", digestN(i+1), tag)
	}
	store.push("us-east-1", testAccount, "team/worker", digestN(10), "main", "latest")
	store.push("us-west-2", testAccount, "app", digestN(20), "v1")
	log := &callLog{}
	res := NewImageResolver(store.client(log), ResolverOptions{})

	refs := mustRefs(t,
		testECRHost+"/app:v1", testECRHost+"/app:v2", testECRHost+"/app:v3",
		testECRHost+"/team/worker:main",
		testECRHostW2+"/app:v1",
		"nginx:1.25", "public.ecr.aws/nginx/nginx:stable",
		testECRHost+"/app:v1", // twice: one lookup
	)
	got, err := res.Resolve(context.Background(), refs)
	if err != nil {
		t.Fatal(err)
	}
	wantCalls := []ecrCall{
		{Region: "us-east-1", Op: "DescribeImages", Registry: testAccount, Repository: "app", IDs: []string{"v1", "v2", "v3"}},
		{Region: "us-east-1", Op: "DescribeImages", Registry: testAccount, Repository: "team/worker", IDs: []string{"main"}},
		{Region: "us-west-2", Op: "DescribeImages", Registry: testAccount, Repository: "app", IDs: []string{"v1"}},
	}
	if diff := cmp.Diff(wantCalls, log.take()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	pushed := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	want := map[string]render.ResolvedImage{
		testECRHost + "/app:v1":           {Digest: digestN(1), Tags: []string{"v1"}},
		testECRHost + "/app:v2":           {Digest: digestN(2), Tags: []string{"v2"}},
		testECRHost + "/app:v3":           {Digest: digestN(3), Tags: []string{"v3"}},
		testECRHost + "/team/worker:main": {Digest: digestN(10), Tags: []string{"latest", "main"}, RepositoryName: "team/worker"},
		testECRHostW2 + "/app:v1":         {Digest: digestN(20), Tags: []string{"v1"}},
	}
	for key, w := range want {
		w.Ref = mustRefs(t, key)[0]
		w.RegistryID = testAccount
		w.RepositoryName = cmpOr(w.RepositoryName, "app")
		w.PushedAt = pushed
		w.SizeBytes = 1234
		want[key] = w
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}
	if p := got[testECRHost+"/app:v2"].Pinned().String(); p != testECRHost+"/app@"+digestN(2) {
		t.Errorf("Pinned() = %s", p)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestResolveCaches(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.push("us-east-1", testAccount, "app", digestN(1), "v1")
	store.push("us-east-1", testAccount, "app", digestN(2), "v2")
	log := &callLog{}
	clients := 0
	newClient := store.client(log)
	res := NewImageResolver(func(region string) ECRAPI { clients++; return newClient(region) }, ResolverOptions{})
	ctx := context.Background()

	if _, err := res.Resolve(ctx, mustRefs(t, testECRHost+"/app:v1")); err != nil {
		t.Fatal(err)
	}
	if n := len(log.take()); n != 1 {
		t.Fatalf("first Resolve made %d calls, want 1", n)
	}
	got, err := res.Resolve(ctx, mustRefs(t, testECRHost+"/app:v1"))
	if err != nil {
		t.Fatal(err)
	}
	if calls := log.take(); len(calls) != 0 {
		t.Errorf("second Resolve of the same image called ECR: %v", calls)
	}
	if d := got[testECRHost+"/app:v1"].Digest; d != digestN(1) {
		t.Errorf("cached digest = %s", d)
	}
	// Only the image not seen before is asked for.
	if _, err := res.Resolve(ctx, mustRefs(t, testECRHost+"/app:v1", testECRHost+"/app:v2")); err != nil {
		t.Fatal(err)
	}
	want := []ecrCall{{Region: "us-east-1", Op: "DescribeImages", Registry: testAccount, Repository: "app", IDs: []string{"v2"}}}
	if diff := cmp.Diff(want, log.take()); diff != "" {
		t.Errorf("third Resolve calls (-want +got):\n%s", diff)
	}
	if clients != 1 {
		t.Errorf("client factory called %d times for one region, want 1", clients)
	}
	// Callers may scribble on results without harming the cache.
	got[testECRHost+"/app:v1"].Tags[0] = "scribbled"
	again, _ := res.Resolve(ctx, mustRefs(t, testECRHost+"/app:v1"))
	if tags := again[testECRHost+"/app:v1"].Tags; tags[0] != "v1" {
		t.Errorf("cached tags changed through a result: %v", tags)
	}
}

func TestResolveChunksAt100(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	var refs []string
	for i := range 250 {
		tag := fmt.Sprintf("build-%03d", i)
		store.push("us-east-1", testAccount, "app", digestN(i), tag)
		refs = append(refs, testECRHost+"/app:"+tag)
	}
	log := &callLog{}
	got, err := NewImageResolver(store.client(log), ResolverOptions{}).Resolve(context.Background(), mustRefs(t, refs...))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 250 {
		t.Errorf("resolved %d images, want 250", len(got))
	}
	var sizes []int
	seen := make(map[string]bool)
	for _, c := range log.take() {
		if c.Op != "DescribeImages" {
			t.Errorf("unexpected call %v", c)
		}
		sizes = append(sizes, len(c.IDs))
		for _, id := range c.IDs {
			if seen[id] {
				t.Errorf("tag %s asked for twice", id)
			}
			seen[id] = true
		}
	}
	slices.Sort(sizes)
	if diff := cmp.Diff([]int{50, 100, 100}, sizes); diff != "" {
		t.Errorf("ids per call (-want +got):\n%s", diff)
	}
	for i := range 250 {
		if d := got[refs[i]].Digest; d != digestN(i) {
			t.Errorf("%s resolved to %s, want %s", refs[i], d, digestN(i))
		}
	}
}

func TestResolveLatestAndDuplicateIDs(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.push("us-east-1", testAccount, "app", digestN(1), "latest")
	log := &callLog{}
	refs := mustRefs(t, testECRHost+"/app", testECRHost+"/app:latest", testECRHost+"/app@"+digestN(1), testECRHost+"/app:old@"+digestN(1))
	got, err := NewImageResolver(store.client(log), ResolverOptions{}).Resolve(context.Background(), refs)
	if err != nil {
		t.Fatal(err)
	}
	// No tag means latest; a digest decides, whatever tag is beside it.
	want := []ecrCall{{Region: "us-east-1", Op: "DescribeImages", Registry: testAccount, Repository: "app", IDs: []string{"latest", digestN(1)}}}
	if diff := cmp.Diff(want, log.take()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	for _, r := range refs {
		img := got[r.String()]
		if img.Digest != digestN(1) || img.Ref.String() != r.String() {
			t.Errorf("%s resolved to %+v", r, img)
		}
	}
}

func TestResolveMissingTags(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.push("us-east-1", testAccount, "app", digestN(1), "v1")
	store.push("us-east-1", testAccount, "other", digestN(3), "v1")
	log := &callLog{}
	res := NewImageResolver(store.client(log), ResolverOptions{})
	refs := mustRefs(t, testECRHost+"/app:v1", testECRHost+"/app:v2", testECRHost+"/app@"+digestN(2), testECRHost+"/app", testECRHost+"/other:v1")
	got, err := res.Resolve(context.Background(), refs)
	if err == nil {
		t.Fatalf("Resolve = %v, want an error", got)
	}
	want := strings.Join([]string{
		"image " + testECRHost + "/app: tag latest not found in repository app (registry 123456789012, us-east-1)",
		"image " + testECRHost + "/app:v2: tag v2 not found in repository app (registry 123456789012, us-east-1)",
		"image " + testECRHost + "/app@" + digestN(2) + ": digest " + digestN(2) + " not found in repository app (registry 123456789012, us-east-1)",
	}, "\n")
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	var nf *ImageNotFoundError
	if !errors.As(err, &nf) || nf.RepositoryMissing || nf.Waited != 0 {
		t.Errorf("error is not a tag-missing ImageNotFoundError: %#v", err)
	}
	if render.IsInputError(err) {
		t.Errorf("a missing image is reported as an input error")
	}
	// The failed DescribeImages, BatchGetImage to learn which are missing,
	// DescribeImages of the rest; the other repository's one call.
	wantCalls := []ecrCall{
		{Region: "us-east-1", Op: "BatchGetImage", Registry: testAccount, Repository: "app", IDs: []string{"latest", digestN(2), "v1", "v2"}},
		{Region: "us-east-1", Op: "DescribeImages", Registry: testAccount, Repository: "app", IDs: []string{"latest", digestN(2), "v1", "v2"}},
		{Region: "us-east-1", Op: "DescribeImages", Registry: testAccount, Repository: "app", IDs: []string{"v1"}},
		{Region: "us-east-1", Op: "DescribeImages", Registry: testAccount, Repository: "other", IDs: []string{"v1"}},
	}
	calls := log.take()
	for i := range calls {
		slices.Sort(calls[i].IDs)
	}
	if diff := cmp.Diff(wantCalls, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	// Not found is an answer: asking again costs no call.
	_, err2 := res.Resolve(context.Background(), refs[1:2])
	if err2 == nil || !strings.Contains(err2.Error(), "tag v2 not found") {
		t.Errorf("second Resolve error = %v", err2)
	}
	if calls := log.take(); len(calls) != 0 {
		t.Errorf("second Resolve of a missing image called ECR: %v", calls)
	}
}

func TestResolveMissingRepository(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.push("us-east-1", testAccount, "app", digestN(1), "v1")
	log := &callLog{}
	_, err := NewImageResolver(store.client(log), ResolverOptions{}).Resolve(context.Background(),
		mustRefs(t, testECRHost+"/app:v1", testECRHost+"/gone:v1", testECRHost+"/gone:v2", testECRHostW2+"/app:v1"))
	want := strings.Join([]string{
		"image " + testECRHost + "/gone:v1: repository gone not found (registry 123456789012, us-east-1)",
		"image " + testECRHost + "/gone:v2: repository gone not found (registry 123456789012, us-east-1)",
		"image " + testECRHostW2 + "/app:v1: repository app not found (registry 123456789012, us-west-2)",
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	var nf *ImageNotFoundError
	if !errors.As(err, &nf) || !nf.RepositoryMissing {
		t.Errorf("error is not a repository-missing ImageNotFoundError: %#v", err)
	}
	if n := len(log.take()); n != 3 {
		t.Errorf("%d calls, want 3 (one per repository)", n)
	}
}

func TestResolveAccessDenied(t *testing.T) {
	t.Parallel()
	denied := &smithy.GenericAPIError{
		Code:    "AccessDeniedException",
		Message: "User: arn:aws:sts::123456789012:assumed-role/build/x is not authorized to perform: ecr:DescribeImages on resource: arn:aws:ecr:us-east-1:123456789012:repository/app",
	}
	tests := []struct {
		name   string
		region string
		fake   func(*fakeECR)
		want   string
	}{{
		name:   "DescribeImages",
		region: "us-east-1",
		fake: func(f *fakeECR) {
			f.describeImages = func(context.Context, *ecr.DescribeImagesInput) (*ecr.DescribeImagesOutput, error) {
				return nil, &smithy.OperationError{ServiceID: "ECR", OperationName: "DescribeImages", Err: denied}
			}
		},
		want: "describe images in repository app (registry 123456789012, us-east-1): access denied: allow ecr:DescribeImages on arn:aws:ecr:us-east-1:123456789012:repository/app: " + denied.Message,
	}, {
		name:   "BatchGetImage after a missing image",
		region: "cn-north-1",
		fake: func(f *fakeECR) {
			f.describeImages = func(context.Context, *ecr.DescribeImagesInput) (*ecr.DescribeImagesOutput, error) {
				return nil, &types.ImageNotFoundException{Message: aws.String("not found")}
			}
			f.batchGetImage = func(context.Context, *ecr.BatchGetImageInput) (*ecr.BatchGetImageOutput, error) {
				return nil, &smithy.GenericAPIError{Code: "AccessDeniedException"}
			}
		},
		want: "get images in repository app (registry 123456789012, cn-north-1): access denied: allow ecr:BatchGetImage on arn:aws-cn:ecr:cn-north-1:123456789012:repository/app",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			host := "123456789012.dkr.ecr." + tt.region + ".amazonaws.com"
			if tt.region == "cn-north-1" {
				host += ".cn"
			}
			res := NewImageResolver(func(region string) ECRAPI {
				f := &fakeECR{region: region, log: &callLog{}}
				tt.fake(f)
				return f
			}, ResolverOptions{})
			_, err := res.Resolve(context.Background(), mustRefs(t, host+"/app:v1", host+"/app:v2"))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, tt.want)
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
				t.Errorf("the SDK error is not kept: %#v", err)
			}
		})
	}
}

func TestResolveTransientErrorIsNotCached(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.push("us-east-1", testAccount, "app", digestN(1), "v1")
	log := &callLog{}
	var fail atomic.Bool
	fail.Store(true)
	res := NewImageResolver(func(region string) ECRAPI {
		f := store.client(log)(region).(*fakeECR)
		ok := f.describeImages
		f.describeImages = func(ctx context.Context, in *ecr.DescribeImagesInput) (*ecr.DescribeImagesOutput, error) {
			if fail.Load() {
				return nil, &smithy.OperationError{ServiceID: "ECR", OperationName: "DescribeImages",
					Err: &smithy.GenericAPIError{Code: "ServerException", Message: "internal error", Fault: smithy.FaultServer}}
			}
			return ok(ctx, in)
		}
		return f
	}, ResolverOptions{})
	refs := mustRefs(t, testECRHost+"/app:v1")
	_, err := res.Resolve(context.Background(), refs)
	want := "describe images in repository app (registry 123456789012, us-east-1): ECR error ServerException: internal error"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	fail.Store(false)
	got, err := res.Resolve(context.Background(), refs)
	if err != nil {
		t.Fatalf("Resolve after the error cleared: %v", err)
	}
	if got[refs[0].String()].Digest != digestN(1) {
		t.Errorf("Resolve = %v", got)
	}
	if n := len(log.take()); n != 2 {
		t.Errorf("%d calls, want 2: a failed call must not be cached", n)
	}
}

func TestResolveBatchGetImageFailures(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.push("us-east-1", testAccount, "app", digestN(1), "v1")
	log := &callLog{}
	res := NewImageResolver(func(region string) ECRAPI {
		f := store.client(log)(region).(*fakeECR)
		ok := f.batchGetImage
		f.batchGetImage = func(ctx context.Context, in *ecr.BatchGetImageInput) (*ecr.BatchGetImageOutput, error) {
			out, err := ok(ctx, in)
			if err != nil {
				return nil, err
			}
			out.Failures = append(out.Failures, types.ImageFailure{
				ImageId:       &types.ImageIdentifier{ImageTag: aws.String("v1")},
				FailureCode:   types.ImageFailureCodeKmsError,
				FailureReason: aws.String("The KMS key is disabled"),
			})
			return out, nil
		}
		return f
	}, ResolverOptions{})
	_, err := res.Resolve(context.Background(), mustRefs(t, testECRHost+"/app:v1", testECRHost+"/app:v9"))
	want := strings.Join([]string{
		"image " + testECRHost + "/app:v1: KmsError in repository app (registry 123456789012, us-east-1): The KMS key is disabled",
		"image " + testECRHost + "/app:v9: tag v9 not found in repository app (registry 123456789012, us-east-1)",
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestResolveMatchesByContentNotEcho(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.push("us-east-1", testAccount, "app", digestN(1), "v1", "stable")
	store.push("us-east-1", testAccount, "app", digestN(2), "v2")
	log := &callLog{}
	res := NewImageResolver(func(region string) ECRAPI {
		f := store.client(log)(region).(*fakeECR)
		describe, batch := f.describeImages, f.batchGetImage
		// Details in another order than asked, and failures that name
		// ids nobody asked for: only content may be trusted.
		f.describeImages = func(ctx context.Context, in *ecr.DescribeImagesInput) (*ecr.DescribeImagesOutput, error) {
			out, err := describe(ctx, in)
			if err == nil {
				slices.Reverse(out.ImageDetails)
			}
			return out, err
		}
		f.batchGetImage = func(ctx context.Context, in *ecr.BatchGetImageInput) (*ecr.BatchGetImageOutput, error) {
			out, err := batch(ctx, in)
			for i := range out.Failures {
				out.Failures[i].ImageId = &types.ImageIdentifier{ImageTag: aws.String("echo")}
			}
			return out, err
		}
		return f
	}, ResolverOptions{})
	got, err := res.Resolve(context.Background(), mustRefs(t, testECRHost+"/app:stable", testECRHost+"/app:v2"))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := got[testECRHost+"/app:stable"].Digest, got[testECRHost+"/app:v2"].Digest; a != digestN(1) || b != digestN(2) {
		t.Errorf("stable -> %s, v2 -> %s; want %s, %s", a, b, digestN(1), digestN(2))
	}

	_, err = res.Resolve(context.Background(), mustRefs(t, testECRHost+"/app:v1", testECRHost+"/app:v3"))
	want := "image " + testECRHost + "/app:v3: tag v3 not found in repository app (registry 123456789012, us-east-1)"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	// DescribeImages fails, BatchGetImage's failures cannot be placed, the
	// rest fails again, so each is asked alone.
	var ops []string
	for _, c := range log.take() {
		ops = append(ops, c.Op+" "+strings.Join(c.IDs, ","))
	}
	slices.Sort(ops)
	wantOps := []string{
		"BatchGetImage v1,v3",
		"DescribeImages stable,v2",
		"DescribeImages v1",
		"DescribeImages v1,v3",
		"DescribeImages v1,v3",
		"DescribeImages v3",
	}
	if diff := cmp.Diff(wantOps, ops); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestResolveMultiArch(t *testing.T) {
	t.Parallel()
	index := types.ImageDetail{
		RegistryId: aws.String(testAccount), RepositoryName: aws.String("app"),
		ImageDigest: aws.String(digestN(100)), ImageTags: []string{"v1"},
		ImageManifestMediaType: aws.String("application/vnd.oci.image.index.v1+json"),
		ArtifactMediaType:      aws.String("application/vnd.oci.image.index.v1+json"),
		ImageSizeInBytes:       aws.Int64(0),
	}
	child := func(n int) types.ImageDetail {
		return types.ImageDetail{
			RegistryId: aws.String(testAccount), RepositoryName: aws.String("app"),
			ImageDigest:            aws.String(digestN(n)),
			ImageManifestMediaType: aws.String("application/vnd.oci.image.manifest.v1+json"),
		}
	}
	res := NewImageResolver(func(region string) ECRAPI {
		return &fakeECR{region: region, log: &callLog{}, describeImages: func(context.Context, *ecr.DescribeImagesInput) (*ecr.DescribeImagesOutput, error) {
			// Platform images first: the tag, not the position, finds the index.
			return &ecr.DescribeImagesOutput{ImageDetails: []types.ImageDetail{child(101), child(102), index}}, nil
		}}
	}, ResolverOptions{})
	got, err := res.Resolve(context.Background(), mustRefs(t, testECRHost+"/app:v1"))
	if err != nil {
		t.Fatal(err)
	}
	img := got[testECRHost+"/app:v1"]
	if img.Digest != digestN(100) {
		t.Errorf("multi-arch image resolved to %s, want the index %s", img.Digest, digestN(100))
	}
}

func TestResolveArchived(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.push("us-east-1", testAccount, "app", digestN(1), "v1")
	store.repos["us-east-1/"+testAccount+"/app"][0].ImageStatus = types.ImageStatusArchived
	_, err := NewImageResolver(store.client(&callLog{}), ResolverOptions{}).Resolve(context.Background(), mustRefs(t, testECRHost+"/app:v1"))
	want := "image " + testECRHost + "/app:v1: archived in repository app (registry 123456789012, us-east-1): restore it before deploying"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestResolveWaitsUntilTheImageAppears(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.createRepo("us-east-1", testAccount, "app")
	store.push("us-east-1", testAccount, "app", digestN(1), "v1")
	log := &callLog{}
	var progress []string
	res := NewImageResolver(store.client(log), ResolverOptions{
		Wait:         time.Hour,
		PollInterval: time.Millisecond,
		Progress: func(msg string) {
			progress = append(progress, msg)
			if len(progress) == 3 {
				// The other pipeline finishes its push.
				store.push("us-east-1", testAccount, "app", digestN(2), "v2")
			}
		},
	})
	got, err := res.Resolve(context.Background(), mustRefs(t, testECRHost+"/app:v1", testECRHost+"/app:v2"))
	if err != nil {
		t.Fatal(err)
	}
	if got[testECRHost+"/app:v2"].Digest != digestN(2) || got[testECRHost+"/app:v1"].Digest != digestN(1) {
		t.Errorf("Resolve = %v", got)
	}
	if len(progress) != 3 {
		t.Errorf("%d progress lines, want one per poll (3): %q", len(progress), progress)
	}
	for _, p := range progress {
		if !strings.HasPrefix(p, "waiting for "+testECRHost+"/app:v2 (") || !strings.HasSuffix(p, " left)") {
			t.Errorf("progress line %q", p)
		}
	}
	// Once v1 is found only v2 is polled for: v1 is in the first
	// DescribeImages, the BatchGetImage that finds v2 missing, and the
	// DescribeImages of v1 alone.
	withV1 := 0
	for _, c := range log.take() {
		if slices.Contains(c.IDs, "v1") {
			withV1++
		}
	}
	if withV1 != 3 {
		t.Errorf("v1 was in %d calls, want 3", withV1)
	}
}

func TestResolveWaitsForRepository(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	polls := 0
	res := NewImageResolver(store.client(&callLog{}), ResolverOptions{
		Wait:         time.Hour,
		PollInterval: time.Millisecond,
		Progress: func(string) {
			if polls++; polls == 2 {
				store.push("us-east-1", testAccount, "new", digestN(1), "v1")
			}
		},
	})
	got, err := res.Resolve(context.Background(), mustRefs(t, testECRHost+"/new:v1"))
	if err != nil || got[testECRHost+"/new:v1"].Digest != digestN(1) {
		t.Errorf("Resolve = %v, %v", got, err)
	}
}

func TestResolveWaitTimesOut(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.createRepo("us-east-1", testAccount, "app")
	var progress []string
	res := NewImageResolver(store.client(&callLog{}), ResolverOptions{
		Wait:            20 * time.Millisecond,
		PollInterval:    time.Millisecond,
		MaxPollInterval: 4 * time.Millisecond,
		Progress:        func(msg string) { progress = append(progress, msg) },
	})
	_, err := res.Resolve(context.Background(), mustRefs(t, testECRHost+"/app:v2"))
	want := "image " + testECRHost + "/app:v2: tag v2 not found in repository app (registry 123456789012, us-east-1) after waiting 20ms"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	var nf *ImageNotFoundError
	if !errors.As(err, &nf) || nf.Waited != 20*time.Millisecond {
		t.Errorf("error is not an ImageNotFoundError that waited 20ms: %#v", err)
	}
	if len(progress) == 0 {
		t.Error("no progress while waiting")
	}
}

func TestResolveCancelDuringCall(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	log := &callLog{}
	var block atomic.Bool
	block.Store(true)
	store := newFakeStore()
	store.push("us-east-1", testAccount, "app", digestN(1), "v1")
	res := NewImageResolver(func(region string) ECRAPI {
		f := store.client(log)(region).(*fakeECR)
		ok := f.describeImages
		f.describeImages = func(ctx context.Context, in *ecr.DescribeImagesInput) (*ecr.DescribeImagesOutput, error) {
			if block.Load() {
				close(started)
				<-ctx.Done() // a hung connection, as the SDK sees it
				return nil, &smithy.OperationError{ServiceID: "ECR", OperationName: "DescribeImages", Err: ctx.Err()}
			}
			return ok(ctx, in)
		}
		return f
	}, ResolverOptions{})
	go func() { <-started; cancel() }()
	refs := mustRefs(t, testECRHost+"/app:v1")
	_, err := res.Resolve(ctx, refs)
	want := "describe images in repository app (registry 123456789012, us-east-1): canceled"
	if err == nil || err.Error() != want || !errors.Is(err, context.Canceled) {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	// The cancelled lookup is forgotten: a later render asks again.
	block.Store(false)
	if _, err := res.Resolve(context.Background(), refs); err != nil {
		t.Errorf("Resolve after a cancelled one: %v", err)
	}
}

func TestResolveCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	store := newFakeStore()
	store.createRepo("us-east-1", testAccount, "app")
	res := NewImageResolver(store.client(&callLog{}), ResolverOptions{
		Wait:         time.Hour,
		PollInterval: time.Hour, // only the cancel can end this wait
		Progress:     func(string) { cancel() },
	})
	_, err := res.Resolve(ctx, mustRefs(t, testECRHost+"/app:v2"))
	prefix := "image " + testECRHost + "/app:v2: tag v2 not found in repository app (registry 123456789012, us-east-1) after waiting "
	if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.HasSuffix(err.Error(), ": context canceled") {
		t.Errorf("error:\n%v\nwant:\n%s...: context canceled", err, prefix)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error does not wrap context.Canceled: %#v", err)
	}
}

func TestResolveWaiterLeavesOnCancel(t *testing.T) {
	t.Parallel()
	// One render waits on a lookup that another render runs; cancelling
	// the waiter must not wait for the lookup.
	release := make(chan struct{})
	started := make(chan struct{})
	store := newFakeStore()
	store.push("us-east-1", testAccount, "app", digestN(1), "v1")
	res := NewImageResolver(func(region string) ECRAPI {
		f := store.client(&callLog{})(region).(*fakeECR)
		ok := f.describeImages
		f.describeImages = func(ctx context.Context, in *ecr.DescribeImagesInput) (*ecr.DescribeImagesOutput, error) {
			close(started)
			<-release
			return ok(ctx, in)
		}
		return f
	}, ResolverOptions{})
	refs := mustRefs(t, testECRHost+"/app:v1")
	owner := make(chan error)
	go func() {
		_, err := res.Resolve(context.Background(), refs)
		owner <- err
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := res.Resolve(ctx, refs)
	if want := "resolve images: context canceled"; err == nil || err.Error() != want {
		t.Errorf("waiter error = %v, want %s", err, want)
	}
	close(release)
	if err := <-owner; err != nil {
		t.Errorf("owner: %v", err)
	}
}

func TestResolveConcurrent(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	var all []string
	for r := range 12 {
		repo := fmt.Sprintf("svc%d", r)
		for i := range 5 {
			tag := fmt.Sprintf("v%d", i)
			store.push("us-east-1", testAccount, repo, digestN(r*10+i), tag)
			all = append(all, testECRHost+"/"+repo+":"+tag)
		}
	}
	log := &callLog{}
	var inFlight, maxInFlight atomic.Int32
	res := NewImageResolver(func(region string) ECRAPI {
		f := store.client(log)(region).(*fakeECR)
		ok := f.describeImages
		f.describeImages = func(ctx context.Context, in *ecr.DescribeImagesInput) (*ecr.DescribeImagesOutput, error) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				m := maxInFlight.Load()
				if n <= m || maxInFlight.CompareAndSwap(m, n) {
					break
				}
			}
			return ok(ctx, in)
		}
		return f
	}, ResolverOptions{})

	var wg sync.WaitGroup
	for g := range 20 {
		wg.Go(func() {
			// Each render uses an overlapping window of the images.
			refs := mustRefs(t, all[g%len(all):min(g%len(all)+30, len(all))]...)
			got, err := res.Resolve(context.Background(), refs)
			if err != nil {
				t.Error(err)
				return
			}
			for _, r := range refs {
				if got[r.String()].Digest == "" {
					t.Errorf("%s not resolved", r)
				}
			}
		})
	}
	wg.Wait()
	asked := make(map[string]int)
	for _, c := range log.take() {
		for _, id := range c.IDs {
			asked[c.Repository+":"+id]++
		}
	}
	for id, n := range asked {
		if n != 1 {
			t.Errorf("%s asked for %d times, want once", id, n)
		}
	}
	if m := maxInFlight.Load(); m > maxParallelCalls {
		t.Errorf("%d calls in flight, want at most %d", m, maxParallelCalls)
	}
}

func TestResolveIgnoresOtherRegistries(t *testing.T) {
	t.Parallel()
	res := NewImageResolver(func(string) ECRAPI {
		t.Error("no client wanted")
		return nil
	}, ResolverOptions{})
	got, err := res.Resolve(context.Background(), mustRefs(t, "nginx", "ghcr.io/a/b:1", "public.ecr.aws/x/y:2"))
	if err != nil || len(got) != 0 {
		t.Errorf("Resolve = %v, %v; want nothing", got, err)
	}
}

// TestResolveWire checks the request and response shapes the resolver
// relies on against a real ecr.Client, with a server that speaks ECR's JSON
// protocol and fails any request it does not expect.
func TestResolveWire(t *testing.T) {
	t.Parallel()
	type request struct {
		RegistryID         string `json:"registryId"`
		RepositoryName     string `json:"repositoryName"`
		ImageIDs           []struct{ ImageTag, ImageDigest string }
		AcceptedMediaTypes []string `json:"acceptedMediaTypes"`
	}
	var mu sync.Mutex
	var targets []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		mu.Lock()
		targets = append(targets, target)
		mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
			t.Errorf("unexpected request %s %s (%s)", r.Method, r.URL, r.Header.Get("Content-Type"))
		}
		body, _ := io.ReadAll(r.Body)
		var in request
		if err := json.Unmarshal(body, &in); err != nil {
			t.Errorf("request body %s: %v", body, err)
		}
		var ids []string
		for _, id := range in.ImageIDs {
			ids = append(ids, id.ImageTag+id.ImageDigest)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		fail := func(code, msg string) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, msg)
		}
		if in.RegistryID != testAccount {
			t.Errorf("registryId = %q", in.RegistryID)
		}
		switch {
		case in.RepositoryName == "gone":
			fail("RepositoryNotFoundException", "The repository with name 'gone' does not exist in the registry with id '123456789012'")
		case in.RepositoryName == "secret":
			fail("AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/build/x is not authorized to perform: ecr:DescribeImages")
		case target == "AmazonEC2ContainerRegistry_V20150921.DescribeImages" && slices.Equal(ids, []string{"v1"}):
			fmt.Fprintf(w, `{"imageDetails":[{"registryId":"123456789012","repositoryName":"app","imageDigest":%q,
				"imageTags":["v1","latest"],"imageSizeInBytes":52428800,"imagePushedAt":1.7409312005E9,
				"imageManifestMediaType":"application/vnd.oci.image.index.v1+json","imageStatus":"ACTIVE"}]}`, digestN(1))
		case target == "AmazonEC2ContainerRegistry_V20150921.DescribeImages":
			fail("ImageNotFoundException", "The image with imageId {imageDigest:'null', imageTag:'v2'} does not exist within the repository with name 'app' in the registry with id '123456789012'")
		case target == "AmazonEC2ContainerRegistry_V20150921.BatchGetImage":
			if !slices.Contains(in.AcceptedMediaTypes, "application/vnd.oci.image.index.v1+json") {
				t.Errorf("BatchGetImage accepts %v, not OCI indexes", in.AcceptedMediaTypes)
			}
			fmt.Fprintf(w, `{"images":[{"registryId":"123456789012","repositoryName":"app","imageId":{"imageDigest":%q,"imageTag":"latest"},
				"imageManifest":"{}","imageManifestMediaType":"application/vnd.oci.image.index.v1+json"}],
				"failures":[{"imageId":{"imageTag":"v2"},"failureCode":"ImageNotFound","failureReason":"Requested image not found"}]}`, digestN(1))
		default:
			t.Errorf("unexpected %s %s", target, body)
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	res := NewImageResolver(func(region string) ECRAPI {
		return ecr.New(ecr.Options{
			Region:       region,
			BaseEndpoint: aws.String(srv.URL),
			Credentials:  aws.AnonymousCredentials{},
			HTTPClient:   srv.Client(),
		})
	}, ResolverOptions{})
	ctx := context.Background()

	got, err := res.Resolve(ctx, mustRefs(t, testECRHost+"/app:v1"))
	if err != nil {
		t.Fatal(err)
	}
	want := render.ResolvedImage{
		Ref:            mustRefs(t, testECRHost+"/app:v1")[0],
		Digest:         digestN(1),
		Tags:           []string{"latest", "v1"},
		RegistryID:     testAccount,
		RepositoryName: "app",
		PushedAt:       time.Unix(1740931200, 500_000_000).UTC(),
		SizeBytes:      52428800,
	}
	if diff := cmp.Diff(want, got[testECRHost+"/app:v1"]); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}

	_, err = res.Resolve(ctx, mustRefs(t, testECRHost+"/app:v2", testECRHost+"/gone:v1", testECRHost+"/secret:v1"))
	wantErr := strings.Join([]string{
		"image " + testECRHost + "/app:v2: tag v2 not found in repository app (registry 123456789012, us-east-1)",
		"image " + testECRHost + "/gone:v1: repository gone not found (registry 123456789012, us-east-1)",
		"describe images in repository secret (registry 123456789012, us-east-1): access denied: allow ecr:DescribeImages on arn:aws:ecr:us-east-1:123456789012:repository/secret: User: arn:aws:sts::123456789012:assumed-role/build/x is not authorized to perform: ecr:DescribeImages",
	}, "\n")
	if err == nil || err.Error() != wantErr {
		t.Errorf("error:\n%v\nwant:\n%s", err, wantErr)
	}
	var nf *ImageNotFoundError
	if !errors.As(err, &nf) {
		t.Errorf("no ImageNotFoundError in %#v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(targets)
	wantTargets := []string{
		"AmazonEC2ContainerRegistry_V20150921.BatchGetImage",
		"AmazonEC2ContainerRegistry_V20150921.DescribeImages",
		"AmazonEC2ContainerRegistry_V20150921.DescribeImages",
		"AmazonEC2ContainerRegistry_V20150921.DescribeImages",
		"AmazonEC2ContainerRegistry_V20150921.DescribeImages",
	}
	if diff := cmp.Diff(wantTargets, targets); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestResolveDetailWithoutDigest(t *testing.T) {
	t.Parallel()
	res := NewImageResolver(func(region string) ECRAPI {
		return &fakeECR{region: region, log: &callLog{}, describeImages: func(context.Context, *ecr.DescribeImagesInput) (*ecr.DescribeImagesOutput, error) {
			return &ecr.DescribeImagesOutput{ImageDetails: []types.ImageDetail{{ImageTags: []string{"v1"}}}}, nil
		}}
	}, ResolverOptions{})
	_, err := res.Resolve(context.Background(), mustRefs(t, testECRHost+"/app:v1"))
	want := "image " + testECRHost + "/app:v1: ECR described it without a digest"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

// TestResolveWaiterRetriesAfterOwnerCancels: when the render running a
// lookup is cancelled, another render waiting on it looks the image up
// itself instead of inheriting a cancellation that is not its own.
func TestResolveWaiterRetriesAfterOwnerCancels(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.push("us-east-1", testAccount, "app", digestN(1), "v1")
	started := make(chan struct{})
	var first atomic.Bool
	first.Store(true)
	res := NewImageResolver(func(region string) ECRAPI {
		f := store.client(&callLog{})(region).(*fakeECR)
		ok := f.describeImages
		f.describeImages = func(ctx context.Context, in *ecr.DescribeImagesInput) (*ecr.DescribeImagesOutput, error) {
			if first.CompareAndSwap(true, false) {
				close(started)
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return ok(ctx, in)
		}
		return f
	}, ResolverOptions{})
	refs := mustRefs(t, testECRHost+"/app:v1")
	ctx, cancel := context.WithCancel(context.Background())
	owner := make(chan error)
	go func() {
		_, err := res.Resolve(ctx, refs)
		owner <- err
	}()
	<-started
	waiter := make(chan map[string]render.ResolvedImage)
	go func() {
		got, err := res.Resolve(context.Background(), refs)
		if err != nil {
			t.Errorf("waiter: %v", err)
		}
		waiter <- got
	}()
	cancel()
	if err := <-owner; !errors.Is(err, context.Canceled) {
		t.Errorf("owner error = %v, want context.Canceled", err)
	}
	if got := <-waiter; got[refs[0].String()].Digest != digestN(1) {
		t.Errorf("waiter got %v", got)
	}
}

func TestRepoKeyARN(t *testing.T) {
	t.Parallel()
	for region, want := range map[string]string{
		"us-east-1":      "arn:aws:ecr:us-east-1:123456789012:repository/a/b",
		"cn-northwest-1": "arn:aws-cn:ecr:cn-northwest-1:123456789012:repository/a/b",
		"us-gov-west-1":  "arn:aws-us-gov:ecr:us-gov-west-1:123456789012:repository/a/b",
		"eusc-de-east-1": "arn:aws-eusc:ecr:eusc-de-east-1:123456789012:repository/a/b",
	} {
		if got := (repoKey{region: region, account: testAccount, repo: "a/b"}).arn(); got != want {
			t.Errorf("arn in %s = %s, want %s", region, got, want)
		}
	}
}

const (
	testDigest    = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	testECRHost   = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
	testECRHostW2 = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
)
