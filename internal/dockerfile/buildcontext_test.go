package dockerfile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/fuzztest"
)

// TestBuildContextIgnore checks the context walk against the ignore file
// rules of BuildKit: patterns, "!" exceptions, the per-Dockerfile ignore
// file, and directories kept out entirely.
func TestBuildContextIgnore(t *testing.T) {
	tree := []string{"Dockerfile", "app.py", ".env", "docs/a.md", "docs/keep.md", "secrets/k1.pem", "secrets/pub/k.pub",
		"node_modules/x/index.js", "src/node_modules/y/index.js", "src/main.go", "build.Dockerfile"}
	for _, tc := range []struct {
		name, ignore, perFile string
		want                  []string
	}{
		{name: "no ignore file", want: tree},
		{name: "file and directory", ignore: ".env\nsecrets\n", want: []string{"Dockerfile", "app.py", "build.Dockerfile", "docs/a.md", "docs/keep.md",
			"node_modules/x/index.js", "src/main.go", "src/node_modules/y/index.js"}},
		{name: "exception inside an excluded directory", ignore: "docs\n!docs/keep.md\nsecrets/**\n!secrets/pub\n", want: []string{".env", "Dockerfile",
			"app.py", "build.Dockerfile", "docs/keep.md", "node_modules/x/index.js", "secrets/pub/k.pub", "src/main.go", "src/node_modules/y/index.js"}},
		{name: "double star", ignore: "# comment\n**/node_modules\n/*.py\n", want: []string{".env", "Dockerfile", "build.Dockerfile", "docs/a.md",
			"docs/keep.md", "secrets/k1.pem", "secrets/pub/k.pub", "src/main.go"}},
		{name: "per-Dockerfile ignore file wins", ignore: "*\n", perFile: ".env\n", want: []string{"Dockerfile", "app.py", "build.Dockerfile",
			"docs/a.md", "docs/keep.md", "node_modules/x/index.js", "secrets/k1.pem", "secrets/pub/k.pub", "src/main.go", "src/node_modules/y/index.js"}},
		{name: "empty per-Dockerfile ignore file still wins", ignore: "*\n", perFile: "\n", want: tree},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tree {
				writeFile(t, filepath.Join(dir, f), "x\n")
			}
			if tc.ignore != "" {
				writeFile(t, filepath.Join(dir, ".dockerignore"), tc.ignore)
			}
			df := filepath.Join(dir, "build.Dockerfile")
			if tc.perFile != "" {
				writeFile(t, df+".dockerignore", tc.perFile)
			}
			bc, err := LoadBuildContext(dir, df)
			if err != nil {
				t.Fatal(err)
			}
			got := slices.DeleteFunc(slices.Clone(bc.Files), func(f string) bool { return strings.HasSuffix(f, ".dockerignore") })
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Errorf("files\n got %v\nwant %v", got, want)
			}
		})
	}
}

// TestCopied checks which context files a COPY source brings in.
func TestCopied(t *testing.T) {
	bc := &BuildContext{Files: []string{"README.md", "a.conf", "b.conf", "conf/app.ini", "conf/dev/x.ini", "src/main.go", "src/util/u.go", "srcs/other.go"}}
	for _, tc := range []struct {
		src      string
		excludes []string
		want     []string
	}{
		{src: ".", want: bc.Files},
		{src: "./", want: bc.Files},
		{src: "/", want: bc.Files},
		{src: "src", want: []string{"src/main.go", "src/util/u.go"}},
		{src: "/src/", want: []string{"src/main.go", "src/util/u.go"}},
		{src: "src/main.go", want: []string{"src/main.go"}},
		{src: "*.conf", want: []string{"a.conf", "b.conf"}},
		{src: "sr*", want: []string{"src/main.go", "src/util/u.go", "srcs/other.go"}},
		{src: "conf/*/x.ini", want: []string{"conf/dev/x.ini"}},
		{src: "conf", excludes: []string{"dev"}, want: []string{"conf/app.ini"}},
		{src: ".", excludes: []string{"*.conf", "src/util"}, want: []string{"README.md", "conf/app.ini", "conf/dev/x.ini", "src/main.go", "srcs/other.go"}},
		{src: "missing", want: nil},
		{src: "../outside", want: nil},
	} {
		got := bc.Copied(tc.src, tc.excludes)
		if !slices.Equal(got, tc.want) {
			t.Errorf("COPY %s (exclude %v): got %v, want %v", tc.src, tc.excludes, got, tc.want)
		}
	}
}

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// FuzzBuildContext feeds arbitrary ignore files and COPY sources to the
// context reader. It must not fail on what BuildKit accepts, must agree
// with evaluating every file's path on its own (excludedAlone: the walk
// skips excluded directories only when no exception can bring part of
// them back), and Copied must return only context files. About a
// thousand per CPU second: each input writes .dockerignore and walks a
// directory of a dozen files, as a build context is read.
func FuzzBuildContext(f *testing.F) {
	for _, seed := range []struct{ ignore, src string }{
		{"", "."}, {".env\nsecrets\n", "src"}, {"docs\n!docs/keep.md\n", "*.py"}, {"**/node_modules\n/*.py\n", "conf/*/x"},
		{"*\n!src\n", "/"}, {"[a-\n", "a[b"}, {"!\n", "../x"}, {"src/**/*.go\n!src/main.go", "src/*"},
	} {
		f.Add(seed.ignore, seed.src)
	}
	tree := []string{"Dockerfile", "app.py", ".env", "docs/a.md", "docs/keep.md", "secrets/k1.pem", "secrets/pub/k.pub",
		"node_modules/x/index.js", "src/node_modules/y/index.js", "src/main.go", "src/deep/er/f.go"}
	dir := f.TempDir()
	for _, p := range tree {
		writeFile(f, filepath.Join(dir, p), "x\n")
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, ignore, src string) {
		defer fuzztest.Budget(t)()
		if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(ignore), 0o644); err != nil {
			t.Fatal(err)
		}
		bc, err := LoadBuildContext(dir, "")
		if err != nil {
			return // a malformed pattern: BuildKit refuses it too
		}
		pm, err := patternmatcher.New(readPatterns(t, filepath.Join(dir, ".dockerignore")))
		if err != nil {
			t.Fatalf("LoadBuildContext accepted patterns that patternmatcher rejects: %v", err)
		}
		var want []string
		for _, p := range append(slices.Clone(tree), ".dockerignore") {
			if !excludedAlone(t, pm, p) {
				want = append(want, p)
			}
		}
		slices.Sort(want)
		if !slices.Equal(bc.Files, want) {
			t.Fatalf("ignore %q: walk gives %v, path by path gives %v", ignore, bc.Files, want)
		}
		for _, c := range bc.Copied(src, []string{src}) {
			if !slices.Contains(bc.Files, c) {
				t.Fatalf("Copied(%q) returned %q, not a context file", src, c)
			}
		}
	})
}

// excludedAlone evaluates one path as BuildKit's file sender does, each
// directory from the top with its parent's results, but without the walk
// (and so without its skipping). The parents' results matter:
// patternmatcher excludes src/main.go under "*rc/*" then "!src" with them
// and not without (the fuzzer's seed 541a3b11d199de8b), and the sender
// uses them.
func excludedAlone(t *testing.T, pm *patternmatcher.PatternMatcher, p string) bool {
	var info patternmatcher.MatchInfo
	parts := strings.Split(p, "/")
	for i := range parts {
		excluded, next, err := pm.MatchesUsingParentResults(strings.Join(parts[:i+1], "/"), info)
		if err != nil {
			t.Fatal(err)
		}
		if i == len(parts)-1 {
			return excluded
		}
		info = next
	}
	return false
}

func readPatterns(t *testing.T, name string) []string {
	fh, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	ps, err := ignorefile.ReadAll(fh)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// TestSpanInterleaved: names that extend a source by a byte below "/"
// sort among the files under it, and must neither hide them nor be
// copied with them.
func TestSpanInterleaved(t *testing.T) {
	bc := &BuildContext{Files: []string{"src", "src-old/x.go", "src.go", "src/a.go", "src/b/c.go", "srcs/d.go"}}
	for _, tc := range []struct {
		src  string
		want []string
	}{
		{"src", []string{"src", "src/a.go", "src/b/c.go"}},
		{"src/b", []string{"src/b/c.go"}},
		{"src.go", []string{"src.go"}},
	} {
		if got := bc.Copied(tc.src, nil); !slices.Equal(got, tc.want) {
			t.Errorf("COPY %s: got %v, want %v", tc.src, got, tc.want)
		}
	}
}

// TestContextsShared: Dockerfiles that share a directory and an ignore
// file share one context, walked once, and every file is scanned once for
// the run; a per-Dockerfile ignore file makes another context. Sharing
// changes no finding.
func TestContextsShared(t *testing.T) {
	dir := t.TempDir()
	const secret = "DB_PASSWORD=Xk9#mQ2$vL7pR4wZ\n"
	writeFile(t, filepath.Join(dir, ".env"), secret)
	writeFile(t, filepath.Join(dir, "conf/app.ini"), "[db]\npassword = Zq8!rT3@nW6yB1kE\n")
	writeFile(t, filepath.Join(dir, "README.md"), "nothing here\n")
	writeFile(t, filepath.Join(dir, "a.Dockerfile"), "FROM alpine:3.22\nCOPY . /app\n")
	writeFile(t, filepath.Join(dir, "b.Dockerfile"), "FROM alpine:3.22\nCOPY conf /app/conf\n")
	writeFile(t, filepath.Join(dir, "c.Dockerfile"), "FROM alpine:3.22\nCOPY . /app\n")
	writeFile(t, filepath.Join(dir, "c.Dockerfile.dockerignore"), ".env\n")
	// A Dockerfile's own secrets are its rules' to report, not DV1047's,
	// wherever it is copied.
	writeFile(t, filepath.Join(dir, "tools/Dockerfile"), "FROM alpine:3.22\nENV "+secret)

	cs := NewContexts()
	load := func(df string) *BuildContext {
		bc, err := cs.Load(dir, filepath.Join(dir, df))
		if err != nil {
			t.Fatal(err)
		}
		return bc
	}
	if a, b := load("a.Dockerfile"), load("b.Dockerfile"); a != b {
		t.Error("a and b share the context's .dockerignore (none): want one context")
	}
	if a, c := load("a.Dockerfile"), load("c.Dockerfile"); a == c || slices.Contains(c.Files, ".env") {
		t.Errorf("c has its own ignore file: want another context without .env, got %v", c.Files)
	}

	only := func(r *finding.Rule) bool { return r.ID == ruleContextSecret.ID }
	shared := NewContexts()
	for _, name := range []string{"a.Dockerfile", "b.Dockerfile", "c.Dockerfile"} {
		f, err := ParseFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		alone := Check(f, Options{Enabled: only})
		together := Check(f, Options{Enabled: only, Contexts: shared})
		if !slices.EqualFunc(alone, together, func(x, y finding.Finding) bool { return x.Location == y.Location && x.Message == y.Message }) {
			t.Errorf("%s: alone %v, with shared contexts %v", name, alone, together)
		}
		var where []string
		for _, fd := range together {
			where = append(where, strings.TrimPrefix(fd.Location.Path, dir+"/"))
		}
		want := map[string][]string{"a.Dockerfile": {".env", "conf/app.ini"}, "b.Dockerfile": {"conf/app.ini"}, "c.Dockerfile": {"conf/app.ini"}}[name]
		if slices.Sort(where); !slices.Equal(where, want) {
			t.Errorf("%s: DV1047 at %v, want %v", name, where, want)
		}
	}
	// One scan per file for the run, however many contexts send it;
	// Dockerfiles are not scanned.
	var scanned []string
	for p := range shared.secrets {
		scanned = append(scanned, strings.TrimPrefix(filepath.ToSlash(p), filepath.ToSlash(dir)+"/"))
	}
	slices.Sort(scanned)
	if want := []string{".env", "README.md", "c.Dockerfile.dockerignore", "conf/app.ini"}; !slices.Equal(scanned, want) {
		t.Errorf("scanned %v, want %v", scanned, want)
	}
}
