//go:build linux && (amd64 || arm64)

package artifacts

import "testing"

// TestOpenFS shows that this system's syncfs(2) works, so that a write of
// many files does not fall back to a sync of each without anyone noticing.
func TestOpenFS(t *testing.T) {
	t.Parallel()
	fss, err := openFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer fss.Close()
	if err := fss.Sync(); err != nil {
		t.Fatal(err)
	}
}
