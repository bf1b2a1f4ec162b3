package render

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options are the inputs of one service's render, as the user gave them.
// Flag values arrive as the raw strings of the command line; Render parses
// and checks them, so that every way of calling it gets the same errors.
type Options struct {
	// Template is the task definition template: s3://BUCKET/KEY[?versionId=V], a path, or "-".
	Template string
	// AppSpec is an AppSpec template source; empty means build it from AppSpecOptions.
	AppSpec string
	// NoAppSpec skips the AppSpec (pipelines that only deploy rolling updates).
	NoAppSpec bool
	// AppSpecOptions are the flags that build an AppSpec when AppSpec is empty.
	AppSpecOptions AppSpecOptions
	// Images are the --image NAME=REF values.
	Images []string
	// Placeholders are the --placeholder NAME=TOKEN values.
	Placeholders []string
	// Vars are the --var KEY=VALUE values.
	Vars []string
	// LookupEnv reads the environment for templates; nil reads nothing.
	LookupEnv func(string) (string, bool)
	// Pin replaces each ECR tag with its digest (REPO@sha256:...). Without it
	// tags are kept, but still checked to exist.
	Pin bool
}

// Deps are the outside world a render reaches. Resolver is shared by every
// render of a run so that many services share ECR lookups; it is nil when
// offline, and images are then used exactly as given.
type Deps struct {
	Loader   *Loader
	Resolver *ImageResolver
}

// Result is a rendered, checked service: everything package artifacts
// writes, and what the CLI tells the user.
type Result struct {
	// TaskDef is the RegisterTaskDefinition document for taskdef.json.
	TaskDef *Node
	// AppSpec is nil when none is written (--no-appspec, or no load balancer).
	AppSpec *AppSpec
	// ImageDetail is the primary container's image for imageDetail.json.
	ImageDetail ImageDetail
	// ImageDefinitions are the entries of imagedefinitions.json.
	ImageDefinitions []ImageDefinition
	// Notices tell the user what was done on their behalf.
	Notices []string
	// Warnings are things that are allowed but probably wrong.
	Warnings []Problem

	// resolved maps each image written into TaskDef to what ECR said of it.
	resolved map[string]ResolvedImage
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

// readOnlyFields are what describe-task-definition returns and
// RegisterTaskDefinition refuses.
var readOnlyFields = []string{"taskDefinitionArn", "revision", "status", "requiresAttributes",
	"compatibilities", "registeredAt", "registeredBy", "deregisteredAt"}

// placeholderToken is the form of a CodeDeployToECS image placeholder.
var placeholderToken = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// Render loads, evaluates, resolves and checks one service. It writes
// nothing. Input problems come back as *InputError or *ProblemsError (the
// CLI's exit 2); AWS and file-system failures as other errors.
func Render(ctx context.Context, o Options, d Deps) (*Result, error) {
	vars, err := ParseVars(o.Vars)
	if err != nil {
		return nil, err
	}
	images, imageNames, err := parseNamePairs("--image", "NAME=REF", o.Images)
	if err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(images) {
		if _, err := ParseImageRef(images[name]); err != nil {
			return nil, &InputError{fmt.Errorf("--image %s: %w", name, err)}
		}
	}
	placeholders, _, err := parseNamePairs("--placeholder", "NAME=TOKEN", o.Placeholders)
	if err != nil {
		return nil, err
	}
	for name, tok := range placeholders {
		if !placeholderToken.MatchString(tok) {
			return nil, &InputError{fmt.Errorf("--placeholder %s=%s: want a token of letters, digits and _ such as IMAGE1_NAME", name, tok)}
		}
	}
	if o.AppSpec != "" && o.NoAppSpec {
		return nil, &InputError{fmt.Errorf("--appspec and --no-appspec: give one or the other")}
	}
	tsrc, err := ParseSource(o.Template)
	if err != nil {
		return nil, err
	}
	var asrc Source
	if o.AppSpec != "" {
		if asrc, err = ParseSource(o.AppSpec); err != nil {
			return nil, err
		}
		if asrc.Kind == SourceStdin && tsrc.Kind == SourceStdin {
			return nil, &InputError{fmt.Errorf("--template and --appspec cannot both read stdin")}
		}
	}

	res := &Result{}
	raw, err := d.Loader.Load(ctx, tsrc)
	if err != nil {
		return nil, err
	}
	object := "template " + tsrc.String()
	td, err := ParseJSON(raw)
	if err != nil {
		return nil, &InputError{fmt.Errorf("%s: %w", object, err)}
	}
	td, notice, err := unwrapDescribe(td)
	if err != nil {
		return nil, &InputError{fmt.Errorf("%s: %w", object, err)}
	}
	if notice != "" {
		res.Notices = append(res.Notices, object+": "+notice)
	}

	tdata := TemplateData{Vars: vars, LookupEnv: o.LookupEnv, Context: ctx}
	ev := newEvaluator(tdata)
	ev.evaluate(td, TaskDefinitionShape(), "")
	if err := ev.stopped(); err != nil {
		return nil, fmt.Errorf("%s: %w", object, err)
	}
	if len(ev.problems) > 0 {
		return nil, &ProblemsError{Object: object, Problems: ev.problems}
	}

	containers := containerIndex(td)
	if err := checkNames("--image", images, containers); err != nil {
		return nil, err
	}
	if err := checkNames("--placeholder", placeholders, containers); err != nil {
		return nil, err
	}
	for name, ref := range images {
		containers[name].Set("image", NewString(ref))
	}

	// Everything that needs no network is checked before ECR is asked, so
	// a typo is reported at once, not after --wait-for-image runs out.
	problems, warnings := CheckTaskDefinition(td)
	res.Warnings = append(res.Warnings, warnings...)
	if len(problems) > 0 {
		return nil, &ProblemsError{Object: object, Problems: problems}
	}
	lb, err := loadBalancedContainer(ctx, o, asrc, tdata, td, d.Loader, res)
	if err != nil {
		return nil, err
	}
	// The primary container is the one whose image CodeDeployToECS swaps:
	// the load balancer's, else the first --image, else the first container.
	primary := cmp.Or(lb, first(imageNames), first(containerNames(td)))
	if err := checkPlaceholderTarget(primary, placeholders); err != nil {
		return nil, err
	}

	if err := resolveImages(ctx, td, placeholders, d.Resolver, o.Pin, res); err != nil {
		return nil, err
	}
	// Pinning lengthens the document; only the size can have changed.
	if len(res.resolved) > 0 && o.Pin {
		if problems, _ := CheckTaskDefinition(td); len(problems) > 0 {
			return nil, &ProblemsError{Object: object, Problems: problems}
		}
	}

	res.TaskDef = td
	res.ImageDetail = imageDetail(containers[primary], res.resolved)
	if res.ImageDetail.ImageURI == "" {
		res.Notices = append(res.Notices, fmt.Sprintf("imageDetail.json not written: container %s has no image of its own to describe (pass --image %s=REF to write one)", primary, primary))
	}
	if len(imageNames) > 0 {
		res.ImageDefinitions = imageDefinitions(containers, imageNames)
	} else {
		res.ImageDefinitions = imageDefinitions(containers, containerNames(td))
	}
	// Placeholders go in last: everything above needed the real image.
	for name, tok := range placeholders {
		containers[name].Set("image", NewString("<"+tok+">"))
	}
	return res, nil
}

// appSpecFlags names the AppSpec flags that were given.
func appSpecFlags(a AppSpecOptions) []string {
	var given []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"--container", a.Container != ""},
		{"--platform-version", a.PlatformVersion != ""},
		{"--subnet", len(a.Subnets) > 0},
		{"--security-group", len(a.SecurityGroups) > 0},
		{"--assign-public-ip", a.AssignPublicIP != ""},
		{"--capacity-provider", len(a.CapacityProviders) > 0},
		{"--hook", len(a.Hooks) > 0},
	} {
		if f.set {
			given = append(given, f.name)
		}
	}
	return given
}

// loadBalancedContainer builds or reads the AppSpec into res and returns the
// load-balanced container it names ("" when there is none). Flags that
// would be ignored are refused: a --subnet given next to --appspec would
// otherwise silently not be deployed.
func loadBalancedContainer(ctx context.Context, o Options, asrc Source, tdata TemplateData, td *Node, loader *Loader, res *Result) (string, error) {
	given := appSpecFlags(o.AppSpecOptions)
	switch {
	case o.AppSpec != "":
		if len(given) > 0 {
			return "", &InputError{fmt.Errorf("%s: the AppSpec comes from --appspec; set it there", given[0])}
		}
		raw, err := loader.Load(ctx, asrc)
		if err != nil {
			return "", err
		}
		if res.AppSpec, err = ParseAppSpec(raw, tdata, td); err != nil {
			return "", err
		}
	case o.NoAppSpec:
		if len(given) > 0 && given[0] != "--container" || len(given) > 1 {
			return "", &InputError{fmt.Errorf("%s: no AppSpec is written with --no-appspec", given[len(given)-1])}
		}
		if len(given) == 1 {
			// --container still names the primary container.
			a, err := BuildAppSpec(td, AppSpecOptions{Container: o.AppSpecOptions.Container})
			if err != nil {
				return "", err
			}
			name, _ := a.Container()
			return name, nil
		}
	default:
		var err error
		if res.AppSpec, err = BuildAppSpec(td, o.AppSpecOptions); err != nil {
			return "", err
		}
		if res.AppSpec == nil {
			res.Notices = append(res.Notices, "no container maps a port, so there is no load balancer to shift: appspec.yaml not written (rolling deploys need none)")
		}
	}
	name, _ := res.AppSpec.Container()
	return name, nil
}

// unwrapDescribe turns the output of `aws ecs describe-task-definition`
// into a RegisterTaskDefinition document: people copy a live revision as
// the starting point of a template, and ECS refuses its read-only fields.
func unwrapDescribe(td *Node) (*Node, string, error) {
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
			return nil, "", fmt.Errorf("want a task definition, got an object with taskDefinition and %s", otherKey(NewObject(present...), "taskDefinition"))
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

// parseNamePairs parses repeated NAME=VALUE flags such as --image web=REF,
// and returns the names in the order given as well.
func parseNamePairs(flag, form string, pairs []string) (map[string]string, []string, error) {
	out := make(map[string]string, len(pairs))
	var names []string
	for _, p := range pairs {
		name, val, ok := strings.Cut(p, "=")
		if !ok || name == "" || val == "" {
			return nil, nil, &InputError{fmt.Errorf("%s %q: want %s", flag, p, form)}
		}
		if _, dup := out[name]; dup {
			return nil, nil, &InputError{fmt.Errorf("%s %s: given twice", flag, name)}
		}
		out[name] = val
		names = append(names, name)
	}
	return out, names, nil
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

func containerNames(td *Node) []string {
	var names []string
	if cds := td.Get("containerDefinitions"); cds != nil && cds.Kind == Array {
		for _, c := range cds.Items {
			names = append(names, c.GetString("name"))
		}
	}
	return names
}

func checkNames(flag string, given map[string]string, containers map[string]*Node) error {
	for _, name := range sortedKeys(given) {
		if _, ok := containers[name]; !ok {
			return &InputError{fmt.Errorf("%s %s: no container named %q; the template has %s", flag, name, name, quoteList(sortedKeys(containers)))}
		}
	}
	return nil
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
// as much as the app's) and pins them when asked.
func resolveImages(ctx context.Context, td *Node, placeholders map[string]string, r *ImageResolver, pin bool, res *Result) error {
	cds := td.Get("containerDefinitions")
	if cds == nil || cds.Kind != Array {
		return nil // the checks report it
	}
	type site struct {
		node *Node
		ref  ImageRef
	}
	var sites []site
	var refs []ImageRef
	var problems []Problem
	for i, c := range cds.Items {
		img := c.Get("image")
		if img == nil || img.Kind != String || img.Str == "" {
			continue // the checks report it
		}
		path := indexPath("containerDefinitions", i) + ".image"
		if isPlaceholder(img.Str) {
			if _, ok := placeholders[c.GetString("name")]; !ok {
				res.Notices = append(res.Notices, fmt.Sprintf("%s: %s left for CodeDeployToECS to fill from imageDetail.json", path, img.Str))
			}
			continue
		}
		ref, err := ParseImageRef(img.Str)
		if err != nil {
			problems = append(problems, Problem{Path: path, Msg: err.Error()})
			continue
		}
		if ref.ECR == nil {
			if r != nil {
				res.Notices = append(res.Notices, fmt.Sprintf("%s: %s is not in ECR; used as given", path, img.Str))
			}
			continue
		}
		sites = append(sites, site{img, ref})
		refs = append(refs, ref)
	}
	if len(problems) > 0 {
		return &ProblemsError{Object: "task definition", Problems: problems}
	}
	if r == nil || len(refs) == 0 {
		return nil
	}
	resolved, err := r.Resolve(ctx, refs)
	if err != nil {
		return err
	}
	if res.resolved == nil {
		res.resolved = map[string]ResolvedImage{}
	}
	for _, s := range sites {
		ri, ok := resolved[s.ref.String()]
		if !ok {
			return fmt.Errorf("image %s: not resolved", s.ref) // a resolver bug, not user input
		}
		if pin {
			s.node.Str = ri.Pinned().String()
		}
		res.resolved[s.node.Str] = ri
	}
	return nil
}

func isPlaceholder(s string) bool {
	return len(s) > 2 && s[0] == '<' && s[len(s)-1] == '>' && placeholderToken.MatchString(s[1:len(s)-1])
}

// checkPlaceholderTarget refuses placeholders that imageDetail.json cannot
// fill. CodeDeployToECS replaces <TOKEN> with the ImageURI of
// imageDetail.json, which describes the primary container; a placeholder
// on any other container would give it the primary container's image.
func checkPlaceholderTarget(primary string, placeholders map[string]string) error {
	if len(placeholders) == 0 {
		return nil
	}
	if _, ok := placeholders[primary]; ok {
		return nil
	}
	names := sortedKeys(placeholders)
	return &InputError{fmt.Errorf("--placeholder %s=%s: imageDetail.json describes container %q (the load-balanced one, else the first --image), so CodeDeployToECS would give %s the image of %s; put the placeholder on %s or pass --container %s:PORT",
		names[0], placeholders[names[0]], primary, names[0], primary, primary, names[0])}
}

// first returns the first of names, or "".
func first(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// imageDetail describes the primary container's image in the form
// CodePipeline's ECR source action writes, so CodeDeployToECS reads it the
// same way whichever produced it.
func imageDetail(c *Node, resolved map[string]ResolvedImage) ImageDetail {
	uri := c.GetString("image")
	if isPlaceholder(uri) {
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

// imageDefinitions lists the named containers: those set by --image, in
// the order of the flags, or every container when none was given. A
// container whose image is still a CodeDeployToECS placeholder has no image
// to deploy with the ECS action and is left out.
func imageDefinitions(containers map[string]*Node, names []string) []ImageDefinition {
	var defs []ImageDefinition
	for _, name := range names {
		uri := containers[name].GetString("image")
		if uri == "" || isPlaceholder(uri) {
			continue
		}
		defs = append(defs, ImageDefinition{Name: name, ImageURI: uri})
	}
	return defs
}
