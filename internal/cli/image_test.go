package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/imageaudit"
	"github.com/dockvet/dockvet/internal/testenv"
)

// fakeKey is a fabricated private key: the right shape, no key.
const fakeKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n"

// keyImage is an archive of the acceptance image: a key added in layer 1,
// deleted in layer 2.
func keyImage(t *testing.T) string {
	t.Helper()
	img := testenv.Image(t, v1.Config{User: "10001", Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/app"}}}, []v1.Layer{
		testenv.Layer(t, testenv.File{Path: "app", Mode: 0o755, Body: []byte("#!/bin/sh\n")}),
		testenv.Layer(t, testenv.File{Path: "root/.ssh/id_rsa", Mode: 0o600, Body: []byte(fakeKey)}),
		testenv.Layer(t, testenv.File{Path: "root/.ssh/id_rsa", Whiteout: true}),
	}, "COPY app /app", "COPY id_rsa /root/.ssh/id_rsa", "RUN /bin/sh -c rm /root/.ssh/id_rsa")
	p := filepath.Join(t.TempDir(), "key.tar")
	if err := tarball.WriteToFile(p, name.MustParseReference("dockvet-test/key:1"), img); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImageJSON(t *testing.T) {
	p := keyImage(t)
	code, out, errs := run(t, "image", "docker-archive:"+p, "--format", "json", "--config", os.DevNull)
	if code != ExitFindings {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var r finding.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Targets) != 1 || r.Targets[0].Kind != finding.SurfaceImage {
		t.Errorf("targets = %+v", r.Targets)
	}
	found := false
	for _, f := range r.Findings {
		// The secret scan reports the key itself (DV2023 leaves the file
		// to it): at its line, in the layer that holds it.
		if f.RuleID == "DV7016" && f.Location.Path == "/root/.ssh/id_rsa" && f.Location.LayerIndex != nil && *f.Location.LayerIndex == 1 &&
			f.Location.Line == 2 && f.Location.Column == 1 && f.Fingerprint != "" &&
			strings.Contains(f.Message, "deleted in layer 2, but still extractable from layer 1") {
			found = true
		}
		if f.RuleID == "DV2023" {
			t.Errorf("the key is reported twice: %s", f.Message)
		}
		if strings.Contains(f.Message, "b3BlbnNz") {
			t.Errorf("the key leaks into a message: %s", f.Message)
		}
	}
	if !found {
		t.Errorf("no DV7016 at layer 1 for the deleted key:\n%s", out)
	}
}

func TestImageTableEndsWithLayers(t *testing.T) {
	p := keyImage(t)
	out := filepath.Join(t.TempDir(), "report.txt")
	code, stdout, errs := run(t, "image", p, "--format", "table", "--output", out, "--config", os.DevNull)
	if code != ExitFindings || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, errs)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) < 5 {
		t.Fatalf("report:\n%s", data)
	}
	// The layer table closes the report, before the summary line.
	if len(lines) < 7 || !strings.HasPrefix(lines[len(lines)-1], "Summary: ") {
		t.Fatalf("report:\n%s", data)
	}
	tail := lines[len(lines)-7 : len(lines)-2]
	if !strings.HasPrefix(tail[0], "Layers of ") || !strings.Contains(tail[1], "CREATED BY") {
		t.Fatalf("no layer table at the end:\n%s", data)
	}
	for i, want := range []string{"COPY app /app", "COPY id_rsa /root/.ssh/id_rsa", "RUN rm /root/.ssh/id_rsa"} {
		if f := strings.Fields(tail[2+i]); f[0] != string(rune('0'+i)) || !strings.HasSuffix(tail[2+i], want) {
			t.Errorf("layer line %d = %q, want index %d and %q", i, tail[2+i], i, want)
		}
	}
}

// TestImageInputErrors: every bad input is one line on standard error,
// exit 2, and no report.
func TestImageInputErrors(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile(keyImage(t))
	cut := filepath.Join(dir, "cut.tar")
	os.WriteFile(cut, good[:len(good)/3], 0o644)

	// A one-layer image whose layer inflates far beyond a small cap.
	img := testenv.Image(t, v1.Config{}, []v1.Layer{testenv.Layer(t, testenv.File{Path: "zero", Body: make([]byte, 3<<20)})})
	bombPath := filepath.Join(dir, "bomb.tar")
	if err := tarball.WriteToFile(bombPath, name.MustParseReference("dockvet-test/bomb:1"), img); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"image", filepath.Join(dir, "missing.tar")}, "no such file"},
		{[]string{"image", "docker-archive:" + filepath.Join(dir, "missing.tar")}, "no such file"},
		{[]string{"image", cut}, "truncated"},
		{[]string{"image", bombPath, "--max-layer-size", "1MiB"}, "per-layer limit"},
		{[]string{"image", bombPath, "--max-layer-size", "lots"}, "--max-layer-size"},
		{[]string{"image", bombPath, "--platform", "nonsense"}, "--platform"},
		{[]string{"image", bombPath, "--max-age", "-3d"}, "--max-age"},
		{[]string{"image", "registry:127.0.0.1:1/x:1", "--offline"}, "offline"},
		{[]string{"image", "oci:" + dir}, "index.json"},
	} {
		code, out, errs := run(t, append(tc.args, "--config", os.DevNull)...)
		if code != ExitError || out != "" {
			t.Errorf("%v: exit %d, stdout %q", tc.args, code, out)
		}
		if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) || !strings.HasPrefix(errs, "dockvet: ") {
			t.Errorf("%v: stderr %q, want one line containing %q", tc.args, errs, tc.want)
		}
	}
}

// TestImageProgress: a bar on standard error when it is a terminal, and
// nothing with --no-progress (or when it is not a terminal, as in every
// other test).
func TestImageProgress(t *testing.T) {
	p := keyImage(t)
	for _, tc := range []struct {
		args []string
		bar  bool
	}{{nil, true}, {[]string{"--no-progress"}, false}, {[]string{"--quiet"}, false}} {
		var out, errb bytes.Buffer
		args := append([]string{"image", "docker-archive:" + p, "--format", "json", "--config", os.DevNull, "--fail-on", "none"}, tc.args...)
		if code := Execute(args, Streams{Out: &out, Err: &errb, ErrIsTerminal: true}); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errb.String())
		}
		if got := regexp.MustCompile(`layer +3/3 .*\[=+\] +434 B / 434 B`).MatchString(errb.String()); got != tc.bar {
			t.Errorf("%v: progress bar shown = %v, want %v: %q", tc.args, got, tc.bar, errb.String())
		}
		if !json.Valid(out.Bytes()) {
			t.Errorf("%v: the bar must not reach standard output", tc.args)
		}
	}
}

// TestAuditImageIsTheCommand: imageaudit.Audit, which needs no command line,
// gives the report `dockvet image --format json` writes once the shared
// end of an audit (filters, rendering) has run over it; its notices are
// the command's standard error.
func TestAuditImageIsTheCommand(t *testing.T) {
	ref := "docker-archive:" + keyImage(t)
	code, cliOut, cliErr := runFake(t, nil, "image", ref, "--format", "json", "--config", os.DevNull)
	if code != ExitFindings {
		t.Fatalf("exit %d: %s", code, cliErr)
	}

	var notices bytes.Buffer
	res, err := imageaudit.Audit(context.Background(), imageaudit.Options{
		Ref: ref, Walk: image.DefaultOptions(), Settings: image.DefaultSettings(), Now: testNow, Version: Version, DBMaxAge: defaultDBMaxAge,
		Notice: func(format string, args ...any) { fmt.Fprintf(&notices, "dockvet: "+format+"\n", args...) },
	})
	if err != nil {
		t.Fatal(err)
	}
	r, view := res.Report, res.View
	if len(view.Layers) != 3 {
		t.Errorf("the view has %d layers, want 3", len(view.Layers))
	}
	var out bytes.Buffer
	s := &Shared{Format: "json", FailOn: "high", IO: Streams{Out: &out, Err: io.Discard}, Now: func() time.Time { return testNow }}
	if err := s.validate(false); err != nil {
		t.Fatal(err)
	}
	s.cfg = config.Default()
	s.configUsed = &finding.ConfigUsed{File: os.DevNull} // as --config says
	if err := s.finish(r, findingFormats); !isExit(err, ExitFindings) {
		t.Errorf("finish: %v", err)
	}
	if out.String() != cliOut {
		t.Errorf("imageaudit's report differs from the command's:\n%s\nthe command's:\n%s", out.String(), cliOut)
	}
	if notices.String() != cliErr {
		t.Errorf("notices %q, the command's standard error %q", notices.String(), cliErr)
	}

	if _, err := imageaudit.Audit(context.Background(), imageaudit.Options{Ref: "docker-archive:/nonexistent/x.tar"}); err == nil ||
		err.Error() != "/nonexistent/x.tar: no such file or directory" {
		t.Errorf("a missing archive: %v", err)
	}
}

func isExit(err error, code int) bool {
	var ee *exitError
	return errors.As(err, &ee) && ee.code == code
}
