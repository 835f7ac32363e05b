package cli

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeBigLayout writes an OCI layout of layers uncompressed layers, each
// holding one file of size bytes of text: an image whose scan takes long
// enough to be interrupted, made without compressing anything.
func writeBigLayout(t *testing.T, layers int, size int) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
	put := func(b []byte) string {
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:])
		if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", h), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return "sha256:" + h
	}
	line := []byte("a line of ordinary text in a large log file, with nothing secret in it 0123456789\n")
	body := bytes.Repeat(line, size/len(line))
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int    `json:"size"`
	}
	var lds []desc
	var diffIDs []string
	for i := range layers {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("var/log/big-%d.log", i), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write(body)
		tw.Close()
		d := put(buf.Bytes())
		lds = append(lds, desc{"application/vnd.oci.image.layer.v1.tar", d, buf.Len()})
		diffIDs = append(diffIDs, d)
	}
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "config": map[string]any{"User": "1000"},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}})
	m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": desc{"application/vnd.oci.image.config.v1+json", put(cfg), len(cfg)}, "layers": lds})
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2,
		"manifests": []desc{{"application/vnd.oci.image.manifest.v1+json", put(m), len(m)}}})
	os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	return dir
}

// readBytes is how much a process has read (Linux: /proc/PID/io), or -1.
func readBytes(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return -1
}

// Ctrl-C during a long image scan was swallowed (still running 20 s
// later). It must end the run at once with exit code 130, and leave no
// report behind, not even a partial one.
func TestInterrupt(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc to know the child is reading the image")
	}
	if testing.Short() {
		t.Skip("writes a 768 MiB image")
	}
	dir := writeBigLayout(t, 12, 64<<20)
	out := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(os.Args[0], "image", "oci:"+dir, "--format", "json", "--output", out,
		"--config", os.DevNull, "--offline", "--fail-on", "none", "--no-cache")
	cmd.Env = append(os.Environ(), asDockvet+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Interrupt once the child is well into the layers.
	var before int64
wait:
	for {
		select {
		case err := <-done:
			t.Fatalf("the scan ended before it was interrupted: %v; stderr %q", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
			if before = readBytes(cmd.Process.Pid); before > 100<<20 {
				break wait
			}
		}
	}
	sent := time.Now()
	cmd.Process.Signal(os.Interrupt)
	err := <-done
	latency := time.Since(sent)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitInterrupted {
		t.Fatalf("exit: %v, want %d; stderr %q", err, ExitInterrupted, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted") || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("stderr %q, want one line saying the run was interrupted", stderr.String())
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a report was written after Ctrl-C (%v)", err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "*"))
	if len(left) != 0 {
		t.Errorf("files left beside the output: %v", left)
	}
	ru := ee.SysUsage().(*syscall.Rusage)
	t.Logf("interrupted after %d MiB read; exited %v after SIGINT (user+sys of the whole run %v)", before>>20, latency,
		time.Duration(ru.Utime.Nano()+ru.Stime.Nano()))
	// A generous bound, not a timing: a run that ignores Ctrl-C reads the
	// rest of the 768 MiB, well over this on any machine.
	if latency > 10*time.Second {
		t.Errorf("exited %v after SIGINT", latency)
	}
}
