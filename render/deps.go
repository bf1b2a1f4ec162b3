package render

import (
	"context"
	"io"
	"time"
)

// DepsOptions say how a run reaches the outside world.
type DepsOptions struct {
	// Offline makes no network call at all.
	Offline bool
	// Region overrides the SDK's region (--region).
	Region string
	// WaitForImage polls this long for a missing ECR tag.
	WaitForImage time.Duration
	// Stdin is read for the "-" source.
	Stdin io.Reader
	// Progress receives progress lines, such as waiting for an image.
	Progress func(string)
}

// NewDeps builds what a run needs. Offline, it builds no AWS client at
// all, so nothing can reach the network by accident.
func NewDeps(ctx context.Context, o DepsOptions) (Deps, error) {
	loader := &Loader{Stdin: o.Stdin}
	if o.Offline {
		return Deps{Loader: loader}, nil
	}
	cfg, err := LoadAWSConfig(ctx, AWSOptions{Region: o.Region})
	if err != nil {
		return Deps{}, err
	}
	loader.S3 = NewS3Client(cfg)
	resolver := NewImageResolver(func(region string) ECRAPI {
		return NewECRClient(cfg, region)
	}, ResolverOptions{Wait: o.WaitForImage, Progress: o.Progress})
	return Deps{Loader: loader, Resolver: resolver}, nil
}
