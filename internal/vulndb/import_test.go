package vulndb

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockvet/dockvet/internal/inventory"
)

func mustImport(t *testing.T, cache, path string) *ImportResult {
	t.Helper()
	res, err := Import(t.Context(), cache, path, testNow)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	return res
}

func matchIDs(t *testing.T, cache string, p inventory.Package) []string {
	t.Helper()
	db, err := Open(cache)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fs, err := Match(db, []inventory.Package{p}, Options{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.Vulnerability.ID+"@"+f.Vulnerability.Fixed)
	}
	slices.Sort(ids)
	return ids
}

var libssl3 = deb("Debian:12", "libssl3", "3.0.11-1~deb12u1", "openssl", "")

func TestImportSources(t *testing.T) {
	want := []string{"CVE-2024-0727@3.0.13-1~deb12u1", "DSA-5532-1@3.0.11-1~deb12u2"}
	t.Run("all.zip", func(t *testing.T) {
		cache := t.TempDir()
		z := filepath.Join(t.TempDir(), "all.zip")
		zipExport(t, "Debian", z)
		res := mustImport(t, cache, z)
		if res.Records != 5 || len(res.Ecosystems) != 1 || res.Ecosystems[0].Ecosystem != "Debian" || res.Ecosystems[0].Records != 5 {
			t.Errorf("result %+v", res)
		}
		if got := matchIDs(t, cache, libssl3); !slices.Equal(got, want) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("directory", func(t *testing.T) {
		cache := t.TempDir()
		res := mustImport(t, cache, "testdata/osv")
		var ecos []string
		for _, m := range res.Ecosystems {
			ecos = append(ecos, m.Ecosystem)
		}
		if !slices.Equal(ecos, []string{"Alpine", "Debian", "Maven", "NuGet", "Packagist", "PyPI", "Rocky Linux", "RubyGems", "Ubuntu", "crates.io", "npm"}) {
			t.Errorf("ecosystems %v", ecos)
		}
		if res.Withdrawn != 1 {
			t.Errorf("withdrawn %d", res.Withdrawn)
		}
		if got := matchIDs(t, cache, libssl3); !slices.Equal(got, want) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("one record, and a list", func(t *testing.T) {
		cache := t.TempDir()
		mustImport(t, cache, "testdata/osv/Debian/DSA-5532-1.json")
		if got := matchIDs(t, cache, libssl3); !slices.Equal(got, want[1:]) {
			t.Errorf("got %v", got)
		}
		a, _ := os.ReadFile("testdata/osv/Debian/DEBIAN-CVE-2024-0727.json")
		b, _ := os.ReadFile("testdata/osv/Alpine/ALPINE-CVE-2024-5535.json")
		list := filepath.Join(t.TempDir(), "all.json")
		os.WriteFile(list, []byte("[\n"+string(a)+",\n"+string(b)+"]\n"), 0o644)
		res := mustImport(t, cache, list)
		if res.Records != 2 || len(res.Ecosystems) != 2 {
			t.Errorf("result %+v", res)
		}
		if got := matchIDs(t, cache, libssl3); !slices.Equal(got, want) {
			t.Errorf("after merging: %v", got)
		}
	})
	t.Run("a zip of OSV files in folders", func(t *testing.T) {
		cache := t.TempDir()
		z := filepath.Join(t.TempDir(), "advisories.zip")
		f, _ := os.Create(z)
		writeNestedZip(t, f, map[string]string{
			"advisories/debian/DSA-5532-1.json": "testdata/osv/Debian/DSA-5532-1.json",
			"advisories/README.md":              "testdata/osv/Debian/DSA-5532-1.json",
		})
		mustImport(t, cache, z)
		if got := matchIDs(t, cache, libssl3); !slices.Equal(got, want[1:]) {
			t.Errorf("got %v", got)
		}
	})
}

func TestImportRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	for _, tc := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "nope.zip"), "no such file"},
		{"not JSON", write("x.json", "hello"), "no usable OSV record"},
		{"record without id", write("noid.json", `{"summary":"x"}`), "no usable OSV record"},
		{"truncated zip", write("bad.zip", "PK\x03\x04garbage"), "zip"},
		{"empty directory", filepath.Join(dir, "empty"), "no OSV records found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
			cache := t.TempDir()
			_, err := Import(t.Context(), cache, tc.path, testNow)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if _, err := Open(cache); !errors.Is(err, ErrNoDatabase) {
				t.Errorf("a failed import left a database: %v", err)
			}
		})
	}
	// Bad files among good ones are skipped and counted.
	mixed := t.TempDir()
	b, _ := os.ReadFile("testdata/osv/Debian/DSA-5532-1.json")
	os.WriteFile(filepath.Join(mixed, "DSA-5532-1.json"), b, 0o644)
	os.WriteFile(filepath.Join(mixed, "broken.json"), []byte(`{"id": "X", "affected": [`), 0o644)
	res, err := Import(t.Context(), t.TempDir(), mixed, testNow)
	if err != nil || res.Records != 1 || res.SkippedCount != 1 || res.Skipped[0].Name != "broken.json" {
		t.Errorf("%+v %v", res, err)
	}
}

// TestImportMerges: a newer copy of a record replaces the older one, a
// withdrawn copy removes it, and other records stay.
func TestImportMerges(t *testing.T) {
	cache := t.TempDir()
	mustImport(t, cache, "testdata/osv/Debian")
	orig, _ := os.ReadFile("testdata/osv/Debian/DEBIAN-CVE-2024-0727.json")
	dir := t.TempDir()
	newer := strings.Replace(string(orig), `"fixed": "3.0.13-1~deb12u1"`, `"fixed": "3.0.14-1~deb12u1"`, 1)
	newer = strings.Replace(newer, `"modified": "2024-09-18T03:21:04.718458Z"`, `"modified": "2025-01-01T00:00:00Z"`, 1)
	os.WriteFile(filepath.Join(dir, "DEBIAN-CVE-2024-0727.json"), []byte(newer), 0o644)
	mustImport(t, cache, dir)
	if got := matchIDs(t, cache, libssl3); !slices.Equal(got, []string{"CVE-2024-0727@3.0.14-1~deb12u1", "DSA-5532-1@3.0.11-1~deb12u2"}) {
		t.Errorf("after the update: %v", got)
	}
	withdrawn := strings.Replace(newer, `"id": "DEBIAN-CVE-2024-0727",`, `"id": "DEBIAN-CVE-2024-0727", "withdrawn": "2025-02-01T00:00:00Z",`, 1)
	os.WriteFile(filepath.Join(dir, "DEBIAN-CVE-2024-0727.json"), []byte(withdrawn), 0o644)
	res := mustImport(t, cache, dir)
	if got := matchIDs(t, cache, libssl3); !slices.Equal(got, []string{"DSA-5532-1@3.0.11-1~deb12u2"}) {
		t.Errorf("after withdrawal: %v", got)
	}
	if res.Ecosystems[0].Records != 4 {
		t.Errorf("records after withdrawal: %d", res.Ecosystems[0].Records)
	}
	// Debian 11's openssl lost its record too; another package's stays.
	if got := matchIDs(t, cache, deb("Debian:11", "openssl", "1.1.1w-0+deb11u1", "", "")); !slices.Equal(got, []string{"CVE-2022-0001@9.9.9-1"}) {
		t.Errorf("Debian 11: %v", got)
	}
}

func TestOpenWithoutDatabase(t *testing.T) {
	_, err := Open(t.TempDir())
	if !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "dockvet db update") {
		t.Errorf("the no-database message must be one line naming the fix: %q", err)
	}
	st, err := ReadStatus(t.TempDir())
	if err != nil || len(st.Ecosystems) != 0 {
		t.Errorf("status %+v %v", st, err)
	}
}

// exportServer serves testdata ecosystems as OSV does: /ECO/all.zip with
// an ETag, answering 304 to a matching If-None-Match.
type exportServer struct {
	*httptest.Server
	mu       sync.Mutex
	zips     map[string][]byte
	etags    map[string]string
	fullGets map[string]int
	// truncate, when set, cuts the next body of that ecosystem short.
	truncate map[string]bool
}

func newExportServer(t *testing.T, ecos ...string) *exportServer {
	s := &exportServer{zips: map[string][]byte{}, etags: map[string]string{}, fullGets: map[string]int{}, truncate: map[string]bool{}}
	for _, eco := range ecos {
		s.publish(t, eco, "v1")
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		eco, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/all.zip")
		body, found := s.zips[eco]
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("If-None-Match") == s.etags[eco] {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		s.fullGets[eco]++
		w.Header().Set("ETag", s.etags[eco])
		w.Header().Set("Last-Modified", testNow.Format(http.TimeFormat))
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if s.truncate[eco] {
			s.truncate[eco] = false
			w.Write(body[:len(body)/2])
			return
		}
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *exportServer) publish(t *testing.T, eco, etag string) {
	z := filepath.Join(t.TempDir(), "all.zip")
	zipExport(t, eco, z)
	b, err := os.ReadFile(z)
	if err != nil {
		t.Fatal(err)
	}
	s.zips[eco], s.etags[eco] = b, `"`+etag+`"`
}

func TestUpdate(t *testing.T) {
	srv := newExportServer(t, "Debian", "npm")
	cache := t.TempDir()
	var progressed []string
	opt := UpdateOptions{BaseURL: srv.URL, Ecosystems: []string{"npm", "Debian"}, Now: func() time.Time { return testNow },
		Progress: func(eco string, done, total int64) {
			if done == total {
				progressed = append(progressed, eco)
			}
		}}
	res, err := Update(t.Context(), cache, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Ecosystem != "Debian" || res[0].Err != nil || res[0].Unchanged || res[0].Meta.Records != 5 || res[1].Meta.Records != 6 {
		t.Fatalf("results %+v", res)
	}
	if !slices.Equal(progressed, []string{"Debian", "npm"}) {
		t.Errorf("progress reported for %v", progressed)
	}
	// The withdrawn npm record is counted nowhere.
	if got := matchIDs(t, cache, lang("npm", "npm", "lodash", "4.17.20")); !slices.Equal(got, []string{"CVE-2021-23337@4.17.21"}) {
		t.Errorf("lodash: %v", got)
	}

	// Unchanged exports are not downloaded again.
	later := testNow.Add(6 * time.Hour)
	opt.Now = func() time.Time { return later }
	opt.Ecosystems = nil // refresh what the database holds
	opt.Progress = nil
	res, err = Update(t.Context(), cache, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || !res[0].Unchanged || !res[1].Unchanged || srv.fullGets["Debian"] != 1 || srv.fullGets["npm"] != 1 {
		t.Fatalf("second update %+v, downloads %v", res, srv.fullGets)
	}
	st, _ := ReadStatus(cache)
	if len(st.Ecosystems) != 2 || !st.Ecosystems[0].Checked.Equal(later) || !st.Ecosystems[0].Updated.Equal(testNow) {
		t.Errorf("status %+v", st.Ecosystems)
	}

	// An interrupted download leaves the previous data in use.
	srv.mu.Lock()
	srv.publish(t, "Debian", "v2")
	srv.zips["Debian"] = srv.zips["npm"] // the new export would hold no Debian record
	srv.truncate["Debian"] = true
	srv.mu.Unlock()
	res, err = Update(t.Context(), cache, UpdateOptions{BaseURL: srv.URL, Ecosystems: []string{"Debian"}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "unexpected EOF") {
		t.Fatalf("truncated download: %+v", res[0])
	}
	if got := matchIDs(t, cache, libssl3); len(got) != 2 {
		t.Errorf("old Debian data lost after a failed update: %v", got)
	}
	if ents, _ := os.ReadDir(storeDir(cache)); len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("files left in the store: %v", names)
	}

	// An unknown ecosystem fails alone.
	res, err = Update(t.Context(), cache, UpdateOptions{BaseURL: srv.URL, Ecosystems: []string{"Nope", "npm"}})
	if err != nil || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "404") || res[1].Err != nil {
		t.Errorf("%+v %v", res, err)
	}
}

// TestUpdateKeepsOtherEcosystems: an ecosystem's export also holds the
// entries its records have for other ecosystems; an update must not let
// those replace the other ecosystems' data.
func TestUpdateKeepsOtherEcosystems(t *testing.T) {
	srv := newExportServer(t, "Maven")
	cache := t.TempDir()
	mustImport(t, cache, "testdata/osv/npm")
	cross := `{"id":"GHSA-cross-eco1","modified":"2024-01-01T00:00:00Z","affected":[` +
		`{"package":{"ecosystem":"Maven","name":"org.example:lib"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]}]},` +
		`{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`
	z := filepath.Join(t.TempDir(), "all.zip")
	p := filepath.Join(t.TempDir(), "GHSA-cross-eco1.json")
	os.WriteFile(p, []byte(cross), 0o644)
	writeZip(t, z, []string{p})
	b, _ := os.ReadFile(z)
	srv.zips["Maven"] = b
	res, err := Update(t.Context(), cache, UpdateOptions{BaseURL: srv.URL, Ecosystems: []string{"Maven"}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("%+v %v", res, err)
	}
	if got := matchIDs(t, cache, lang("npm", "npm", "lodash", "4.17.20")); !slices.Equal(got, []string{"CVE-2021-23337@4.17.21"}) {
		t.Errorf("npm data changed by a Maven update: %v", got)
	}
	if got := matchIDs(t, cache, lang("maven", "Maven", "org.example:lib", "1.0")); !slices.Equal(got, []string{"GHSA-cross-eco1@2.0"}) {
		t.Errorf("Maven: %v", got)
	}
}

// TestUpdateUnreachable: a server that cannot be reached is one error for
// the whole update, not one per ecosystem, and nothing is tried after it.
func TestUpdateUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	res, err := Update(t.Context(), t.TempDir(), UpdateOptions{BaseURL: url, Ecosystems: []string{"npm", "Debian", "Go"}})
	var ue *UnreachableError
	if !errors.As(err, &ue) || len(res) != 0 || !strings.Contains(err.Error(), "connection refused") ||
		!strings.HasPrefix(err.Error(), url+" is unreachable") || strings.Contains(err.Error(), "\n") {
		t.Errorf("%+v %v", res, err)
	}
	// A name that does not resolve is unreachable too.
	_, err = Update(t.Context(), t.TempDir(), UpdateOptions{BaseURL: "http://dockvet-test.invalid", Ecosystems: []string{"npm", "Go"}})
	if !errors.As(err, &ue) {
		t.Errorf("an unresolvable name: %v", err)
	}
	// A server that answers, even with an error, is not.
	answering := httptest.NewServer(http.NotFoundHandler())
	defer answering.Close()
	res, err = Update(t.Context(), t.TempDir(), UpdateOptions{BaseURL: answering.URL, Ecosystems: []string{"npm", "Go"}})
	if err != nil || len(res) != 2 || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "HTTP 404") {
		t.Errorf("404: %+v %v", res, err)
	}
}
