package render

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// This file is the seam between verify (pure, here) and the AWS lookups
// that render/remote implements. Nothing in it imports an AWS client.

// ErrAccessDenied is matched with errors.Is by lookup errors that AWS refused for lack of a permission;
// such an error's message is one line that names the permission, e.g. `access denied (grant iam:GetRole)`.
var ErrAccessDenied = errors.New("access denied")

// Platform is one os/architecture an image offers (OCI names: "linux", "amd64"/"arm64", variant "v8").
type Platform struct{ OS, Architecture, Variant string }

// String gives the platform as docker writes it: linux/arm64/v8.
func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// RoleFacts is what IAM says of a role.
type RoleFacts struct {
	Found       bool // false when IAM answers NoSuchEntity
	ARN         string
	TrustPolicy string // the assume-role policy document as JSON (already URL-decoded)
}

// ServiceLoadBalancer is one load balancer entry of an ECS service.
type ServiceLoadBalancer struct {
	ContainerName  string
	ContainerPort  int
	TargetGroupARN string
}

// ServiceFacts is what ECS says of a service and the task definition it runs now.
type ServiceFacts struct {
	Found                bool   // false when ECS reports the service MISSING
	Status               string // ACTIVE, DRAINING, INACTIVE
	DeploymentController string // ECS, CODE_DEPLOY or EXTERNAL
	LoadBalancers        []ServiceLoadBalancer
	TaskDefinitionARN    string
	// TaskDefinition is the running task definition as the ECS API returns it from
	// DescribeTaskDefinition: the raw JSON `{"taskDefinition": {...}}` (lowerCamel keys), which
	// render parses with ParseJSON and unwraps like a describe-task-definition template.
	TaskDefinition []byte
}

// AccountLookup tells the account the run's credentials belong to
// (sts:GetCallerIdentity), so that a reference into another account that
// cannot be seen is a notice rather than a problem.
type AccountLookup interface {
	CallerAccount(ctx context.Context) (string, error)
}

// RoleLookup describes an IAM role (iam:GetRole); ref is a role name or role ARN.
type RoleLookup interface {
	Role(ctx context.Context, ref string) (RoleFacts, error)
}

// ParameterLookup asks SSM which parameters exist.
type ParameterLookup interface {
	// Parameters reports which of the names exist (SSM parameter names as written in the task definition: a name,
	// a /path/name or a full ARN — the implementation normalises and batches them, ssm:DescribeParameters).
	Parameters(ctx context.Context, region string, names []string) (map[string]bool, error)
}

// SecretLookup asks Secrets Manager whether a secret exists
// (secretsmanager:DescribeSecret); id is the ARN without its
// :json-key:stage:id suffix, or a name. It never reads a value.
type SecretLookup interface {
	Secret(ctx context.Context, region, id string) (bool, error)
}

// LogGroupLookup asks CloudWatch Logs whether a log group exists (logs:DescribeLogGroups).
type LogGroupLookup interface {
	LogGroup(ctx context.Context, region, name string) (bool, error)
}

// PlatformLookup tells which platforms an ECR image offers.
type PlatformLookup interface {
	// ImagePlatforms lists the platforms an ECR image (a full reference, ideally pinned REPO@sha256:...) offers:
	// many for an image index / manifest list, one for a single image whose config was readable, nil when unknown,
	// and an empty list for an index that lists nothing a task can run.
	ImagePlatforms(ctx context.Context, image string) ([]Platform, error) // ecr:BatchGetImage (+ layer config when possible)
}

// PlatformBatchLookup is what a PlatformLookup may offer besides: the
// platforms of many images in one call, so that an implementation can ask
// ECR once per registry and repository instead of once per image. Verify
// uses it when lk.Images has it, and ImagePlatforms otherwise.
type PlatformBatchLookup interface {
	// ImagePlatformsOf answers ImagePlatforms for each of images. The map
	// has an entry for every image that was answered, nil meaning unknown
	// as there; an image without one failed, and err says why: a
	// *PlatformErrors holds each image's own error.
	ImagePlatformsOf(ctx context.Context, images []string) (map[string][]Platform, error)
}

// PlatformErrors is the error of an ImagePlatformsOf whose images failed
// for different reasons, so that no image is blamed for another's failure.
// Its message and Unwrap are those of Err, the failure that matters most
// (one that ends the run rather than an access denied).
type PlatformErrors struct {
	Err     error
	ByImage map[string]error
}

func (e *PlatformErrors) Error() string { return e.Err.Error() }

// Unwrap returns Err, so that errors.Is sees the failure the message names.
func (e *PlatformErrors) Unwrap() error { return e.Err }

// platformErrorOf returns image's own error: from a *PlatformErrors its
// entry (none: the image is unknown, not failed), else err itself.
func platformErrorOf(err error, image string) error {
	var pe *PlatformErrors
	if errors.As(err, &pe) {
		return pe.ByImage[image]
	}
	return err
}

// ServiceLookup describes an ECS service and what it runs now.
type ServiceLookup interface {
	// Service describes the service (ecs:DescribeServices) and the task definition it runs (ecs:DescribeTaskDefinition).
	Service(ctx context.Context, region, cluster, service string) (ServiceFacts, error)
}

// VerifyLookups are verify's view of the world; a nil field means that kind is not verified.
// Every method may be called concurrently; an empty region means the run's
// default region. Implementations do not cache: a VerifyCache does.
type VerifyLookups struct {
	Account    AccountLookup
	Roles      RoleLookup
	Parameters ParameterLookup
	Secrets    SecretLookup
	LogGroups  LogGroupLookup
	Images     PlatformLookup
	Services   ServiceLookup
}

// VerifyInput is what verify needs from a render besides the task
// definition itself.
type VerifyInput struct {
	// Region is the run's default region: references that name none (a
	// parameter name, an awslogs group without awslogs-region, the
	// service) are asked there.
	Region string
	// Images maps a container name to its resolved image reference
	// (REPO@sha256:... once pinned). It wins over the task definition's
	// image, which may already be a CodeDeploy <PLACEHOLDER>.
	Images map[string]string
	// AppSpec is the load-balanced container of the AppSpec that the run
	// writes, or nil when it writes none.
	AppSpec *VerifyAppSpec
	// ImageDefinitions are the container names in imagedefinitions.json.
	ImageDefinitions []string
	// Target is the service the deploy goes to, or nil to verify only the
	// references.
	Target *VerifyTarget
}

// VerifyAppSpec is the container and port an AppSpec's LoadBalancerInfo
// names; an empty ContainerName is an AppSpec without one.
type VerifyAppSpec struct {
	ContainerName string
	ContainerPort int
}

// VerifyTarget is the service a deploy goes to (--cluster, --service).
type VerifyTarget struct {
	Cluster, Service string
}

// VerifyReport is what verify found. Problems are input problems (exit 2,
// to be joined with the other problems of the document), each at the JSON
// path of its reference (containerDefinitions[0].secrets[1].valueFrom), or
// at no path when it is about the service. Warnings and Notices do not stop
// the run; a warning about a change the ECS action drops is at the
// change's path. Changes say what the deploy changes in the running task
// definition, one short line each, keyed by container and variable name
// (containerDefinitions[web].environment.RAILS_MAX_THREADS: "5" -> "8"),
// in document order; none without a target. Everything echoed from input
// is quoted.
type VerifyReport struct {
	Problems []Problem
	Warnings []Problem
	Notices  []string
	Changes  []string
}

// verifyConcurrency bounds the lookups in flight across a whole run: enough
// to finish a task definition's twenty references in one round trip, few
// enough not to be throttled by IAM's low request rate.
const verifyConcurrency = 16

// Verify looks up everything the rendered task definition td points at —
// roles, SSM parameters, secrets, log groups, image platforms and, with a
// target, the service — and compares td with what the service runs now.
// Every lookup runs concurrently and goes through cache, so that a run of
// many services asks about each resource once; a nil cache is a fresh one.
// The error is a run failure (a lookup that failed other than by access
// denied, exit 1); input problems are in the report.
func Verify(ctx context.Context, td *Node, in VerifyInput, lk VerifyLookups, cache *VerifyCache) (VerifyReport, error) {
	if cache == nil {
		cache = NewVerifyCache()
	}
	refs := verifyRefs(td, in)
	v := &verifier{in: in, lk: lk, cache: cache, results: map[string]verifyResult{}}
	v.lookUp(ctx, refs)

	var rep VerifyReport
	caller, err := v.callerAccount(&rep)
	if err != nil {
		return VerifyReport{}, err
	}
	denied := map[verifyKind]bool{}
	for _, r := range refs {
		if err := v.judge(r, caller, denied, &rep); err != nil {
			return VerifyReport{}, err
		}
	}
	if in.Target != nil && lk.Services != nil {
		res := v.results[v.serviceKey()]
		if res.err != nil {
			if !errors.Is(res.err, ErrAccessDenied) {
				return VerifyReport{}, verifyFailure(verifyServiceKind, in.Target.Cluster+"/"+in.Target.Service, res.err)
			}
			rep.Warnings = append(rep.Warnings, Problem{Msg: "service not verified: " + verifyOneLine(res.err.Error())})
		} else if err := verifyService(td, in, res.val.(ServiceFacts), &rep); err != nil {
			return VerifyReport{}, err
		}
	}
	return rep, nil
}

// verifier holds one Verify call's lookups and their outcomes.
type verifier struct {
	in    VerifyInput
	lk    VerifyLookups
	cache *VerifyCache

	mu      sync.Mutex
	results map[string]verifyResult // by cache key
}

type verifyResult struct {
	val any
	err error
}

func (v *verifier) set(key string, val any, err error) {
	v.mu.Lock()
	v.results[key] = verifyResult{val, err}
	v.mu.Unlock()
}

func (v *verifier) region(r string) string {
	if r == "" {
		return v.in.Region
	}
	return r
}

// key names a resource for the cache: the same resource asked about by two
// services of one run has the same key.
func (v *verifier) key(r verifyRef) string {
	if r.kind == verifyRole || r.kind == verifyImage {
		// IAM is global, and an image reference names its own region.
		return verifyKey(r.kind, "", r.id)
	}
	return verifyKey(r.kind, v.region(r.region), r.id)
}

func verifyKey(k verifyKind, region, id string) string {
	return string(rune('a'+k)) + "\x00" + region + "\x00" + id
}

func (v *verifier) serviceKey() string {
	t := v.in.Target
	return verifyKey(verifyServiceKind, v.in.Region, t.Cluster+"\x00"+t.Service)
}

const accountKey = "account"

// lookUp asks about every distinct resource at once and waits for all the
// answers; the cache bounds how many calls are in flight.
func (v *verifier) lookUp(ctx context.Context, refs []verifyRef) {
	var wg sync.WaitGroup
	seen := map[string]bool{}
	ssm := map[string][]string{} // region -> names, in document order
	var regions []string
	var images []string // ECR images, asked about together
	needAccount := false
	for _, r := range refs {
		if r.account != "" {
			needAccount = true
		}
		k := v.key(r)
		if seen[k] || !v.enabled(r.kind) {
			continue
		}
		seen[k] = true
		switch r.kind {
		case verifyRole:
			wg.Go(func() {
				val, err := cached(ctx, v.cache, k, func(ctx context.Context) (RoleFacts, error) { return v.lk.Roles.Role(ctx, r.id) })
				v.set(k, val, err)
			})
		case verifySecret:
			wg.Go(func() {
				val, err := cached(ctx, v.cache, k, func(ctx context.Context) (bool, error) { return v.lk.Secrets.Secret(ctx, r.region, r.id) })
				v.set(k, val, err)
			})
		case verifyLogGroup:
			wg.Go(func() {
				val, err := cached(ctx, v.cache, k, func(ctx context.Context) (bool, error) { return v.lk.LogGroups.LogGroup(ctx, r.region, r.id) })
				v.set(k, val, err)
			})
		case verifyImage:
			images = append(images, r.id)
		case verifyParameter:
			reg := v.region(r.region)
			if _, ok := ssm[reg]; !ok {
				regions = append(regions, reg)
			}
			ssm[reg] = append(ssm[reg], r.id)
		}
	}
	// One call per region, not per parameter: a task definition's dozen
	// parameters cost one round trip and one request against SSM's
	// throttling limit.
	for _, reg := range regions {
		wg.Go(func() {
			for i, res := range v.cache.parameters(ctx, v.lk.Parameters, reg, ssm[reg]) {
				v.set(verifyKey(verifyParameter, reg, ssm[reg][i]), res.val, res.err)
			}
		})
	}
	if len(images) > 0 {
		wg.Go(func() {
			for i, res := range v.cache.platforms(ctx, v.lk.Images, images) {
				v.set(verifyKey(verifyImage, "", images[i]), res.val, res.err)
			}
		})
	}
	if needAccount && v.lk.Account != nil {
		wg.Go(func() {
			val, err := cached(ctx, v.cache, accountKey, v.lk.Account.CallerAccount)
			v.set(accountKey, val, err)
		})
	}
	if t := v.in.Target; t != nil && v.lk.Services != nil {
		k := v.serviceKey()
		wg.Go(func() {
			val, err := cached(ctx, v.cache, k, func(ctx context.Context) (ServiceFacts, error) {
				return v.lk.Services.Service(ctx, v.in.Region, t.Cluster, t.Service)
			})
			v.set(k, val, err)
		})
	}
	wg.Wait()
}

func (v *verifier) enabled(k verifyKind) bool {
	switch k {
	case verifyRole:
		return v.lk.Roles != nil
	case verifyParameter:
		return v.lk.Parameters != nil
	case verifySecret:
		return v.lk.Secrets != nil
	case verifyLogGroup:
		return v.lk.LogGroups != nil
	case verifyImage:
		return v.lk.Images != nil
	}
	return false
}

// callerAccount returns the run's account, or "" when it is not known; then
// every reference counts as the run's own.
func (v *verifier) callerAccount(rep *VerifyReport) (string, error) {
	res, ok := v.results[accountKey]
	if !ok {
		return "", nil
	}
	if res.err != nil {
		if errors.Is(res.err, ErrAccessDenied) {
			rep.Warnings = append(rep.Warnings, Problem{Msg: "account not known, references into other accounts verified as this one's: " + verifyOneLine(res.err.Error())})
			return "", nil
		}
		return "", verifyFailure(verifyAccount, "", res.err)
	}
	return res.val.(string), nil
}

// judge turns the answer about one reference into a problem, warning or
// notice. The first failure other than access denied ends the run.
func (v *verifier) judge(r verifyRef, caller string, denied map[verifyKind]bool, rep *VerifyReport) error {
	res, ok := v.results[v.key(r)]
	if !ok {
		return nil // the kind is not verified
	}
	// A resource in another account may be shared with this one or not;
	// not seeing it is no proof that ECS will not.
	foreign := r.account != "" && caller != "" && r.account != caller
	if res.err != nil {
		// remote refuses to look up another account's role by name in
		// this one, and another account may deny or hide anything.
		if foreign && !errors.Is(res.err, context.DeadlineExceeded) && !errors.Is(res.err, context.Canceled) {
			rep.Notices = append(rep.Notices, v.foreignNotice(r, caller))
			return nil
		}
		if !errors.Is(res.err, ErrAccessDenied) {
			return verifyFailure(r.kind, r.id, res.err)
		}
		if !denied[r.kind] {
			denied[r.kind] = true
			rep.Warnings = append(rep.Warnings, Problem{Msg: r.kind.plural() + " not verified: " + verifyOneLine(res.err.Error())})
		}
		return nil
	}
	problem := func(format string, args ...any) {
		rep.Problems = append(rep.Problems, Problem{Path: r.path, Msg: fmt.Sprintf(format, args...)})
	}
	switch r.kind {
	case verifyRole:
		facts := res.val.(RoleFacts)
		switch {
		case !facts.Found && foreign:
			rep.Notices = append(rep.Notices, v.foreignNotice(r, caller))
		case !facts.Found:
			problem("role %q not found", r.id)
		default:
			tp, err := parseTrustPolicy(facts.TrustPolicy)
			if err != nil {
				rep.Warnings = append(rep.Warnings, Problem{Path: r.path, Msg: fmt.Sprintf("role %q: trust policy not read: %v", r.id, err)})
				return nil
			}
			if ok, why := tp.allows(ecsTasksPrincipal, "sts:AssumeRole"); !ok {
				problem("role %q cannot be assumed by ECS tasks: its trust policy does not let %s call sts:AssumeRole (%s)", r.id, ecsTasksPrincipal, why)
			}
		}
	case verifyParameter, verifySecret, verifyLogGroup:
		if res.val.(bool) {
			return nil
		}
		if foreign {
			rep.Notices = append(rep.Notices, v.foreignNotice(r, caller))
			return nil
		}
		switch r.kind {
		case verifyParameter:
			problem("ssm parameter %q not found in region %q", r.id, v.region(r.region))
		case verifySecret:
			problem("secret %q not found in region %q", r.id, v.region(r.region))
		default:
			problem("log group %q not found in region %q; create it, or set awslogs-create-group to \"true\" and allow logs:CreateLogGroup to the execution role", r.id, v.region(r.region))
		}
	case verifyImage:
		listed := res.val.([]Platform)
		if listed == nil {
			return nil // unknown
		}
		offered := realPlatforms(listed)
		if len(offered) == 0 {
			problem("image %q is an index that lists no image a task can run (only attestations, or nothing); rebuild it for %s", r.id, r.platform)
			return nil
		}
		if slices.ContainsFunc(offered, r.platform.runsOn) {
			return nil
		}
		var names []string
		for _, p := range offered {
			names = append(names, p.String())
		}
		problem("image %q has no %s variant, which the task's runtimePlatform needs; it offers %s", r.id, r.platform, strings.Join(names, ", "))
	}
	return nil
}

func (v *verifier) foreignNotice(r verifyRef, caller string) string {
	return fmt.Sprintf("%s: %s %q is in account %q, which account %q cannot see: not verified", r.path, r.kind.singular(), r.id, r.account, caller)
}

// realPlatforms leaves out what an index lists that is not an image to run:
// buildkit's attestation manifests say unknown/unknown.
func realPlatforms(ps []Platform) []Platform {
	var out []Platform
	for _, p := range ps {
		if p.OS != "unknown" && p.Architecture != "unknown" && p.OS != "" && p.Architecture != "" {
			out = append(out, p)
		}
	}
	return out
}

// runsOn reports whether an image built for have runs on a task that wants
// p. arm64 images often carry no variant, which means v8.
func (p Platform) runsOn(have Platform) bool {
	return have.OS == p.OS && have.Architecture == p.Architecture &&
		(p.Variant == "" || have.Variant == "" || have.Variant == p.Variant)
}

// verifyFailure names the resource in a bare context error, which is what
// a lookup still waiting for a slot, or for another service's answer,
// returns when --timeout runs out; the lookups word their own errors.
func verifyFailure(k verifyKind, id string, err error) error {
	var stopped stoppedError
	switch {
	case !errors.As(err, &stopped) && err != context.DeadlineExceeded && err != context.Canceled:
		return err
	case k == verifyAccount:
		return fmt.Errorf("account not known: %w", err)
	}
	return fmt.Errorf("%s %q not verified: %w", k.singular(), id, err)
}

// verifyOneLine keeps a lookup error's message on one line of the build log.
func verifyOneLine(s string) string {
	return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(s)
}

// VerifyCache remembers the answer about each resource for a whole run, so
// that services rendered side by side ask about a shared role or secret
// once. It is safe for concurrent use: a second asker of a resource in
// flight waits for the first one's answer instead of asking again. It also
// bounds the lookups in flight across the run. Errors are remembered too: a
// run does not retry what already failed after the SDK's retries.
type VerifyCache struct {
	sem chan struct{}

	mu      sync.Mutex
	entries map[string]*verifyEntry
}

type verifyEntry struct {
	done chan struct{}
	val  any
	err  error
	// abandoned means the asker's context ended before the answer came:
	// the error says nothing about the resource, so the entry left the
	// cache and another render sharing it asks again.
	abandoned bool
}

// NewVerifyCache returns an empty cache for one run.
func NewVerifyCache() *VerifyCache {
	return &VerifyCache{sem: make(chan struct{}, verifyConcurrency), entries: map[string]*verifyEntry{}}
}

// claim returns the entry for key and whether the caller must fill it.
func (c *VerifyCache) claim(key string) (*verifyEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		return e, false
	}
	e := &verifyEntry{done: make(chan struct{})}
	c.entries[key] = e
	return e, true
}

// call runs f when a slot is free.
func (c *VerifyCache) call(ctx context.Context, f func(context.Context) error) error {
	// select picks at random among ready cases: without this, a run past
	// its deadline would still start some calls.
	if err := ctx.Err(); err != nil {
		return stoppedError{err}
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return stoppedError{ctx.Err()}
	}
	defer func() { <-c.sem }()
	return f(ctx)
}

// stoppedError is a lookup that the run's end kept from being made, or
// from being waited for, worded as remote words a call cut short rather
// than as Go's "context deadline exceeded".
type stoppedError struct{ err error }

func (e stoppedError) Error() string {
	if errors.Is(e.err, context.DeadlineExceeded) {
		return "no answer before the deadline"
	}
	return "canceled"
}

func (e stoppedError) Unwrap() error { return e.err }

func (e *verifyEntry) wait(ctx context.Context) (any, error) {
	select {
	case <-e.done:
		return e.val, e.err
	case <-ctx.Done():
		return nil, stoppedError{ctx.Err()}
	}
}

// cached returns the answer for key, asking f only when no one has.
func cached[T any](ctx context.Context, c *VerifyCache, key string, f func(context.Context) (T, error)) (T, error) {
	for {
		e, mine := c.claim(key)
		if mine {
			var val T
			err := c.call(ctx, func(ctx context.Context) error {
				var err error
				val, err = f(ctx)
				return err
			})
			c.settle(ctx, key, e, val, err)
		}
		v, err := e.wait(ctx)
		if err != nil && ctx.Err() == nil && e.abandoned {
			continue // another render gave up on it; this one has not
		}
		t, _ := v.(T) // nil after a cancelled wait: the zero T goes with the error
		return t, err
	}
}

// settle gives e its answer. An answer cut short by the asker's own
// context (a render that failed early and stopped its lookups) is not
// remembered: a render sharing the cache would otherwise fail with a
// cancellation that was never its own.
func (c *VerifyCache) settle(ctx context.Context, key string, e *verifyEntry, val any, err error) {
	e.val, e.err = val, err
	if err != nil && ctx.Err() != nil {
		e.abandoned = true
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key)
		}
		c.mu.Unlock()
	}
	close(e.done)
}

// parameters reports whether each of names exists in region, asking SSM in
// one call about those no one has asked about yet. Each answer comes with
// its own error: a name another service asked about may have failed alone.
func (c *VerifyCache) parameters(ctx context.Context, lk ParameterLookup, region string, names []string) []verifyResult {
	out := make([]verifyResult, len(names))
	pending := make([]int, len(names)) // indexes into names still without an answer
	for i := range names {
		pending[i] = i
	}
	for len(pending) > 0 {
		entries := make([]*verifyEntry, len(pending))
		var ask []string
		var mine []*verifyEntry
		for j, i := range pending {
			key := verifyKey(verifyParameter, region, names[i])
			e, ok := c.claim(key)
			entries[j] = e
			if ok {
				ask = append(ask, names[i])
				mine = append(mine, e)
			}
		}
		if len(ask) > 0 {
			var found map[string]bool
			err := c.call(ctx, func(ctx context.Context) error {
				var err error
				found, err = lk.Parameters(ctx, region, ask)
				return err
			})
			for k, e := range mine {
				c.settle(ctx, verifyKey(verifyParameter, region, ask[k]), e, found[ask[k]], err)
			}
		}
		var again []int
		for j, i := range pending {
			val, err := entries[j].wait(ctx)
			if err != nil && ctx.Err() == nil && entries[j].abandoned {
				again = append(again, i) // another render gave up on it
				continue
			}
			found, _ := val.(bool)
			out[i] = verifyResult{found, err}
		}
		pending = again
	}
	return out
}

// verifyAhead returns the work of every lookup of td that needs no image
// digest — roles, parameters, secrets, log groups, the account and the
// service — for the caller to run in the background, beside image
// resolution; Verify then finds the answers in cache. td is read before
// verifyAhead returns, so the caller may go on changing it.
func verifyAhead(ctx context.Context, td *Node, in VerifyInput, lk VerifyLookups, cache *VerifyCache) func() {
	lk.Images = nil
	v := &verifier{in: in, lk: lk, cache: cache, results: map[string]verifyResult{}}
	refs := verifyRefs(td, in)
	return func() { v.lookUp(ctx, refs) }
}

// platformsAhead asks, through cache, for the platforms of each image in
// found as Render will write it (pinned), all in one batch, so that Verify
// finds the answer in cache or in flight. It returns once every answer is
// in.
func platformsAhead(ctx context.Context, lk VerifyLookups, cache *VerifyCache, found map[string]ResolvedImage) {
	platformsStart(ctx, lk, cache, found)()
}

// platformsStart is platformsAhead in two steps: it claims in cache, at
// once, every image of found that no one has asked about, and returns the
// work of asking, which the caller must run (in the background): until
// then, a render asking about those images waits. A manifest run claims
// every service's images this way before any service renders, so that the
// run asks one batch.
func platformsStart(ctx context.Context, lk VerifyLookups, cache *VerifyCache, found map[string]ResolvedImage) func() {
	if lk.Images == nil {
		return func() {}
	}
	seen := map[string]bool{}
	var images []string
	for _, ri := range found {
		image := ri.Pinned().String()
		if _, ok := ecrImageAccount(image); !ok || seen[image] {
			continue // verifyRefs asks only about private ECR images
		}
		seen[image] = true
		images = append(images, image)
	}
	// Sorted so that a run asks in the same order each time.
	slices.Sort(images)
	ask := cache.claimPlatforms(ctx, lk.Images, images)
	return func() { ask() }
}

// platforms returns the platforms of each of images, asking lk about those
// no one has asked about yet: all in one call when lk is a
// PlatformBatchLookup, else one call per image, side by side. An image
// another render is asking about is waited for, not asked again.
func (c *VerifyCache) platforms(ctx context.Context, lk PlatformLookup, images []string) []verifyResult {
	return c.claimPlatforms(ctx, lk, images)()
}

// claimPlatforms claims the entries of images that no one has asked about
// and returns the rest of platforms: asking about those, then waiting for
// every answer. The caller must call it, or the claimed entries are never
// answered.
func (c *VerifyCache) claimPlatforms(ctx context.Context, lk PlatformLookup, images []string) func() []verifyResult {
	entries := make([]*verifyEntry, len(images))
	var ask []string
	var mine []*verifyEntry
	for i, image := range images {
		e, ok := c.claim(verifyKey(verifyImage, "", image))
		entries[i] = e
		if ok {
			ask = append(ask, image)
			mine = append(mine, e)
		}
	}
	return func() []verifyResult {
		if len(ask) > 0 {
			c.askPlatforms(ctx, lk, ask, mine)
		}
		out := make([]verifyResult, len(images))
		var again []int // another render gave up on these
		for i := range images {
			val, err := entries[i].wait(ctx)
			if err != nil && ctx.Err() == nil && entries[i].abandoned {
				again = append(again, i)
				continue
			}
			ps, _ := val.([]Platform)
			out[i] = verifyResult{ps, err}
		}
		if len(again) > 0 {
			retry := make([]string, len(again))
			for k, i := range again {
				retry[k] = images[i]
			}
			for k, res := range c.platforms(ctx, lk, retry) {
				out[again[k]] = res
			}
		}
		return out
	}
}

// askPlatforms asks lk about images and settles their entries.
func (c *VerifyCache) askPlatforms(ctx context.Context, lk PlatformLookup, images []string, entries []*verifyEntry) {
	batch, ok := lk.(PlatformBatchLookup)
	if !ok {
		var wg sync.WaitGroup
		for k, image := range images {
			wg.Go(func() {
				var ps []Platform
				err := c.call(ctx, func(ctx context.Context) error {
					var err error
					ps, err = lk.ImagePlatforms(ctx, image)
					return err
				})
				c.settle(ctx, verifyKey(verifyImage, "", image), entries[k], ps, err)
			})
		}
		wg.Wait()
		return
	}
	var found map[string][]Platform
	err := c.call(ctx, func(ctx context.Context) error {
		var err error
		found, err = batch.ImagePlatformsOf(ctx, images)
		return err
	})
	for k, image := range images {
		ps, answered := found[image]
		var imageErr error
		if !answered {
			imageErr = platformErrorOf(err, image)
		}
		c.settle(ctx, verifyKey(verifyImage, "", image), entries[k], ps, imageErr)
	}
}
