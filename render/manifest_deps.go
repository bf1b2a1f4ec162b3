package render

import (
	"context"
	"slices"
	"sync"

	"github.com/ecsrender/ecsrender/render/ref"
)

// sharedLoader reads each distinct source once for a whole run, however
// many services name it, and hands every service its own copy of the bytes.
// A failed read is remembered too: the services that share a template share
// its failure, and asking S3 again within one run would only say the same.
type sharedLoader struct {
	inner Loader
	mu    sync.Mutex
	loads map[string]*sharedLoad // by ref.Source.String()
}

type sharedLoad struct {
	done chan struct{}
	data []byte
	err  error
}

func newSharedLoader(inner Loader) *sharedLoader {
	return &sharedLoader{inner: inner, loads: make(map[string]*sharedLoad)}
}

// Load reads src, or waits for the read another service started.
func (l *sharedLoader) Load(ctx context.Context, src ref.Source) ([]byte, error) {
	key := src.String()
	l.mu.Lock()
	ld, ok := l.loads[key]
	if !ok {
		ld = &sharedLoad{done: make(chan struct{})}
		l.loads[key] = ld
	}
	l.mu.Unlock()
	if !ok {
		ld.data, ld.err = l.inner.Load(ctx, src)
		close(ld.done)
	}
	select {
	case <-ld.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if ld.err != nil {
		return nil, ld.err
	}
	// Each service parses its own copy; nothing may share the backing array.
	return append([]byte(nil), ld.data...), nil
}

// resolveAll looks up refs, the images of every service of a run, in one
// Resolve of inner, so that the run asks ECR once per repository rather
// than once per service and repository, and returns the Resolver that the
// services' renders use: it answers from that one lookup.
func resolveAll(ctx context.Context, inner Resolver, refs []ref.ImageRef) Resolver {
	p := prefetched{inner: inner}
	if len(refs) > 0 {
		p.found, p.err = inner.Resolve(ctx, refs)
	}
	return p
}

// prefetched answers Resolve from a lookup made ahead for the whole run.
type prefetched struct {
	inner Resolver
	found map[string]ResolvedImage
	err   error
}

// Resolve returns the service's own answers from the run's lookup. When
// that lookup failed, the failure may be another service's, and when a
// ref was not in it (a render asked for an image the first pass did not
// see), the service asks inner for its own refs alone, which it answers
// from what it remembers (remote.ImageResolver keeps every image it
// resolved and every one it did not find), so that each service hears
// only of its own images and no lookup is repeated.
func (p prefetched) Resolve(ctx context.Context, refs []ref.ImageRef) (map[string]ResolvedImage, error) {
	if p.err != nil {
		return p.inner.Resolve(ctx, refs)
	}
	out := make(map[string]ResolvedImage, len(refs))
	for _, r := range refs {
		if r.ECR == nil {
			continue // not ECR's: the inner resolver would skip it too
		}
		img, ok := p.found[r.String()]
		if !ok {
			return p.inner.Resolve(ctx, refs)
		}
		img.Tags = slices.Clone(img.Tags)
		out[r.String()] = img
	}
	return out, nil
}
