package remote

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"

	"github.com/ecsrender/ecsrender/render"
	"github.com/ecsrender/ecsrender/render/ref"
)

// ECRAPI is the part of the Amazon ECR client that ImageResolver uses.
// It is declared here, with the SDK's exact signatures, so that tests can
// hand in a fake and the resolver depends on nothing else of the SDK.
type ECRAPI interface {
	DescribeImages(ctx context.Context, params *ecr.DescribeImagesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error)
	BatchGetImage(ctx context.Context, params *ecr.BatchGetImageInput, optFns ...func(*ecr.Options)) (*ecr.BatchGetImageOutput, error)
}

var _ ECRAPI = (*ecr.Client)(nil)

const (
	// maxImageIDsPerCall is ECR's limit on imageIds in DescribeImages and
	// BatchGetImage.
	maxImageIDsPerCall = 100
	// maxParallelCalls bounds the ECR calls in flight across all renders
	// sharing a resolver, well under ECR's per-account request rates.
	maxParallelCalls = 8

	defaultPollInterval    = 5 * time.Second
	defaultMaxPollInterval = 30 * time.Second
	defaultCallTimeout     = 30 * time.Second
)

// ResolverOptions tune an ImageResolver. The zero value resolves once,
// without waiting, and reports no progress.
type ResolverOptions struct {
	// Wait is how long to keep polling for an image that is not in ECR
	// (yet): the image may still be building in another pipeline
	// (--wait-for-image). Zero fails at once.
	Wait time.Duration
	// PollInterval is the first pause between polls; it doubles after each
	// poll up to MaxPollInterval. Defaults: 5s and 30s.
	PollInterval    time.Duration
	MaxPollInterval time.Duration
	// CallTimeout bounds one ECR call, retries included, because the SDK
	// sets no deadline of its own and a hung connection would otherwise
	// hold the build until --timeout. Default 30s.
	CallTimeout time.Duration
	// Progress receives one line per poll while waiting, such as
	// "waiting for 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:abc (2m0s left)".
	// Calls are serialised, so it need not be safe for concurrent use.
	Progress func(msg string)
}

// ImageResolver turns ECR image references into digests and image details.
//
// One resolver is meant to be shared by every render in a process, so that
// a monorepo of services that use the same base images asks ECR once per
// image. It is safe for concurrent use.
type ImageResolver struct {
	newClient func(region string) ECRAPI
	opts      ResolverOptions
	// calls is a semaphore over ECR calls, not over images, so that an
	// image being waited for holds no slot while it sleeps.
	calls      chan struct{}
	progressMu sync.Mutex

	mu      sync.Mutex
	clients map[string]ECRAPI
	cache   map[string]*lookup // by ref.ImageRef.String()
}

// lookup is one image's resolution, shared by every Resolve that asks for
// it while it runs and after it is done.
type lookup struct {
	iref ref.ImageRef
	done chan struct{}
	// Set before done is closed.
	img render.ResolvedImage
	err error
	// retry means the failure says nothing about the image (a timeout,
	// throttling, a caller's cancelled context), so the lookup was dropped
	// from the cache and the next Resolve asks ECR again.
	retry bool
}

// ImageNotFoundError is an ECR image, or its whole repository, that does
// not exist. It is a type of its own so that a caller can tell "the build
// has not pushed it" from AWS failing.
type ImageNotFoundError struct {
	Ref ref.ImageRef
	// RepositoryMissing is true when the repository itself does not exist.
	RepositoryMissing bool
	// Waited is how long the resolver polled for the image; zero when it
	// did not wait.
	Waited time.Duration
	// Err is what ended the wait early (the context's error), or nil.
	Err error
}

// Error names the image, what of it is missing, and where it was looked for.
func (e *ImageNotFoundError) Error() string {
	k := repoKeyOf(e.Ref)
	var b strings.Builder
	fmt.Fprintf(&b, "image %s: ", e.Ref)
	switch {
	case e.RepositoryMissing:
		fmt.Fprintf(&b, "repository %s not found (registry %s, %s)", k.repo, k.account, k.region)
	case e.Ref.Digest != "":
		fmt.Fprintf(&b, "digest %s not found in %s", e.Ref.Digest, k)
	default:
		fmt.Fprintf(&b, "tag %s not found in %s", lookupTag(e.Ref), k)
	}
	if e.Waited > 0 {
		fmt.Fprintf(&b, " after waiting %s", e.Waited)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns what ended the wait early, so that errors.Is finds a
// cancelled or expired context.
func (e *ImageNotFoundError) Unwrap() error { return e.Err }

// NewImageResolver returns a resolver that gets the ECR client of a region
// from client, calling it at most once per region.
func NewImageResolver(client func(region string) ECRAPI, opts ResolverOptions) *ImageResolver {
	if opts.PollInterval <= 0 {
		opts.PollInterval = defaultPollInterval
	}
	if opts.MaxPollInterval <= 0 {
		opts.MaxPollInterval = defaultMaxPollInterval
	}
	opts.MaxPollInterval = max(opts.MaxPollInterval, opts.PollInterval)
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = defaultCallTimeout
	}
	return &ImageResolver{
		newClient: client,
		opts:      opts,
		calls:     make(chan struct{}, maxParallelCalls),
		clients:   make(map[string]ECRAPI),
		cache:     make(map[string]*lookup),
	}
}

// Resolve looks up every private ECR image among refs, keyed by
// ref.String(). Other references are not looked up and not in the result:
// ECR is the only registry whose answers a deploy can trust to the digest,
// and the caller decides what to say about the rest.
//
// Images of one repository are looked up together, one DescribeImages call
// per 100 images, and repositories in parallel. Images already resolved by
// this resolver cost no call. Every image that cannot be resolved is
// reported, one line each.
func (r *ImageResolver) Resolve(ctx context.Context, refs []ref.ImageRef) (map[string]render.ResolvedImage, error) {
	want := make(map[string]ref.ImageRef)
	for _, iref := range refs {
		if iref.ECR != nil {
			want[iref.String()] = iref
		}
	}
	out := make(map[string]render.ResolvedImage, len(want))
	errs := make(map[string]error)
	for len(want) > 0 {
		mine, all := r.claim(want)
		r.lookupAll(ctx, mine)
		retry := make(map[string]ref.ImageRef)
		for key, l := range all {
			select {
			case <-l.done:
			default:
				select {
				case <-l.done:
				case <-ctx.Done():
					return nil, fmt.Errorf("resolve images: %w", ctx.Err())
				}
			}
			switch {
			case l.err == nil:
				img := l.img
				img.Ref = want[key]
				img.Tags = slices.Clone(img.Tags)
				out[key] = img
			case l.retry && mine[key] == nil && ctx.Err() == nil:
				// Another Resolve gave up on it for reasons of its own.
				retry[key] = want[key]
			default:
				errs[key] = l.err
			}
		}
		want = retry
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	return out, nil
}

// joinErrors joins errors in the order of their images, once each: images
// of one repository share the error of a failed call.
func joinErrors(errs map[string]error) error {
	var list []error
	seen := make(map[string]bool)
	for _, key := range slices.Sorted(maps.Keys(errs)) {
		if msg := errs[key].Error(); !seen[msg] {
			seen[msg] = true
			list = append(list, errs[key])
		}
	}
	return errors.Join(list...)
}

// claim returns the lookups of want, creating those nobody has started;
// the created ones are the caller's to run.
func (r *ImageResolver) claim(want map[string]ref.ImageRef) (mine, all map[string]*lookup) {
	r.mu.Lock()
	defer r.mu.Unlock()
	mine = make(map[string]*lookup)
	all = make(map[string]*lookup, len(want))
	for key, iref := range want {
		l, ok := r.cache[key]
		if !ok {
			l = &lookup{iref: iref, done: make(chan struct{})}
			r.cache[key] = l
			mine[key] = l
		}
		all[key] = l
	}
	return mine, all
}

func (r *ImageResolver) finish(l *lookup, img render.ResolvedImage, err error) {
	l.img, l.err = img, err
	var nf *ImageNotFoundError
	l.retry = err != nil && !(errors.As(err, &nf) && nf.Err == nil)
	if l.retry {
		key := l.iref.String()
		r.mu.Lock()
		if r.cache[key] == l {
			delete(r.cache, key)
		}
		r.mu.Unlock()
	}
	close(l.done)
}

func (r *ImageResolver) client(region string) ECRAPI {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.clients[region]
	if !ok {
		c = r.newClient(region)
		r.clients[region] = c
	}
	return c
}

// repoKey is what one ECR call can cover: one repository of one registry.
type repoKey struct{ region, account, repo string }

func repoKeyOf(iref ref.ImageRef) repoKey {
	return repoKey{region: iref.ECR.Region, account: iref.ECR.Account, repo: iref.Repository}
}

func (k repoKey) String() string {
	return fmt.Sprintf("repository %s (registry %s, %s)", k.repo, k.account, k.region)
}

// arn is the repository's ARN, for messages that tell what to allow.
func (k repoKey) arn() string {
	partition := "aws"
	switch {
	case strings.HasPrefix(k.region, "cn-"):
		partition = "aws-cn"
	case strings.HasPrefix(k.region, "us-gov-"):
		partition = "aws-us-gov"
	case strings.HasPrefix(k.region, "eusc-"):
		partition = "aws-eusc"
	}
	return fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", partition, k.region, k.account, k.repo)
}

// imageID is what ECR is asked for: a digest when the reference has one
// (it decides what ECS pulls; a tag beside it is only a label), else a tag.
type imageID struct{ tag, digest string }

func idOf(iref ref.ImageRef) imageID {
	if iref.Digest != "" {
		return imageID{digest: iref.Digest}
	}
	return imageID{tag: lookupTag(iref)}
}

// lookupTag is the tag a reference pulls: Docker and ECS read no tag as latest.
func lookupTag(iref ref.ImageRef) string {
	return cmp.Or(iref.Tag, "latest")
}

func (id imageID) sdk() types.ImageIdentifier {
	if id.digest != "" {
		return types.ImageIdentifier{ImageDigest: aws.String(id.digest)}
	}
	return types.ImageIdentifier{ImageTag: aws.String(id.tag)}
}

func sdkIDs(ids []imageID) []types.ImageIdentifier {
	out := make([]types.ImageIdentifier, len(ids))
	for i, id := range ids {
		out[i] = id.sdk()
	}
	return out
}

// chunk is the images of one call: up to 100 distinct ids of one
// repository, and the lookups waiting on each id (app and app:latest are
// one id).
type chunk struct {
	key  repoKey
	ids  []imageID
	byID map[imageID][]*lookup
}

func (r *ImageResolver) lookupAll(ctx context.Context, mine map[string]*lookup) {
	groups := make(map[repoKey][]*lookup)
	for _, key := range slices.Sorted(maps.Keys(mine)) {
		l := mine[key]
		k := repoKeyOf(l.iref)
		groups[k] = append(groups[k], l)
	}
	var wg sync.WaitGroup
	for k, ls := range groups {
		c := r.client(k.region)
		byID := make(map[imageID][]*lookup)
		var ids []imageID
		for _, l := range ls {
			id := idOf(l.iref)
			if byID[id] == nil {
				ids = append(ids, id)
			}
			byID[id] = append(byID[id], l)
		}
		for part := range slices.Chunk(ids, maxImageIDsPerCall) {
			ch := chunk{key: k, ids: part, byID: byID}
			wg.Go(func() { r.resolveChunk(ctx, c, ch) })
		}
	}
	wg.Wait()
}

// resolveChunk finishes every lookup of ch, polling while opts.Wait allows.
func (r *ImageResolver) resolveChunk(ctx context.Context, c ECRAPI, ch chunk) {
	start := time.Now()
	interval := r.opts.PollInterval
	pending := ch.ids
	for {
		res, err := r.find(ctx, c, ch.key, pending)
		if err != nil {
			for _, id := range pending {
				r.finishAll(ch.byID[id], render.ResolvedImage{}, err)
			}
			return
		}
		for id, d := range res.found {
			for _, l := range ch.byID[id] {
				img, err := resolved(l.iref, d)
				r.finish(l, img, err)
			}
		}
		for id, err := range res.failed {
			for _, l := range ch.byID[id] {
				r.finish(l, render.ResolvedImage{}, fmt.Errorf("image %s: %w", l.iref, err))
			}
		}
		if len(res.missing) == 0 {
			return
		}
		notFound := func(waited time.Duration, cause error) {
			for _, id := range res.missing {
				for _, l := range ch.byID[id] {
					r.finish(l, render.ResolvedImage{}, &ImageNotFoundError{Ref: l.iref, RepositoryMissing: res.repoMissing, Waited: waited, Err: cause})
				}
			}
		}
		left := r.opts.Wait - time.Since(start)
		if left <= 0 {
			notFound(r.opts.Wait, nil)
			return
		}
		var names []string
		for _, id := range res.missing {
			for _, l := range ch.byID[id] {
				names = append(names, l.iref.String())
			}
		}
		r.progress(fmt.Sprintf("waiting for %s (%s left)", strings.Join(names, ", "), shortDuration(left)))
		if err := sleep(ctx, min(interval, left)); err != nil {
			notFound(shortDuration(time.Since(start)), err)
			return
		}
		interval = min(2*interval, r.opts.MaxPollInterval)
		pending = res.missing
	}
}

func (r *ImageResolver) finishAll(ls []*lookup, img render.ResolvedImage, err error) {
	for _, l := range ls {
		r.finish(l, img, err)
	}
}

func (r *ImageResolver) progress(msg string) {
	if r.opts.Progress == nil {
		return
	}
	r.progressMu.Lock()
	defer r.progressMu.Unlock()
	r.opts.Progress(msg)
}

// shortDuration rounds d for people: "2m0s left" says enough. It never
// rounds to zero, which would read as not having waited at all.
func shortDuration(d time.Duration) time.Duration {
	unit := time.Millisecond
	if d >= time.Second {
		unit = time.Second
	}
	if r := d.Round(unit); r > 0 {
		return r
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func resolved(iref ref.ImageRef, d types.ImageDetail) (render.ResolvedImage, error) {
	if aws.ToString(d.ImageDigest) == "" {
		return render.ResolvedImage{}, fmt.Errorf("image %s: ECR described it without a digest", iref)
	}
	if d.ImageStatus == types.ImageStatusArchived {
		// ECS cannot pull an archived image; failing here beats a task
		// that never starts.
		return render.ResolvedImage{}, fmt.Errorf("image %s: archived in %s: restore it before deploying", iref, repoKeyOf(iref))
	}
	img := render.ResolvedImage{
		Ref:            iref,
		Digest:         *d.ImageDigest,
		Tags:           slices.Sorted(slices.Values(d.ImageTags)),
		RegistryID:     aws.ToString(d.RegistryId),
		RepositoryName: aws.ToString(d.RepositoryName),
		PushedAt:       aws.ToTime(d.ImagePushedAt),
		SizeBytes:      aws.ToInt64(d.ImageSizeInBytes),
	}
	return img, nil
}

// findResult is one poll's answer for a list of ids.
type findResult struct {
	found   map[imageID]types.ImageDetail
	missing []imageID
	// failed are ids ECR could not give for reasons other than absence,
	// e.g. a KMS error.
	failed map[imageID]error
	// repoMissing is true when the repository does not exist, so every id
	// is missing.
	repoMissing bool
}

// find asks ECR for ids. DescribeImages answers everything in one call but
// fails as a whole, without saying which, when any id is missing; only then
// does BatchGetImage name each missing one, and a second DescribeImages
// describe the rest.
func (r *ImageResolver) find(ctx context.Context, c ECRAPI, k repoKey, ids []imageID) (findResult, error) {
	details, err := r.describe(ctx, c, k, ids)
	switch {
	case err == nil:
		return match(ids, details), nil
	case isRepositoryNotFound(err):
		return findResult{missing: ids, repoMissing: true}, nil
	case !isImageNotFound(err):
		return findResult{}, err
	}

	failures, err := r.batchGet(ctx, c, k, ids)
	if isRepositoryNotFound(err) {
		return findResult{missing: ids, repoMissing: true}, nil
	}
	if err != nil {
		return findResult{}, err
	}
	res := findResult{found: make(map[imageID]types.ImageDetail), failed: make(map[imageID]error)}
	gone := make(map[imageID]bool)
	for _, f := range failures {
		id, ok := requested(ids, f.ImageId)
		if !ok {
			continue
		}
		switch f.FailureCode {
		case types.ImageFailureCodeImageNotFound, types.ImageFailureCodeImageTagDoesNotMatchDigest:
			gone[id] = true
		case types.ImageFailureCodeImageReferencedByManifestList:
			// Present, merely part of an index.
		default:
			res.failed[id] = fmt.Errorf("%s in %s: %s", f.FailureCode, k, aws.ToString(f.FailureReason))
		}
	}
	var present []imageID
	for _, id := range ids {
		switch {
		case gone[id]:
			res.missing = append(res.missing, id)
		case res.failed[id] == nil:
			present = append(present, id)
		}
	}
	if len(present) == 0 {
		return res, nil
	}
	details, err = r.describe(ctx, c, k, present)
	if isImageNotFound(err) {
		// An image went away between the calls, or the failures named
		// other ids than those asked for: ask one at a time, which is
		// slow but cannot be misread.
		return r.findEach(ctx, c, k, present, res)
	}
	if err != nil {
		return findResult{}, err
	}
	m := match(present, details)
	maps.Copy(res.found, m.found)
	res.missing = append(res.missing, m.missing...)
	return res, nil
}

func (r *ImageResolver) findEach(ctx context.Context, c ECRAPI, k repoKey, ids []imageID, res findResult) (findResult, error) {
	for _, id := range ids {
		details, err := r.describe(ctx, c, k, []imageID{id})
		switch {
		case isImageNotFound(err):
			res.missing = append(res.missing, id)
			continue
		case err != nil:
			return findResult{}, err
		}
		m := match([]imageID{id}, details)
		maps.Copy(res.found, m.found)
		res.missing = append(res.missing, m.missing...)
	}
	return res, nil
}

// match maps details back to the ids asked for by what the image is —
// its digest, or a tag it carries — never by an echoed id, which ECR
// look-alikes fill in differently (moto echoes the last tag added).
func match(ids []imageID, details []types.ImageDetail) findResult {
	res := findResult{found: make(map[imageID]types.ImageDetail)}
	for _, id := range ids {
		i := slices.IndexFunc(details, func(d types.ImageDetail) bool {
			if id.digest != "" {
				return aws.ToString(d.ImageDigest) == id.digest
			}
			return slices.Contains(d.ImageTags, id.tag)
		})
		if i < 0 {
			res.missing = append(res.missing, id)
			continue
		}
		res.found[id] = details[i]
	}
	return res
}

// requested returns the id asked for that an echoed identifier names.
func requested(ids []imageID, echo *types.ImageIdentifier) (imageID, bool) {
	if echo == nil {
		return imageID{}, false
	}
	for _, id := range ids {
		if id.digest != "" && id.digest == aws.ToString(echo.ImageDigest) ||
			id.tag != "" && id.tag == aws.ToString(echo.ImageTag) {
			return id, true
		}
	}
	return imageID{}, false
}

func (r *ImageResolver) describe(ctx context.Context, c ECRAPI, k repoKey, ids []imageID) ([]types.ImageDetail, error) {
	var out *ecr.DescribeImagesOutput
	err := r.call(ctx, "describe images in", "ecr:DescribeImages", k, func(ctx context.Context) (err error) {
		out, err = c.DescribeImages(ctx, &ecr.DescribeImagesInput{
			RegistryId:     aws.String(k.account),
			RepositoryName: aws.String(k.repo),
			ImageIds:       sdkIDs(ids),
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.ImageDetails, nil
}

func (r *ImageResolver) batchGet(ctx context.Context, c ECRAPI, k repoKey, ids []imageID) ([]types.ImageFailure, error) {
	var out *ecr.BatchGetImageOutput
	err := r.call(ctx, "get images in", "ecr:BatchGetImage", k, func(ctx context.Context) (err error) {
		out, err = c.BatchGetImage(ctx, &ecr.BatchGetImageInput{
			RegistryId:     aws.String(k.account),
			RepositoryName: aws.String(k.repo),
			ImageIds:       sdkIDs(ids),
			// Without the index types ECR reports a multi-arch image as a
			// failure, which would read as missing.
			AcceptedMediaTypes: []string{
				"application/vnd.docker.distribution.manifest.v1+json",
				"application/vnd.docker.distribution.manifest.v2+json",
				"application/vnd.docker.distribution.manifest.list.v2+json",
				"application/vnd.oci.image.manifest.v1+json",
				"application/vnd.oci.image.index.v1+json",
			},
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.Failures, nil
}

// call runs one ECR call within the resolver's bound on calls in flight and
// the per-call deadline, and tells a failure in one line that names the
// repository, as S3 failures are told.
func (r *ImageResolver) call(ctx context.Context, op, permission string, k repoKey, f func(context.Context) error) error {
	select {
	case r.calls <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.calls }()
	ctx, cancel := context.WithTimeout(ctx, r.opts.CallTimeout)
	defer cancel()
	if err := f(ctx); err != nil {
		return ecrFailure(ctx, op, permission, k, err)
	}
	return nil
}

func ecrFailure(ctx context.Context, op, permission string, k repoKey, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "AccessDeniedException" {
		msg := fmt.Sprintf("%s %s: access denied: allow %s on %s", op, k, permission, k.arn())
		if m := ae.ErrorMessage(); m != "" {
			msg += ": " + m
		}
		return &callError{msg: msg, errs: []error{err}}
	}
	if isImageNotFound(err) || isRepositoryNotFound(err) {
		return err // the caller turns these into ImageNotFoundError
	}
	return failure(ctx, op+" "+k.String(), "ECR", err)
}

func isImageNotFound(err error) bool {
	var e *types.ImageNotFoundException
	return errors.As(err, &e) || hasErrorCode(err, "ImageNotFoundException")
}

func isRepositoryNotFound(err error) bool {
	var e *types.RepositoryNotFoundException
	return errors.As(err, &e) || hasErrorCode(err, "RepositoryNotFoundException")
}

// hasErrorCode catches the same errors when they arrive untyped, as from a
// client of another SDK version behind ECRAPI.
func hasErrorCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}
