package render

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/s3"
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
	if cfg.Region == "" {
		loader.S3 = noRegionS3{}
	} else {
		loader.S3 = NewS3Client(cfg)
	}
	resolver := NewImageResolver(func(region string) ECRAPI {
		return NewECRClient(cfg, region)
	}, ResolverOptions{Wait: o.WaitForImage, Progress: o.Progress})
	return Deps{Loader: loader, Resolver: resolver}, nil
}

// noRegionS3 stands in for S3 when no region is configured. ECR lookups
// take their region from the image reference, so a run that reads a local
// template needs none; a run that reads S3 is told what to set.
type noRegionS3 struct{}

func (noRegionS3) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, inputErrorf("no AWS region for S3: set AWS_REGION or pass --region")
}
