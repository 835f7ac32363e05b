package dockerfile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
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
// with evaluating every file's path on its own (the walk skips excluded
// directories only when no exception can bring part of them back), and
// Copied must return only context files.
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
	f.Fuzz(func(t *testing.T, ignore, src string) {
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
			excluded, _, err := pm.MatchesUsingParentResults(p, patternmatcher.MatchInfo{})
			if err != nil {
				t.Fatal(err)
			}
			if !excluded {
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
