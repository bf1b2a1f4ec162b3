package render

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/ecsrender/ecsrender/render/appspec"
	"github.com/ecsrender/ecsrender/render/ref"
)

// This file is what lets Render overlap work that does not depend on each
// other: the template read, the AppSpec read and the ECR lookups of the
// images given start together; the images named only in the template, and
// the verify lookups that need no digest, start as soon as the document is
// evaluated. The results are put together in a fixed order, so the output
// does not depend on which answer came first.

// loadAhead is a Loader that reads one source in the background, ahead of
// need, and every other source through next.
type loadAhead struct {
	next Loader
	src  ref.Source
	done chan struct{}
	raw  []byte
	err  error
}

// startLoad begins reading src, if there is one, and returns the Loader
// that hands its bytes over when asked.
func startLoad(ctx context.Context, bg *sync.WaitGroup, l Loader, src *ref.Source) Loader {
	if src == nil || l == nil {
		return l
	}
	a := &loadAhead{next: l, src: *src, done: make(chan struct{})}
	bg.Go(func() {
		defer close(a.done)
		a.raw, a.err = l.Load(ctx, a.src)
	})
	return a
}

// Load returns the source read ahead, or reads any other.
func (a *loadAhead) Load(ctx context.Context, src ref.Source) ([]byte, error) {
	if src != a.src {
		return a.next.Load(ctx, src)
	}
	// The read runs under the same context and words its own deadline.
	<-a.done
	return a.raw, a.err
}

// resolveAhead is a Resolver over answers asked for ahead of need: each
// start asks the shared resolver, in the background, about the ECR images
// that no earlier start asked about, and Resolve collects the answers.
type resolveAhead struct {
	r     Resolver
	bg    *sync.WaitGroup
	asked map[string]bool
	calls []*resolveCall
	// resolved, when set, is given each call's answers once Resolve has
	// them, in the call's goroutine.
	resolved func(map[string]ResolvedImage)
}

type resolveCall struct {
	done  chan struct{}
	found map[string]ResolvedImage
	err   error
}

func newResolveAhead(r Resolver, bg *sync.WaitGroup) *resolveAhead {
	return &resolveAhead{r: r, bg: bg, asked: map[string]bool{}}
}

// start asks about the ECR images among refs that no call has asked about.
// It is called from Render's goroutine only.
func (p *resolveAhead) start(ctx context.Context, refs []ref.ImageRef) {
	var ask []ref.ImageRef
	for _, r := range refs {
		if r.ECR != nil && !p.asked[r.String()] {
			p.asked[r.String()] = true
			ask = append(ask, r)
		}
	}
	if len(ask) == 0 {
		return
	}
	c := &resolveCall{done: make(chan struct{})}
	p.calls = append(p.calls, c)
	p.bg.Go(func() {
		c.found, c.err = p.r.Resolve(ctx, ask)
		close(c.done)
		if c.err == nil && p.resolved != nil {
			p.resolved(c.found)
		}
	})
}

// Resolve starts what is still unasked among refs, then waits for every
// call and returns their answers; errors in the order the calls started.
func (p *resolveAhead) Resolve(ctx context.Context, refs []ref.ImageRef) (map[string]ResolvedImage, error) {
	p.start(ctx, refs)
	out := map[string]ResolvedImage{}
	var errs []error
	for _, c := range p.calls {
		// The call runs under the same context and words its own
		// deadline, naming the repository.
		<-c.done
		if c.err != nil {
			errs = append(errs, c.err)
			continue
		}
		for k, v := range c.found {
			out[k] = v
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// givenImageRefs are the references given with --image, in the order given.
func givenImageRefs(images []Image) []ref.ImageRef {
	refs := make([]ref.ImageRef, 0, len(images))
	for _, img := range images {
		refs = append(refs, img.Ref)
	}
	return refs
}

// templateImageRefs are the well-formed image references of td's
// containers, in document order; resolveImages reports the others.
func templateImageRefs(td *Node) []ref.ImageRef {
	var refs []ref.ImageRef
	cds := td.Get("containerDefinitions")
	if cds == nil || cds.Kind != Array {
		return nil
	}
	for _, c := range cds.Items {
		img := c.Get("image")
		if img == nil || img.Kind != String || img.Str == "" || ref.IsPlaceholder(img.Str) {
			continue
		}
		if ir, err := ref.ParseImageRef(img.Str); err == nil {
			refs = append(refs, ir)
		}
	}
	return refs
}

// enabledLookups are the lookups of a render that verifies, or nil.
func enabledLookups(o Options, d Deps) *VerifyLookups {
	if !o.Verify || d.Lookups == nil {
		return nil
	}
	return d.Lookups
}

// verifyRefProblems waits for the lookups begun for td and returns the
// problems of its references alone: what a render whose document failed
// its checks adds to them, so that every problem comes at once. A lookup
// that failed is left out: the document's own problems come first.
func verifyRefProblems(ctx context.Context, td *Node, region string, lk VerifyLookups, cache *VerifyCache) []Problem {
	lk.Images, lk.Services = nil, nil
	rep, err := Verify(ctx, td, VerifyInput{Region: region}, lk, cache)
	if err != nil {
		return nil
	}
	return rep.Problems
}

// renderVerifyInput is what Verify needs of a render besides its document:
// images by container as now written (before any placeholder goes in),
// the AppSpec's load balancer and the imagedefinitions.json names.
func renderVerifyInput(o Options, d Deps, containers map[string]*Node, as *appspec.AppSpec, defs []ImageDefinition) VerifyInput {
	in := VerifyInput{Region: d.Region, Target: o.Target, Images: map[string]string{}}
	for name, c := range containers {
		if img := c.GetString("image"); img != "" && !ref.IsPlaceholder(img) {
			in.Images[name] = img
		}
	}
	if as != nil {
		name, port := as.Container()
		in.AppSpec = &VerifyAppSpec{ContainerName: name, ContainerPort: port}
	}
	for _, def := range defs {
		if !slices.Contains(in.ImageDefinitions, def.Name) {
			in.ImageDefinitions = append(in.ImageDefinitions, def.Name)
		}
	}
	return in
}
