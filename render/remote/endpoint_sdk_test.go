package remote

import (
	"context"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go/auth"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// sdkEndpoint asks a service package's own endpoint rules, which the
// binary does not link (TestNotLinked) but the tests may.
type sdkEndpoint func(ctx context.Context, region string, fips, dual bool) (smithyendpoints.Endpoint, error)

// TestEndpointMatchesSDK compares the signed client's endpoints with the
// SDK's rules for each service, partition, FIPS and dual-stack setting:
// the host and the region signed for. A combination the SDK refuses (a
// partition without FIPS or dual-stack) is skipped.
func TestEndpointMatchesSDK(t *testing.T) {
	t.Parallel()
	services := []struct {
		svc apiService
		sdk sdkEndpoint
	}{
		{iamAPI, func(ctx context.Context, r string, f, d bool) (smithyendpoints.Endpoint, error) {
			return iam.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, iam.EndpointParameters{Region: &r, UseFIPS: &f, UseDualStack: &d})
		}},
		{ssmAPI, func(ctx context.Context, r string, f, d bool) (smithyendpoints.Endpoint, error) {
			return ssm.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ssm.EndpointParameters{Region: &r, UseFIPS: &f, UseDualStack: &d})
		}},
		{secretsAPI, func(ctx context.Context, r string, f, d bool) (smithyendpoints.Endpoint, error) {
			return secretsmanager.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, secretsmanager.EndpointParameters{Region: &r, UseFIPS: &f, UseDualStack: &d})
		}},
		{logsAPI, func(ctx context.Context, r string, f, d bool) (smithyendpoints.Endpoint, error) {
			return cloudwatchlogs.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, cloudwatchlogs.EndpointParameters{Region: &r, UseFIPS: &f, UseDualStack: &d})
		}},
		{ecsAPI, func(ctx context.Context, r string, f, d bool) (smithyendpoints.Endpoint, error) {
			return ecs.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ecs.EndpointParameters{Region: &r, UseFIPS: &f, UseDualStack: &d})
		}},
	}
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-7", "ca-west-1", "mx-central-1", "il-central-1",
		"cn-north-1", "cn-northwest-1", "us-gov-west-1", "us-gov-east-1",
		"us-iso-east-1", "us-iso-west-1", "us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1", "eusc-de-east-1"}
	ctx := context.Background()
	compared := 0
	for _, s := range services {
		for _, region := range regions {
			for _, v := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				fips, dual := v[0], v[1]
				e, err := s.sdk(ctx, region, fips, dual)
				if err != nil {
					continue
				}
				wantRegion := region
				if opts, ok := auth.GetAuthOptions(&e.Properties); ok {
					for _, o := range opts {
						if r, ok := smithyhttp.GetSigV4SigningRegion(&o.SignerProperties); ok {
							wantRegion = r
							break
						}
					}
				}
				want := (&url.URL{Scheme: e.URI.Scheme, Host: e.URI.Host}).String()
				got, gotRegion := defaultEndpoint(s.svc, region, fips, dual)
				compared++
				if got != want || gotRegion != wantRegion {
					t.Errorf("%s in %s, fips %v, dual-stack %v: %s signed for %s; the SDK: %s signed for %s",
						s.svc.sdkID, region, fips, dual, got, gotRegion, want, wantRegion)
				}
			}
		}
	}
	if compared < len(services)*len(regions) {
		t.Fatalf("only %d combinations compared", compared)
	}
	t.Logf("%d combinations compared", compared)
}
