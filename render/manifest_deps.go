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

// resolveBatch gathers the image lookups of every service of a run into
// one Resolve of the inner resolver, so that the run asks ECR once per
// repository rather than once per service and repository.
//
// A batch is sent when every service still running is waiting in Resolve:
// a service that will never resolve anything (no ECR image, or a failed
// template) counts as done. No timer decides it, so the batching is the
// same on a fast machine and a loaded one. While a service waits it gives
// its slot of the run's parallelism back, so that the services not yet
// started can reach their own lookups.
type resolveBatch struct {
	inner Resolver
	// ctx is the run's: the batch serves many services' calls, so no one
	// caller's context may cancel it.
	ctx         context.Context
	mu          sync.Mutex
	outstanding int // services not done
	cur         *batch
}

// batch is the lookups gathered until the next send.
type batch struct {
	refs     []ref.ImageRef
	services map[int]bool
	done     chan struct{}
	// Set before done is closed: the answer to every service's refs, or
	// the failure of one or more of them.
	found map[string]ResolvedImage
	err   error
}

func newResolveBatch(ctx context.Context, inner Resolver, services int) *resolveBatch {
	return &resolveBatch{
		inner:       inner,
		ctx:         ctx,
		outstanding: services,
		cur:         &batch{services: map[int]bool{}, done: make(chan struct{})},
	}
}

// serviceSlot is one service's hold on a slot of the run's parallelism.
// The service gives the slot back while it waits in Resolve (counting
// Resolve calls, in case a render resolves from two goroutines at once).
type serviceSlot struct {
	slots chan struct{}
	mu    sync.Mutex
	held  bool
	in    int // Resolve calls under way
}

// acquire takes a slot unless Resolve calls are under way.
func (s *serviceSlot) acquire(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.in > 0 || s.held {
		// A Resolve began meanwhile: a waiting service must hold no slot,
		// or services not yet started could never join the batch.
		<-s.slots
		return nil
	}
	s.held = true
	return nil
}

// release gives the slot back if the service holds it.
func (s *serviceSlot) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held {
		s.held = false
		<-s.slots
	}
}

func (s *serviceSlot) enterResolve() {
	s.mu.Lock()
	s.in++
	held := s.held
	s.held = false
	s.mu.Unlock()
	if held {
		<-s.slots
	}
}

func (s *serviceSlot) leaveResolve(ctx context.Context) error {
	s.mu.Lock()
	s.in--
	last := s.in == 0
	s.mu.Unlock()
	if !last {
		return nil
	}
	return s.acquire(ctx)
}

// done says that service id will resolve nothing more.
func (b *resolveBatch) done(id int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.outstanding--
	delete(b.cur.services, id)
	b.sendIfReadyLocked()
}

// sendIfReadyLocked sends the current batch when every running service
// waits in it.
func (b *resolveBatch) sendIfReadyLocked() {
	cur := b.cur
	if len(cur.services) == 0 || len(cur.services) < b.outstanding {
		return
	}
	b.cur = &batch{services: map[int]bool{}, done: make(chan struct{})}
	go func() {
		cur.found, cur.err = b.inner.Resolve(b.ctx, cur.refs)
		close(cur.done)
	}()
}

// forService returns the Resolver that service id's render uses.
func (b *resolveBatch) forService(id int, slot *serviceSlot) Resolver {
	return batchedResolver{b, id, slot}
}

// batchedResolver is one service's view of a resolveBatch.
type batchedResolver struct {
	b    *resolveBatch
	id   int
	slot *serviceSlot
}

// Resolve waits until the service's refs have been looked up together with
// every other service's, then returns the service's own answers. When the
// batch failed, the failure may be another service's: the service then
// asks again for its own refs alone, which the inner resolver answers from
// what it remembers (remote.ImageResolver keeps every image it resolved
// and every one it did not find), so that each service hears only of its
// own images.
func (r batchedResolver) Resolve(ctx context.Context, refs []ref.ImageRef) (map[string]ResolvedImage, error) {
	b := r.b
	b.mu.Lock()
	cur := b.cur
	cur.refs = append(cur.refs, refs...)
	cur.services[r.id] = true
	b.sendIfReadyLocked()
	b.mu.Unlock()

	r.slot.enterResolve()
	var waitErr error
	select {
	case <-cur.done:
	case <-ctx.Done():
		waitErr = ctx.Err()
	}
	if err := r.slot.leaveResolve(ctx); err != nil {
		return nil, err
	}
	if waitErr != nil {
		return nil, waitErr
	}
	if cur.err != nil {
		return b.inner.Resolve(ctx, refs)
	}
	out := make(map[string]ResolvedImage, len(refs))
	for _, r := range refs {
		if img, ok := cur.found[r.String()]; ok {
			img.Tags = slices.Clone(img.Tags)
			out[r.String()] = img
		}
	}
	return out, nil
}
