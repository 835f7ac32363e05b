package cli

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/engine"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/fleet/fleettest"
	"github.com/dockvet/dockvet/internal/testenv"
)

// TestImageFromRegistryWhenEngineUnreachable is the acceptance of honest
// sources: with DOCKER_HOST naming a socket that does not exist, a bare
// name that only the registry has is read from the registry; standard
// error says the Engine was unreachable (even with -q), and the JSON
// report records the source, the reference as given, the digests, the
// platform and the distribution.
func TestImageFromRegistryWhenEngineUnreachable(t *testing.T) {
	sock := "unix://" + filepath.Join(t.TempDir(), "nonexistent.sock")
	t.Setenv("DOCKER_HOST", sock)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	reg := fleettest.NewRegistry(t)
	img := fleettest.DebianImage(t, fleettest.DebianBase(t, fleettest.Package{Name: "demo", Version: "1.0-1"}))
	ref, digest := reg.Push(t, "team/only-here", "1", img)
	cfgDigest, _ := img.ConfigName()

	code, out, errOut := run(t, "image", ref, "--format", "json", "--fail-on", "none", "-q")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	note := "dockvet: " + ref + ": not read from the Engine at " + sock + " (unreachable (no such file or directory)); read from the registry " + reg.Host + " instead\n"
	if !strings.HasPrefix(errOut, note) {
		t.Errorf("stderr %q, want it to start with %q", errOut, note)
	}
	r := jsonReport(t, out)
	if len(r.Images) != 1 {
		t.Fatalf("images %+v", r.Images)
	}
	id := r.Images[0]
	if id.Target != ref || id.Source != "registry" || id.Location != reg.Host || id.ManifestDigest != digest || id.ID != cfgDigest.String() ||
		!slices.Equal(id.RepoDigests, []string{reg.Host + "/team/only-here@" + digest}) || id.Platform != "linux/amd64" ||
		id.OS == nil || id.OS.ID != "debian" || id.OS.VersionID != "12" || id.Layers != 1 || id.Size == 0 ||
		id.SourceNote != strings.TrimSuffix(strings.TrimPrefix(note, "dockvet: "), "\n") {
		t.Errorf("identity %+v", id)
	}
	if e := r.Scan.Engine; e == nil || e.Host != sock || e.From != "DOCKER_HOST" {
		t.Errorf("the Engine tried is not recorded: %+v", e)
	}
	if r.Scan.Time.IsZero() || r.Tool.Version != Version {
		t.Errorf("scan %+v, tool %+v", r.Scan, r.Tool)
	}

	// --source engine reads the Engine only: one line naming the socket.
	code, out, errOut = run(t, "image", ref, "--source", "engine")
	if code != ExitError || out != "" || errOut != "dockvet: "+ref+": the Engine at "+sock+": unreachable (no such file or directory)\n" {
		t.Errorf("--source engine: exit %d, stderr %q", code, errOut)
	}
	// A name neither source has: every source and why.
	code, _, errOut = run(t, "image", reg.Host+"/team/absent:1")
	if code != ExitError || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "the Engine at "+sock+": unreachable") ||
		!strings.Contains(errOut, "the registry: ") {
		t.Errorf("absent everywhere: exit %d, stderr %q", code, errOut)
	}
	// --platform that the image does not have.
	code, _, errOut = run(t, "image", ref, "--platform", "linux/arm64", "--source", "registry")
	if code != ExitError || !strings.Contains(errOut, "the image is linux/amd64 and has no linux/arm64 image") {
		t.Errorf("--platform linux/arm64: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := run(t, "image", ref, "--platform", "linux/arm64", "--any-platform", "--source", "registry", "-q", "--fail-on", "none"); code != ExitOK {
		t.Errorf("--any-platform: exit %d, stderr %q", code, errOut)
	}

	// SARIF and the table identify the image too.
	_, sarifOut, _ := run(t, "image", ref, "--format", "sarif", "--fail-on", "none", "-q", "--source", "registry")
	var doc struct {
		Runs []struct {
			Properties struct {
				Images []finding.ImageInfo `json:"images"`
			} `json:"properties"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(sarifOut), &doc); err != nil || len(doc.Runs) != 1 || len(doc.Runs[0].Properties.Images) != 1 ||
		doc.Runs[0].Properties.Images[0].ManifestDigest != digest {
		t.Errorf("SARIF: %v\n%s", err, sarifOut)
	}
	_, table, _ := run(t, "image", ref, "--fail-on", "none", "-q", "--source", "registry")
	if !strings.HasPrefix(table, "Image "+ref+": registry "+reg.Host+", linux/amd64, Debian GNU/Linux 12 (bookworm)\n  ID "+cfgDigest.String()+", manifest "+digest+"\n") {
		t.Errorf("table header:\n%s", table)
	}
}

// gzipFile writes src gzip-compressed, as `docker save | gzip` does.
func gzipFile(t *testing.T, src, name string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out := filepath.Join(t.TempDir(), name)
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := io.Copy(zw, in); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGzipArchiveSameFindings is the acceptance of compressed archives: a
// gzip-compressed docker save archive gives the findings of the plain one.
func TestGzipArchiveSameFindings(t *testing.T) {
	plain := keyImage(t)
	gz := gzipFile(t, plain, "key.tar.gz")
	findings := func(ref string) []string {
		t.Helper()
		code, out, errOut := run(t, "image", ref, "--format", "json", "--config", os.DevNull, "-q")
		if code != ExitFindings {
			t.Fatalf("%s: exit %d: %s", ref, code, errOut)
		}
		r := jsonReport(t, out)
		var lines []string
		for _, f := range r.Findings {
			f.Target = ""
			b, _ := json.Marshal(f)
			lines = append(lines, string(b))
		}
		if len(r.Images) != 1 || r.Images[0].Source != "docker-archive" || r.Images[0].ID == "" || r.Images[0].Layers != 3 {
			t.Errorf("%s: identity %+v", ref, r.Images)
		}
		return lines
	}
	want := findings("docker-archive:" + plain)
	if got := findings(gz); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("the gzip'd archive's findings differ:\n got %v\nwant %v", got, want)
	}
}

// TestImageFromEngineIdentity: an image read from the Engine names it in
// the report (scan.engine, the image's location) with the image ID the
// Engine gives; a --platform the image does not have is refused from the
// Engine's inspect data, before anything is read.
func TestImageFromEngineIdentity(t *testing.T) {
	lab := testenv.NewLab(t, "dvident")
	here, err := engine.Resolve(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "image", "docker:"+lab.Hardened, "--format", "json", "--fail-on", "none")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(errOut, "dockvet: Docker Engine "+here.Host+" (") {
		t.Errorf("stderr does not name the Engine: %q", errOut)
	}
	r := jsonReport(t, out)
	inspect, err := lab.C.ImageInspect(t.Context(), lab.Hardened)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Images) != 1 || r.Images[0].Source != "docker" || r.Images[0].ID != inspect.ID || r.Images[0].Location != here.Host ||
		r.Images[0].Platform != "linux/"+inspect.Architecture || r.Images[0].Name != lab.Hardened {
		t.Errorf("identity %+v", r.Images)
	}
	if e := r.Scan.Engine; e == nil || e.Host != here.Host {
		t.Errorf("scan.engine %+v", e)
	}
	other := "linux/arm64"
	if inspect.Architecture == "arm64" {
		other = "linux/amd64"
	}
	code, _, errOut = run(t, "image", "docker:"+lab.Hardened, "--platform", other)
	if code != ExitError || !strings.Contains(errOut, "has no "+other+" image") {
		t.Errorf("--platform %s: exit %d, stderr %q", other, code, errOut)
	}
}
