//go:build !unix

package render

import "os"

// openNonBlocking opens path for reading; outside unix there is no FIFO
// that an open could wait on.
func openNonBlocking(path string) (*os.File, error) {
	return os.Open(path)
}
