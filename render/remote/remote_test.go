package remote

import (
	"context"
	"testing"

	"github.com/ecsrender/ecsrender/render/awstest"
)

// New gives render the verify lookups only when asked, and the run's
// region, which verify names in its problems. It builds no client: nothing
// here reaches the network.
func TestNewVerify(t *testing.T) {
	for _, verify := range []bool{false, true} {
		awstest.SetEnv(t, "")
		t.Setenv("AWS_REGION", "eu-west-1")
		d, err := New(context.Background(), Options{Verify: verify})
		if err != nil {
			t.Fatal(err)
		}
		if d.Region != "eu-west-1" {
			t.Errorf("Verify %v: Region = %q, want the configuration's eu-west-1", verify, d.Region)
		}
		if got := d.Lookups != nil; got != verify {
			t.Errorf("Verify %v: Lookups set = %v", verify, got)
		}
		if verify && (d.Lookups.Roles == nil || d.Lookups.Services == nil || d.Lookups.Account == nil) {
			t.Errorf("Lookups = %+v, want every kind", *d.Lookups)
		}
	}
}
