package render

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/ecsrender/ecsrender/render/ref"
)

// DefaultParallel is how many services of a manifest render at once by
// default: enough to keep S3 and ECR busy, few enough to bound memory.
const DefaultParallel = 8

// ManifestOptions are the settings of a manifest run that come from the
// command line rather than from the manifest.
type ManifestOptions struct {
	// Only renders these services alone; empty renders every service.
	Only []string
	// Images set the image of the container of their name in every service
	// that has one (--image); each must fit at least one service.
	Images []Image
	// Variables are added to every service's (--var).
	Variables map[string]string
	// LookupEnv reads the environment for templates; nil reads nothing.
	LookupEnv func(string) (string, bool)
	// Pin is Options.Pin for every service.
	Pin bool
	// Verify is Options.Verify for every service; a service's cluster and
	// service keys become its Options.Target.
	Verify bool
	// Parallel bounds the services rendering at once; 0 is DefaultParallel.
	Parallel int
	// Finish, if set, is given each service's result as soon as the
	// service renders, from the service's own goroutine (so at most
	// Parallel at once), to turn it into what the caller keeps, such as
	// the encoded artifacts. An error fails that service. The run then
	// keeps only the result's messages (Notices, Warnings, Changes), so
	// that many services cost their encoded bytes, not their documents.
	Finish func(service string, r *Result) error
}

// ServiceResult is one rendered service of a manifest. With
// ManifestOptions.Finish its Result holds the messages alone.
type ServiceResult struct {
	Name   string
	Result *Result
}

// ServiceFailure is one service that failed.
type ServiceFailure struct {
	Name string
	Err  error
}

// ServicesError is a manifest run in which services failed. It lists them
// all, in manifest order, each line starting with the service's name.
type ServicesError struct {
	Failures []ServiceFailure
}

// Error returns every line of every failure, as `service "web": ...`.
func (e *ServicesError) Error() string {
	var lines []string
	for _, f := range e.Failures {
		for _, line := range strings.Split(f.Err.Error(), "\n") {
			lines = append(lines, fmt.Sprintf("service %q: %s", f.Name, line))
		}
	}
	return strings.Join(lines, "\n")
}

// Select returns the services named in only, in manifest order, or every
// service when only is empty. A name the manifest lacks is an
// *OptionError of option "only" that lists the names it has.
func (m *Manifest) Select(only []string) ([]ManifestService, error) {
	if len(only) == 0 {
		return m.Services, nil
	}
	want := make(map[string]bool, len(only))
	for _, name := range only {
		want[name] = true
	}
	var out []ManifestService
	for _, s := range m.Services {
		if want[s.Name] {
			out = append(out, s)
			delete(want, s.Name)
		}
	}
	if len(want) > 0 {
		names := make([]string, len(m.Services))
		for i, s := range m.Services {
			names[i] = s.Name
		}
		// Every missing name at once, in the order given.
		var missing []string
		for _, name := range only {
			if want[name] {
				missing = append(missing, quoteIfNeeded(name))
				delete(want, name)
			}
		}
		what := "no such service"
		if len(missing) > 1 {
			what = "no such services"
		}
		return nil, &OptionError{Option: "only", Value: strings.Join(missing, ","), Err: fmt.Errorf("%s in %s; it has %s", what, escapeControl(m.File), quoteList(names))}
	}
	return out, nil
}

// RenderManifest renders the services of m (those of o.Only) in parallel,
// at most o.Parallel at once, sharing d: each distinct template and AppSpec
// source is read once, and the images of every service are looked up
// together, once per ECR repository for the whole run. It writes nothing.
//
// It goes over the services twice. The first pass reads and evaluates
// each template only to learn its containers and images, and keeps
// nothing else; the images of all services are then looked up in one
// Resolve. The second renders each service, its images answered at once.
// So no service waits for the others' images while holding its document:
// at most o.Parallel documents are alive at a time, however many services
// the manifest has.
//
// It returns every service's result, in manifest order, or nothing: one
// failing service fails the run, and the error lists every failure with
// its service's name. Input problems alone are an *InputError (the CLI's
// exit 2); a failure of AWS or the file system makes the error another.
func RenderManifest(ctx context.Context, m *Manifest, o ManifestOptions, d Deps) ([]ServiceResult, error) {
	services, err := m.Select(o.Only)
	if err != nil {
		return nil, err
	}
	parallel := o.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	loader := newSharedLoader(d.Loader)
	d.Loader = loader
	d.imagesAtOnce = true
	// One cache for the run: services that share a role, a secret or a
	// log group ask about it once.
	if d.VerifyCache == nil {
		d.VerifyCache = NewVerifyCache()
	}

	results := make([]*Result, len(services))
	errs := make([]error, len(services))
	opts := make([]Options, len(services))
	// Which containers each service has, for the command line's images.
	has := make([]map[string]bool, len(services))
	refs := make([][]ref.ImageRef, len(services))
	skeletons := newSkeletons(loader)
	inParallel(ctx, len(services), parallel, errs, func(i int) error {
		s := services[i]
		var err error
		if opts[i], err = serviceOptions(s, o); err != nil {
			return err
		}
		// A template that cannot be read or evaluated gives nothing here:
		// the render fails on it the same way and says why.
		td := skeletons.evaluated(ctx, opts[i])
		if len(o.Images) > 0 && td != nil {
			has[i] = map[string]bool{}
			for _, name := range containerNames(td) {
				has[i][name] = true
			}
		}
		if opts[i].Images, err = addRunImages(s, opts[i].Images, o.Images, has[i]); err != nil {
			return err
		}
		if td != nil && d.Resolver != nil && setImages(containerIndex(td), opts[i].Images, opts[i].Placeholders) == nil {
			refs[i] = templateImageRefs(td)
		}
		return nil
	})
	if d.Resolver != nil {
		d.Resolver = resolveAll(ctx, d.Resolver, slices.Concat(refs...))
		// Every service's images are pinned now: their platforms are
		// claimed in the shared cache before any service renders and asked
		// for in one batch for the run (one BatchGetImage per repository,
		// not one per service and image), beside the renders, whose verify
		// finds each answer in the cache or in flight.
		if p, ok := d.Resolver.(prefetched); ok && p.err == nil && o.Verify && o.Pin && d.Lookups != nil {
			actx, stop := context.WithCancel(ctx)
			var ahead sync.WaitGroup
			defer func() {
				stop()
				ahead.Wait()
			}()
			ahead.Go(platformsStart(actx, *d.Lookups, d.VerifyCache, p.found))
		}
	}
	refs, skeletons = nil, nil
	inParallel(ctx, len(services), parallel, errs, func(i int) error {
		r, err := Render(ctx, opts[i], d)
		if err != nil {
			return err
		}
		if o.Finish != nil {
			if err := o.Finish(services[i].Name, r); err != nil {
				return err
			}
			r = &Result{Notices: r.Notices, Warnings: r.Warnings, Changes: r.Changes}
		}
		results[i] = r
		return nil
	})

	var failures []ServiceFailure
	allInput := true
	for i, err := range errs {
		if err != nil {
			failures = append(failures, ServiceFailure{Name: services[i].Name, Err: err})
			allInput = allInput && IsInputError(err)
		}
	}
	if len(failures) > 0 {
		se := &ServicesError{Failures: failures}
		if allInput {
			return nil, &InputError{Err: se}
		}
		return nil, se
	}
	// An image no service has a container for is a typo in the pipeline,
	// not something to skip: the build's image would never be deployed.
	// With --only the run is a shard of a batch build, which passes every
	// shard the same --image: the container may be another shard's.
	for _, img := range o.Images {
		if len(o.Only) > 0 {
			break
		}
		if !slices.ContainsFunc(has, func(h map[string]bool) bool { return h[img.Container] }) {
			return nil, &OptionError{Option: "image", Value: quoteIfNeeded(img.Container), Err: fmt.Errorf("no service has a container named %q", img.Container)}
		}
	}
	out := make([]ServiceResult, len(services))
	for i, s := range services {
		out[i] = ServiceResult{Name: s.Name, Result: results[i]}
	}
	return out, nil
}

// serviceOptions adds the run's settings to a service's own options. A
// variable given both in the manifest and on the command line is refused:
// two values for one name are almost always a mistake.
func serviceOptions(s ManifestService, o ManifestOptions) (Options, error) {
	opts := s.Options
	opts.LookupEnv = o.LookupEnv
	opts.Pin = o.Pin
	opts.Verify = o.Verify
	if s.Cluster != "" {
		opts.Target = &VerifyTarget{Cluster: s.Cluster, Service: s.Service}
	}
	opts.Variables = make(map[string]string, len(s.Options.Variables)+len(o.Variables))
	maps.Copy(opts.Variables, s.Options.Variables)
	for _, k := range slices.Sorted(maps.Keys(o.Variables)) {
		if line, ok := s.varLines[k]; ok {
			return Options{}, &InputError{Err: fmt.Errorf("var %s: given both in the manifest (line %d) and with --var; give it in one place", quoteIfNeeded(k), line)}
		}
		opts.Variables[k] = o.Variables[k]
	}
	opts.Images = slices.Clone(s.Options.Images)
	opts.Placeholders = slices.Clone(s.Options.Placeholders)
	return opts, nil
}

// addRunImages adds the command line's images of the containers the
// service has. An image the manifest gives too is refused, like a variable.
func addRunImages(s ManifestService, own, run []Image, has map[string]bool) ([]Image, error) {
	for _, img := range run {
		if line, ok := s.imageLines[img.Container]; ok {
			return nil, &InputError{Err: fmt.Errorf("image %s: given both in the manifest (line %d) and with --image; give it in one place", quoteIfNeeded(img.Container), line)}
		}
		if has[img.Container] {
			own = append(own, img)
		}
	}
	return own, nil
}

// inParallel runs f(i) for each service without an error in errs yet, at
// most parallel at once, and records what it returns in errs[i]. A service
// not started when ctx ends gets ctx's error.
func inParallel(ctx context.Context, n, parallel int, errs []error, f func(i int) error) {
	slots := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		if errs[i] != nil {
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			errs[i] = ctx.Err()
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			errs[i] = f(i)
		})
	}
	wg.Wait()
}

// skeletons are the templates of a run cut down to what its first pass
// needs, each container's name and image: a template is parsed once
// however many services use it, and a service evaluates only those few
// strings, not its whole document.
type skeletons struct {
	loader Loader
	mu     sync.Mutex
	bySrc  map[string]*skeleton
}

type skeleton struct {
	once sync.Once
	td   *Node // nil when the template cannot be read or parsed
}

func newSkeletons(l Loader) *skeletons {
	return &skeletons{loader: l, bySrc: map[string]*skeleton{}}
}

// evaluated is the skeleton of the service's template evaluated with the
// service's variables, or nil when the template cannot be read, parsed or
// evaluated: the render then fails on it the same way and says why. A
// template action cannot change a document's structure, so the names and
// images are those the whole document's evaluation gives.
func (s *skeletons) evaluated(ctx context.Context, o Options) *Node {
	s.mu.Lock()
	sk, ok := s.bySrc[o.Template.String()]
	if !ok {
		sk = &skeleton{}
		s.bySrc[o.Template.String()] = sk
	}
	s.mu.Unlock()
	sk.once.Do(func() {
		if td, _, err := loadTaskDefinition(ctx, s.loader, o.Template); err == nil {
			sk.td = namesAndImages(td)
		}
	})
	if sk.td == nil {
		return nil
	}
	td := namesAndImages(sk.td) // a copy: evaluation writes in place
	data := TemplateData{Vars: o.Variables, LookupEnv: o.LookupEnv, Context: ctx}
	if problems, err := evaluateTaskDefinition(td, data); err != nil || len(problems) > 0 {
		return nil
	}
	return td
}

// namesAndImages is a task definition holding only the name and image
// strings of td's containers, in order.
func namesAndImages(td *Node) *Node {
	cds := td.Get("containerDefinitions")
	if cds == nil || cds.Kind != Array {
		return nil
	}
	out := &Node{Kind: Array}
	for _, c := range cds.Items {
		item := NewObject()
		for _, key := range []string{"name", "image"} {
			if v := c.Get(key); v != nil && v.Kind == String {
				item.Members = append(item.Members, Member{Key: key, Value: NewString(v.Str)})
			}
		}
		out.Items = append(out.Items, item)
	}
	return NewObject(Member{Key: "containerDefinitions", Value: out})
}
