// Package remote makes ecsrender's AWS calls.
package remote

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsarn "github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ecsrender/ecsrender/render"
	imageref "github.com/ecsrender/ecsrender/render/ref"
)

// Lookups answers verify's questions with read-only AWS calls. It never
// reads a parameter's or a secret's value. IAM, SSM, Secrets Manager, Logs
// and ECS are called through the signed client of awsapi.go; the STS and
// ECR clients are the SDK's, made on first use, one per region. It is safe
// for concurrent use.
type Lookups struct {
	cfg aws.Config
	// attemptTimeout bounds each attempt of the signed client's calls
	// (awsapi.go); zero means DefaultAttemptTimeout.
	attemptTimeout time.Duration

	retryerOnce sync.Once
	retry       aws.Retryer
	httpOnce    sync.Once
	http        aws.HTTPClient

	mu      sync.Mutex
	clients map[lookupClientKey]any

	accountOnce sync.Once
	account     string
	accountErr  error

	// layers remembers, per ECR registry, whether it serves layers.
	layers layerGates
}

type lookupClientKey struct{ service, region string }

var (
	_ render.AccountLookup       = (*Lookups)(nil)
	_ render.RoleLookup          = (*Lookups)(nil)
	_ render.ParameterLookup     = (*Lookups)(nil)
	_ render.SecretLookup        = (*Lookups)(nil)
	_ render.LogGroupLookup      = (*Lookups)(nil)
	_ render.PlatformLookup      = (*Lookups)(nil)
	_ render.PlatformBatchLookup = (*Lookups)(nil)
	_ render.ServiceLookup       = (*Lookups)(nil)
)

// NewLookups returns lookups that call AWS with cfg: its credentials,
// retryer (throttling, 5xx and broken connections are retried by its
// policy), endpoints, HTTP client and, for the SDK's clients, API options. cfg.Region is the default region; a region passed to a
// lookup, or found in an ARN, overrides it.
func NewLookups(cfg aws.Config) *Lookups {
	return &Lookups{cfg: cfg, clients: map[lookupClientKey]any{}}
}

// VerifyLookups returns l as every kind of lookup that verify uses.
func (l *Lookups) VerifyLookups() render.VerifyLookups {
	return render.VerifyLookups{
		Account: l, Roles: l, Parameters: l, Secrets: l, LogGroups: l, Images: l, Services: l,
	}
}

// lookupClient returns the cached client of service in region, making it
// with mk on first use.
func lookupClient[T any](l *Lookups, service, region string, mk func(aws.Config, string) T) T {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := lookupClientKey{service, region}
	if c, ok := l.clients[k]; ok {
		return c.(T)
	}
	c := mk(l.cfg, region)
	l.clients[k] = c
	return c
}

// region picks the region of a call: the ARN's, else the caller's, else
// the configuration's.
func (l *Lookups) region(arnRegion, region string) string {
	switch {
	case arnRegion != "":
		return arnRegion
	case region != "":
		return region
	}
	return l.cfg.Region
}

// globalRegion is where IAM and STS are asked: both answer for the whole
// partition, so any region of it will do, and without one configured the
// commercial partition's home region is the only sensible guess.
func (l *Lookups) globalRegion() string {
	if l.cfg.Region != "" {
		return l.cfg.Region
	}
	return "us-east-1"
}

func (l *Lookups) sts() *sts.Client {
	return lookupClient(l, "sts", l.globalRegion(), func(cfg aws.Config, r string) *sts.Client {
		return sts.NewFromConfig(cfg, func(o *sts.Options) { o.Region = r })
	})
}

func (l *Lookups) ecr(region string) *ecr.Client {
	return lookupClient(l, "ecr", region, func(cfg aws.Config, r string) *ecr.Client {
		return ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.Region = r })
	})
}

// CallerAccount returns the account of the credentials in use, asking STS
// once per Lookups (a failure, after the retryer's attempts, is kept too):
// render compares it with the account of each ARN to tell another
// account's resources, which the build may not see.
func (l *Lookups) CallerAccount(ctx context.Context) (string, error) {
	l.accountOnce.Do(func() {
		out, err := l.sts().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			l.accountErr = lookupFailure(ctx, "get caller identity", "sts:GetCallerIdentity", err)
			return
		}
		l.account = aws.ToString(out.Account)
	})
	return l.account, l.accountErr
}

// Role asks IAM about a role by name or ARN. IAM finds roles by name
// alone, so for an ARN the name is its last path segment; ARN in the
// answer is IAM's, which differs from ref when ref's path is wrong.
// A role ARN of another account is refused, not looked up: its name would
// be found, or not, in the caller's account. Callers compare the ARN's
// account with CallerAccount first.
func (l *Lookups) Role(ctx context.Context, ref string) (render.RoleFacts, error) {
	what := fmt.Sprintf("get role %q", ref)
	name := ref
	if awsarn.IsARN(ref) {
		a, err := awsarn.Parse(ref)
		if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
			return render.RoleFacts{}, &lookupError{msg: what + ": not an IAM role ARN"}
		}
		account, err := l.CallerAccount(ctx)
		if err != nil {
			return render.RoleFacts{}, err
		}
		if a.AccountID != account {
			return render.RoleFacts{}, &lookupError{msg: fmt.Sprintf("%s: the role is in account %q, not the caller's %q", what, a.AccountID, account)}
		}
		name = a.Resource[strings.LastIndex(a.Resource, "/")+1:]
	}
	var out struct {
		ARN    string `xml:"GetRoleResult>Role>Arn"`
		Policy string `xml:"GetRoleResult>Role>AssumeRolePolicyDocument"`
	}
	err := l.queryCall(ctx, iamAPI, l.globalRegion(), "GetRole", url.Values{"RoleName": {name}}, &out)
	if err != nil {
		if lookupCode(err) == "NoSuchEntity" {
			return render.RoleFacts{}, nil
		}
		return render.RoleFacts{}, lookupFailure(ctx, what, "iam:GetRole", err)
	}
	if out.ARN == "" {
		return render.RoleFacts{}, lookupFailure(ctx, what, "iam:GetRole", unexpectedAnswer("GetRole", errIncomplete))
	}
	facts := render.RoleFacts{Found: true, ARN: out.ARN}
	doc := out.Policy
	// IAM returns the document URL-encoded (RFC 3986, so PathUnescape:
	// QueryUnescape would turn a literal "+" into a space). A document that
	// does not decode is kept as given; render reports what it cannot read.
	if dec, err := url.PathUnescape(doc); err == nil {
		doc = dec
	}
	facts.TrustPolicy = doc
	return facts, nil
}

// ssmMaxFilterValues is the most values one ParameterStringFilter takes,
// and ssmMaxResults the largest page of DescribeParameters
// (ParameterStringFilterValueList and MaxResults in the SSM API model).
const (
	ssmMaxFilterValues = 50
	ssmMaxResults      = 50
)

// Parameters reports which SSM parameters exist, by name, /path/name or
// ARN, in one DescribeParameters call per region and 50 names (more only
// when SSM pages its answer). The result is keyed by names as given.
// Parameters are looked up in the caller's account: another account's
// parameter ARN is reported missing, so callers skip those (CallerAccount).
func (l *Lookups) Parameters(ctx context.Context, region string, names []string) (map[string]bool, error) {
	found := make(map[string]bool, len(names))
	// candidates[region][stored name] lists the names as given that it answers.
	candidates := map[string]map[string][]string{}
	for _, n := range names {
		if _, dup := found[n]; dup {
			continue
		}
		found[n] = false
		r, stored := ssmStoredNames(n)
		r = l.region(r, region)
		if candidates[r] == nil {
			candidates[r] = map[string][]string{}
		}
		for _, s := range stored {
			candidates[r][s] = append(candidates[r][s], n)
		}
	}
	for _, r := range slices.Sorted(maps.Keys(candidates)) {
		stored := slices.Sorted(maps.Keys(candidates[r]))
		for batch := range slices.Chunk(stored, ssmMaxFilterValues) {
			what := fmt.Sprintf("describe ssm parameter %q", batch[0])
			if len(batch) > 1 {
				what = fmt.Sprintf("describe ssm parameters %q and %d more", batch[0], len(batch)-1)
			}
			if r == "" {
				return nil, &lookupError{msg: what + ": no region (pass --region)"}
			}
			in := ssmDescribeParameters{
				MaxResults:       ssmMaxResults,
				ParameterFilters: []ssmFilter{{Key: "Name", Option: "Equals", Values: batch}},
			}
			// SSM answers "best effort": a page may hold fewer than the
			// matches, even none, and still carry a NextToken.
			err := pages(func(token string) (string, error) {
				in.NextToken = token
				var out struct {
					Parameters *[]struct{ Name string }
					NextToken  string
				}
				if _, err := l.jsonCall(ctx, ssmAPI, r, "DescribeParameters", in, &out); err != nil {
					return "", err
				}
				if out.Parameters == nil {
					// SSM sends the list, empty or not: an answer without it
					// cannot tell "missing".
					return "", unexpectedAnswer("DescribeParameters", errIncomplete)
				}
				for _, m := range *out.Parameters {
					for _, n := range candidates[r][m.Name] {
						found[n] = true
					}
				}
				return out.NextToken, nil
			})
			if err != nil {
				return nil, lookupFailure(ctx, what, "ssm:DescribeParameters", err)
			}
		}
	}
	return found, nil
}

type ssmDescribeParameters struct {
	MaxResults       int
	NextToken        string `json:",omitempty"`
	ParameterFilters []ssmFilter
}

type ssmFilter struct {
	Key, Option string
	Values      []string
}

// maxPages bounds how many pages one lookup reads. SSM's filtered
// DescribeParameters scans an account's parameters a page at a time and may
// answer pages with no match but a next token, so a large account takes
// many; the run's --timeout is the real bound, this one only keeps a
// service that never stops paging from looping until then.
const maxPages = 1000

// errTooManyPages is a lookup that gave up paging: its answer is unknown,
// which is neither "found" nor "missing".
var errTooManyPages = fmt.Errorf("still paging after %d pages", maxPages)

// pages calls page with each next token, from none, until it returns no
// token or one it returned before (the SDK's paginators stop at a repeat of
// the last; a service that cycles through tokens would never end). After
// maxPages pages with a token still pending it fails with errTooManyPages.
func pages(page func(token string) (string, error)) error {
	token := ""
	seen := map[string]bool{}
	for range maxPages {
		next, err := page(token)
		if err != nil || next == "" || seen[next] || next == token {
			return err
		}
		seen[next] = true
		token = next
	}
	return errTooManyPages
}

// ssmStoredNames returns the region of an SSM parameter reference (empty
// unless it is an ARN) and the names SSM may store it under. A parameter
// created as "/a/b" has the ARN ...:parameter/a/b and one created as "x"
// has ...:parameter/x, so an ARN with a one-level name may stand for "x"
// or "/x"; both are asked for.
func ssmStoredNames(ref string) (string, []string) {
	if !awsarn.IsARN(ref) {
		return "", []string{ref}
	}
	a, err := awsarn.Parse(ref)
	if err != nil || !strings.HasPrefix(a.Resource, "parameter/") {
		// Not a parameter ARN: asked for as written, SSM finds nothing.
		return "", []string{ref}
	}
	name := strings.TrimPrefix(a.Resource, "parameter")
	if strings.Count(name, "/") > 1 {
		return a.Region, []string{name}
	}
	return a.Region, []string{name[1:], name}
}

// Secret reports whether Secrets Manager holds the secret id (a name, a
// full ARN or an ARN without its random suffix, never with the
// :json-key:stage:id suffix of a task definition's valueFrom). It asks
// DescribeSecret, which returns no value.
func (l *Lookups) Secret(ctx context.Context, region, id string) (bool, error) {
	what := fmt.Sprintf("describe secret %q", id)
	arnRegion := ""
	if a, err := awsarn.Parse(id); err == nil {
		arnRegion = a.Region
	}
	r := l.region(arnRegion, region)
	if r == "" {
		return false, &lookupError{msg: what + ": no region (pass --region)"}
	}
	var out struct{ ARN, Name string }
	_, err := l.jsonCall(ctx, secretsAPI, r, "DescribeSecret", struct{ SecretId string }{id}, &out)
	if err == nil && out.ARN == "" && out.Name == "" {
		err = unexpectedAnswer("DescribeSecret", errIncomplete)
	}
	if err != nil {
		if lookupCode(err) == "ResourceNotFoundException" {
			return false, nil
		}
		return false, lookupFailure(ctx, what, "secretsmanager:DescribeSecret", err)
	}
	return true, nil
}

// LogGroup reports whether the CloudWatch Logs group exists. Names are
// matched by prefix in DescribeLogGroups, so the exact name is looked for
// in the answer, paging on only while it has not been seen.
func (l *Lookups) LogGroup(ctx context.Context, region, name string) (bool, error) {
	what := fmt.Sprintf("describe log group %q", name)
	r := l.region("", region)
	if r == "" {
		return false, &lookupError{msg: what + ": no region (pass --region)"}
	}
	seen := false
	err := pages(func(token string) (string, error) {
		in := struct {
			LogGroupNamePrefix string `json:"logGroupNamePrefix"`
			NextToken          string `json:"nextToken,omitempty"`
		}{name, token}
		var out struct {
			LogGroups *[]struct {
				LogGroupName string `json:"logGroupName"`
			} `json:"logGroups"`
			NextToken string `json:"nextToken"`
		}
		if _, err := l.jsonCall(ctx, logsAPI, r, "DescribeLogGroups", in, &out); err != nil {
			return "", err
		}
		if out.LogGroups == nil {
			return "", unexpectedAnswer("DescribeLogGroups", errIncomplete)
		}
		for _, g := range *out.LogGroups {
			if g.LogGroupName == name {
				seen = true
				return "", nil
			}
		}
		return out.NextToken, nil
	})
	if err != nil {
		if lookupCode(err) == "ResourceNotFoundException" {
			return false, nil
		}
		return false, lookupFailure(ctx, what, "logs:DescribeLogGroups", err)
	}
	return seen, nil
}

// ImagePlatforms lists the platforms an ECR image offers; it is
// ImagePlatformsOf for one image, and says the same.
func (l *Lookups) ImagePlatforms(ctx context.Context, image string) ([]render.Platform, error) {
	found, err := l.ImagePlatformsOf(ctx, []string{image})
	if ps, ok := found[image]; ok {
		return ps, nil
	}
	return nil, err
}

// platformConcurrency bounds the ECR calls of one ImagePlatformsOf in
// flight: as many as image resolution's, well under ECR's request rates.
const platformConcurrency = maxParallelCalls

// ImagePlatformsOf lists the platforms each ECR image offers, from its
// manifest: those of an image index's entries, or for a single image the
// one its config blob names. Manifests are read with one ecr:BatchGetImage
// per registry and repository (and 100 images), repositories side by side;
// answers are matched to the images asked by digest (by tag for an
// unpinned reference, which is asked alone when ECR's answer does not echo
// its tag), never by their order. An image outside private ECR, one ECR
// does not hold (resolving images reports that: a failure in
// BatchGetImage's answer, or a repository not found) and one whose config
// cannot be read are answered nil, meaning unknown.
//
// A config blob has no batch API: each single image's is asked for with
// ecr:GetDownloadUrlForLayer (one attempt) and read from the presigned URL
// it returns. Some endpoints serve no layers (moto answers HTTP 500; so may
// a look-alike registry), and asking each image would cost a call per
// image for nothing. So a registry (account and region) is probed first:
// its first config fetch goes alone while the others wait for its outcome,
// and so does then the first of each repository. Once a fetch of the
// registry has failed other than by access denied or a missing layer —
// GetDownloadUrlForLayer's error, or the presigned GET's HTTP 5xx or
// connection failure — every later single image of that registry is
// unknown for the life of l (one run), without a call. A presigned GET's
// 4xx, or a blob without the manifest's digest, leaves that image alone
// unknown. A denied GetDownloadUrlForLayer is an error matching
// render.ErrAccessDenied (verify warns) and is remembered for the
// repository, whose other images get the same error without a call: IAM
// grants it per repository.
func (l *Lookups) ImagePlatformsOf(ctx context.Context, images []string) (map[string][]render.Platform, error) {
	found := make(map[string][]render.Platform, len(images))
	b := &platformBatch{l: l, found: found, errs: map[string]error{}, configs: map[string]*configFetch{}, sem: make(chan struct{}, platformConcurrency)}
	repos := map[platformRepo][]platformImage{}
	var order []platformRepo
	seen := make(map[string]bool, len(images))
	for _, image := range images {
		if seen[image] {
			continue
		}
		seen[image] = true
		ref, err := imageref.ParseImageRef(image)
		if err != nil {
			b.errs[image] = fmt.Errorf("image platforms: %w", err)
			continue
		}
		if ref.ECR == nil {
			found[image] = nil
			continue
		}
		k := platformRepo{ref.ECR.Account, ref.ECR.Region, ref.Repository}
		if _, ok := repos[k]; !ok {
			order = append(order, k)
		}
		repos[k] = append(repos[k], platformImage{image, ref})
	}
	var wg sync.WaitGroup
	for _, k := range order {
		for chunk := range slices.Chunk(repos[k], maxImageIDsPerCall) {
			wg.Go(func() { b.manifests(ctx, k, chunk) })
		}
	}
	wg.Wait()
	// Each failed image keeps its own error; the one the message shows is
	// one that ends the run when there is one, so that no caller that reads
	// only the message takes it for a mere warning.
	var fatal, denied error
	for _, image := range images {
		err := b.errs[image]
		switch {
		case err == nil:
		case !errors.Is(err, render.ErrAccessDenied):
			fatal = cmp.Or(fatal, err)
		default:
			denied = cmp.Or(denied, err)
		}
	}
	if main := cmp.Or(fatal, denied); main != nil {
		return found, &render.PlatformErrors{Err: main, ByImage: maps.Clone(b.errs)}
	}
	return found, nil
}

// platformRepo is one ECR repository: the images of one BatchGetImage.
type platformRepo struct{ account, region, repository string }

// platformImage is an image as asked and as parsed.
type platformImage struct {
	image string
	ref   imageref.ImageRef
}

// platformBatch is one ImagePlatformsOf call: its answers and failures by
// image, and the bound on its calls in flight.
type platformBatch struct {
	l   *Lookups
	sem chan struct{}

	mu    sync.Mutex
	found map[string][]render.Platform
	errs  map[string]error
	// configs are the config fetches of this batch, by registry,
	// repository and config digest: two references to one image (a tag
	// and a digest) fetch its config once.
	configs map[string]*configFetch
}

// configFetch is one config fetch that several images may wait for.
type configFetch struct {
	done chan struct{}
	ps   []render.Platform
	err  error
}

func (b *platformBatch) answer(image string, ps []render.Platform, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.errs[image] = err
		return
	}
	b.found[image] = ps
}

// acquire takes a slot for one call; false when ctx ended first.
func (b *platformBatch) acquire(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	select {
	case b.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (b *platformBatch) release() { <-b.sem }

// platformImageID is how an image is asked for: by digest when pinned.
func platformImageID(ref imageref.ImageRef) ecrtypes.ImageIdentifier {
	switch {
	case ref.Digest != "":
		return ecrtypes.ImageIdentifier{ImageDigest: aws.String(ref.Digest)}
	case ref.Tag != "":
		return ecrtypes.ImageIdentifier{ImageTag: aws.String(ref.Tag)}
	}
	return ecrtypes.ImageIdentifier{ImageTag: aws.String("latest")}
}

// manifests reads the manifests of images, all of repository k, in one
// BatchGetImage, and answers each image from its own.
func (b *platformBatch) manifests(ctx context.Context, k platformRepo, images []platformImage) {
	what := fmt.Sprintf("get image manifest %q", images[0].image)
	if len(images) > 1 {
		what = fmt.Sprintf("get image manifests %q and %d more", images[0].image, len(images)-1)
	}
	fail := func(err error) {
		for _, im := range images {
			b.answer(im.image, nil, err)
		}
	}
	var ids []ecrtypes.ImageIdentifier
	seen := map[string]bool{}
	for _, im := range images {
		id := platformImageID(im.ref)
		key := aws.ToString(id.ImageDigest) + "\x00" + aws.ToString(id.ImageTag)
		if !seen[key] {
			seen[key] = true
			ids = append(ids, id)
		}
	}
	if !b.acquire(ctx) {
		fail(lookupFailure(ctx, what, "ecr:BatchGetImage", ctx.Err()))
		return
	}
	client := b.l.ecr(k.region)
	out, err := client.BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RegistryId:         aws.String(k.account),
		RepositoryName:     aws.String(k.repository),
		ImageIds:           ids,
		AcceptedMediaTypes: []string{mediaOCIIndex, mediaDockerList, mediaOCIManifest, mediaDockerManifest},
	})
	b.release()
	if err != nil {
		if lookupCode(err) == "RepositoryNotFoundException" {
			for _, im := range images {
				b.answer(im.image, nil, nil)
			}
			return
		}
		fail(lookupFailure(ctx, what, "ecr:BatchGetImage", err))
		return
	}
	byDigest := map[string]ecrtypes.Image{}
	byTag := map[string]ecrtypes.Image{}
	for _, img := range out.Images {
		if img.ImageId == nil {
			continue
		}
		if d := aws.ToString(img.ImageId.ImageDigest); d != "" {
			byDigest[d] = img
		}
		if t := aws.ToString(img.ImageId.ImageTag); t != "" {
			byTag[t] = img
		}
	}
	failedTags := map[string]bool{}
	for _, f := range out.Failures {
		if f.ImageId != nil && f.ImageId.ImageTag != nil {
			failedTags[*f.ImageId.ImageTag] = true
		}
	}
	var wg sync.WaitGroup
	for _, im := range images {
		var img ecrtypes.Image
		var ok bool
		switch id := platformImageID(im.ref); {
		case id.ImageDigest != nil:
			img, ok = byDigest[*id.ImageDigest]
		case len(ids) == 1:
			// Asked alone, the answer is this image's whatever tag it
			// echoes (moto echoes the image's last tag, not the one asked).
			ok = len(out.Images) > 0
			if ok {
				img = out.Images[0]
			}
		default:
			if img, ok = byTag[*id.ImageTag]; !ok && !failedTags[*id.ImageTag] {
				// The answer does not say which image is this tag's.
				wg.Go(func() { b.manifests(ctx, k, []platformImage{im}) })
				continue
			}
		}
		if !ok {
			b.answer(im.image, nil, nil) // not in ECR: resolution reports it
			continue
		}
		wg.Go(func() {
			ps, err := b.platforms(ctx, client, im, img)
			b.answer(im.image, ps, err)
		})
	}
	wg.Wait()
}

// platforms reads an image's platforms from its manifest: an index's
// entries, or a single image's config blob.
func (b *platformBatch) platforms(ctx context.Context, client *ecr.Client, im platformImage, img ecrtypes.Image) ([]render.Platform, error) {
	var m struct {
		MediaType string `json:"mediaType"`
		Manifests []struct {
			Platform *struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
				Variant      string `json:"variant"`
			} `json:"platform"`
		} `json:"manifests"`
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(img.ImageManifest)), &m); err != nil {
		return nil, &lookupError{msg: fmt.Sprintf("get image manifest %q: manifest is not JSON: %v", im.image, err), errs: []error{err}}
	}
	mediaType := cmp.Or(aws.ToString(img.ImageManifestMediaType), m.MediaType)
	if mediaType == mediaOCIIndex || mediaType == mediaDockerList || (mediaType == "" && m.Manifests != nil) {
		// Not nil even when empty: an index that lists nothing runnable
		// is known to offer nothing, which verify reports.
		ps := []render.Platform{}
		for _, e := range m.Manifests {
			// buildx adds attestation manifests as "unknown/unknown":
			// nothing a task can run.
			if e.Platform == nil || e.Platform.OS == "unknown" || e.Platform.Architecture == "unknown" {
				continue
			}
			ps = append(ps, render.Platform{OS: e.Platform.OS, Architecture: e.Platform.Architecture, Variant: e.Platform.Variant})
		}
		return ps, nil
	}
	if m.Config.Digest == "" {
		return nil, nil
	}
	k := im.ref.Registry + "/" + im.ref.Repository + "@" + m.Config.Digest
	b.mu.Lock()
	c, fetching := b.configs[k]
	if !fetching {
		c = &configFetch{done: make(chan struct{})}
		b.configs[k] = c
	}
	b.mu.Unlock()
	if !fetching {
		c.ps, c.err = b.l.configPlatform(ctx, b, client, im.ref, m.Config.Digest)
		close(c.done)
	}
	<-c.done
	return c.ps, c.err
}

// Media types of image manifests (OCI image spec, Docker distribution).
const (
	mediaOCIIndex        = "application/vnd.oci.image.index.v1+json"
	mediaDockerList      = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaOCIManifest     = "application/vnd.oci.image.manifest.v1+json"
	mediaDockerManifest  = "application/vnd.docker.distribution.manifest.v2+json"
	maxImageConfigLength = 1 << 20
)

// notImplementedCodes are answers about the endpoint, not the layer: it
// does not have the operation (look-alike registries).
var notImplementedCodes = []string{"UnsupportedOperation", "NotImplemented", "InvalidAction", "UnknownOperationException"}

// configPlatform reads a single image's platform from its config blob,
// through its registry's layerGate. Any failure to fetch it leaves the
// platform unknown, except a denied permission, which the build role can
// be given.
func (l *Lookups) configPlatform(ctx context.Context, b *platformBatch, client *ecr.Client, ref imageref.ImageRef, digest string) ([]render.Platform, error) {
	what := fmt.Sprintf("get image config %q", ref.Registry+"/"+ref.Repository+"@"+digest)
	g := l.layerGate(ref.ECR.Account, ref.ECR.Region)
	ps, denied, err := g.fetch(ctx, ref.Repository, func() layerFetch {
		if !b.acquire(ctx) {
			return layerFetch{verdict: layerCanceled, err: ctx.Err()}
		}
		defer b.release()
		return l.fetchConfig(ctx, client, ref, digest)
	})
	switch {
	case denied != nil:
		return nil, lookupFailure(ctx, what, "ecr:GetDownloadUrlForLayer", denied)
	case err != nil:
		return nil, lookupFailure(ctx, what, "ecr:GetDownloadUrlForLayer", err)
	}
	return ps, nil
}

// fetchConfig asks for the config blob's URL, reads it and says what the
// outcome tells of the registry.
func (l *Lookups) fetchConfig(ctx context.Context, client *ecr.Client, ref imageref.ImageRef, digest string) layerFetch {
	served := layerFetch{verdict: layerServed} // the registry serves layers; this one is unknown
	notServed := layerFetch{verdict: layerNotServed}
	canceled := func(err error) layerFetch { return layerFetch{verdict: layerCanceled, err: err} }
	out, err := client.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{
		RegistryId:     aws.String(ref.ECR.Account),
		RepositoryName: aws.String(ref.Repository),
		LayerDigest:    aws.String(digest),
	}, func(o *ecr.Options) {
		// One attempt: the platform is only a best effort, and an endpoint
		// that serves no layers (moto answers HTTP 500) would otherwise
		// cost the retryer's backoff before the registry is closed.
		o.RetryMaxAttempts = 1
	})
	var (
		ae    smithy.APIError
		deser *smithy.DeserializationError
	)
	switch {
	case err == nil:
	case isAccessDenied(err):
		return layerFetch{verdict: layerDenied, err: err}
	case ctx.Err() != nil:
		return canceled(err)
	case errors.As(err, &deser) || !errors.As(err, &ae) || slices.Contains(notImplementedCodes, ae.ErrorCode()):
		// An answer that is not ECR's (a look-alike's error page), one
		// that says the operation is not there, or no answer at all: the
		// endpoint serves no layers.
		return notServed
	default:
		// ECR's own answer: about this layer (not found), or a passing
		// failure (throttling, an internal error). Either way only this
		// image stays unknown; the registry's other images are asked.
		return served
	}
	// The presigned GET gets the attempt timeout the API calls get: a
	// download host that hangs must not hold the registry's other images,
	// which wait for this probe, until the run's deadline.
	timeout := cmp.Or(l.attemptTimeout, DefaultAttemptTimeout)
	gctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(gctx, http.MethodGet, aws.ToString(out.DownloadUrl), nil)
	if err != nil {
		return notServed
	}
	resp, err := l.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return canceled(err)
		}
		// Unreachable or hung: the download host is the registry's, so
		// its other images would fare no better.
		return notServed
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		// S3's SlowDown or an internal error passes: this image is
		// unknown, the registry's others are still asked.
		return served
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxImageConfigLength+1))
	switch {
	case err != nil && ctx.Err() != nil:
		return canceled(err)
	case err != nil:
		return notServed
	case resp.StatusCode != http.StatusOK || len(body) > maxImageConfigLength:
		return served
	}
	// A presigned URL is a third party's answer: only bytes with the
	// digest the manifest names are the image's config.
	sum := sha256.Sum256(body)
	if digest != "sha256:"+hex.EncodeToString(sum[:]) {
		return served
	}
	var c struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
	}
	if json.Unmarshal(body, &c) != nil || c.OS == "" || c.Architecture == "" {
		return served
	}
	return layerFetch{verdict: layerServed, platforms: []render.Platform{{OS: c.OS, Architecture: c.Architecture, Variant: c.Variant}}}
}

// layerVerdict is what one config fetch tells of its registry.
type layerVerdict int

const (
	layerServed    layerVerdict = iota // an answer about the layer came: fetch the others side by side
	layerNotServed                     // the endpoint serves no layers: fetch nothing more
	layerDenied                        // the repository's layers are not ours to read
	layerCanceled                      // the asker gave up: says nothing of the registry
)

// layerFetch is one config fetch's outcome.
type layerFetch struct {
	verdict   layerVerdict
	platforms []render.Platform
	err       error // the SDK's error when denied; the context's when canceled
}

// layerGates holds a layerGate per registry for the life of a Lookups.
type layerGates struct {
	mu    sync.Mutex
	gates map[string]*layerGate
}

// layerGate is what a run knows of one registry's layer downloads, and of
// each of its repositories'.
type layerGate struct {
	mu       sync.Mutex
	registry layerProbe
	repos    map[string]*layerProbe
}

// layerProbe is what is known of a registry's or a repository's layers.
type layerProbe struct {
	state  layerGateState
	probed chan struct{} // closed when the probe in flight ends
	denied error         // a repository's: the SDK's error
}

type layerGateState int

const (
	gateUnknown layerGateState = iota // no fetch has told yet: the next one probes
	gateProbing                       // one fetch is out; the others wait for it
	gateOpen                          // fetches go side by side
	gateClosed                        // a registry's: no layers here, every config is unknown
)

func (l *Lookups) layerGate(account, region string) *layerGate {
	l.layers.mu.Lock()
	defer l.layers.mu.Unlock()
	if l.layers.gates == nil {
		l.layers.gates = map[string]*layerGate{}
	}
	k := account + "/" + region
	g, ok := l.layers.gates[k]
	if !ok {
		g = &layerGate{repos: map[string]*layerProbe{}}
		l.layers.gates[k] = g
	}
	return g
}

// probe makes the caller p's prober when nothing is known of it yet, and
// reports whether it did.
func (p *layerProbe) probe() bool {
	if p.state != gateUnknown {
		return false
	}
	p.state = gateProbing
	p.probed = make(chan struct{})
	return true
}

// end ends the caller's probe of p: a probe that told nothing leaves the
// next fetch to probe again.
func (p *layerProbe) end() {
	if p.state == gateProbing {
		p.state = gateUnknown
	}
	close(p.probed)
}

// fetch runs f for a config of repository unless the registry is known to
// serve no layers, or repository to be denied. The first fetch of the
// registry, and then the first of each repository, goes alone, and the
// others wait for what it tells: so a registry without layers is asked
// once, and a denied repository once. It returns f's platforms, the denial
// of the repository (f's or an earlier one's) or, when ctx ended, an
// error.
func (g *layerGate) fetch(ctx context.Context, repository string, f func() layerFetch) (ps []render.Platform, denied, err error) {
	for {
		g.mu.Lock()
		repo := g.repos[repository]
		if repo == nil {
			repo = &layerProbe{}
			g.repos[repository] = repo
		}
		var wait chan struct{}
		switch {
		case repo.denied != nil:
			g.mu.Unlock()
			return nil, repo.denied, nil
		case g.registry.state == gateClosed:
			g.mu.Unlock()
			return nil, nil, nil
		case g.registry.state == gateProbing:
			wait = g.registry.probed
		case repo.state == gateProbing:
			wait = repo.probed
		}
		if wait != nil {
			g.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		probeRegistry, probeRepo := g.registry.probe(), repo.probe()
		g.mu.Unlock()

		out := f()

		g.mu.Lock()
		switch out.verdict {
		case layerServed:
			if g.registry.state != gateClosed {
				g.registry.state = gateOpen
			}
			repo.state = gateOpen
		case layerNotServed:
			g.registry.state = gateClosed
		case layerDenied:
			repo.denied = out.err
		}
		if probeRegistry {
			g.registry.end()
		}
		if probeRepo {
			repo.end()
		}
		g.mu.Unlock()
		switch out.verdict {
		case layerDenied:
			return nil, out.err, nil
		case layerCanceled:
			return nil, nil, out.err
		}
		return out.platforms, nil, nil
	}
}

// Service describes an ECS service and the task definition it runs. A
// service ECS reports MISSING, or a cluster it does not know, is not
// Found. TaskDefinition is DescribeTaskDefinition's body as ECS sent it,
// not the SDK's structs encoded again, so that its keys and values are
// exactly ECS's.
func (l *Lookups) Service(ctx context.Context, region, cluster, service string) (render.ServiceFacts, error) {
	what := fmt.Sprintf("describe service %q in cluster %q", service, cluster)
	r := l.region("", region)
	if r == "" {
		return render.ServiceFacts{}, &lookupError{msg: what + ": no region (pass --region)"}
	}
	var out struct {
		Services []struct {
			Status               string `json:"status"`
			TaskDefinition       string `json:"taskDefinition"`
			DeploymentController *struct {
				Type string `json:"type"`
			} `json:"deploymentController"`
			LoadBalancers []struct {
				ContainerName  string `json:"containerName"`
				ContainerPort  int    `json:"containerPort"`
				TargetGroupARN string `json:"targetGroupArn"`
			} `json:"loadBalancers"`
		} `json:"services"`
		Failures []struct {
			Reason string `json:"reason"`
		} `json:"failures"`
	}
	in := struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
	}{cluster, []string{service}}
	_, err := l.jsonCall(ctx, ecsAPI, r, "DescribeServices", in, &out)
	if err == nil && out.Services == nil && out.Failures == nil {
		// ECS sends its lists, empty or not (an empty one decodes to an
		// empty slice, not nil): an answer with neither cannot tell
		// "missing".
		err = unexpectedAnswer("DescribeServices", errIncomplete)
	}
	if err != nil {
		if lookupCode(err) == "ClusterNotFoundException" {
			return render.ServiceFacts{}, nil
		}
		return render.ServiceFacts{}, lookupFailure(ctx, what, "ecs:DescribeServices", err)
	}
	// One service was asked about, so there is at most one failure.
	if len(out.Failures) > 0 {
		if reason := out.Failures[0].Reason; reason != "MISSING" {
			return render.ServiceFacts{}, &lookupError{msg: fmt.Sprintf("%s: ecs failure %q", what, reason)}
		}
		return render.ServiceFacts{}, nil
	}
	if len(out.Services) == 0 {
		return render.ServiceFacts{}, nil
	}
	s := out.Services[0]
	facts := render.ServiceFacts{
		Found:                true,
		Status:               s.Status,
		DeploymentController: "ECS",
		TaskDefinitionARN:    s.TaskDefinition,
	}
	if s.DeploymentController != nil && s.DeploymentController.Type != "" {
		facts.DeploymentController = s.DeploymentController.Type
	}
	for _, lb := range s.LoadBalancers {
		facts.LoadBalancers = append(facts.LoadBalancers, render.ServiceLoadBalancer{
			ContainerName:  lb.ContainerName,
			ContainerPort:  lb.ContainerPort,
			TargetGroupARN: lb.TargetGroupARN,
		})
	}
	if facts.TaskDefinitionARN == "" {
		return facts, nil
	}
	// The answer is kept as ECS sent it: render reads the running task
	// definition's keys and values from it, exactly as ECS has them.
	var td struct {
		TaskDefinition json.RawMessage `json:"taskDefinition"`
	}
	body, err := l.jsonCall(ctx, ecsAPI, r, "DescribeTaskDefinition", struct {
		TaskDefinition string `json:"taskDefinition"`
	}{facts.TaskDefinitionARN}, &td)
	if err == nil && (len(td.TaskDefinition) == 0 || string(td.TaskDefinition) == "null") {
		err = unexpectedAnswer("DescribeTaskDefinition", errIncomplete)
	}
	if err != nil {
		return render.ServiceFacts{}, lookupFailure(ctx, fmt.Sprintf("describe task definition %q", facts.TaskDefinitionARN), "ecs:DescribeTaskDefinition", err)
	}
	facts.TaskDefinition = body
	return facts, nil
}

// accessDeniedCodes are the error codes AWS services use for a missing
// permission (IAM, STS and most JSON services; EC2; SNS-style query APIs).
var accessDeniedCodes = []string{"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}

func isAccessDenied(err error) bool { return slices.Contains(accessDeniedCodes, lookupCode(err)) }

// lookupCode is the AWS error code of err, or "".
func lookupCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// lookupError is a failed lookup in one line. It keeps the SDK's error
// (and render.ErrAccessDenied when AWS refused) for errors.Is and
// errors.As, but not in its message: the SDK's text runs to operation,
// status, request id and nested causes.
type lookupError struct {
	msg  string
	errs []error
}

func (e *lookupError) Error() string   { return e.msg }
func (e *lookupError) Unwrap() []error { return e.errs }

// lookupFailure words a failed call in one line that starts with what
// (`describe secret "arn:..."`): a denied permission as "access denied
// (grant PERM)", matching render.ErrAccessDenied; the caller's deadline;
// an API error's code and message; a connection failure; and the number of
// attempts when the retryer gave up.
func lookupFailure(ctx context.Context, what, permission string, err error) error {
	if isAccessDenied(err) {
		return &lookupError{
			msg:  fmt.Sprintf("%s: %v (grant %s)", what, render.ErrAccessDenied, permission),
			errs: []error{render.ErrAccessDenied, err},
		}
	}
	if ctx.Err() != nil {
		text := "canceled"
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			text = "no answer before the deadline"
		}
		return &lookupError{msg: what + ": " + text, errs: []error{ctx.Err(), err}}
	}
	attempts := ""
	var mae *retry.MaxAttemptsError
	if errors.As(err, &mae) {
		attempts = fmt.Sprintf(" (%d attempts)", mae.Attempt)
	}
	var (
		te   *attemptTimeoutError
		ae   smithy.APIError
		re   *awshttp.ResponseError
		send *smithyhttp.RequestSendError
	)
	var text string
	switch {
	case errors.As(err, &te):
		text = fmt.Sprintf("no answer within %v", te.d)
	case errors.As(err, &ae):
		status := ""
		if errors.As(err, &re) {
			status = fmt.Sprintf(" (HTTP %d)", re.HTTPStatusCode())
		}
		text = fmt.Sprintf("%s%s: %s", ae.ErrorCode(), status, lookupOneLine(ae.ErrorMessage()))
	case errors.As(err, &send):
		text = "connection failed: " + lookupOneLine(send.Err.Error())
	case errors.As(err, &re):
		text = fmt.Sprintf("HTTP %d, not an AWS response", re.HTTPStatusCode())
	default:
		text = lookupOneLine(err.Error())
	}
	return &lookupError{msg: what + ": " + text + attempts, errs: []error{err}}
}

// lookupOneLine folds a message that AWS or the network wrote onto one
// line and quotes what is left of control characters, so that it cannot
// forge a log line.
func lookupOneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if strings.ContainsFunc(s, unicode.IsControl) {
		return strconv.Quote(s)
	}
	return s
}
