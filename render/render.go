package render

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
}

// Result is a rendered, checked service: everything package artifacts
// writes, and what the CLI tells the user.
type Result struct {
	// TaskDef is the RegisterTaskDefinition document for taskdef.json.
	TaskDef *Node
	// AppSpec is nil when none is written (NoAppSpec, or no load balancer).
	AppSpec *appspec.AppSpec
	// ImageDetail is the primary container's image for imageDetail.json.
	ImageDetail ImageDetail
	// ImageDefinitions are the entries of imagedefinitions.json.
	ImageDefinitions []ImageDefinition
	// Notices tell the user what was done on their behalf.
	Notices []string
	// Warnings are things that are allowed but probably wrong.
	Warnings []Problem
}

// ImageDetail is the imageDetail.json of CodePipeline's ECR source action,
// which CodeDeployToECS reads through Image1ArtifactName. Only ImageURI is
// set for images that were not resolved in ECR.
type ImageDetail struct {
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
	if err := checkPlaceholderTokens(o.Placeholders); err != nil {
		return nil, err
	}
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

	// Everything that needs no network is checked before ECR is asked, so
	// a typo is reported at once, not after a wait for an image runs out.
	problems, warnings := CheckTaskDefinition(td)
	if len(problems) > 0 {
		return nil, &ProblemsError{Object: object, Problems: problems}
	}
	as, lb, notice, err := makeAppSpec(ctx, o, d.Loader, data, td)
	if err != nil {
		return nil, err
	}
	notices = appendNonEmpty(notices, notice)
	// The primary container is the one whose image CodeDeployToECS swaps:
	// the load balancer's, else the first image set, else the first container.
	primary := cmp.Or(lb, firstImage(o.Images), first(containerNames(td)))
	if err := checkPlaceholderTarget(primary, o.Placeholders); err != nil {
		return nil, err
	}

	resolved, resolveNotices, err := resolveImages(ctx, td, o.Placeholders, d.Resolver, o.Pin)
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

	detail := imageDetail(containers[primary], resolved)
	if detail.ImageURI == "" {
		notices = append(notices, fmt.Sprintf("imageDetail.json not written: container %s has no image of its own to describe (pass --image %s=REF to write one)", primary, primary))
	}
	names := containerNames(td)
	if len(o.Images) > 0 {
		names = nil
		for _, img := range o.Images {
			names = append(names, img.Container)
		}
	}
	defs := imageDefinitions(containers, names)
	// Placeholders go in last: everything above needed the real image.
	for _, p := range o.Placeholders {
		containers[p.Container].Set("image", NewString(ref.Placeholder(p.Token)))
	}
	return &Result{
		TaskDef:          td,
		AppSpec:          as,
		ImageDetail:      detail,
		ImageDefinitions: defs,
		Notices:          notices,
		Warnings:         warnings,
	}, nil
}

func appendNonEmpty(list []string, s string) []string {
	if s == "" {
		return list
	}
	return append(list, s)
}

// checkPlaceholderTokens checks every token in container name order, so
// that of two bad ones the same one is reported every time.
func checkPlaceholderTokens(ps []Placeholder) error {
	ps = slices.SortedFunc(slices.Values(ps), func(a, b Placeholder) int { return cmp.Compare(a.Container, b.Container) })
	for _, p := range ps {
		if err := ref.CheckToken(p.Token); err != nil {
			return &OptionError{Option: "placeholder", Value: p.Container + "=" + p.Token, Err: err}
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

// checkPlaceholderTarget refuses placeholders that imageDetail.json cannot
// fill. CodeDeployToECS replaces <TOKEN> with the ImageURI of
// imageDetail.json, which describes the primary container; a placeholder
// on any other container would give it the primary container's image.
func checkPlaceholderTarget(primary string, placeholders []Placeholder) error {
	if len(placeholders) == 0 {
		return nil
	}
	byName := make(map[string]string, len(placeholders))
	for _, p := range placeholders {
		byName[p.Container] = p.Token
	}
	if _, ok := byName[primary]; ok {
		return nil
	}
	name := sortedKeys(byName)[0]
	return &OptionError{Option: "placeholder", Value: name + "=" + byName[name], Err: fmt.Errorf("imageDetail.json describes container %q (the load-balanced one, else the first --image), so CodeDeployToECS would give %s the image of %s; put the placeholder on %s or pass --container %s:PORT",
		primary, name, primary, primary, name)}
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

// imageDetail describes the primary container's image in the form
// CodePipeline's ECR source action writes, so CodeDeployToECS reads it the
// same way whichever produced it.
func imageDetail(c *Node, resolved map[string]ResolvedImage) ImageDetail {
	uri := c.GetString("image")
	if ref.IsPlaceholder(uri) {
		return ImageDetail{}
	}
	ri, ok := resolved[uri]
	if !ok {
		return ImageDetail{ImageURI: uri}
	}
	return ImageDetail{
		ImageURI:         uri,
		ImageDigest:      ri.Digest,
		ImageTags:        ri.Tags,
		RegistryID:       ri.RegistryID,
		RepositoryName:   ri.RepositoryName,
		ImagePushedAt:    ri.PushedAt,
		ImageSizeInBytes: ri.SizeBytes,
	}
}

// imageDefinitions lists the named containers: those whose image was set,
// in the order given, or every container when none was. A container whose
// image is still a CodeDeploy placeholder has no image to deploy with the
// ECS action and is left out.
func imageDefinitions(containers map[string]*Node, names []string) []ImageDefinition {
	var defs []ImageDefinition
	for _, name := range names {
		uri := containers[name].GetString("image")
		if uri == "" || ref.IsPlaceholder(uri) {
			continue
		}
		defs = append(defs, ImageDefinition{Name: name, ImageURI: uri})
	}
	return defs
}
