package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dockvet/dockvet/internal/finding"
)

var ruleRoot = finding.Rule{ID: "DV1002", Title: "Final stage runs as root", Practice: finding.PracticeNonRoot, Severity: finding.High,
	Surfaces: []finding.Surface{finding.SurfaceDockerfile}, CIS: "4.1", Description: "d", Remediation: "Add USER.", References: []string{"https://docs.docker.com/"}}
var ruleKey = finding.Rule{ID: "DV2040", Title: "Secret file in a layer", Practice: finding.PracticeSecrets, Severity: finding.Critical,
	Surfaces: []finding.Surface{finding.SurfaceImage}, Description: "d", Remediation: "Rebuild."}

func sample() *finding.Report {
	tgt := finding.Target{Kind: finding.SurfaceDockerfile, Name: "app/Dockerfile"}
	img := finding.Target{Kind: finding.SurfaceImage, Name: "docker-archive:app.tar"}
	r := &finding.Report{
		Tool:    finding.Tool{Name: "dockvet", Version: "0.1.0"},
		Targets: []finding.Target{tgt, img, {Kind: finding.SurfaceDockerfile, Name: "clean/Dockerfile"}},
		Rules:   []finding.Rule{ruleRoot, ruleKey},
		Findings: []finding.Finding{
			finding.New(&ruleRoot, tgt, finding.Location{Path: "app/Dockerfile", Line: 12}, "USER root <makes> the container && run as root."),
			finding.New(&ruleKey, img, finding.Location{Path: "/root/.ssh/id_rsa", Layer: "sha256:abc", LayerIndex: finding.LayerAt(0)}, "Private key (-----****) deleted later but still in layer 0."),
		},
	}
	r.Findings[1].Fingerprint = "fp:0011"
	r.Finalize()
	return r
}

func render(t *testing.T, format string) []byte {
	t.Helper()
	fn, err := Lookup(format)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := fn(&b, sample(), Options{}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestJSONContract(t *testing.T) {
	out := render(t, "json")
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schemaVersion", "tool", "targets", "findings", "summary"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("missing top-level key %q", k)
		}
	}
	fs := doc["findings"].([]any)
	first := fs[0].(map[string]any)
	if first["ruleId"] != "DV2040" || first["severity"] != "critical" {
		t.Errorf("critical finding must sort first: %v", first)
	}
	loc := first["location"].(map[string]any)
	if loc["layerIndex"] != float64(0) {
		t.Errorf("layerIndex 0 must be present: %v", loc)
	}
	if _, ok := loc["line"]; ok {
		t.Error("location must carry only fields that apply")
	}
	second := fs[1].(map[string]any)
	for _, k := range []string{"ruleId", "title", "severity", "practice", "cis", "target", "targetKind", "location", "message", "remediation", "references"} {
		if _, ok := second[k]; !ok {
			t.Errorf("finding misses %q", k)
		}
	}
	if !strings.Contains(second["message"].(string), "&& run") {
		t.Error("JSON must not HTML-escape messages")
	}
	sum := doc["summary"].(map[string]any)
	if sum["critical"] != float64(1) || sum["high"] != float64(1) || sum["info"] != float64(0) {
		t.Errorf("summary %v", sum)
	}
	if !bytes.Equal(out, render(t, "json")) {
		t.Error("JSON is not deterministic")
	}
}

// TestSARIFSchema validates the SARIF output against the official OASIS
// SARIF 2.1.0 JSON schema (testdata, the copy go-sarif embeds), and checks
// that none of the members the schema gives a default were written.
func TestSARIFSchema(t *testing.T) {
	out := render(t, "sarif")
	if err := sarifSchema(t).Validate(mustJSON(t, out)); err != nil {
		t.Fatalf("SARIF does not validate: %v\n%s", err, out)
	}
	// The validator must be able to fail: a level outside the schema's enum.
	if sarifSchema(t).Validate(mustJSON(t, bytes.Replace(out, []byte(`"level": "error"`), []byte(`"level": "fatal"`), 1))) == nil {
		t.Fatal("schema validation accepted an invalid level")
	}
	for _, pad := range []string{"[]", "{}", `": -1`, `"kind": "fail"`, `"en-US"`, `"enabled": true`} {
		if bytes.Contains(out, []byte(pad)) {
			t.Errorf("SARIF holds the schema default %s", pad)
		}
	}
	rep, err := sarif.FromBytes(out)
	if err != nil {
		t.Fatal(err)
	}
	run := rep.Runs[0]
	if len(run.Tool.Driver.Rules) != 2 || len(run.Results) != 2 {
		t.Fatalf("rules %d results %d", len(run.Tool.Driver.Rules), len(run.Results))
	}
	res := run.Results[1]
	reg := res.Locations[0].PhysicalLocation.Region
	if reg == nil || *reg.StartLine != 12 || *res.Locations[0].PhysicalLocation.ArtifactLocation.URI != "app/Dockerfile" {
		t.Errorf("result must point at app/Dockerfile line 12: %+v", res.Locations[0].PhysicalLocation)
	}
	if res.Level != "error" || *run.Tool.Driver.Rules[res.RuleIndex].ID != "DV1002" {
		t.Error("level or rule index wrong")
	}
	if run.Tool.Driver.Rules[0].Help == nil || run.Tool.Driver.Rules[0].Properties.Properties["security-severity"] == nil {
		t.Error("rules need help text and a security-severity")
	}
}

// TestSARIFBenchmark: the host benchmark's rows and score travel in the
// run's properties.
func TestSARIFBenchmark(t *testing.T) {
	r := benchmarkReport()
	var b bytes.Buffer
	if err := SARIF(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := sarifSchema(t).Validate(mustJSON(t, b.Bytes())); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []struct {
			Properties struct {
				CIS struct {
					Score          int
					ScoreExplained string
					Checks         []map[string]any
				} `json:"cisBenchmark"`
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	cis := doc.Runs[0].Properties.CIS
	if cis.Score != 0 || len(cis.Checks) != 4 || cis.Checks[1]["status"] != "pass" || !strings.Contains(cis.ScoreExplained, "1 automated checks passed") {
		t.Errorf("%+v", cis)
	}
}

func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	const id = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustJSON(t *testing.T, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return v
}

// benchmarkReport is a host report: four checks (one of each status) and
// the finding of the warned one.
func benchmarkReport() *finding.Report {
	host := finding.Target{Kind: finding.SurfaceHost, Name: "host"}
	rule := finding.Rule{ID: "DV4101", Title: "Separate partition", Practice: finding.PracticeMonitoring, Severity: finding.Medium,
		Surfaces: []finding.Surface{finding.SurfaceHost}, CIS: "1.1.1", Description: "d", Remediation: "Mount `/var/lib/docker` on its own partition."}
	r := &finding.Report{Tool: finding.Tool{Name: "dockvet", Version: "0.1.0"}, Targets: []finding.Target{host},
		Findings: []finding.Finding{finding.New(&rule, host, finding.Location{Path: "/etc/fstab"}, "/var/lib/docker is on /.")},
		Checks: []finding.Check{
			{Section: "1 Host Configuration", CIS: "1.1.1", RuleID: "DV4101", Title: "Ensure a separate partition for containers has been created", Status: finding.CheckWarn, Note: "on /"},
			{Section: "1 Host Configuration", CIS: "1.1.3", RuleID: "DV4103", Title: "Ensure auditing is configured for the Docker daemon", Status: finding.CheckPass},
			{Section: "2 Docker daemon configuration", CIS: "2.2", RuleID: "DV4202", Title: "Ensure the logging level is set to 'info'", Status: finding.CheckInfo, Note: "not checked: permission denied"},
			{Section: "2 Docker daemon configuration", CIS: "2.14", RuleID: "DV4214", Title: "Ensure containers are restricted from acquiring new privileges", Manual: true, Status: finding.CheckNote, Note: "look at it"},
		}}
	r.Finalize()
	return r
}

func TestArtifactURI(t *testing.T) {
	for _, tc := range []struct {
		f    finding.Finding
		want string
	}{
		{finding.Finding{Target: "app/Dockerfile", TargetKind: finding.SurfaceDockerfile, Location: finding.Location{Path: "app/Dockerfile"}}, "app/Dockerfile"},
		{finding.Finding{Target: "img.tar", TargetKind: finding.SurfaceImage, Location: finding.Location{Path: "/etc/my key"}}, "img.tar/etc/my%20key"},
		{finding.Finding{Target: "run.sh", TargetKind: finding.SurfaceContainer, Location: finding.Location{Path: "app.env", Container: "web"}}, "app.env"},
		{finding.Finding{Target: "host", TargetKind: finding.SurfaceHost}, "host"},
	} {
		if got := artifactURI(tc.f); got != tc.want {
			t.Errorf("artifactURI(%+v) = %q, want %q", tc.f.Location, got, tc.want)
		}
	}
}

// TestJUnit: only findings at or above --fail-on are failures; the others
// are passed cases that carry the finding; the benchmark is a suite.
func TestJUnit(t *testing.T) {
	for _, tc := range []struct {
		failOn   finding.Severity
		failures int
	}{{finding.High, 2}, {finding.Critical, 1}, {0, 0}} {
		var b bytes.Buffer
		if err := JUnit(&b, sample(), Options{FailOn: tc.failOn}); err != nil {
			t.Fatal(err)
		}
		var doc junitSuites
		if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Tests != 3 || doc.Failures != tc.failures || len(doc.Suites) != 3 {
			t.Errorf("fail-on %v: tests %d failures %d suites %d", tc.failOn, doc.Tests, doc.Failures, len(doc.Suites))
		}
		if tc.failOn == finding.Critical && !strings.Contains(b.String(), "<system-out>USER root") {
			t.Errorf("a passed finding keeps its text:\n%s", b.String())
		}
	}
	var b bytes.Buffer
	if err := JUnit(&b, benchmarkReport(), Options{FailOn: finding.Medium}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`<testsuite name="CIS Docker Benchmark 1.6.0" tests="4" failures="1" errors="0" skipped="1">`,
		`<property name="score" value="0">`, `<skipped message="not checked: permission denied">`, `<failure message="WARN: Ensure a separate partition`} {
		if !strings.Contains(out, want) {
			t.Errorf("JUnit lacks %s:\n%s", want, out)
		}
	}
}

func TestTable(t *testing.T) {
	out := string(render(t, "table"))
	for _, want := range []string{
		"app/Dockerfile (dockerfile): 1 finding",
		"HIGH      DV1002  line 12",
		"/root/.ssh/id_rsa layer 0",
		"clean/Dockerfile (dockerfile): 0 findings",
		"Summary: 2 findings — 1 critical, 1 high, 0 medium, 0 low, 0 info (3 target(s))",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table misses %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("no colour unless asked")
	}
	var b bytes.Buffer
	Table(&b, sample(), Options{Color: true})
	if !strings.Contains(b.String(), "\x1b[1;35m") {
		t.Error("colour asked but not used")
	}
}

func TestLookupUnknown(t *testing.T) {
	if _, err := Lookup("yaml"); err == nil || !strings.Contains(err.Error(), "json") {
		t.Errorf("err = %v", err)
	}
}

func TestHTML(t *testing.T) {
	r := sample()
	r.Findings[1].Message = `<script>alert("x")</script> & more`
	r.Findings[1].References = []string{"javascript:alert(1)", "https://example.com/advice"}
	r.Findings[0].Vulnerability = &finding.Vulnerability{ID: "CVE-2024-1234", Aliases: []string{"GHSA-aaaa-bbbb-cccc", "DSA-5001-1"}}
	var b bytes.Buffer
	if err := HTML(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "<script>") || !strings.Contains(out, "&lt;script&gt;") {
		t.Error("messages must be escaped")
	}
	if strings.Contains(out, "javascript:") {
		t.Error("only http(s) references become links")
	}
	for _, want := range []string{"DV1002", "DV2040", "clean/Dockerfile", "2 findings",
		`<p>Add USER.</p>`, // remediation rendered from Markdown
		`href="https://nvd.nist.gov/vuln/detail/CVE-2024-1234"`, `href="https://github.com/advisories/GHSA-aaaa-bbbb-cccc"`, `href="https://osv.dev/vulnerability/DSA-5001-1"`,
		`href="https://example.com/advice"`,
		"Run Docker as a Non-Root User", "Keep Images Clean", // the seed's sections
		`#fs-high:not(:checked)~.page .s-high{display:none}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	b.Reset()
	if err := HTML(&b, benchmarkReport(), Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CIS Docker Benchmark 1.6.0", "Score 0", "1 automated checks passed", "not checked: permission denied", "<code>/var/lib/docker</code>"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("host HTML lacks %q", want)
		}
	}
}

// TestSeedWords: each practice group quotes the seed article word for
// word (shared/seeds, next to the repository as it is checked out).
func TestSeedWords(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/seeds/*.txt")
	if len(files) == 0 {
		t.Skip("shared/seeds is not next to the repository")
	}
	seed, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(seed)), " ")
	for _, p := range finding.Practices {
		s, ok := seedSections[p]
		if !ok {
			t.Errorf("practice %s has no seed section", p)
			continue
		}
		if !strings.Contains(text, s.Title) {
			t.Errorf("%s: the seed has no section %q", p, s.Title)
		}
		for _, sentence := range strings.SplitAfter(s.Advice, ". ") {
			sentence = strings.TrimSpace(sentence)
			if p == finding.PracticeNetwork && strings.Contains(sentence, "including:") {
				// The seed lists these as bullets; the quote joins them.
				sentence, _, _ = strings.Cut(sentence, ":")
			}
			if !strings.Contains(text, sentence) {
				t.Errorf("%s: the seed does not say %q", p, sentence)
			}
		}
	}
}

// TestLayerViews: an image's layers are shown with their sizes, the
// instruction, and what each added: its findings (linked in HTML), its
// packages and its largest files; the table wraps the instruction.
func TestLayerViews(t *testing.T) {
	r := sample()
	r.Layers = []finding.ImageLayers{{Target: "docker-archive:app.tar", Layers: []finding.Layer{
		{Index: 0, Size: 80 << 20, Files: 900, CreatedBy: "ADD rootfs.tar.xz /", Packages: map[string]int{"deb": 88},
			Largest: []finding.LayerFile{{Path: "/usr/lib/libLLVM.so.15", Size: 40 << 20}}},
		{Index: 1, Size: 1 << 10, Files: 2, Wasted: 1 << 10, CreatedBy: "COPY id_rsa /root/.ssh/id_rsa && " + strings.Repeat("a-very-long-argument ", 6)},
	}}}
	var b bytes.Buffer
	if err := HTML(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{"Layers of <code>docker-archive:app.tar</code>", "88 deb packages", "<code>/usr/lib/libLLVM.so.15</code> 40.0 MiB",
		`<li>findings: <a href="#f-2">DV2040</a>`, "<code>ADD rootfs.tar.xz /</code>"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	b.Reset()
	if err := Table(&b, r, Options{Width: 60}); err != nil {
		t.Fatal(err)
	}
	table := b.String()
	if !strings.Contains(table, "Layers of docker-archive:app.tar: 80.0 MiB in 2 layers, 1.0") || !strings.Contains(table, "      a-very-long-argument\n") {
		t.Errorf("table:\n%s", table)
	}
	for _, l := range strings.Split(table, "\n") {
		if width(l) > 60 {
			t.Errorf("line wider than 60 columns: %q", l)
		}
	}
	b.Reset()
	if err := Markdown(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "| 0 | 80.0 MiB | 900 | 0 B | `ADD rootfs.tar.xz /` |") {
		t.Errorf("markdown:\n%s", b.String())
	}
}

// TestSARIFMissing: a grouped finding carries its member rules in SARIF,
// so filters keyed on those rule IDs still find them.
func TestSARIFMissing(t *testing.T) {
	r := sample()
	f := &r.Findings[0]
	f.Missing = []finding.Missing{{RuleID: "DV3030", Title: "No memory limit", Severity: finding.Medium, Practice: finding.PracticeResourceLimits, Setting: "no memory limit", Fix: "mem_limit: 512m"}}
	out := renderReport(t, "sarif", r)
	if err := sarifSchema(t).Validate(mustJSON(t, []byte(out))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"missing": [`) || !strings.Contains(out, `"ruleId": "DV3030"`) || !strings.Contains(out, `"fix": "mem_limit: 512m"`) {
		t.Errorf("SARIF lacks the missing settings:\n%s", out)
	}
}
