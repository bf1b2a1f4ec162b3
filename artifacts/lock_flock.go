//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package artifacts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockDir takes an exclusive flock on dir's own descriptor, so no lock file
// is left in the directory the pipeline publishes, and a lock held by a
// killed run goes with its process. flock cannot be interrupted by a
// context, so a busy lock is polled without blocking until ctx is done;
// busy, if not nil, is called once when the lock is first found held.
func lockDir(ctx context.Context, dir string, busy func()) (unlock func(), err error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock output directory %q: %w", dir, unwrapPath(err))
	}
	wait := 5 * time.Millisecond
	for {
		err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			// Closing the descriptor releases the lock.
			return func() { d.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			d.Close()
			return nil, fmt.Errorf("lock output directory %q: %w", dir, err)
		}
		if busy != nil {
			busy()
			busy = nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			d.Close()
			return nil, fmt.Errorf("another ecsrender is writing to %q; gave up waiting: %w", dir, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}
