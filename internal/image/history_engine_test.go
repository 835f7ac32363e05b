package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/testenv"
)

// recordingShell is a static program that writes its arguments to a new
// file and exits 0: the /bin/sh of a test image, so that a real builder
// runs its RUN steps without network or packages, each making a layer.
func recordingShell(t testing.TB) []byte {
	t.Helper()
	src := t.TempDir()
	main := "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\t\"strings\"\n)\n\n" +
		"func main() {\n\tos.WriteFile(fmt.Sprintf(\"/ran-%d\", os.Getpid()), []byte(strings.Join(os.Args, \" \")), 0o644)\n}\n"
	for name, body := range map[string]string{"go.mod": "module example.com/sh\n\ngo 1.22\n", "main.go": main} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(src, "sh")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// historyDockerfile is built by the Engine's classic builder; its history
// holds the records the builder writes, not ones a test made up.
const historyDockerfile = `FROM scratch
COPY sh /bin/sh
ENV SERVICE_TOKEN=Zt4rW9qLp2Xv8sKm3NbY6Hd1
ENV SERVICE_TOKEN=
ARG NPM_TOKEN
RUN curl -fsSL https://get.example.com/install.sh | sh
RUN sudo apt-get install -y --no-install-recommends jq=1.6-2.1
USER app
CMD python app.py
`

// TestHistoryFromEngineBuild builds an image with the Engine and checks
// that its real history records are judged by the Dockerfile rules, each
// finding at the entry of the instruction it is about and at its layer.
func TestHistoryFromEngineBuild(t *testing.T) {
	c := testenv.Docker(t)
	var ctxTar bytes.Buffer
	tw := tar.NewWriter(&ctxTar)
	for _, f := range []struct {
		name string
		mode int64
		body []byte
	}{{"Dockerfile", 0o644, []byte(historyDockerfile)}, {"sh", 0o755, recordingShell(t)}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), ModTime: time.Unix(1700000000, 0)}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.body)
	}
	tw.Close()

	tag := testenv.Unique("dockvet-test/history") + ":1"
	token := "npm_abcdefghijklmnopqrstuvwxyz0123456789"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := c.ImageBuild(ctx, &ctxTar, client.ImageBuildOptions{
		Tags: []string{tag}, Version: build.BuilderV1, NetworkMode: "none", Remove: true, ForceRemove: true,
		BuildArgs: map[string]*string{"NPM_TOKEN": &token},
	})
	if err != nil {
		t.Fatalf("docker build: %v", err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c.ImageRemove(ctx, tag, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	})
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var msg struct{ Error string }
		if err := dec.Decode(&msg); err != nil {
			break
		}
		if msg.Error != "" {
			t.Fatalf("docker build: %s", msg.Error)
		}
	}

	img, err := Open(context.Background(), "docker:"+tag, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	fs, _, err := Audit(context.Background(), img, AuditOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	hist := img.Config.History
	// The record each finding's entry must hold, and whether that entry
	// made a layer.
	want := map[string]struct {
		record string
		layer  bool
	}{
		"DV1040": {"ENV SERVICE_TOKEN=Zt4r", false}, // replaced by the next ENV, still recorded
		"DV1041": {"curl -fsSL", true},              // the build argument the RUN recorded
		"DV1070": {"curl -fsSL", true},
		"DV1003": {"sudo apt-get", true},
		"DV1005": {"USER app", false},
		"DV1095": {"CMD", false},
	}
	got := map[string]bool{}
	for _, f := range fs {
		w, ok := want[f.RuleID]
		if !ok {
			continue
		}
		got[f.RuleID] = true
		e := entryOf(t, f)
		if e < 0 || e >= len(hist) || !strings.Contains(hist[e].CreatedBy, w.record) {
			t.Errorf("%s %q at %s: want the entry recording %q", f.RuleID, f.Message, f.Location.Path, w.record)
			continue
		}
		if (f.Location.LayerIndex != nil) != w.layer || w.layer && f.Location.Layer == "" {
			t.Errorf("%s at %s: layer %v %q, want a layer: %v", f.RuleID, f.Location.Path, f.Location.LayerIndex, f.Location.Layer, w.layer)
		}
	}
	for id := range want {
		if !got[id] {
			t.Errorf("no %s from the history; findings: %v", id, ruleIDs(fs))
		}
	}
}

func entryOf(t *testing.T, f finding.Finding) int {
	var n int
	rest, ok := strings.CutPrefix(f.Location.Path, "history[")
	if !ok {
		return -1
	}
	for _, c := range strings.TrimSuffix(rest, "]") {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func ruleIDs(fs []finding.Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.RuleID+" "+f.Location.Path)
	}
	return ids
}
