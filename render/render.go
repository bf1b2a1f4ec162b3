package render

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecsrender/ecsrender/render/appspec"
	"github.com/ecsrender/ecsrender/render/ref"
)

// Options are the inputs of one service's render, already parsed: the CLI
// reads them from flags, a manifest would read them from its YAML.
type Options struct {
	// Template is the task definition template.
	Template ref.Source
	// AppSpecTemplate is an AppSpec template; nil builds the AppSpec from
	// AppSpec instead.
	AppSpecTemplate *ref.Source
	// AppSpec are the AppSpec's fields when there is no AppSpecTemplate.
	AppSpec appspec.Options
	// NoAppSpec makes no AppSpec (pipelines that only deploy rolling
	// updates); AppSpec.Container still names the primary container.
	NoAppSpec bool
	// Images set the image of containers, in the order given.
	Images []Image
	// Placeholders write a CodeDeploy placeholder as containers' images.
	Placeholders []Placeholder
	// Variables are what {{ var "KEY" }} reads.
	Variables map[string]string
	// LookupEnv reads the environment for templates; nil reads nothing.
	LookupEnv func(string) (string, bool)
	// Pin replaces each ECR tag with its digest (REPO@sha256:...). Without it
	// tags are kept, but still checked to exist.
	Pin bool
	// Verify looks up what the task definition points at through
	// Deps.Lookups (nothing when they are nil, as offline) and, with
	// Target, compares it with the service it deploys to.
	Verify bool
	// Target is the service the deploy goes to; nil verifies the
	// references alone.
	Target *VerifyTarget
}

// Image sets the image of the container named Container.
type Image struct {
	Container string
	Ref       ref.ImageRef
}

// Placeholder writes "<Token>" as the image of the container named
// Container, for CodeDeployToECS to fill from imageDetail.json.
type Placeholder struct {
	Container string
	// Token is checked with ref.CheckToken, e.g. IMAGE1_NAME.
	Token string
}

// Deps are the outside world a render reaches. Resolver is shared by every
// render of a run so that many services share ECR lookups; it is nil when
// offline, and images are then used exactly as given.
type Deps struct {
	Loader   Loader
	Resolver Resolver
	// Lookups answer verify's questions; nil when offline.
	Lookups *VerifyLookups
	// VerifyCache remembers verify's answers; a run of many services
	// shares one, so that each resource is asked about once. Nil gives
	// each Render a cache of its own.
	VerifyCache *VerifyCache
	// Region is the run's default AWS region, where verify asks about the
	// references that name none; it names the region in problems.
	Region string
	// imagesAtOnce makes Render ask for all of a service's images in one
	// Resolve once the template is read, rather than asking for the given
	// images beside the read. A manifest run sets it: its resolver puts
	// every service's images into one call per repository, which an early
	// ask for part of them would split in two.
	imagesAtOnce bool
}

// Result is a rendered, checked service: everything package artifacts
// writes, and what the CLI tells the user.
type Result struct {
	// TaskDef is the RegisterTaskDefinition document for taskdef.json.
	TaskDef *Node
	// AppSpec is nil when none is written (NoAppSpec, or no load balancer).
	AppSpec *appspec.AppSpec
	// ImageDetails are the images CodeDeployToECS reads from
	// imageDetail.json: one per placeholder, in the order given, or
	// without placeholders at most one, of the first --image container
	// (else the load-balanced one). None when that image is itself a
	// placeholder that another artifact fills.
	ImageDetails []ImageDetail
	// ImageDefinitions are the entries of imagedefinitions.json, in
	// document order; empty when no container has an image the Amazon
	// ECS action could set, and then the file is not written.
	ImageDefinitions []ImageDefinition
	// Notices tell the user what was done on their behalf.
	Notices []string
	// Warnings are things that are allowed but probably wrong.
	Warnings []Problem
	// Changes say what the deploy changes in the task definition that
	// Options.Target runs now, one short line each (see VerifyReport).
	Changes []string
}

// ImageDetail is the imageDetail.json of CodePipeline's ECR source action,
// which CodeDeployToECS reads through Image1ArtifactName..Image4. Only
// ImageURI is set for images that were not resolved in ECR.
type ImageDetail struct {
	// Container is the container whose image this is.
	Container string
	// Token is the placeholder this image fills (IMAGE1_NAME), or empty
	// without placeholders.
	Token string

	ImageURI         string
	ImageDigest      string
	ImageTags        []string
	RegistryID       string
	RepositoryName   string
	ImagePushedAt    time.Time
	ImageSizeInBytes int64
}

// ImageDefinition is one entry of imagedefinitions.json, which the Amazon
// ECS (rolling) deploy action reads.
type ImageDefinition struct {
	Name     string
	ImageURI string
}

// Render loads, evaluates, checks and resolves one service. It writes
// nothing. Input problems come back as errors for which IsInputError is
// true (the CLI's exit 2); AWS and file-system failures as other errors.
func Render(ctx context.Context, o Options, d Deps) (*Result, error) {
	if err := checkPlaceholders(o.Placeholders); err != nil {
		return nil, err
	}
	// Work started ahead of need ends with Render, whichever way it returns.
	ctx, stop := context.WithCancel(ctx)
	var bg sync.WaitGroup
	defer func() {
		stop()
		bg.Wait()
	}()
	lk := enabledLookups(o, d)
	cache := d.VerifyCache
	if cache == nil {
		cache = NewVerifyCache()
	}
	// The template, the AppSpec template and the images given do not
	// depend on each other: all three are asked for at once.
	var resolver Resolver
	if d.Resolver != nil {
		ahead := newResolveAhead(d.Resolver, &bg)
		if lk != nil && o.Pin {
			// An image's platforms are asked for as soon as its digest
			// is known, not once every image is.
			ahead.resolved = func(found map[string]ResolvedImage) { platformsAhead(ctx, *lk, cache, found) }
		}
		if !d.imagesAtOnce {
			ahead.start(ctx, givenImageRefs(o.Images))
		}
		resolver = ahead
	}
	loader := startLoad(ctx, &bg, d.Loader, o.AppSpecTemplate)

	var notices []string
	object := "template " + o.Template.String()
	td, notice, err := loadTaskDefinition(ctx, d.Loader, o.Template)
	if err != nil {
		return nil, err
	}
	notices = appendNonEmpty(notices, notice)

	data := TemplateData{Vars: o.Variables, LookupEnv: o.LookupEnv, Context: ctx}
	problems, err := evaluateTaskDefinition(td, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", object, err)
	}
	if len(problems) > 0 {
		return nil, &ProblemsError{Object: object, Problems: problems}
	}

	for _, notice := range NormalizeTaskSize(td) {
		notices = append(notices, object+": "+notice)
	}

	if problems := missingContainerProblems(td); len(problems) > 0 {
		return nil, &ProblemsError{Object: object, Problems: problems}
	}
	containers := containerIndex(td)
	if err := setImages(containers, o.Images, o.Placeholders); err != nil {
		return nil, err
	}

	// The document is known: the images it alone names, and the verify
	// lookups that need no digest, start now, beside the checks.
	if ahead, ok := resolver.(*resolveAhead); ok {
		ahead.start(ctx, templateImageRefs(td))
	}
	if lk != nil {
		bg.Go(verifyAhead(ctx, td, VerifyInput{Region: d.Region, Target: o.Target}, *lk, cache))
	}

	// A typo is reported at once, not after a wait for an image runs out:
	// returning stops the lookups. Verify's answers about the references
	// are in by then and join the problems, so that all come at once.
	problems, warnings := CheckTaskDefinition(td)
	if len(problems) > 0 {
		if lk != nil {
			problems = append(problems, verifyRefProblems(ctx, td, d.Region, *lk, cache)...)
		}
		return nil, &ProblemsError{Object: object, Problems: problems}
	}
	as, lb, notice, err := makeAppSpec(ctx, o, loader, data, td)
	if err != nil {
		return nil, err
	}
	notices = appendNonEmpty(notices, notice)

	resolved, resolveNotices, err := resolveImages(ctx, td, o.Placeholders, resolver, o.Pin)
	if err != nil {
		return nil, err
	}
	notices = append(notices, resolveNotices...)
	// Pinning lengthens the document; only the size can have changed.
	if len(resolved) > 0 && o.Pin {
		if problems, _ := CheckTaskDefinition(td); len(problems) > 0 {
			return nil, &ProblemsError{Object: object, Problems: problems}
		}
	}

	// Without placeholders the image described is the one this build
	// made (the first --image), not the nginx sidecar in front of it.
	details, notice := imageDetails(containers, o.Placeholders, cmp.Or(firstImage(o.Images), lb, first(containerNames(td))), resolved)
	notices = appendNonEmpty(notices, notice)
	defs, notice := imageDefinitions(td, o.Images, resolved)
	notices = appendNonEmpty(notices, notice)
	// Placeholders go in last: everything above needed the real image.
	// So does verify, which looks at the images ECS will run.
	var changes []string
	if lk != nil {
		rep, err := Verify(ctx, td, renderVerifyInput(o, d, containers, as, defs), *lk, cache)
		if err != nil {
			return nil, err
		}
		if len(rep.Problems) > 0 {
			return nil, &ProblemsError{Object: object, Problems: rep.Problems}
		}
		notices = append(notices, rep.Notices...)
		warnings = append(warnings, rep.Warnings...)
		changes = rep.Changes
	}
	for _, p := range o.Placeholders {
		containers[p.Container].Set("image", NewString(ref.Placeholder(p.Token)))
	}
	return &Result{
		TaskDef:          td,
		AppSpec:          as,
		ImageDetails:     details,
		ImageDefinitions: defs,
		Notices:          notices,
		Warnings:         warnings,
		Changes:          changes,
	}, nil
}

func appendNonEmpty(list []string, s string) []string {
	if s == "" {
		return list
	}
	return append(list, s)
}

// MaxPlaceholders is how many images CodeDeployToECS takes: Image1 to
// Image4, each from its own imageDetail.json.
const MaxPlaceholders = 4

// checkPlaceholders checks what needs no template: every token in
// container name order, so that of two bad ones the same one is reported
// every time, then their number, and that no token or container is given
// twice.
func checkPlaceholders(ps []Placeholder) error {
	sorted := slices.SortedFunc(slices.Values(ps), func(a, b Placeholder) int { return cmp.Compare(a.Container, b.Container) })
	for _, p := range sorted {
		if err := ref.CheckToken(p.Token); err != nil {
			return &OptionError{Option: "placeholder", Value: p.Container + "=" + p.Token, Err: err}
		}
	}
	if len(ps) > MaxPlaceholders {
		return &OptionError{Option: "placeholder", Err: fmt.Errorf("%d given; CodeDeployToECS takes at most %d images (Image1 to Image%d)", len(ps), MaxPlaceholders, MaxPlaceholders)}
	}
	for i, p := range ps {
		for _, q := range ps[:i] {
			switch {
			case p.Container == q.Container:
				return &OptionError{Option: "placeholder", Value: p.Container + "=" + p.Token, Err: fmt.Errorf("container %q already has placeholder %s; a container has one image", p.Container, q.Token)}
			// Each token's imageDetail.json goes into a directory named
			// after it, and two that differ only in case would be one
			// directory on a case-insensitive file system.
			case strings.EqualFold(p.Token, q.Token):
				return &OptionError{Option: "placeholder", Value: p.Container + "=" + p.Token, Err: fmt.Errorf("token %s is already given for container %q; each image needs its own token", q.Token, q.Container)}
			}
		}
	}
	return nil
}

// loadTaskDefinition reads and parses the template, and turns the output
// of describe-task-definition into a RegisterTaskDefinition document.
func loadTaskDefinition(ctx context.Context, l Loader, src ref.Source) (td *Node, notice string, err error) {
	raw, err := l.Load(ctx, src)
	if err != nil {
		return nil, "", err
	}
	object := "template " + src.String()
	if td, err = ParseJSON(raw); err != nil {
		return nil, "", &InputError{fmt.Errorf("%s: %w", object, err)}
	}
	td, notice, err = unwrapDescribeOutput(td)
	if err != nil {
		return nil, "", &InputError{fmt.Errorf("%s: %w", object, err)}
	}
	if notice != "" {
		notice = object + ": " + notice
	}
	return td, notice, nil
}

// evaluateTaskDefinition renders the template actions of td in place and
// returns every problem found.
func evaluateTaskDefinition(td *Node, data TemplateData) ([]Problem, error) {
	ev := newEvaluator(data)
	ev.evaluate(td, taskDefinitionShape(), "")
	if err := ev.stopped(); err != nil {
		return nil, err
	}
	return ev.problems, nil
}

// setImages writes the images given into their containers, after checking
// that every image and placeholder names a container of the template.
func setImages(containers map[string]*Node, images []Image, placeholders []Placeholder) error {
	// Checked in name order, so that of two unknown names the same one is
	// reported every time.
	imageNames := make(map[string]bool, len(images))
	for _, img := range images {
		imageNames[img.Container] = true
	}
	placeholderNames := make(map[string]bool, len(placeholders))
	for _, p := range placeholders {
		placeholderNames[p.Container] = true
	}
	for _, name := range sortedKeys(imageNames) {
		if err := checkContainer("image", name, containers); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(placeholderNames) {
		if err := checkContainer("placeholder", name, containers); err != nil {
			return err
		}
	}
	for _, img := range images {
		containers[img.Container].Set("image", NewString(img.Ref.String()))
	}
	// A placeholder is only filled from its imageDetail.json, which needs
	// an image to describe: without one the deploy would fail.
	for _, p := range placeholders {
		if img := containers[p.Container].GetString("image"); img == "" || ref.IsPlaceholder(img) {
			return &OptionError{Option: "placeholder", Value: p.Container + "=" + p.Token, Err: fmt.Errorf("container %q has no image for imageDetail.json to describe (its image is %q); set one with --image", p.Container, img)}
		}
	}
	return nil
}

func checkContainer(option, name string, containers map[string]*Node) error {
	if _, ok := containers[name]; ok {
		return nil
	}
	return &OptionError{Option: option, Value: name, Err: fmt.Errorf("no container named %q; the template has %s", name, quoteList(sortedKeys(containers)))}
}

// makeAppSpec reads the AppSpec template or builds the AppSpec from its
// fields, and returns it with the load-balanced container it names (""
// when there is none). The AppSpec is nil when none is written.
func makeAppSpec(ctx context.Context, o Options, l Loader, data TemplateData, td *Node) (*appspec.AppSpec, string, string, error) {
	containers := appSpecContainers(td)
	switch {
	case o.AppSpecTemplate != nil:
		raw, err := l.Load(ctx, *o.AppSpecTemplate)
		if err != nil {
			return nil, "", "", err
		}
		as, err := parseAppSpec(raw, data, containers, true)
		if err != nil {
			return nil, "", "", err
		}
		name, _ := as.Container()
		return as, name, "", nil
	case o.NoAppSpec:
		if o.AppSpec.Container == "" {
			return nil, "", "", nil
		}
		// The container still names the primary container.
		as, err := buildAppSpec(appspec.Options{Container: o.AppSpec.Container}, containers)
		if err != nil {
			return nil, "", "", err
		}
		name, _ := as.Container()
		return nil, name, "", nil
	}
	as, err := buildAppSpec(o.AppSpec, containers)
	if err != nil {
		return nil, "", "", err
	}
	if as == nil {
		return nil, "", "no container maps a port, so there is no load balancer to shift: appspec.yaml not written (rolling deploys need none)", nil
	}
	name, _ := as.Container()
	return as, name, "", nil
}

// buildAppSpec builds the AppSpec from its fields, with the option at
// fault named in the error.
func buildAppSpec(o appspec.Options, containers []appspec.Container) (*appspec.AppSpec, error) {
	as, err := appspec.Build(o, containers)
	if oe, ok := err.(*appspec.OptionError); ok {
		return nil, &OptionError{Option: oe.Option, Value: oe.Value, Err: oe.Err}
	}
	return as, err
}

// readOnlyFields are what describe-task-definition returns and
// RegisterTaskDefinition refuses.
var readOnlyFields = []string{"taskDefinitionArn", "revision", "status", "requiresAttributes",
	"compatibilities", "registeredAt", "registeredBy", "deregisteredAt"}

// unwrapDescribeOutput turns the output of `aws ecs describe-task-definition`
// into a RegisterTaskDefinition document: people copy a live revision as
// the starting point of a template, and ECS refuses its read-only fields.
func unwrapDescribeOutput(td *Node) (*Node, string, error) {
	if td.Kind != Object {
		return nil, "", fmt.Errorf("want a task definition object, got %s", td.Kind)
	}
	var dropped []string
	// A null member is absent (describe output may carry "tags": null).
	present := slices.DeleteFunc(slices.Clone(td.Members), func(m Member) bool { return m.Value.Kind == Null })
	if inner := td.Get("taskDefinition"); inner != nil && len(present) <= 2 {
		if inner.Kind != Object {
			return nil, "", fmt.Errorf("taskDefinition: want an object, got %s", inner.Kind)
		}
		// describe-task-definition --include TAGS puts tags beside the wrapper.
		if tags := td.Get("tags"); tags != nil {
			inner.Set("tags", tags)
		} else if len(present) == 2 {
			return nil, "", fmt.Errorf("want a task definition, got an object with taskDefinition and %s", ref.QuoteIfNeeded(otherKey(NewObject(present...), "taskDefinition")))
		}
		td = inner
		dropped = append(dropped, "the taskDefinition wrapper")
	}
	var fields []string
	for _, f := range readOnlyFields {
		if td.Delete(f) {
			fields = append(fields, f)
		}
	}
	if len(fields) > 0 {
		dropped = append(dropped, "read-only fields "+strings.Join(fields, ", "))
	}
	if len(dropped) == 0 {
		return td, "", nil
	}
	return td, "describe-task-definition output: dropped " + strings.Join(dropped, " and "), nil
}

func otherKey(n *Node, not string) string {
	for _, m := range n.Members {
		if m.Key != not {
			return m.Key
		}
	}
	return ""
}

// containerIndex maps container names to their definitions.
func containerIndex(td *Node) map[string]*Node {
	out := map[string]*Node{}
	if cds := td.Get("containerDefinitions"); cds != nil && cds.Kind == Array {
		for _, c := range cds.Items {
			if name := c.GetString("name"); name != "" {
				if _, dup := out[name]; !dup {
					out[name] = c
				}
			}
		}
	}
	return out
}

// containerNames lists the container names in document order.
func containerNames(td *Node) []string {
	var names []string
	if cds := td.Get("containerDefinitions"); cds != nil && cds.Kind == Array {
		for _, c := range cds.Items {
			names = append(names, c.GetString("name"))
		}
	}
	return names
}

// appSpecContainers lists each container with the container ports it
// maps, in document order without repeats: what an AppSpec may name.
func appSpecContainers(td *Node) []appspec.Container {
	defs := td.Get("containerDefinitions")
	if defs == nil || defs.Kind != Array {
		return nil
	}
	var out []appspec.Container
	for _, d := range defs.Items {
		c := appspec.Container{Name: d.GetString("name")}
		if pm := d.Get("portMappings"); pm != nil && pm.Kind == Array {
			for _, m := range pm.Items {
				v := m.Get("containerPort")
				if v == nil || v.Kind != Number {
					continue
				}
				p, err := strconv.Atoi(v.Str)
				if err != nil || slices.Contains(c.Ports, p) {
					continue
				}
				c.Ports = append(c.Ports, p)
			}
		}
		out = append(out, c)
	}
	return out
}

func quoteList(names []string) string {
	if len(names) == 0 {
		return "no containers"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// resolveImages parses every container image, resolves the ECR ones (all
// of them, sidecars included: a sidecar's mutable tag can change a deploy
// as much as the app's) and pins them when asked. It returns what ECR said
// of each image now written in td, by that image.
func resolveImages(ctx context.Context, td *Node, placeholders []Placeholder, r Resolver, pin bool) (map[string]ResolvedImage, []string, error) {
	cds := td.Get("containerDefinitions")
	if cds == nil || cds.Kind != Array {
		return nil, nil, nil // the checks report it
	}
	type site struct {
		node *Node
		ref  ref.ImageRef
	}
	var sites []site
	var refs []ref.ImageRef
	var problems []Problem
	var notices []string
	for i, c := range cds.Items {
		img := c.Get("image")
		if img == nil || img.Kind != String || img.Str == "" {
			continue // the checks report it
		}
		path := indexPath("containerDefinitions", i) + ".image"
		if ref.IsPlaceholder(img.Str) {
			if !slices.ContainsFunc(placeholders, func(p Placeholder) bool { return p.Container == c.GetString("name") }) {
				notices = append(notices, fmt.Sprintf("%s: %s left for CodeDeployToECS to fill from imageDetail.json", path, img.Str))
			}
			continue
		}
		ir, err := ref.ParseImageRef(img.Str)
		if err != nil {
			problems = append(problems, Problem{Path: path, Msg: err.Error()})
			continue
		}
		if ir.ECR == nil {
			if r != nil {
				notices = append(notices, fmt.Sprintf("%s: %s is not in ECR; used as given", path, img.Str))
			}
			continue
		}
		sites = append(sites, site{img, ir})
		refs = append(refs, ir)
	}
	if len(problems) > 0 {
		return nil, nil, &ProblemsError{Object: "task definition", Problems: problems}
	}
	if r == nil || len(refs) == 0 {
		return nil, notices, nil
	}
	found, err := r.Resolve(ctx, refs)
	if err != nil {
		return nil, nil, err
	}
	resolved := make(map[string]ResolvedImage, len(sites))
	for _, s := range sites {
		ri, ok := found[s.ref.String()]
		if !ok {
			return nil, nil, fmt.Errorf("image %s: not resolved", s.ref) // a resolver bug, not user input
		}
		if pin {
			s.node.Str = ri.Pinned().String()
		}
		resolved[s.node.Str] = ri
	}
	return resolved, notices, nil
}

// first returns the first of names, or "".
func first(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

func firstImage(images []Image) string {
	if len(images) == 0 {
		return ""
	}
	return images[0].Container
}

// imageDetails describes the image of each placeholder's container, or
// without placeholders the image of container primary, in the form
// CodePipeline's ECR source action writes, so CodeDeployToECS reads it the
// same way whichever produced it. An image that is itself a placeholder
// has nothing to describe: another artifact fills it, and the notice says
// so.
func imageDetails(containers map[string]*Node, placeholders []Placeholder, primary string, resolved map[string]ResolvedImage) ([]ImageDetail, string) {
	if len(placeholders) == 0 {
		uri := containers[primary].GetString("image")
		if uri == "" || ref.IsPlaceholder(uri) {
			return nil, fmt.Sprintf("imageDetail.json not written: container %q has no image of its own to describe (pass --image %s=REF to write one)", primary, primary)
		}
		return []ImageDetail{imageDetail(primary, "", uri, resolved)}, ""
	}
	details := make([]ImageDetail, len(placeholders))
	for i, p := range placeholders {
		// setImages made sure the image is there and no placeholder.
		details[i] = imageDetail(p.Container, p.Token, containers[p.Container].GetString("image"), resolved)
	}
	return details, ""
}

func imageDetail(container, token, uri string, resolved map[string]ResolvedImage) ImageDetail {
	d := ImageDetail{Container: container, Token: token, ImageURI: uri}
	if ri, ok := resolved[uri]; ok {
		d.ImageDigest = ri.Digest
		d.ImageTags = ri.Tags
		d.RegistryID = ri.RegistryID
		d.RepositoryName = ri.RepositoryName
		d.ImagePushedAt = ri.PushedAt
		d.ImageSizeInBytes = ri.SizeBytes
	}
	return d
}

// imageDefinitions lists, in document order, the containers whose image
// the Amazon ECS (rolling) action should set: every container whose image
// was resolved in ECR, sidecars included, so that their pins reach the
// service too, and every --image container; with no --image, every
// container. A container whose image is a CodeDeploy placeholder has no
// image the action could use and is left out. The action rejects an empty
// list, so with no entry the file is not written, and the notice says why.
func imageDefinitions(td *Node, images []Image, resolved map[string]ResolvedImage) ([]ImageDefinition, string) {
	var defs []ImageDefinition
	cds := td.Get("containerDefinitions")
	if cds == nil || cds.Kind != Array {
		return nil, "" // the checks report it
	}
	for _, c := range cds.Items {
		name, uri := c.GetString("name"), c.GetString("image")
		if uri == "" || ref.IsPlaceholder(uri) {
			continue
		}
		_, inECR := resolved[uri]
		given := slices.ContainsFunc(images, func(img Image) bool { return img.Container == name })
		if inECR || given || len(images) == 0 {
			defs = append(defs, ImageDefinition{Name: name, ImageURI: uri})
		}
	}
	if len(defs) == 0 {
		return nil, "imagedefinitions.json not written: every container's image is a CodeDeploy placeholder, and the Amazon ECS deploy action rejects an empty list"
	}
	return defs, ""
}
