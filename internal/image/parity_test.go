package image

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/dockerfile"
	"github.com/dockvet/dockvet/internal/finding"
)

// TestInsecureAppParity is issue 12's acceptance for image history: an
// image built from examples/insecure-app/Dockerfile (testdata/rules/
// insecure-app.img holds the history records BuildKit writes for it) is
// reported for everything `dockvet dockerfile` reports on that Dockerfile
// about an instruction the history records: by the same Dockerfile rule
// with the same message, or by the image rule that judges the same thing
// in the configuration or the files. What the history does not record is
// listed, with the reason.
func TestInsecureAppParity(t *testing.T) {
	const dockerfilePath = "../../examples/insecure-app/Dockerfile"
	f, err := dockerfile.ParseFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	fromDockerfile := dockerfile.Check(f, dockerfile.Options{Now: testNow})

	src, err := os.ReadFile("testdata/rules/insecure-app.img")
	if err != nil {
		t.Fatal(err)
	}
	fromImage := auditSpec(t, parseSpec(t, string(src)))

	// coveredBy names the image rules that report, from the configuration
	// or the files, what these Dockerfile rules report on the source.
	coveredBy := map[string][]string{
		"DV1001": {"DV2001"},           // no USER: the configuration's user
		"DV1040": {"DV2003"},           // an ENV the configuration still holds: DV2003 reports it once
		"DV1020": {"DV2006"},           // exposed ports: the configuration's
		"DV1021": {"DV2007"},           //
		"DV1091": {"DV2010"},           // no HEALTHCHECK: the configuration's
		"DV1044": {"DV2022"},           // COPY id_rsa: the key file in its layer
		"DV1047": {"DV7101", "DV7099"}, // secrets in the context: found in the copied files
		"DV1051": {"DV2024"},           // apt lists left: the cache in the layer
		"DV1056": {"DV2024"},           // pip cache left: the cache in the layer
		"DV1057": {"DV2025"},           // build tools installed: the tools on PATH
	}
	// notRecorded are the Dockerfile findings about what a history does
	// not hold.
	notRecorded := map[string]string{
		"DV1011": "FROM is not recorded",
		"DV1013": "FROM is not recorded (the image's os-release is Debian 12, which DV2033 finds supported)",
		"DV1014": "FROM is not recorded",
		"DV1042": "the record holds the build argument's value (empty in this build), which DV1041 judges",
		"DV1096": "BuildKit records the resolved WORKDIR (/app)",
	}
	has := func(rule, msg string) bool {
		return slices.ContainsFunc(fromImage, func(g finding.Finding) bool {
			return g.RuleID == rule && (msg == "" || g.Message == msg)
		})
	}
	for _, d := range fromDockerfile {
		switch {
		case coveredBy[d.RuleID] != nil:
			if !slices.ContainsFunc(coveredBy[d.RuleID], func(id string) bool { return has(id, "") }) {
				t.Errorf("Dockerfile line %d: %s %q: the image gets none of %v", d.Location.Line, d.RuleID, d.Message, coveredBy[d.RuleID])
			}
			continue
		case onHistory(d.RuleID):
			if !has(d.RuleID, d.Message) {
				t.Errorf("Dockerfile line %d: %s %q: the image's history gets no such finding", d.Location.Line, d.RuleID, d.Message)
			}
			continue
		case notRecorded[d.RuleID] != "":
			continue
		}
		t.Errorf("Dockerfile line %d: %s %q is neither judged on the history nor covered by an image rule nor listed as not recorded",
			d.Location.Line, d.RuleID, d.Message)
	}
	// The acceptance line itself: the download piped into a shell, at its
	// history entry and its layer.
	if !slices.ContainsFunc(fromImage, func(g finding.Finding) bool {
		return g.RuleID == "DV1070" && strings.HasPrefix(g.Location.Path, "history[") && g.Location.LayerIndex != nil
	}) {
		t.Error("no DV1070 at a history entry with its layer")
	}
}

func onHistory(id string) bool {
	for _, r := range dockerfile.Rules() {
		if r.ID == id {
			return dockerfile.OnHistory(&r.Rule)
		}
	}
	return false
}
