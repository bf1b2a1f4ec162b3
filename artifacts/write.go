package artifacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// artifactNames is every file name ecsrender writes into DIR: the only
// names Write ever replaces or removes.
func artifactNames() []string {
	return []string{TaskDefFile, AppSpecFile, ImageDetailFile, ImageDefinitionsFile}
}

// Write puts files into dir, creating it if needed, as the package doc
// describes: under an exclusive lock on dir that it waits for while ctx
// allows, all or nothing, and leaving dir with exactly these artifacts.
func Write(ctx context.Context, dir string, files []File) error {
	return osFS().write(ctx, dir, files)
}

// tempFile is the part of *os.File that writing a temporary file uses.
type tempFile interface {
	io.Writer
	Sync() error
	Close() error
	Name() string
}

// fsys is every file system call Write makes, so that tests can make any
// one of them fail; the machine's tests run as root, where a read-only
// directory fails nothing.
type fsys struct {
	mkdirAll   func(path string, perm os.FileMode) error
	lock       func(ctx context.Context, dir string, busy func()) (unlock func(), err error)
	createTemp func(dir, pattern string) (tempFile, error)
	chmod      func(name string, mode os.FileMode) error
	lstat      func(name string) (os.FileInfo, error)
	readDir    func(name string) ([]os.DirEntry, error)
	link       func(oldname, newname string) error
	rename     func(oldpath, newpath string) error
	remove     func(name string) error
	syncDir    func(dir string)
	// busy is called once if another writer holds the lock; tests use it
	// to know that Write is waiting without measuring time.
	busy func()
}

func osFS() fsys {
	return fsys{
		mkdirAll:   os.MkdirAll,
		lock:       lockDir,
		createTemp: func(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) },
		chmod:      os.Chmod,
		lstat:      os.Lstat,
		readDir:    os.ReadDir,
		link:       os.Link,
		rename:     os.Rename,
		remove:     os.Remove,
		syncDir:    syncDir,
	}
}

// change is one step of the write that a failure undoes.
type change struct {
	target string
	// backup holds the earlier file at target, or is empty if there was
	// none.
	backup string
}

func (fsys fsys) write(ctx context.Context, dir string, files []File) (err error) {
	var writing []string
	for _, f := range files {
		if !slices.Contains(artifactNames(), f.Name) || slices.Contains(writing, f.Name) {
			// Only Encode makes files, so this is a bug, not bad input.
			return fmt.Errorf("write %q: not an artifact name, or given twice", f.Name)
		}
		writing = append(writing, f.Name)
	}
	if err := fsys.mkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory %q: %w", dir, unwrapPath(err))
	}
	unlock, err := fsys.lock(ctx, dir, fsys.busy)
	if err != nil {
		return err
	}
	defer unlock()
	if err := fsys.removeStaleTemps(dir); err != nil {
		return err
	}

	temps := make([]string, len(files))
	defer func() {
		if err == nil {
			return
		}
		for _, t := range temps {
			if t == "" {
				continue
			}
			if rmErr := fsys.remove(t); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
				err = errors.Join(err, fmt.Errorf("remove temporary file %q: %w", t, unwrapPath(rmErr)))
			}
		}
	}()
	for i, f := range files {
		temps[i], err = fsys.writeTemp(dir, f)
		if err != nil {
			return err
		}
	}

	var changes []change
	defer func() {
		if err == nil {
			// The artifacts are complete and in place; a backup that
			// cannot be removed now is removed by the next run before it
			// reuses the name, so it does not fail this one.
			for _, c := range changes {
				if c.backup != "" {
					fsys.remove(c.backup)
				}
			}
			fsys.syncDir(dir)
			return
		}
		err = errors.Join(err, fsys.rollback(changes))
	}()

	// An earlier run's artifact that this run does not write goes first, so
	// that a failure later finds it and puts it back.
	for _, name := range artifactNames() {
		if slices.Contains(writing, name) {
			continue
		}
		target := filepath.Join(dir, name)
		fi, statErr := fsys.lstat(target)
		if errors.Is(statErr, fs.ErrNotExist) {
			continue
		}
		if statErr != nil {
			return fmt.Errorf("remove earlier %q: %w", target, unwrapPath(statErr))
		}
		if fi.IsDir() {
			return fmt.Errorf("remove earlier %q: a directory, not an artifact ecsrender wrote; remove it", target)
		}
		backup, err := fsys.freeBackup(dir, name)
		if err != nil {
			return fmt.Errorf("remove earlier %q: %w", target, err)
		}
		if err := fsys.rename(target, backup); err != nil {
			return fmt.Errorf("remove earlier %q: %w", target, linkCause(err))
		}
		changes = append(changes, change{target, backup})
	}

	for i, f := range files {
		target := filepath.Join(dir, f.Name)
		backup := ""
		_, statErr := fsys.lstat(target)
		if statErr != nil && !errors.Is(statErr, fs.ErrNotExist) {
			// Without knowing, a rollback could remove an earlier file
			// it never kept.
			return fmt.Errorf("write %q: %w", target, unwrapPath(statErr))
		}
		if statErr == nil {
			// A hard link keeps the earlier file reachable for a rollback
			// without copying it, and target never goes missing for a
			// reader.
			if backup, err = fsys.freeBackup(dir, f.Name); err != nil {
				return fmt.Errorf("write %q: %w", target, err)
			}
			if err := fsys.link(target, backup); err != nil {
				return fmt.Errorf("write %q: keep the old file for a rollback: %w", target, linkCause(err))
			}
		}
		if err := fsys.rename(temps[i], target); err != nil {
			err = fmt.Errorf("write %q: %w", target, linkCause(err))
			if backup != "" {
				if rmErr := fsys.remove(backup); rmErr != nil {
					err = errors.Join(err, fmt.Errorf("remove backup %q: %w", backup, unwrapPath(rmErr)))
				}
			}
			return err
		}
		temps[i] = ""
		changes = append(changes, change{target, backup})
	}
	return nil
}

// rollback undoes changes, latest first, and reports every step that
// failed: a file left behind that the caller believes gone must not go
// unmentioned.
func (fsys fsys) rollback(changes []change) error {
	var errs []error
	for i := len(changes) - 1; i >= 0; i-- {
		c := changes[i]
		if c.backup == "" {
			if err := fsys.remove(c.target); err != nil {
				errs = append(errs, fmt.Errorf("roll back %q: remove the new file: %w", c.target, unwrapPath(err)))
			}
			continue
		}
		if err := fsys.rename(c.backup, c.target); err != nil {
			errs = append(errs, fmt.Errorf("roll back %q: restore the earlier file from %q: %w", c.target, c.backup, linkCause(err)))
		}
	}
	return errors.Join(errs...)
}

// removeStaleTemps removes the temporary files of an earlier run that was
// killed before it could clean up. Holding the lock means no live run owns
// them, and only names of the form writeTemp makes are touched.
func (fsys fsys) removeStaleTemps(dir string) error {
	entries, err := fsys.readDir(dir)
	if err != nil {
		return fmt.Errorf("read output directory %q: %w", dir, unwrapPath(err))
	}
	for _, e := range entries {
		if !isTempName(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := fsys.remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale temporary file %q: %w", p, unwrapPath(err))
		}
	}
	return nil
}

// isTempName reports whether name is one writeTemp makes:
// ".NAME.DIGITS.tmp" for an artifact NAME (CreateTemp's random part is
// decimal).
func isTempName(name string) bool {
	for _, a := range artifactNames() {
		rest, ok := strings.CutPrefix(name, "."+a+".")
		if !ok {
			continue
		}
		digits, ok := strings.CutSuffix(rest, ".tmp")
		if ok && digits != "" && strings.Trim(digits, "0123456789") == "" {
			return true
		}
	}
	return false
}

// freeBackup returns the backup name for an artifact, removing what an
// earlier run that was killed mid-write may have left there. The lock
// makes a fixed name safe.
func (fsys fsys) freeBackup(dir, name string) (string, error) {
	backup := filepath.Join(dir, "."+name+".ecsrender-old")
	if err := fsys.remove(backup); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("remove stale backup %q: %w", backup, unwrapPath(err))
	}
	return backup, nil
}

// writeTemp writes f beside its target under a name no other run can hold
// (CreateTemp opens it with O_EXCL), and returns that name even when
// writing failed, so the caller removes it.
func (fsys fsys) writeTemp(dir string, f File) (string, error) {
	target := filepath.Join(dir, f.Name)
	t, err := fsys.createTemp(dir, "."+f.Name+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("write %q: %w", target, unwrapPath(err))
	}
	name := t.Name()
	if _, err := t.Write(f.Data); err != nil {
		t.Close()
		return name, fmt.Errorf("write %q: %w", target, unwrapPath(err))
	}
	if err := t.Sync(); err != nil {
		t.Close()
		return name, fmt.Errorf("write %q: %w", target, unwrapPath(err))
	}
	if err := t.Close(); err != nil {
		return name, fmt.Errorf("write %q: %w", target, unwrapPath(err))
	}
	// CreateTemp makes files 0600; artifacts are read by other tools.
	if err := fsys.chmod(name, 0o644); err != nil {
		return name, fmt.Errorf("write %q: %w", target, unwrapPath(err))
	}
	return name, nil
}

// unwrapPath drops the *os.PathError wrapper, whose temporary file name
// would only confuse: the message already names the target.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// linkCause drops the *os.LinkError wrapper, whose two paths repeat the
// target the message already names.
func linkCause(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// syncDir makes the renames durable. Failure is not reported: the files
// are complete either way, and some file systems refuse to sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
