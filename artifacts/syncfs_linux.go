//go:build linux && (amd64 || arm64)

package artifacts

import (
	"fmt"
	"os"
	"syscall"
)

// openFS opens dir so that syncFS can sync the file system holding it.
// It is opened before the first temporary file is written because
// syncfs(2) reports only the write-back errors that happen after its
// descriptor was opened (Linux 5.8 and later).
func openFS(dir string) (fsSyncer, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	return syncfsDir{d}, nil
}

// syncfsDir is a directory whose Sync syncs its whole file system.
type syncfsDir struct{ d *os.File }

// Sync calls syncfs(2): one call writes back every file and directory
// entry of the file system, where fsync(2) on each of thousands of files
// and directories waits for each in turn. syscall has no wrapper for it.
func (s syncfsDir) Sync() error {
	rc, err := s.d.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		for {
			_, _, errno = syscall.Syscall(sysSyncfs, fd, 0, 0)
			if errno != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if errno != 0 {
		// ENOSYS (a seccomp filter, an old kernel) matches
		// errors.ErrUnsupported, which makes Write sync file by file.
		return fmt.Errorf("syncfs: %w", errno)
	}
	return nil
}

func (s syncfsDir) Close() error { return s.d.Close() }
