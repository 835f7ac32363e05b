package host

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// maxFile bounds every file the audit reads: the host's configuration
// files are small, and a huge or endless file (a FIFO, /dev/zero behind a
// symlink) must not stall the audit.
const maxFile = 4 << 20

// Meta is file metadata that replaces what the file system says, for
// fixture trees: git keeps neither owners nor modes, and cannot hold a
// socket.
type Meta struct {
	Mode   fs.FileMode
	UID    uint32
	GID    uint32
	Denied bool
}

// fsys reads the host's files through a root directory. Symbolic links
// are followed as the host would follow them: an absolute link target is
// resolved inside root, never on the auditing machine.
type fsys struct {
	root string
	meta map[string]Meta
}

func newFsys(root string, meta map[string]Meta) (*fsys, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	// The root itself may be a symbolic link (/host -> /mnt/host); the
	// joining below must start from a real directory.
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return &fsys{root: filepath.Clean(abs), meta: meta}, nil
}

// real maps a host path to the path under root, following symbolic links
// inside root.
func (f *fsys) real(hostPath string) (string, error) {
	return securejoin.SecureJoin(f.root, hostPath)
}

// realParent resolves the directory of hostPath but not its last element,
// for reading the link itself (/proc/PID/exe, /proc/PID/fd/N).
func (f *fsys) realParent(hostPath string) (string, error) {
	dir, err := f.real(path.Dir(hostPath))
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, path.Base(hostPath)), nil
}

// stat returns the metadata of a host path, following symbolic links.
func (f *fsys) stat(hostPath string) *File {
	hostPath = path.Clean(hostPath)
	file := &File{Path: hostPath}
	if m, ok := f.meta[hostPath]; ok {
		if m.Denied {
			file.State = Denied
			return file
		}
		file.State, file.Mode, file.UID, file.GID = Present, m.Mode, m.UID, m.GID
		return file
	}
	p, err := f.real(hostPath)
	if err == nil {
		var fi fs.FileInfo
		if fi, err = os.Stat(p); err == nil {
			file.State, file.Mode = Present, fi.Mode()
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				file.UID, file.GID = st.Uid, st.Gid
			}
			return file
		}
	}
	setErr(file, err)
	return file
}

func setErr(file *File, err error) {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		file.State = Absent
	case errors.Is(err, fs.ErrPermission):
		file.State = Denied
	default:
		file.State, file.Err = Unreadable, unwrapPath(err).Error()
	}
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// read returns a file's content (at most maxFile bytes) and its state.
func (f *fsys) read(hostPath string) ([]byte, *File) {
	hostPath = path.Clean(hostPath)
	file := &File{Path: hostPath}
	if m, ok := f.meta[hostPath]; ok && m.Denied {
		file.State = Denied
		return nil, file
	}
	p, err := f.real(hostPath)
	if err == nil {
		var fi fs.FileInfo
		if fi, err = os.Stat(p); err == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("not a regular file")
		}
		if err == nil {
			var fh *os.File
			if fh, err = os.Open(p); err == nil {
				defer fh.Close()
				var data []byte
				if data, err = io.ReadAll(io.LimitReader(fh, maxFile+1)); err == nil {
					if len(data) > maxFile {
						data = data[:maxFile]
					}
					file.State, file.Mode = Present, fi.Mode()
					if st, ok := fi.Sys().(*syscall.Stat_t); ok {
						file.UID, file.GID = st.Uid, st.Gid
					}
					if m, ok := f.meta[hostPath]; ok {
						file.Mode, file.UID, file.GID = m.Mode, m.UID, m.GID
					}
					return data, file
				}
			}
		}
	}
	setErr(file, err)
	return nil, file
}

// readProc reads a file of /proc (whose sizes read as 0, so no stat).
func (f *fsys) readProc(hostPath string) ([]byte, *File) {
	file := &File{Path: hostPath}
	p, err := f.real(hostPath)
	if err == nil {
		var fh *os.File
		if fh, err = os.Open(p); err == nil {
			defer fh.Close()
			var data []byte
			if data, err = io.ReadAll(io.LimitReader(fh, maxFile)); err == nil {
				file.State = Present
				return data, file
			}
		}
	}
	setErr(file, err)
	return nil, file
}

// readlink reads a symbolic link itself (its parent directories are
// resolved inside root).
func (f *fsys) readlink(hostPath string) (string, error) {
	p, err := f.realParent(hostPath)
	if err != nil {
		return "", err
	}
	return os.Readlink(p)
}

// list returns the names in a host directory, sorted.
func (f *fsys) list(hostPath string) ([]string, *File) {
	file := &File{Path: hostPath}
	if m, ok := f.meta[path.Clean(hostPath)]; ok && m.Denied {
		file.State = Denied
		return nil, file
	}
	p, err := f.real(hostPath)
	if err == nil {
		var names []string
		var fh *os.File
		if fh, err = os.Open(p); err == nil {
			names, err = fh.Readdirnames(-1)
			fh.Close()
			if err == nil {
				sort.Strings(names)
				file.State = Present
				return names, file
			}
		}
	}
	setErr(file, err)
	return nil, file
}

// resolved is the host path a path names after following symbolic links
// inside root, for comparing paths the way the kernel would (/var/run is
// /run on most hosts). Paths that cannot be resolved stay as they are.
func (f *fsys) resolved(hostPath string) string {
	p, err := f.real(hostPath)
	if err != nil {
		return path.Clean(hostPath)
	}
	rel, err := filepath.Rel(f.root, p)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path.Clean(hostPath)
	}
	return path.Clean("/" + filepath.ToSlash(rel))
}

// pids lists the numeric entries of /proc.
func (f *fsys) pids() []int {
	names, _ := f.list("/proc")
	var out []int
	for _, n := range names {
		if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
			out = append(out, pid)
		}
	}
	sort.Ints(out)
	return out
}
