package host

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
)

// The fixture convention. Each directory under testdata/hosts is a host:
//
//	root/        the host's files, read through --root
//	meta.txt     owners and modes git cannot keep: "PATH [d|s|-]MODE UID:GID"
//	             or "PATH denied" (a file the auditing user cannot read)
//	engine.json  the Engine's answers (the Engine struct); none: no Engine
//	env.txt      the auditing user's environment, KEY=VALUE lines
//	want.txt     "# want RULEID [PATH|@CONTAINER] [sev=SEVERITY]": exactly
//	             these findings (a running container's findings are
//	             located by its name); "# status RULEID[,RULEID…] STATUS":
//	             a benchmark row's status
//
// Every finding must be wanted and every want found.

// testNow fixes "today" for end-of-life dates.
var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

var (
	wantRe   = regexp.MustCompile(`^#\s*want\s+(DV\d+)(?:\s+(/\S*|@\S+))?(?:\s+sev=(\w+))?\s*$`)
	statusRe = regexp.MustCompile(`^#\s*status\s+(DV\d+(?:,DV\d+)*)\s+(\w+)\s*$`)
)

func readMeta(t *testing.T, file string) map[string]Meta {
	t.Helper()
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]Meta{}
	for i, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) == 2 && f[1] == "denied" {
			meta[f[0]] = Meta{Denied: true}
			continue
		}
		if len(f) != 3 {
			t.Fatalf("%s:%d: want PATH MODE UID:GID", file, i+1)
		}
		m := Meta{}
		mode := f[1]
		switch mode[0] {
		case 'd':
			m.Mode, mode = fs.ModeDir, mode[1:]
		case 's':
			m.Mode, mode = fs.ModeSocket, mode[1:]
		case '-':
			mode = mode[1:]
		}
		perm, err := strconv.ParseUint(mode, 8, 32)
		uid, gid, ok := strings.Cut(f[2], ":")
		u, err2 := strconv.ParseUint(uid, 10, 32)
		g, err3 := strconv.ParseUint(gid, 10, 32)
		if err != nil || !ok || err2 != nil || err3 != nil {
			t.Fatalf("%s:%d: bad entry %q", file, i+1, l)
		}
		m.Mode |= fs.FileMode(perm)
		m.UID, m.GID = uint32(u), uint32(g)
		meta[f[0]] = m
	}
	return meta
}

func readEnv(t *testing.T, file string) map[string]string {
	env := map[string]string{}
	data, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	return env
}

// loadFixture reads a fixture host into a snapshot.
func loadFixture(t *testing.T, dir string) *Snapshot {
	t.Helper()
	o := Options{Root: filepath.Join(dir, "root"), Meta: readMeta(t, filepath.Join(dir, "meta.txt")),
		Env: readEnv(t, filepath.Join(dir, "env.txt")), Now: testNow, EngineErr: "no Engine in this fixture"}
	if data, err := os.ReadFile(filepath.Join(dir, "engine.json")); err == nil {
		var e Engine
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("engine.json: %v", err)
		}
		o.Recorded = &e
	}
	s, err := Collect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	// Owners and modes in a git checkout are the checkout's: every file
	// whose metadata a check reads must be stated in meta.txt.
	for p, f := range s.Files {
		if _, ok := o.Meta[p]; !ok && f.State == Present {
			t.Errorf("%s: %s exists; state its owner and mode in meta.txt", dir, p)
		}
	}
	return s
}

type expect struct {
	want   map[string]int // "RULEID PATH" -> count
	sev    map[string]finding.Severity
	status map[string]finding.CheckStatus
}

func readWant(t *testing.T, file string) expect {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	e := expect{want: map[string]int{}, sev: map[string]finding.Severity{}, status: map[string]finding.CheckStatus{}}
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "":
		case wantRe.MatchString(l):
			m := wantRe.FindStringSubmatch(l)
			k := m[1] + " " + m[2]
			e.want[k]++
			if m[3] != "" {
				sev, err := finding.ParseSeverity(m[3])
				if err != nil {
					t.Fatalf("%s:%d: %v", file, i+1, err)
				}
				e.sev[k] = sev
			}
		case statusRe.MatchString(l):
			m := statusRe.FindStringSubmatch(l)
			var st finding.CheckStatus
			if err := st.UnmarshalText([]byte(m[2])); err != nil {
				t.Fatalf("%s:%d: %v", file, i+1, err)
			}
			e.status[m[1]] = st
		case strings.HasPrefix(l, "#"):
		default:
			t.Fatalf("%s:%d: cannot read %q", file, i+1, l)
		}
	}
	return e
}

func fixtures(t *testing.T) []string {
	dirs, err := filepath.Glob(filepath.Join("testdata", "hosts", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatal("no fixtures")
	}
	sort.Strings(dirs)
	return dirs
}

// TestFixtures runs every rule over every fixture host and requires
// exactly the findings and statuses want.txt names.
func TestFixtures(t *testing.T) {
	for _, dir := range fixtures(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			s := loadFixture(t, dir)
			exp := readWant(t, filepath.Join(dir, "want.txt"))
			findings, checks := Check(s, CheckOptions{Now: testNow})
			got := map[string]int{}
			for _, f := range findings {
				k := findingKey(f)
				got[k]++
				if f.Message == "" || !strings.HasSuffix(f.Message, ".") || strings.Contains(f.Message, "\n") {
					t.Errorf("%s: message %q must be one sentence", f.RuleID, f.Message)
				}
				// A running container's findings belong to the container,
				// as `dockvet container` reports them.
				wantKind := finding.SurfaceHost
				if f.Location.Container != "" {
					wantKind = finding.SurfaceContainer
					if f.Target != f.Location.Container {
						t.Errorf("%s: target %q for container %q", f.RuleID, f.Target, f.Location.Container)
					}
				}
				if f.TargetKind != wantKind || f.Target == "" {
					t.Errorf("%s: target %q/%q", f.RuleID, f.Target, f.TargetKind)
				}
				if sev, ok := exp.sev[k]; ok && f.Severity != sev {
					t.Errorf("%s: severity %s, want %s", k, f.Severity, sev)
				}
			}
			for k, n := range exp.want {
				if got[k] != n {
					t.Errorf("want %d × %s, got %d", n, k, got[k])
				}
			}
			for _, f := range findings {
				k := findingKey(f)
				if exp.want[k] == 0 {
					t.Errorf("unexpected %s: %s", k, f.Message)
					exp.want[k] = -1 // report once
				}
			}
			rows := map[string]finding.Check{}
			for _, c := range checks {
				rows[c.RuleID] = c
			}
			for id, st := range exp.status {
				if rows[id].Status != st {
					t.Errorf("%s: status %s (%s), want %s", id, rows[id].Status, rows[id].Note, st)
				}
			}
			if t.Failed() {
				for _, f := range findings {
					t.Logf("%s: %s", findingKey(f), f.Message)
				}
			}
		})
	}
}

// findingKey is how want.txt names a finding: its rule and its file, or
// the running container it is about.
func findingKey(f finding.Finding) string {
	if f.Location.Path == "" && f.Location.Container != "" {
		return f.RuleID + " @" + f.Location.Container
	}
	return f.RuleID + " " + f.Location.Path
}

// alwaysManual are manual checks that always ask a person to look: they
// have no passing case.
var alwaysManual = []string{"DV4121", "DV4704", "DV4706", "DV4707", "DV4708", "DV4709"}

// TestEveryRuleHasCases requires, across the fixtures, a finding of every
// rule and a passing case of every rule that can pass.
func TestEveryRuleHasCases(t *testing.T) {
	found, passed := map[string]bool{}, map[string]bool{}
	for _, dir := range fixtures(t) {
		s := loadFixture(t, dir)
		findings, checks := Check(s, CheckOptions{Now: testNow})
		for _, f := range findings {
			found[f.RuleID] = true
		}
		for _, c := range checks {
			if c.Status == finding.CheckPass {
				passed[c.RuleID] = true
			}
		}
	}
	for _, r := range Rules() {
		if !found[r.ID] {
			t.Errorf("%s (%s): no fixture reports it", r.ID, r.Title)
		}
		if !passed[r.ID] && !slices.Contains(alwaysManual, r.ID) {
			t.Errorf("%s (%s): no fixture passes it", r.ID, r.Title)
		}
	}
}

// TestCatalog checks the rules' metadata and benchmark rows.
func TestCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if err := r.Rule.Validate(); err != nil {
			t.Error(err)
		}
		if !strings.HasPrefix(r.ID, "DV4") || seen[r.ID] {
			t.Errorf("%s: host rules are DV4xxx and unique", r.ID)
		}
		seen[r.ID] = true
		if r.Benchmark == "" || sectionIndex(r.Section) == len(sectionOrder) {
			t.Errorf("%s: benchmark row or section missing", r.ID)
		}
		if r.Manual && r.Severity != finding.Info {
			t.Errorf("%s: manual checks report info", r.ID)
		}
		if r.Check == nil {
			t.Errorf("%s: no check", r.ID)
		}
	}
}

// TestAdvisoryTable checks that every row of the data table parses and
// names a source, and that ranges are ordered.
func TestAdvisoryTable(t *testing.T) {
	for _, a := range advisories {
		if !strings.HasPrefix(a.ID, "CVE-") || len(a.Sources) == 0 || a.Impact == "" || len(a.Affected) == 0 {
			t.Errorf("%s: ID, impact, ranges and a source are required", a.ID)
		}
		for _, src := range a.Sources {
			if !strings.HasPrefix(src, "https://") {
				t.Errorf("%s: source %q", a.ID, src)
			}
		}
		for _, r := range a.Affected {
			if Upstream(r.Fixed) == "" || r.Introduced != "" && Upstream(r.Introduced) == "" {
				t.Errorf("%s: range %v does not parse", a.ID, r)
			}
			if r.Introduced != "" && compareUpstream(r.Introduced, r.Fixed) >= 0 {
				t.Errorf("%s: range %v is empty", a.ID, r)
			}
			if !r.contains(r.Introduced) && r.Introduced != "" || r.contains(r.Fixed) {
				t.Errorf("%s: range %v bounds", a.ID, r)
			}
		}
		if !knownCondition(a.When) {
			t.Errorf("%s: unknown condition %q", a.ID, a.When)
		}
	}
	for _, e := range endOfLife {
		if _, err := time.Parse("2006-01-02", e.Date); err != nil || branch(e.Branch+".0") != e.Branch || !strings.HasPrefix(e.Source, "https://") {
			t.Errorf("end of life %v", e)
		}
	}
}

func TestUpstream(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"20.10.24+dfsg1", "20.10.24"},
		{"1.6.20~ds1", "1.6.20"},
		{"v1.1.12", "1.1.12"},
		{"1.0.0-rc93", "1.0.0-rc.93"},
		{"1.4.0-rc.3", "1.4.0-rc.3"},
		{"17.03.1-ce", "17.03.1-ce"},
		{"1.1.5+ds1-1+deb12u1", "1.1.5"},
		{"5:29.3.1-1~debian.12~bookworm", "29.3.1"},
		{"1.0.0~rc93+ds1-5+deb11u2", "1.0.0-rc.93"},
		{"09c8266bf2fcf9519a651b04ae54c967b9ab86ec", ""},
		{"", ""},
	} {
		if got := Upstream(tc.in); got != tc.want {
			t.Errorf("Upstream(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Release candidates compare by number, not as text.
	if compareUpstream("1.0.0-rc10", "1.0.0-rc7") <= 0 || compareUpstream("1.0.0-rc95", "1.0.0") >= 0 {
		t.Error("rc ordering")
	}
}

func TestEndOfLife(t *testing.T) {
	for _, tc := range []struct {
		c    Component
		v    string
		want bool
	}{
		{CompEngine, "20.10.24+dfsg1", true},
		{CompEngine, "19.03.15", true}, // older than every listed branch
		{CompEngine, "23.0.6", true},
		{CompEngine, "28.5.1", false},
		{CompContainerd, "1.6.20~ds1", true},
		{CompContainerd, "1.7.27", true},
		{CompContainerd, "2.2.0", false},
		{CompContainerd, "garbage", false},
	} {
		if got := endOfLifeOf(tc.c, tc.v, testNow) != nil; got != tc.want {
			t.Errorf("%s %s: end of life %v, want %v", tc.c, tc.v, got, tc.want)
		}
	}
	// Before its date a branch is supported.
	if endOfLifeOf(CompContainerd, "1.7.1", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) != nil {
		t.Error("containerd 1.7 was supported in 2025")
	}
}

func ExampleUpstream() {
	fmt.Println(Upstream("1.0.0-rc93"), Upstream("20.10.24+dfsg1"))
	// Output: 1.0.0-rc.93 20.10.24
}
