package safefile

import (
	"os"

	"golang.org/x/sys/unix"
)

// kernelFilesystems are the filesystems whose files the kernel makes up on
// reading (/proc, /sys and what mounts under it): a size of 0 or 4096 says
// nothing of what reading yields, and some never end.
var kernelFilesystems = map[int64]string{
	unix.PROC_SUPER_MAGIC:    "proc",
	unix.SYSFS_MAGIC:         "sysfs",
	unix.DEBUGFS_MAGIC:       "debugfs",
	unix.TRACEFS_MAGIC:       "tracefs",
	unix.SECURITYFS_MAGIC:    "securityfs",
	unix.CGROUP_SUPER_MAGIC:  "cgroup",
	unix.CGROUP2_SUPER_MAGIC: "cgroup2",
	unix.BPF_FS_MAGIC:        "bpf",
	unix.EFIVARFS_MAGIC:      "efivarfs",
}

// kernelMade names the kernel filesystem an opened file lives on, or "".
// It asks the descriptor actually opened (fstatfs), so a symbolic link into
// /proc is caught without resolving the path first. SyscallConn, not Fd:
// Fd would put the file in blocking mode.
func kernelMade(f *os.File) string {
	rc, err := f.SyscallConn()
	if err != nil {
		return ""
	}
	var st unix.Statfs_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstatfs(int(fd), &st) }); err != nil || serr != nil {
		return ""
	}
	return kernelFilesystems[int64(st.Type)]
}
