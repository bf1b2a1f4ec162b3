// Package remote is every AWS call ecsrender makes: the SDK configuration
// with its retries and per-attempt timeout, reading templates from S3, and
// resolving images in ECR. It implements the interfaces package render
// declares (render.Loader, render.Resolver, render.VerifyLookups), and words each failed call in
// one line that names the object.
package remote

import (
	"context"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ecsrender/ecsrender/render"
)

// Options say how a run reaches AWS.
type Options struct {
	// Region overrides the SDK's region; empty leaves it to the SDK.
	Region string
	// WaitForImage polls this long for a missing ECR tag.
	WaitForImage time.Duration
	// Stdin is read for the "-" source.
	Stdin io.Reader
	// Progress receives progress lines, such as waiting for an image.
	Progress func(string)
	// Verify adds the lookups that verify asks (Lookups), made with the
	// same configuration: the same credentials, retries and deadlines.
	Verify bool
}

// New loads the AWS configuration and returns the loader and the image
// resolver of an online run, and with o.Verify the verify lookups. A run offline needs neither: it uses
// render.LocalLoader and no resolver, and never calls New.
func New(ctx context.Context, o Options) (render.Deps, error) {
	ao := AWSOptions{Region: o.Region, Log: o.Progress}
	cfg, err := LoadAWSConfig(ctx, ao)
	if err != nil {
		return render.Deps{}, err
	}
	loader := &Loader{Local: render.LocalLoader{Stdin: o.Stdin}}
	if cfg.Region == "" {
		loader.S3 = noRegionS3{}
	} else {
		loader.S3 = NewS3Client(cfg)
	}
	resolver := NewImageResolver(func(region string) ECRAPI {
		return NewECRClient(cfg, region)
	}, ResolverOptions{Wait: o.WaitForImage, Progress: o.Progress})
	d := render.Deps{Loader: loader, Resolver: resolver, Region: cfg.Region}
	if o.Verify {
		l := NewLookups(cfg)
		// The SDK's clients take the attempt timeout from cfg; the
		// signed client from here.
		l.attemptTimeout = ao.AttemptTimeout
		lk := l.VerifyLookups()
		d.Lookups = &lk
	}
	return d, nil
}

// noRegionS3 stands in for S3 when no region is configured. ECR lookups
// take their region from the image reference, so a run that reads a local
// template needs none; a run that reads S3 is told what to set.
type noRegionS3 struct{}

func (noRegionS3) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, &render.InputError{Err: errNoRegion}
}
