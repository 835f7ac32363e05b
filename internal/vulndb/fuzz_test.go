package vulndb

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dockvet/dockvet/internal/fuzztest"
)

// Executions per second: about a thousand per CPU second, not thousands.
// Go's fuzzer copies and compares the test binary's coverage counters, and
// ships them between coordinator and worker, on every execution: a fixed
// cost that grows with all the binary links (bbolt, every ecosystem's
// version comparison, the image audit). Profiled (internal/sign, a JSON
// decode), that is most of a worker's time; .ci/fuzz prints each package's
// counters.

// FuzzParseRecord feeds the OSV reader arbitrary JSON: records come from
// any mirror a user points dockvet at.
func FuzzParseRecord(f *testing.F) {
	files, _ := filepath.Glob("testdata/osv/*/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// A few real Go records, whose shape differs (SEMVER, ecosystem_specific).
	if zr, err := zip.OpenReader(goExport); err == nil {
		for _, zf := range zr.File[:5] {
			rc, _ := zf.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			f.Add(b)
		}
		zr.Close()
	}
	f.Add([]byte(`[{"id":"A","affected":[{"package":{"ecosystem":"npm","name":"x"},"versions":["1"]}]},{}]`))
	f.Add([]byte(`{"id":"B","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N"},{"type":"CVSS_V4","score":"CVSS:4.0/"}]}`))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		recs, err := parseFile(b, testNow)
		if err != nil {
			return
		}
		for _, r := range recs {
			if r.ID == "" {
				t.Fatal("record without ID accepted")
			}
			for _, ke := range r.entries {
				if ke.base == "" || !bytes.Contains([]byte(ke.key), []byte{0}) {
					t.Fatalf("bad key %q for base %q", ke.key, ke.base)
				}
				if len(ke.e.Ranges) == 0 && len(ke.e.Versions) == 0 {
					t.Fatal("entry that can match nothing was kept")
				}
			}
		}
	})
}

// FuzzRangeEvaluation runs the range evaluation on arbitrary versions in
// every ecosystem whose rules are used: the version comparison libraries
// read strings from packages and records alike.
func FuzzRangeEvaluation(f *testing.F) {
	f.Add("3.0.11-1~deb12u1", "0", "3.0.13-1~deb12u1", "", "")
	f.Add("1:4.13+dfsg1-1", "1:4.0", "", "1:4.13", "")
	f.Add("4.2rc1", "4.2a1", "4.2.1", "", "5!1.0")
	f.Add("1.2.3-r0", "1.0_alpha", "1.2.3-r1", "", "")
	f.Add("v1.2.3", "1.0.0-0", "", "", "2.0.0")
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, installedV, introduced, fixed, lastAffected, limit string) {
		defer fuzztest.Budget(t)()
		for _, eco := range []string{"Debian", "Alpine", "PyPI", "npm", "Go", "Maven", "RubyGems", "Packagist", "NuGet", "crates.io", "Rocky Linux"} {
			in := newInstalled(installedV, eco)
			for _, typ := range []string{"ECOSYSTEM", "SEMVER"} {
				e := entry{ID: "X", Versions: []string{introduced}, Ranges: []osvRange{{Type: typ, Events: []osvEvent{
					{Introduced: introduced}, {Fixed: fixed}, {LastAffected: lastAffected}, {Limit: limit},
				}}}}
				in.affectedBy(&e)
			}
		}
	})
}

// FuzzStoreCodec: stored values are read back from a file on disk that
// may be damaged; decoding must fail cleanly, and what is encoded must
// come back unchanged.
func FuzzStoreCodec(f *testing.F) {
	sample := []entry{
		{ID: "DEBIAN-CVE-2024-0727", Severity: "high", Score: 7.5, Ranges: []osvRange{{Type: "ECOSYSTEM", Events: []osvEvent{
			{Introduced: "0"}, {Fixed: "3.0.13-1~deb12u1"}, {LastAffected: "3.0.12"}, {Limit: "4"}}}}, Versions: []string{"3.0.11-1~deb12u2", ""}},
		{ID: "MAL-1"},
	}
	f.Add(encodeEntries(sample))
	f.Add(encodeInfo(recordInfo{Summary: "s", Aliases: []string{"CVE-1"}, Refs: []string{"https://x"}}))
	f.Add(encodeInfo(recordInfo{Summary: "s", Aliases: []string{"CVE-1"}, Severity: "high", Score: 7.5}))
	f.Add(encodeRating(aliasRating{Severity: "critical", Score: 9.8, Via: "GHSA-aaaa-bbbb-cccc"}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		defer fuzztest.Budget(t)()
		if es, err := decodeEntries(b); err == nil {
			if again, err := decodeEntries(encodeEntries(es)); err != nil || !reflect.DeepEqual(normEntries(again), normEntries(es)) {
				t.Fatalf("entries do not round-trip: %v", err)
			}
		}
		if r, err := decodeInfo(b); err == nil {
			if again, err := decodeInfo(encodeInfo(r)); err != nil || !reflect.DeepEqual(again, r) {
				t.Fatalf("info does not round-trip: %v", err)
			}
		}
		if r, err := decodeRating(b); err == nil {
			if again, err := decodeRating(encodeRating(r)); err != nil || again != r {
				t.Fatalf("rating does not round-trip: %v", err)
			}
		}
	})
	got, err := decodeEntries(encodeEntries(sample))
	if err != nil || !reflect.DeepEqual(normEntries(got), normEntries(sample)) {
		f.Fatalf("round trip: %+v %v", got, err)
	}
}

// normEntries makes NaN scores comparable and empty lists nil.
func normEntries(es []entry) []entry {
	out := make([]entry, len(es))
	for i, e := range es {
		if e.Score != e.Score {
			e.Score = -1
		}
		if len(e.Versions) == 0 {
			e.Versions = nil
		}
		if len(e.Ranges) == 0 {
			e.Ranges = nil
		}
		for j := range e.Ranges {
			if len(e.Ranges[j].Events) == 0 {
				e.Ranges[j].Events = nil
			}
		}
		out[i] = e
	}
	return out
}
