package cli

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dockvet/dockvet/internal/finding"
)

// nobody is the unprivileged user the non-root runs use.
const nobody = 65534

// asNobody runs this test binary as dockvet (TestMain) under the
// unprivileged user, and returns its exit code, standard output and error.
// CI runs tests as root, who reads every file whatever its mode: only a
// real second user shows what a non-root run skips.
func asNobody(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("running as another user needs root (the tests run as root in CI)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A copy the other user can run, in a directory it can reach.
	bin := filepath.Join(worldDir(t), "dockvet")
	copyFile(t, self, bin, 0o755)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DOCKVET_TEST_MAIN=1", "DOCKVET_CACHE_DIR="+worldDir(t), "HOME=/nonexistent")
	cmd.Dir = filepath.Dir(bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errb.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errb.String()
	}
	t.Fatalf("running as uid %d: %v", nobody, err)
	return 0, "", ""
}

// worldDir is a temporary directory every user can enter and write.
func worldDir(t *testing.T) string {
	d := t.TempDir()
	for p := d; p != os.TempDir() && p != "/" && p != "."; p = filepath.Dir(p) {
		os.Chmod(p, 0o777|os.ModeSticky)
	}
	return d
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestNonRootUnreadableIsNotSilent: a tree with a directory the user
// cannot read, scanned as a non-root user, exits 2 with an errors entry
// naming it (root would have read it); --accept-partial exits by the
// findings and still lists it.
func TestNonRootUnreadableIsNotSilent(t *testing.T) {
	root := worldDir(t)
	write(t, root, "Dockerfile", "FROM alpine:3.20\nUSER 10001\nCOPY . /app\n")
	write(t, root, "secret/creds.env", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
	write(t, root, "app/main.sh", "#!/bin/sh\necho hi\n")
	if err := os.Chmod(filepath.Join(root, "secret"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "secret"), 0o755) })

	for _, cmd := range [][]string{{"scan", root}, {"dockerfile", root}} {
		code, out, stderr := asNobody(t, append(cmd, "--format", "json", "--fail-on", "critical")...)
		if code != ExitError {
			t.Errorf("%v as uid %d: exit %d, want %d (stderr: %s)", cmd, nobody, code, ExitError, stderr)
		}
		var r finding.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: report: %v\n%s", cmd, err, out)
		}
		if !hasError(r, "secret", "permission denied") {
			t.Errorf("%v: no errors entry for the unreadable directory: %+v", cmd, r.Errors)
		}
		if !strings.Contains(stderr, "permission denied") {
			t.Errorf("%v: standard error does not say what was not read: %s", cmd, stderr)
		}
		code, out, _ = asNobody(t, append(cmd, "--format", "json", "--fail-on", "critical", "--accept-partial")...)
		if code != 0 {
			t.Errorf("%v --accept-partial: exit %d, want 0 (no critical finding)", cmd, code)
		}
		if json.Unmarshal([]byte(out), &r) != nil || !hasError(r, "secret", "permission denied") {
			t.Errorf("%v --accept-partial: the report lost the errors entry: %s", cmd, out)
		}
	}
}

// TestNonRootUnreadableContextFile: a build context file the user cannot
// read (its secret scan cannot happen) makes `dockerfile` exit 2 with an
// errors entry naming it.
func TestNonRootUnreadableContextFile(t *testing.T) {
	root := worldDir(t)
	write(t, root, "Dockerfile", "FROM alpine:3.20\nUSER 10001\nCOPY . /app\n")
	key := write(t, root, "deploy.key", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
	if err := os.Chmod(key, 0); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := asNobody(t, "dockerfile", filepath.Join(root, "Dockerfile"), "--format", "json", "--fail-on", "critical")
	if code != ExitError {
		t.Errorf("exit %d, want %d (stderr: %s)", code, ExitError, stderr)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || !hasError(r, "deploy.key", "permission denied") {
		t.Errorf("no errors entry for the unreadable context file: %v %+v", err, r.Errors)
	}
}

// TestReadableTreeIsComplete: the same tree, all readable, exits by its
// findings with no errors entry (the negative case).
func TestReadableTreeIsComplete(t *testing.T) {
	root := worldDir(t)
	write(t, root, "Dockerfile", "FROM alpine:3.20\nUSER 10001\nCOPY app /app\n")
	write(t, root, "app/main.sh", "#!/bin/sh\necho hi\n")
	code, out, stderr := asNobody(t, "scan", root, "--format", "json", "--fail-on", "critical")
	if code != 0 {
		t.Errorf("exit %d, want 0 (stderr: %s)", code, stderr)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Errors) != 0 {
		t.Errorf("errors in a readable tree: %v %+v", err, r.Errors)
	}
}

func hasError(r finding.Report, target, msg string) bool {
	for _, e := range r.Errors {
		if strings.Contains(e.Target, target) && strings.Contains(e.Message, msg) {
			return true
		}
	}
	return false
}
