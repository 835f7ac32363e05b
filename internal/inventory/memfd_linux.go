package inventory

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// memFile copies r into an anonymous in-memory file and returns a path that
// opens it (/proc/self/fd/N) for libraries that only take paths. The file
// lives until cleanup closes its descriptor; it never appears in a
// directory. path is "" when the kernel has no memfd_create (before 3.17,
// or a seccomp profile that forbids it): the caller falls back.
func memFile(name string, r io.Reader) (path string, cleanup func(), n int64, err error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return "", nil, 0, nil
	}
	f := os.NewFile(uintptr(fd), name)
	if n, err = io.Copy(f, r); err != nil {
		f.Close()
		return "", nil, 0, err
	}
	return fmt.Sprintf("/proc/self/fd/%d", f.Fd()), func() { f.Close() }, n, nil
}
