package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	proc := filepath.Join(dir, "proc")
	if err := os.Symlink("/proc/self/environ", proc); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{fifo: "is a FIFO", zero: "is a character device", dir: "is a directory", proc: "under proc"} {
		_, err := ReadFile(name, MaxSource)
		var nr *NotRegularError
		if !errors.As(err, &nr) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want a NotRegularError saying %q", name, err, want)
		}
	}
	// /dev/null is the idiom for "no file": it reads as empty.
	if data, err := ReadFile("/dev/null", MaxConfig); err != nil || len(data) != 0 {
		t.Errorf("/dev/null: %q, %v", data, err)
	}
	// A regular file is read.
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, []byte("FROM scratch\n"), 0o644)
	if data, err := ReadFile(ok, MaxSource); err != nil || string(data) != "FROM scratch\n" {
		t.Errorf("regular file: %q, %v", data, err)
	}
}

func TestCapNamed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big")
	os.WriteFile(p, make([]byte, 2048), 0o644)
	_, err := ReadFile(p, 1024)
	var tl *TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "1 KiB cap") {
		t.Errorf("got %v, want the 1 KiB cap named", err)
	}
	if _, err := ReadFile(p, 2048); err != nil {
		t.Errorf("at the cap: %v", err)
	}
}

func TestWithin(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "in"), []byte("x"), 0o644)
	os.Symlink("/etc/hostname", filepath.Join(root, "out"))
	os.Symlink("in", filepath.Join(root, "link-in"))
	for _, p := range []string{"in", "link-in", "missing"} {
		if _, err := Within(root, p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, p := range []string{"out", "/etc/shadow", "../../etc/passwd", filepath.Join(root, "..", "x")} {
		var ee *EscapeError
		if _, err := Within(root, p); !errors.As(err, &ee) {
			t.Errorf("%s: got %v, want an EscapeError", p, err)
		}
	}
	if _, err := ReadFileWithin(root, "out", MaxSource); err == nil {
		t.Error("a link out of the root was read")
	}
}
