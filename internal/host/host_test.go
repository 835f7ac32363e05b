package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
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
	"github.com/dockvet/dockvet/internal/ruletest"
)

// The fixture convention. Each directory under testdata/hosts is a host:
//
//	root/        the host's files, read through --root
//	meta.txt     owners and modes git cannot keep: "PATH [d|s|-]MODE UID:GID"
//	             or "PATH denied" (a file the auditing user cannot read)
//	engine.json  the Engine's answers (the Engine struct); none: no Engine
//	env.txt      the auditing user's environment, KEY=VALUE lines
//	case.txt     the case's header (internal/ruletest): its description,
//	             and the annotations TestFixtures checks
//
// In case.txt, `# want RULEID "regexp"` wants one finding whose message
// matches; a finding located at a file or at a running container is
// matched as "PATH: message" or "@CONTAINER: message", so that a want
// anchored with ^ pins where it is too. Every finding must be wanted and
// every want found. `# ok RULEID` says the check ran and found nothing:
// its benchmark row is PASS, unless a status directive says otherwise
// (a check that does not apply here, where a naive one would report).
// Directives:
//
//	# dockvet-test status=RULEID[,RULEID…]:STATUS
//	    a benchmark row's status (container rows join their rule IDs)
//	# dockvet-test severity=RULEID/SEVERITY/REGEXP
//	    the findings of RULEID whose message matches REGEXP have this
//	    severity; every other finding has its rule's
//	# dockvet-test now=YYYY-MM-DD
//	    the audit's date (testNow otherwise)

// testNow fixes "today" for end-of-life dates.
var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

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

// loadFixture reads a fixture host into a snapshot. A fixture whose
// case.txt names a base (`# dockvet-test base=NAME`) is that fixture host
// with changes: its root/ files replace or add to the base's, its meta.txt
// and env.txt lines add to the base's, and its engine.json is a JSON merge
// patch (RFC 7396) of the base's Engine answers.
func loadFixture(t *testing.T, dir string) *Snapshot {
	t.Helper()
	root, meta, env := filepath.Join(dir, "root"), readMeta(t, filepath.Join(dir, "meta.txt")), readEnv(t, filepath.Join(dir, "env.txt"))
	engine, _ := os.ReadFile(filepath.Join(dir, "engine.json"))
	if base := readCase(t, dir).Directive("base"); base != "" {
		bdir := filepath.Join(filepath.Dir(dir), base)
		root = t.TempDir()
		copyTree(t, filepath.Join(bdir, "root"), root)
		copyTree(t, filepath.Join(dir, "root"), root)
		bmeta, benv := readMeta(t, filepath.Join(bdir, "meta.txt")), readEnv(t, filepath.Join(bdir, "env.txt"))
		if bmeta == nil {
			bmeta = map[string]Meta{}
		}
		maps.Copy(bmeta, meta)
		maps.Copy(benv, env)
		meta, env = bmeta, benv
		bengine, err := os.ReadFile(filepath.Join(bdir, "engine.json"))
		switch {
		case err == nil && engine != nil:
			engine = mergePatch(t, bengine, engine)
		case err == nil:
			engine = bengine
		}
	}
	o := Options{Root: root, Meta: meta, Env: env, Now: testNow, EngineErr: "no Engine in this fixture"}
	if engine != nil {
		var e Engine
		dec := json.NewDecoder(bytes.NewReader(engine))
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

// copyTree copies the files, directories and symbolic links under src
// into dst; a missing src copies nothing.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == src {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			os.Remove(to)
			return os.Symlink(target, to)
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// mergePatch applies a JSON merge patch (RFC 7396) to doc.
func mergePatch(t *testing.T, doc, patch []byte) []byte {
	t.Helper()
	var d, p any
	for _, x := range []struct {
		data []byte
		v    *any
	}{{doc, &d}, {patch, &p}} {
		dec := json.NewDecoder(bytes.NewReader(x.data))
		dec.UseNumber() // keep large integers exact
		if err := dec.Decode(x.v); err != nil {
			t.Fatal(err)
		}
	}
	var merge func(d, p any) any
	merge = func(d, p any) any {
		pm, ok := p.(map[string]any)
		if !ok {
			return p
		}
		dm, ok := d.(map[string]any)
		if !ok {
			dm = map[string]any{}
		}
		for k, v := range pm {
			if v == nil {
				delete(dm, k)
				continue
			}
			dm[k] = merge(dm[k], v)
		}
		return dm
	}
	out, err := json.Marshal(merge(d, p))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func fixtures(t *testing.T) []string {
	dirs, err := filepath.Glob(filepath.Join("testdata", "hosts", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatal("no fixtures")
	}
	sort.Strings(dirs)
	return dirs
}

// fixtureCase is a fixture host's case.txt.
type fixtureCase struct {
	*ruletest.Case
	file   string
	now    time.Time
	status map[string]finding.CheckStatus
	sev    []severityRule
}

type severityRule struct {
	rule string
	sev  finding.Severity
	msg  *regexp.Regexp
	at   string
}

func readCase(t *testing.T, dir string) *fixtureCase {
	t.Helper()
	file := filepath.ToSlash(filepath.Join(dir, "case.txt"))
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c := &fixtureCase{Case: &ruletest.Case{}, file: file, now: testNow, status: map[string]finding.CheckStatus{}}
	if err := c.ParseHeader(file, data); err != nil {
		t.Fatal(err)
	}
	if d := c.Directive("now"); d != "" {
		if c.now, err = time.Parse(time.DateOnly, d); err != nil {
			t.Fatalf("%s: now=%s: %v", file, d, err)
		}
	}
	for _, v := range c.Directives["status"] {
		ids, st, ok := strings.Cut(v, ":")
		var s finding.CheckStatus
		if !ok || s.UnmarshalText([]byte(st)) != nil {
			t.Fatalf("%s: status=%s: want RULEID:STATUS", file, v)
		}
		c.status[ids] = s
	}
	for _, v := range c.Directives["severity"] {
		parts := strings.SplitN(v, "/", 3)
		if len(parts) != 3 {
			t.Fatalf("%s: severity=%s: want RULEID/SEVERITY/REGEXP", file, v)
		}
		sev, err := finding.ParseSeverity(parts[1])
		re, err2 := regexp.Compile(parts[2])
		if err != nil || err2 != nil {
			t.Fatalf("%s: severity=%s: %v %v", file, v, err, err2)
		}
		c.sev = append(c.sev, severityRule{rule: parts[0], sev: sev, msg: re, at: v})
	}
	return c
}

// located is a finding as a case names it: "PATH: message" or
// "@CONTAINER: message" when it has a location, its message otherwise.
func located(f finding.Finding) finding.Finding {
	switch {
	case f.Location.Path != "":
		f.Message = f.Location.Path + ": " + f.Message
	case f.Location.Container != "":
		f.Message = "@" + f.Location.Container + ": " + f.Message
	}
	return f
}

// catalogSeverity is the severity of every rule a host audit runs.
func catalogSeverity() map[string]finding.Severity {
	out := map[string]finding.Severity{}
	for _, r := range Catalog() {
		out[r.ID] = r.Severity
	}
	for _, r := range containerCatalog() {
		out[r.ID] = r.Severity
	}
	return out
}

// TestFixtures runs every rule over every fixture host and checks its
// case.txt exactly: the findings with their messages and locations, their
// severities, the negative cases and the benchmark rows it names.
func TestFixtures(t *testing.T) {
	sevs := catalogSeverity()
	var ran []string
	for _, dir := range fixtures(t) {
		c := readCase(t, dir)
		ran = append(ran, c.file)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			s := loadFixture(t, dir)
			findings, checks := Check(s, CheckOptions{Now: c.now})
			got := make([]finding.Finding, len(findings))
			for i, f := range findings {
				got[i] = located(f)
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
			}
			c.Check(t, ruletest.Whole(got), func(id string) bool { _, ok := sevs[id]; return ok })
			checkSeverities(t, c, findings, sevs)
			rows := map[string]finding.Check{}
			for _, r := range checks {
				rows[r.RuleID] = r
			}
			for _, o := range c.OKs {
				want, ok := c.status[o.Rule]
				if !ok {
					want = finding.CheckPass
				}
				if r := rows[o.Rule]; r.Status != want {
					t.Errorf("%s: ok %s, but its row is %s (%s), not %s", o.At, o.Rule, r.Status, r.Note, want)
				}
			}
			for id, st := range c.status {
				if rows[id].Status != st {
					t.Errorf("%s: status %s (%s), want %s", id, rows[id].Status, rows[id].Note, st)
				}
			}
			if t.Failed() {
				for _, f := range got {
					t.Logf("%s %s: %s", f.RuleID, f.Severity, f.Message)
				}
			}
		})
	}
	ruletest.RequireRun(t, filepath.Join("testdata", "hosts"), ran)
}

// checkSeverities: every finding has its rule's severity, except those a
// severity directive names, and every directive applies to a finding.
func checkSeverities(t *testing.T, c *fixtureCase, findings []finding.Finding, sevs map[string]finding.Severity) {
	t.Helper()
	used := make([]bool, len(c.sev))
	for _, f := range findings {
		want := sevs[f.RuleID]
		for i, r := range c.sev {
			if r.rule == f.RuleID && r.msg.MatchString(f.Message) {
				want, used[i] = r.sev, true
			}
		}
		if f.Severity != want {
			t.Errorf("%s %q: severity %s, want %s", f.RuleID, f.Message, f.Severity, want)
		}
	}
	for i, r := range c.sev {
		if !used[i] {
			t.Errorf("%s: severity=%s applies to no finding", c.file, r.at)
		}
	}
}

// TestCatalog checks the rules' metadata and benchmark rows.
func TestCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if !strings.HasPrefix(r.ID, "DV4") || seen[r.ID] {
			t.Errorf("%s: host rules are DV4xxx and unique", r.ID)
		}
		seen[r.ID] = true
		if r.Benchmark == "" {
			t.Errorf("%s: no benchmark row", r.ID)
		}
		// The ID says the section (DV4<section><nn>, DV48xx beyond CIS);
		// the row's section comes from the CIS ID: the two agree.
		if s := section(&r.Rule); strings.HasPrefix(r.ID, ownRange) != (s == sectionBeyond) || s != sectionBeyond && s != sectionOrder[r.ID[3]-'1'] {
			t.Errorf("%s: CIS %q puts it in section %q", r.ID, r.CIS, s)
		}
		if r.Manual && r.Severity != finding.Info {
			t.Errorf("%s: manual checks report info", r.ID)
		}
		if r.Check == nil {
			t.Errorf("%s: no check", r.ID)
		}
	}
	if !slices.IsSortedFunc(rules, func(a, b *Rule) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("the rules are not listed by ID")
	}
	for _, r := range Catalog() {
		if err := r.Validate(); err != nil {
			t.Error(err)
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

var update = flag.Bool("update", false, "regenerate testdata/rows.txt")

// TestBenchmarkRows pins the benchmark table's rows and their order (the
// section, CIS ID, rule IDs, manual flag and wording of each), as a host
// audit prints them: testdata/rows.txt. Regenerate it with
// `go test ./internal/host -run TestBenchmarkRows -update` and review the
// difference.
func TestBenchmarkRows(t *testing.T) {
	_, checks := Check(loadFixture(t, filepath.Join("testdata", "hosts", "hardened")), CheckOptions{Now: testNow})
	var b strings.Builder
	b.WriteString("# The benchmark rows of a host audit, in order: section | CIS | rules | manual | title.\n")
	section := ""
	for _, c := range checks {
		if c.Section != section {
			section = c.Section
			fmt.Fprintf(&b, "\n%s\n", section)
		}
		manual := ""
		if c.Manual {
			manual = "manual"
		}
		fmt.Fprintf(&b, "%s | %s | %s | %s\n", c.CIS, c.RuleID, manual, c.Title)
	}
	file := filepath.Join("testdata", "rows.txt")
	if *update {
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != b.String() {
		t.Errorf("the benchmark rows differ from %s (-update regenerates it):\n%s", file, b.String())
	}
}
