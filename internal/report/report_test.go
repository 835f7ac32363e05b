package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"reflect"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

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
// SARIF 2.1.0 JSON schema (embedded in go-sarif). The document is loaded
// into go-sarif's model and validated; the round trip must give back the
// same JSON, which proves that nothing we wrote was dropped before
// validation.
func TestSARIFSchema(t *testing.T) {
	out := render(t, "sarif")
	rep, err := sarif.FromBytes(out, sarif.WithStrictValidation())
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Validate(); err != nil {
		t.Fatalf("SARIF does not validate: %v", err)
	}
	back, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	json.Unmarshal(out, &a)
	json.Unmarshal(back, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("round trip through the schema model changed the document:\n%s\n---\n%s", out, back)
	}
	// The validator must be able to fail: a level outside the schema's enum.
	bad, err := sarif.FromBytes(bytes.Replace(out, []byte(`"level": "error"`), []byte(`"level": "fatal"`), 1), sarif.WithStrictValidation())
	if err != nil {
		t.Fatal(err)
	}
	if bad.Validate() == nil {
		t.Fatal("schema validation accepted an invalid level")
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

func TestJUnit(t *testing.T) {
	var doc junitSuites
	if err := xml.Unmarshal(render(t, "junit"), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 3 || doc.Failures != 2 || len(doc.Suites) != 3 {
		t.Errorf("tests %d failures %d suites %d", doc.Tests, doc.Failures, len(doc.Suites))
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
	var b bytes.Buffer
	if err := HTML(&b, r, Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "<script>") || !strings.Contains(out, "&lt;script&gt;") {
		t.Error("messages must be escaped")
	}
	for _, want := range []string{"DV1002", "DV2040", "clean/Dockerfile", "No findings.", "2 findings"} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}
