package artifacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// artifactNames is every file name ecsrender writes into DIR or one of its
// sub-directories: the only names Write ever replaces or removes.
func artifactNames() []string {
	return []string{TaskDefFile, AppSpecFile, ImageDetailFile, ImageDefinitionsFile}
}

// Write puts files into dir, creating it and the sub-directories the file
// names hold if needed, as the package doc describes: under an exclusive
// lock on dir that it waits for while ctx allows, all or nothing, and
// leaving each directory written into with exactly these artifacts.
func Write(ctx context.Context, dir string, files []File) error {
	return osFS().write(ctx, dir, files)
}

// tempFile is the part of *os.File that writing a temporary file uses.
// It has no Sync: Write promises whole files against any failure of the
// process, which rename(2) gives without fsync, not durability against a
// crash of the machine (see the package doc).
type tempFile interface {
	io.Writer
	Close() error
	Name() string
}

// fsys is every file system call Write makes, so that tests can make any
// one of them fail; the machine's tests run as root, where a read-only
// directory fails nothing.
type fsys struct {
	mkdirAll   func(path string, perm os.FileMode) error
	mkdir      func(path string, perm os.FileMode) error
	lock       func(ctx context.Context, dir string, busy func()) (unlock func(), err error)
	createTemp func(dir, pattern string) (tempFile, error)
	chmod      func(name string, mode os.FileMode) error
	lstat      func(name string) (os.FileInfo, error)
	readDir    func(name string) ([]os.DirEntry, error)
	link       func(oldname, newname string) error
	rename     func(oldpath, newpath string) error
	remove     func(name string) error
	// busy is called once if another writer holds the lock; tests use it
	// to know that Write is waiting without measuring time.
	busy func()
}

func osFS() fsys {
	return fsys{
		mkdirAll:   os.MkdirAll,
		mkdir:      os.Mkdir,
		lock:       lockDir,
		createTemp: func(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) },
		chmod:      os.Chmod,
		lstat:      os.Lstat,
		readDir:    os.ReadDir,
		link:       os.Link,
		rename:     os.Rename,
		remove:     os.Remove,
	}
}

// change is one step of the write that a failure undoes.
type change struct {
	target string
	// backup holds the earlier file at target, or is empty if there was
	// none.
	backup string
}

// checkNames checks every file name and returns the directories, relative
// to DIR and slash-separated ("." for DIR itself), that the files go
// into, in the order they first appear.
func checkNames(files []File) ([]string, error) {
	seen := make(map[string]bool, len(files))
	seenDir := map[string]bool{}
	var dirs []string
	for _, f := range files {
		if err := checkName(f.Name); err != nil {
			// Only Encode makes files, so this is a bug, not bad input.
			return nil, fmt.Errorf("write %q: %w", f.Name, err)
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("write %q: given twice", f.Name)
		}
		seen[f.Name] = true
		if d := path.Dir(f.Name); !seenDir[d] {
			seenDir[d] = true
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}

// checkName makes sure a file stays inside DIR, in a directory no
// artifact name could be mistaken for, and is an artifact: Write removes
// and replaces only those names, so a name outside them could never be
// cleaned up.
func checkName(name string) error {
	if path.IsAbs(name) {
		return errors.New("an absolute path; want one relative to the output directory")
	}
	parts := strings.Split(name, "/")
	for _, p := range parts[:len(parts)-1] {
		switch {
		case p == "":
			return errors.New("an empty path element")
		case p == "." || p == "..":
			return fmt.Errorf("path element %q; want a clean path inside the output directory", p)
		case slices.Contains(artifactNames(), p):
			return fmt.Errorf("directory %q has an artifact's name", p)
		case !isDirName(p):
			return fmt.Errorf("directory %q; want letters, digits, _, - and . (not first)", p)
		}
	}
	if base := parts[len(parts)-1]; !slices.Contains(artifactNames(), base) {
		return fmt.Errorf("%q is not an artifact name", base)
	}
	return nil
}

// isDirName reports whether p is a sub-directory name Write makes: a
// placeholder token or a service name. A leading dot is refused so that
// no directory can be taken for Write's own temporary and backup files.
func isDirName(p string) bool {
	if p == "" || p[0] == '.' {
		return false
	}
	for _, r := range p {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

func (fsys fsys) write(ctx context.Context, dir string, files []File) (err error) {
	dirs, err := checkNames(files)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		seen[f.Name] = true
	}
	if err := fsys.mkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory %q: %w", dir, unwrapPath(err))
	}
	unlock, err := fsys.lock(ctx, dir, fsys.busy)
	if err != nil {
		return err
	}
	defer unlock()

	// Directories this run made go last on failure, once the rollback has
	// emptied them; they are made under the lock, so no other run can
	// have put anything in them.
	var created []string
	defer func() {
		if err != nil {
			err = errors.Join(err, fsys.removeDirs(created))
		}
	}()
	for _, d := range dirs {
		if created, err = fsys.makeDirs(dir, d, created); err != nil {
			return err
		}
	}
	// A directory this run created is empty: nothing in it needs looking at.
	fresh := make(map[string]bool, len(created))
	for _, c := range created {
		fresh[c] = true
	}
	for _, d := range dirs {
		if p := filepath.Join(dir, filepath.FromSlash(d)); !fresh[p] {
			if err := fsys.removeStaleTemps(p); err != nil {
				return err
			}
		}
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
	if err := fsys.writeTemps(ctx, dir, files, temps); err != nil {
		return err
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
			return
		}
		err = errors.Join(err, fsys.rollback(changes))
	}()

	// An earlier run's artifact that this run does not write goes first, so
	// that a failure later finds it and puts it back. Only the directories
	// this run writes into are looked at: another directory may hold
	// another service's artifacts, which this run must not touch.
	for _, d := range dirs {
		if fresh[filepath.Join(dir, filepath.FromSlash(d))] {
			continue
		}
		for _, name := range artifactNames() {
			rel := path.Join(d, name)
			if seen[rel] {
				continue
			}
			c, err := fsys.moveAside(dir, rel)
			if err != nil {
				return err
			}
			if c != nil {
				changes = append(changes, *c)
			}
		}
	}

	for i, f := range files {
		// Thousands of files (a manifest) take seconds: the run's
		// deadline and signals still end it, and the rollback puts back
		// what was there.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("write %q: stopped: %w", dir, err)
		}
		target := filepath.Join(dir, filepath.FromSlash(f.Name))
		backup := ""
		statErr := fs.ErrNotExist
		if !fresh[filepath.Dir(target)] {
			_, statErr = fsys.lstat(target)
		}
		if statErr != nil && !errors.Is(statErr, fs.ErrNotExist) {
			// Without knowing, a rollback could remove an earlier file
			// it never kept.
			return fmt.Errorf("write %q: %w", target, unwrapPath(statErr))
		}
		if statErr == nil {
			// A hard link keeps the earlier file reachable for a rollback
			// without copying it, and target never goes missing for a
			// reader.
			if backup, err = fsys.freeBackup(target); err != nil {
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

// moveAside moves an earlier artifact at rel out of the way, if there is
// one, and returns the change that puts it back.
func (fsys fsys) moveAside(dir, rel string) (*change, error) {
	target := filepath.Join(dir, filepath.FromSlash(rel))
	fi, err := fsys.lstat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("remove earlier %q: %w", target, unwrapPath(err))
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("remove earlier %q: a directory, not an artifact ecsrender wrote; remove it", target)
	}
	backup, err := fsys.freeBackup(target)
	if err != nil {
		return nil, fmt.Errorf("remove earlier %q: %w", target, err)
	}
	if err := fsys.rename(target, backup); err != nil {
		return nil, fmt.Errorf("remove earlier %q: %w", target, linkCause(err))
	}
	return &change{target, backup}, nil
}

// makeDirs creates the sub-directory rel of dir one level at a time,
// appending each directory it creates to created. Something other than a
// directory in the way is not ecsrender's to remove, and a symbolic link
// could lead out of dir, so either fails the run.
func (fsys fsys) makeDirs(dir, rel string, created []string) ([]string, error) {
	if rel == "." {
		return created, nil
	}
	p := dir
	for _, part := range strings.Split(rel, "/") {
		p = filepath.Join(p, part)
		err := fsys.mkdir(p, 0o755)
		if err == nil {
			created = append(created, p)
			continue
		}
		if !errors.Is(err, fs.ErrExist) {
			return created, fmt.Errorf("create directory %q: %w", p, unwrapPath(err))
		}
		fi, err := fsys.lstat(p)
		if err != nil {
			return created, fmt.Errorf("create directory %q: %w", p, unwrapPath(err))
		}
		if !fi.IsDir() {
			return created, fmt.Errorf("create directory %q: a file or link is in the way, not a directory; remove it", p)
		}
	}
	return created, nil
}

// removeDirs removes the directories a failed run created, deepest first,
// and reports each it could not: one left behind holds something the
// rollback could not remove, which the error already names.
func (fsys fsys) removeDirs(created []string) error {
	var errs []error
	for i := len(created) - 1; i >= 0; i-- {
		if err := fsys.remove(created[i]); err != nil {
			errs = append(errs, fmt.Errorf("roll back %q: remove the new directory: %w", created[i], unwrapPath(err)))
		}
	}
	return errors.Join(errs...)
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
		what := "temporary file"
		switch {
		case isBackupName(e.Name()):
			// A run killed after moving an earlier artifact aside; this
			// run replaces the directory's artifacts as a whole.
			what = "backup"
		case !isTempName(e.Name()):
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := fsys.remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale %s %q: %w", what, p, unwrapPath(err))
		}
	}
	return nil
}

// isBackupName reports whether name is a backup that freeBackup names:
// ".NAME.ecsrender-old" for an artifact NAME.
func isBackupName(name string) bool {
	for _, a := range artifactNames() {
		if name == "."+a+".ecsrender-old" {
			return true
		}
	}
	return false
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

// freeBackup returns the backup name for the artifact at target, beside
// it, removing what an earlier run that was killed mid-write may have
// left there. The lock makes a fixed name safe.
func (fsys fsys) freeBackup(target string) (string, error) {
	backup := filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".ecsrender-old")
	if err := fsys.remove(backup); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("remove stale backup %q: %w", backup, unwrapPath(err))
	}
	return backup, nil
}

// writeTemps writes every file with writeTemp, one by one, stopping at
// the first failure or when ctx ends, and records each temporary name in
// temps, even of a write that failed, so the caller removes them. With no
// fsync to wait for, creating them sixteen at a time was no faster than
// one by one (4000 files: medians of 0.27 to 0.37 s either way on ext4,
// 0.15 to 0.22 s on tmpfs, on a shared 2-core machine), so the simpler
// loop stays.
func (fsys fsys) writeTemps(ctx context.Context, dir string, files []File, temps []string) error {
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("write %q: stopped: %w", dir, err)
		}
		var err error
		if temps[i], err = fsys.writeTemp(dir, f); err != nil {
			return err
		}
	}
	return nil
}

// writeTemp writes f beside its target under a name no other run can hold
// (CreateTemp opens it with O_EXCL), closes it, and returns that name even
// when writing failed, so the caller removes it.
func (fsys fsys) writeTemp(dir string, f File) (string, error) {
	target := filepath.Join(dir, filepath.FromSlash(f.Name))
	t, err := fsys.createTemp(filepath.Dir(target), "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("write %q: %w", target, unwrapPath(err))
	}
	name := t.Name()
	if _, err := t.Write(f.Data); err != nil {
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
