package cli

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/vulndb"
)

// osvZip writes an all.zip of the vulndb testdata records of one ecosystem.
func osvZip(t *testing.T, eco string) []byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("../vulndb/testdata/osv", eco, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no records for %s", eco)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := zw.Create(filepath.Base(p))
		w.Write(b)
	}
	zw.Close()
	return buf.Bytes()
}

func TestDBImportStatusVersion(t *testing.T) {
	cache := t.TempDir()
	code, out, _ := run(t, "version", "--cache-dir", cache)
	if code != 0 || !strings.Contains(out, "vulnerability database: none (run 'dockvet db update')") {
		t.Errorf("version without a database: %d %q", code, out)
	}
	code, out, _ = run(t, "db", "status", "--cache-dir", cache)
	if code != 0 || !strings.HasPrefix(out, "no vulnerability database in ") {
		t.Errorf("status without a database: %d %q", code, out)
	}
	z := filepath.Join(t.TempDir(), "all.zip")
	os.WriteFile(z, osvZip(t, "Debian"), 0o644)
	code, out, errOut := run(t, "db", "import", z, "--cache-dir", cache)
	if code != 0 || out != "imported 5 records from "+z+" into Debian (5 records)\n" {
		t.Errorf("import: %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, "db", "status", "--cache-dir", cache)
	if code != 0 || !strings.Contains(out, "Debian     5        5") {
		t.Errorf("status: %d\n%s", code, out)
	}
	code, out, _ = run(t, "db", "status", "--cache-dir", cache, "--format", "json")
	var st struct {
		Ecosystems []struct {
			Ecosystem string
			Records   int
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || len(st.Ecosystems) != 1 || st.Ecosystems[0].Records != 5 {
		t.Errorf("status json: %d %s", code, out)
	}
	t.Setenv("DOCKVET_CACHE_DIR", cache)
	code, out, _ = run(t, "version")
	if code != 0 || !strings.Contains(out, "vulnerability database: 1 ecosystem, 5 records, oldest data from ") {
		t.Errorf("version: %q", out)
	}
}

func TestDBErrors(t *testing.T) {
	cache := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"db", "update", "--offline"}, "dockvet: db update: --offline forbids downloading; use 'dockvet db import FILE' with an OSV export\n"},
		{[]string{"db", "import", "/nonexistent/all.zip"}, "dockvet: /nonexistent/all.zip: no such file or directory\n"},
		{[]string{"db", "import"}, "accepts 1 arg(s), received 0"},
		{[]string{"db"}, "dockvet: db needs a subcommand: update, import FILE|DIR or status (see 'dockvet db --help')\n"},
		{[]string{"db", "status", "--format", "sarif"}, "--format sarif does not fit this command"},
	} {
		code, out, errOut := run(t, append(tc.args, "--cache-dir", cache)...)
		if code != 2 || out != "" || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, out %q, err %q", tc.args, code, out, errOut)
		}
	}
}

func TestDBUpdate(t *testing.T) {
	npm := osvZip(t, "npm")
	gets := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/npm/all.zip" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("If-None-Match") == `"e1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		gets++
		w.Header().Set("ETag", `"e1"`)
		w.Write(npm)
	}))
	defer srv.Close()
	cache := t.TempDir()
	code, out, errOut := run(t, "db", "update", "--ecosystem", "npm", "--base-url", srv.URL, "--cache-dir", cache)
	if code != 0 || out != "npm: updated, 6 records\n" || errOut != "" {
		t.Errorf("first update: %d %q %q", code, out, errOut)
	}
	t.Setenv("DOCKVET_DB_URL", srv.URL)
	code, out, _ = run(t, "db", "update", "--cache-dir", cache)
	if code != 0 || !strings.HasPrefix(out, "npm: unchanged since ") || gets != 1 {
		t.Errorf("second update: %d %q (%d downloads)", code, out, gets)
	}
	code, out, errOut = run(t, "db", "update", "--ecosystem", "npm,Nope", "--cache-dir", cache)
	if code != 2 || !strings.Contains(errOut, "dockvet: Nope: ") || !strings.Contains(errOut, "HTTP 404") || !strings.Contains(out, "npm: unchanged") {
		t.Errorf("partly failing update: %d %q %q", code, out, errOut)
	}
}

// TestDBOffline: without network, `db update` is one line saying so and
// what to do instead, whatever the number of ecosystems; `db status
// IMAGE` says which ecosystems the image needs and which the database
// lacks, with the command that fetches them; --ecosystems names them.
func TestDBOffline(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	base := gone.URL
	gone.Close()
	cache := t.TempDir()
	code, out, errOut := run(t, "db", "update", "--base-url", base, "--cache-dir", cache)
	if code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 ||
		!strings.HasPrefix(errOut, "dockvet: db update: "+base+" is unreachable (") || !strings.Contains(errOut, "dockvet db import") {
		t.Errorf("unreachable: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// An image with Debian, Go, PyPI and npm packages, against a
	// database with npm data only.
	img := vulnImage(t, "12")
	npm := osvZip(t, "npm")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/npm/all.zip" {
			http.NotFound(w, r)
			return
		}
		w.Write(npm)
	}))
	defer srv.Close()
	if code, _, errOut := run(t, "db", "update", "--ecosystems", "npm", "--base-url", srv.URL, "--cache-dir", cache); code != ExitOK {
		t.Fatalf("db update --ecosystems npm: %s", errOut)
	}
	code, out, errOut = run(t, "db", "status", "docker-archive:"+img, "--cache-dir", cache)
	if code != ExitOK {
		t.Fatalf("db status IMAGE: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"docker-archive:" + img + " needs:\n",
		"Debian     6         NO\n", "npm        3         yes\n",
		"missing: dockvet db update --ecosystems Debian,Go,PyPI\n",
		"offline: fetch " + vulndb.DefaultBaseURL + "/{Debian,Go,PyPI}/all.zip elsewhere and 'dockvet db import' each\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("db status IMAGE lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = run(t, "db", "status", "docker-archive:"+img, "--cache-dir", cache, "--format", "json")
	var doc struct {
		Target struct {
			Needs   []ecosystemNeed `json:"needs"`
			Missing []string        `json:"missing"`
		} `json:"target"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != ExitOK || err != nil || !slices.Equal(doc.Target.Missing, []string{"Debian", "Go", "PyPI"}) ||
		len(doc.Target.Needs) != 4 || !doc.Target.Needs[3].InDB {
		t.Errorf("db status IMAGE --format json: %d %v\n%s", code, err, out)
	}
}
