//go:build !(linux && (amd64 || arm64))

package artifacts

import "errors"

// openFS reports that this system has no syncfs(2) (or this build does not
// know its number), so Write syncs each file and directory instead.
func openFS(dir string) (fsSyncer, error) {
	return nil, errors.ErrUnsupported
}
