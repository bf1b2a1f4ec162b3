package render

import (
	"context"
	"time"

	"github.com/ecsrender/ecsrender/render/ref"
)

// A Resolver looks up ECR images. Resolve returns what ECR says of each
// private ECR image among refs, keyed by ref.String(), and leaves the other
// references out; every image that cannot be resolved is reported, one
// line each. One Resolver is shared by every render of a run, so that many
// services share ECR lookups; it must be safe for concurrent use.
type Resolver interface {
	Resolve(ctx context.Context, refs []ref.ImageRef) (map[string]ResolvedImage, error)
}

// ResolvedImage is an image as ECR describes it.
type ResolvedImage struct {
	// Ref is the reference that was resolved, as written.
	Ref ref.ImageRef
	// Digest is the manifest digest; for a multi-arch image, the digest of
	// the index, so every platform keeps working when pinned.
	Digest string
	// Tags are all the image's tags in ECR, sorted, not only the one asked for.
	Tags           []string
	RegistryID     string
	RepositoryName string
	PushedAt       time.Time
	SizeBytes      int64
}

// Pinned returns the reference pinned to the resolved digest, so that a
// task definition revision always runs the same bits.
func (i ResolvedImage) Pinned() ref.ImageRef { return i.Ref.WithDigest(i.Digest) }
