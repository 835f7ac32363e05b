package dockerfile

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
)

// The testdata convention, in the spirit of analysistest:
//
//	# want DV1001 DV1010   the next line must produce exactly these findings
//	# ok DV1010            the next line must not produce this finding (a
//	                       negative case a naive rule would flag)
//	# dockvet-test rules=DV1050,DV1051   only these rules run on this file
//	# dockvet-test trusted=docker.io,gcr.io   trusted registries for the file
//	# dockvet-test digests=ghcr.io/acme        a trust rule requiring digests for these images
//
// Every finding on every line must be wanted, and every want must be found.
// In a case directory (testdata/NAME/Dockerfile) the other files are the
// build context, and their `# want`/`# ok` comments count too (DV1047
// reports secrets at their line in the context file).
var (
	wantRe      = regexp.MustCompile(`^\s*#\s*want\s+(.+?)\s*$`)
	okRe        = regexp.MustCompile(`^\s*#\s*ok\s+(.+?)\s*$`)
	directiveRe = regexp.MustCompile(`^\s*#\s*dockvet-test\s+(\w+)=(\S+)\s*$`)
)

// testNow fixes "today" for end-of-life rules.
var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

type expectations struct {
	want    map[int][]string // line -> rule IDs
	ok      map[int][]string
	only    []string
	trusted []string
	digests []string
}

func readExpectations(t *testing.T, lines []string) expectations {
	e := expectations{want: map[int][]string{}, ok: map[int][]string{}}
	var pendingWant, pendingOK []string
	for i, l := range lines {
		switch {
		case wantRe.MatchString(l):
			pendingWant = append(pendingWant, strings.Fields(wantRe.FindStringSubmatch(l)[1])...)
		case okRe.MatchString(l):
			pendingOK = append(pendingOK, strings.Fields(okRe.FindStringSubmatch(l)[1])...)
		case directiveRe.MatchString(l):
			m := directiveRe.FindStringSubmatch(l)
			switch m[1] {
			case "rules":
				e.only = strings.Split(m[2], ",")
			case "trusted":
				e.trusted = strings.Split(m[2], ",")
			case "digests":
				e.digests = strings.Split(m[2], ",")
			default:
				t.Fatalf("line %d: unknown directive %q", i+1, m[1])
			}
		default:
			if len(pendingWant) > 0 {
				e.want[i+1] = append(e.want[i+1], pendingWant...)
			}
			if len(pendingOK) > 0 {
				e.ok[i+1] = append(e.ok[i+1], pendingOK...)
			}
			pendingWant, pendingOK = nil, nil
		}
	}
	return e
}

func testFiles(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join("testdata", "*.Dockerfile"))
	files = append(files, more...)
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	return files
}

// contextFiles lists the other files of a case directory.
func contextFiles(t *testing.T, dockerfilePath string) []string {
	if filepath.Dir(dockerfilePath) == "testdata" {
		return nil
	}
	var out []string
	filepath.WalkDir(filepath.Dir(dockerfilePath), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && p != dockerfilePath {
			out = append(out, p)
		}
		return err
	})
	return out
}

// TestWant runs every rule over every testdata Dockerfile and requires
// exactly the findings the comments ask for.
func TestWant(t *testing.T) {
	for _, path := range testFiles(t) {
		t.Run(strings.TrimPrefix(path, "testdata/"), func(t *testing.T) {
			f, err := ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			exp := readExpectations(t, f.Lines)
			pol := &policy.Policy{TrustedRegistries: exp.trusted}
			if exp.digests != nil {
				pol.Rules = []policy.Rule{{Images: exp.digests, Digests: policy.DigestsRequired}}
			}
			opts := Options{Now: testNow, Policy: pol}
			if exp.only != nil {
				opts.Enabled = func(r *finding.Rule) bool { return slices.Contains(exp.only, r.ID) }
			}
			// want and ok, keyed by "path:line".
			want, ok := map[string][]string{}, map[string][]string{}
			add := func(file string, e expectations) {
				for line, ids := range e.want {
					want[fmt.Sprintf("%s:%d", file, line)] = ids
				}
				for line, ids := range e.ok {
					ok[fmt.Sprintf("%s:%d", file, line)] = ids
				}
			}
			add(path, exp)
			for _, cf := range contextFiles(t, path) {
				data, err := os.ReadFile(cf)
				if err != nil {
					t.Fatal(err)
				}
				add(cf, readExpectations(t, strings.Split(string(data), "\n")))
			}
			got := map[string]finding.Finding{}
			for _, fd := range Check(f, opts) {
				if fd.Target != path || fd.Location.Path != path && !strings.HasPrefix(fd.Location.Path, filepath.Dir(path)+"/") {
					t.Errorf("%s: finding with wrong path %q/%q", fd.RuleID, fd.Location.Path, fd.Target)
				}
				if fd.Message == "" || !strings.HasSuffix(fd.Message, ".") {
					t.Errorf("%s line %d: message %q must be one sentence", fd.RuleID, fd.Location.Line, fd.Message)
				}
				k := fmt.Sprintf("%s:%d:%s", fd.Location.Path, fd.Location.Line, fd.RuleID)
				if _, dup := got[k]; dup {
					t.Errorf("%s: reported twice: %s", k, fd.Message)
				}
				got[k] = fd
			}
			for at, ids := range want {
				for _, id := range ids {
					if _, found := got[at+":"+id]; !found {
						t.Errorf("%s: want %s, not reported", at, id)
					}
					delete(got, at+":"+id)
				}
			}
			for k, fd := range got {
				t.Errorf("%s: unexpected: %s", k, fd.Message)
			}
			for at, ids := range ok {
				for _, id := range ids {
					if slices.Contains(want[at], id) {
						t.Errorf("%s: %s is both wanted and ok", at, id)
					}
				}
			}
		})
	}
}

// TestEveryRuleHasCases requires a positive (# want) and a negative (# ok)
// case for every rule somewhere in testdata.
func TestEveryRuleHasCases(t *testing.T) {
	pos, neg := map[string]int{}, map[string]int{}
	var all []string
	for _, path := range testFiles(t) {
		all = append(append(all, path), contextFiles(t, path)...)
	}
	for _, path := range all {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		exp := readExpectations(t, strings.Split(string(data), "\n"))
		for _, ids := range exp.want {
			for _, id := range ids {
				pos[id]++
			}
		}
		for _, ids := range exp.ok {
			for _, id := range ids {
				neg[id]++
			}
		}
	}
	for _, r := range Rules() {
		if pos[r.ID] == 0 {
			t.Errorf("%s (%s) has no positive testdata (# want)", r.ID, r.Title)
		}
		if neg[r.ID] == 0 {
			t.Errorf("%s (%s) has no negative testdata (# ok)", r.ID, r.Title)
		}
	}
	for id := range pos {
		if !slices.ContainsFunc(Rules(), func(r *Rule) bool { return r.ID == id }) {
			t.Errorf("testdata wants unknown rule %s", id)
		}
	}
}

func TestRuleMetadata(t *testing.T) {
	if n := len(Rules()); n < 50 {
		t.Errorf("only %d Dockerfile rules; the catalog promises at least 50", n)
	}
	seen := map[string]bool{}
	for i, r := range Rules() {
		if i > 0 && Rules()[i-1].ID >= r.ID {
			t.Errorf("the rule list is not sorted by ID at %s", r.ID)
		}
		if seen[r.ID] {
			t.Errorf("duplicate ID %s", r.ID)
		}
		seen[r.ID] = true
		if r.Check == nil {
			t.Errorf("%s has no check", r.ID)
		}
	}
	for _, r := range Catalog() {
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
		if !slices.Contains(r.Surfaces, finding.SurfaceDockerfile) {
			t.Errorf("%s lacks the dockerfile surface", r.ID)
		}
	}
}
