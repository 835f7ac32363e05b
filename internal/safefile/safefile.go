// Package safefile is the one way dockvet reads a file the user (or an
// attacker writing a pull request) handed it: a Dockerfile, a Compose file
// and its env files, the configuration and ignore files, scripts and CI
// files, an OCI layout's index, an archive, a template, a key or a policy.
//
// A path may name anything: a FIFO (open blocks forever), a character
// device (/dev/zero never ends, /dev/tty waits for a person), a socket, a
// file under /proc or /sys whose size says nothing of what reading it
// yields, or a symbolic link to any of those. So a file is opened with
// O_NONBLOCK (a FIFO opens at once instead of waiting for a writer), checked
// with fstat and fstatfs on the descriptor actually opened (no race between
// a check and the open; a link into /proc is judged by where it landed), and
// refused with one line naming what it is unless it is a regular file on a
// filesystem that stores its files. Reading stops at a cap per kind of file, and going past it
// is an error naming the cap.
//
// Within confines a path to a root directory: a path that leaves it,
// lexically or through a symbolic link, is an *EscapeError and is not read.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Caps per kind of file. Each is far above what a real file of the kind
// holds, and low enough that reading one to the cap costs little memory.
const (
	// MaxConfig caps .dockvet.yaml, .dockvetignore, templates and trust
	// policies: hand-written files of a few kilobytes.
	MaxConfig = 4 << 20
	// MaxSource caps a Dockerfile, a Compose file, an env file, a script,
	// a Makefile or a CI file: the largest real ones are a few hundred
	// kilobytes; 16 MiB leaves room for generated ones.
	MaxSource = 16 << 20
	// MaxIndex caps an OCI layout's index.json or a manifest: a few
	// kilobytes each, even for an index of many platforms.
	MaxIndex = 4 << 20
	// MaxKey caps a public key, certificate or signature file.
	MaxKey = 1 << 20
)

// NotRegularError is a path that is not a regular file (after following
// symbolic links): it is not read.
type NotRegularError struct {
	Path string
	What string // "a FIFO", "a character device", "a directory", …
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s: is %s, not a regular file: not read", e.Path, e.What)
}

// TooLargeError is a file over the cap of its kind.
type TooLargeError struct {
	Path string
	Cap  int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: larger than the %s cap for this kind of file: not read", e.Path, Size(e.Cap))
}

// EscapeError is a path that leaves the directory it must stay in.
type EscapeError struct {
	Path string
	Root string
}

func (e *EscapeError) Error() string {
	return fmt.Sprintf("%s: leaves the project directory %s: not read", e.Path, e.Root)
}

// Size shows a cap in the unit it was written in.
func Size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Open opens path for reading when it is a regular file, and refuses
// anything else without blocking.
func Open(path string) (*os.File, error) {
	f, _, err := open(path)
	return f, err
}

// open is Open with what fstat said of the file.
func open(path string) (*os.File, fs.FileInfo, error) {
	// O_NONBLOCK: opening a FIFO without a writer would otherwise wait
	// forever; on a regular file it changes nothing.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	// Judged on the descriptor opened, not on the path resolved a moment
	// before: one fstatfs instead of an lstat per path component.
	if fs := kernelMade(f); fs != "" {
		f.Close()
		return nil, nil, &NotRegularError{Path: path, What: "a file under " + fs + " (made up by the kernel on reading)"}
	}
	return regular(f, nil, path, true)
}

// regular keeps an opened file when it is a regular file (or /dev/null,
// when allowed) and closes it otherwise: what was opened is judged, not
// what a path named a moment before.
func regular(f *os.File, err error, path string, devNull bool) (*os.File, fs.FileInfo, error) {
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() && !(devNull && isDevNull(f, fi)) {
		f.Close()
		return nil, nil, &NotRegularError{Path: path, What: describe(fi.Mode())}
	}
	return f, fi, nil
}

// isDevNull accepts /dev/null: `--config /dev/null` is the idiom for "no
// configuration", and reading it ends at once.
func isDevNull(f *os.File, fi fs.FileInfo) bool {
	null, err := os.Stat(os.DevNull)
	return err == nil && fi.Mode()&fs.ModeCharDevice != 0 && os.SameFile(fi, null)
}

// describe names a file type for a person.
func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file"
}

// ReadFile reads a regular file of at most max bytes.
func ReadFile(path string, max int64) ([]byte, error) {
	f, fi, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCapped(f, fi, path, max)
}

func readCapped(f *os.File, fi fs.FileInfo, path string, max int64) ([]byte, error) {
	if fi.Size() > max {
		return nil, &TooLargeError{Path: path, Cap: max}
	}
	size := fi.Size()
	// The size can change while reading: read one byte past the cap to
	// know it was passed. The buffer starts at the size fstat gave plus
	// the byte that finds the end, so a file is read without regrowing.
	// A regular file that gives fewer bytes than asked is at its end:
	// no second read to hear EOF.
	buf := make([]byte, 0, min(size, max)+1)
	for int64(len(buf)) <= max {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		p := buf[len(buf):min(int64(cap(buf)), max+1)]
		n, err := f.Read(p)
		buf = buf[:len(buf)+n]
		if err == io.EOF || err == nil && n < len(p) && fi.Mode().IsRegular() {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(buf)) > max {
		return nil, &TooLargeError{Path: path, Cap: max}
	}
	return buf, nil
}

// Within is the path's real location when it stays inside root (both
// resolved through symbolic links), else an *EscapeError. A path that does
// not exist is judged by its text.
func Within(root, path string) (string, error) {
	rootAbs, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(rootAbs); err == nil {
		rootAbs = r
	}
	abs := path
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(rootAbs, path)
	}
	abs = filepath.Clean(abs)
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		real = abs
		// A missing file below an existing directory: resolve the
		// directory, so a link to a directory outside is still seen.
		if d, derr := filepath.EvalSymlinks(filepath.Dir(abs)); derr == nil {
			real = filepath.Join(d, filepath.Base(abs))
		}
	}
	if !Inside(rootAbs, real) {
		return "", &EscapeError{Path: path, Root: root}
	}
	return real, nil
}

// Inside says whether path (absolute and clean) is root or below it.
func Inside(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

// ReadFileWithin reads path (relative paths from root) when it stays inside
// root and is a regular file of at most max bytes.
func ReadFileWithin(root, path string, max int64) ([]byte, error) {
	real, err := Within(root, path)
	if err != nil {
		return nil, err
	}
	f, fi, err := open(real)
	if err != nil {
		return nil, rename(err, path)
	}
	defer f.Close()
	return readCapped(f, fi, path, max)
}

// rename puts the caller's name for a file in an error about its real
// location.
func rename(err error, path string) error {
	var nr *NotRegularError
	if errors.As(err, &nr) {
		return &NotRegularError{Path: path, What: nr.What}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: path, Err: pe.Err}
	}
	return err
}

// Message is err without the "open PATH:" prefix of the os package, for
// messages that name the file already; errors of this package keep theirs
// minus the path.
func Message(err error) string {
	var nr *NotRegularError
	if errors.As(err, &nr) {
		return "is " + nr.What + ", not a regular file: not read"
	}
	var tl *TooLargeError
	if errors.As(err, &tl) {
		return "larger than the " + Size(tl.Cap) + " cap for this kind of file: not read"
	}
	var ee *EscapeError
	if errors.As(err, &ee) {
		return "leaves the project directory " + ee.Root + ": not read"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// OpenIn opens name inside root (os.Root keeps the open, symbolic links
// included, inside the directory) when it is a regular file, without
// blocking on a FIFO.
func OpenIn(root *os.Root, name string) (*os.File, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	f, _, err = regular(f, err, name, false)
	return f, err
}
