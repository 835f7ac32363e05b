package image

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/fuzztest"
	"github.com/dockvet/dockvet/internal/layercache"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/secrets"
)

// cacheRun is one audit of a docker-archive with a layer cache: the
// findings as JSON, and how many layers were read.
type cacheRun struct {
	findings string
	reads    int
	// packages is the inventory, which the findings do not show
	// without a vulnerability database.
	packages string
}

func auditCached(t *testing.T, archive string, s *spec, cache LayerCache, program string, engine *secrets.Engine) cacheRun {
	t.Helper()
	img, err := Open(context.Background(), "docker-archive:"+archive, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	reads := 0
	var mu sync.Mutex
	open := img.open
	img.open = func(i int) (blobReader, error) { mu.Lock(); reads++; mu.Unlock(); return open(i) }
	pkgs := NewPackages(context.Background())
	o := AuditOptions{Settings: s.settings, Now: testNow, Policy: &policy.Policy{TrustedRegistries: s.trusted},
		Walk: Options{Cache: cache, LayerKey: program}, Analyzers: []Analyzer{pkgs}}
	if !s.noSecrets {
		o.Secrets = NewSecrets(engine)
	}
	fs, _, err := Audit(context.Background(), img, o)
	if err != nil {
		t.Fatal(err)
	}
	finding.Sort(fs)
	b, err := json.MarshalIndent(fs, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := json.Marshal(pkgs.Result())
	if err != nil {
		t.Fatal(err)
	}
	return cacheRun{string(b), reads, string(inv)}
}

func specArchive(t *testing.T, file string) (*spec, string) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := parseSpec(t, string(src))
	return s, writeDockerArchive(t, s.build(t), "dockvet-test/cache:latest")
}

func testEngine(t *testing.T, s *spec) *secrets.Engine {
	e, err := secrets.New(secrets.Options{MaxBytes: s.secretCap})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestCacheSameFindings audits every rule test image twice with one layer
// cache: the second audit reads no layer and reports exactly what the
// first did. Findings that depend on the order of layers (deleted in a
// later layer, wasted bytes, overwritten files, the latest version of a
// secret) are worked out again from the cached facts of each layer.
func TestCacheSameFindings(t *testing.T) {
	files, err := filepath.Glob("testdata/rules/*.img")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test images: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			s, archive := specArchive(t, file)
			c, err := layercache.Open(t.TempDir(), layercache.Options{})
			if err != nil {
				t.Fatal(err)
			}
			uncached := auditCached(t, archive, s, nil, "", testEngine(t, s))
			cold := auditCached(t, archive, s, c, "test", testEngine(t, s))
			warm := auditCached(t, archive, s, c, "test", testEngine(t, s))
			if cold.findings != uncached.findings {
				t.Errorf("a cold cache changes the findings:\nwithout:\n%s\ncold:\n%s", uncached.findings, cold.findings)
			}
			if warm.packages != uncached.packages {
				t.Errorf("the warm run's inventory differs:\nwithout:\n%s\nwarm:\n%s", uncached.packages, warm.packages)
			}
			if warm.findings != cold.findings {
				t.Errorf("the warm run differs:\ncold:\n%s\nwarm:\n%s", cold.findings, warm.findings)
			}
			if warm.reads != 0 || cold.reads != len(s.layers) {
				t.Errorf("layers read: cold %d, warm %d; want %d and 0", cold.reads, warm.reads, len(s.layers))
			}
		})
	}
}

// TestCacheKeys: results are never served to a walk they do not belong
// to: another program (a new dockvet), other secret rules or options, or
// another set of analyzers read the layers again; a damaged entry is
// recomputed.
func TestCacheKeys(t *testing.T) {
	s, archive := specArchive(t, "testdata/rules/secrets.img")
	dir := t.TempDir()
	c, err := layercache.Open(dir, layercache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	layers := len(s.layers)
	base := auditCached(t, archive, s, c, "v1", testEngine(t, s))
	if r := auditCached(t, archive, s, c, "v1", testEngine(t, s)); r.reads != 0 || r.findings != base.findings {
		t.Fatalf("warm run read %d layers", r.reads)
	}
	if r := auditCached(t, archive, s, c, "v2", testEngine(t, s)); r.reads != layers || r.findings != base.findings {
		t.Errorf("another program: %d layers read, want %d", r.reads, layers)
	}
	capped, err := secrets.New(secrets.Options{MaxBytes: 16})
	if err != nil {
		t.Fatal(err)
	}
	if r := auditCached(t, archive, s, c, "v1", capped); r.reads != layers {
		t.Errorf("other secret options: %d layers read, want %d", r.reads, layers)
	}
	noSecrets := *s
	noSecrets.noSecrets = true
	if r := auditCached(t, archive, &noSecrets, c, "v1", nil); r.reads != layers {
		t.Errorf("without the secret scan: %d layers read, want %d", r.reads, layers)
	}

	// Damage every entry: each is detected, dropped and recomputed.
	damaged := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(p)[0] == '.' {
			return err
		}
		b, _ := os.ReadFile(p)
		b[len(b)-1] ^= 0xff
		damaged++
		return os.WriteFile(p, b, 0o600)
	})
	if damaged == 0 {
		t.Fatal("nothing cached")
	}
	if r := auditCached(t, archive, s, c, "v1", testEngine(t, s)); r.reads != layers || r.findings != base.findings {
		t.Errorf("damaged entries: %d layers read (want %d), same findings %t", r.reads, layers, r.findings == base.findings)
	}
	if c.Corrupt() == 0 {
		t.Error("no damaged entry reported")
	}
	if r := auditCached(t, archive, s, c, "v1", testEngine(t, s)); r.reads != 0 {
		t.Errorf("after recomputing: %d layers read, want 0", r.reads)
	}
}

// TestCacheConcurrent: walks sharing one cache directory through their
// own handles (as separate processes do) at the same time all succeed
// with the same findings.
func TestCacheConcurrent(t *testing.T) {
	s, archive := specArchive(t, "testdata/rules/credentials.img")
	dir := t.TempDir()
	want := auditCached(t, archive, s, nil, "", testEngine(t, s)).findings
	results := make([]cacheRun, 6)
	t.Run("walks", func(t *testing.T) {
		for i := range results {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				c, err := layercache.Open(dir, layercache.Options{})
				if err != nil {
					t.Fatal(err)
				}
				results[i] = auditCached(t, archive, s, c, "test", testEngine(t, s))
			})
		}
	})
	for i, r := range results {
		if r.findings != want {
			t.Errorf("walk %d: findings differ", i)
		}
	}
}

// FuzzLayerFacts feeds arbitrary bytes to the decoder of cached layer
// facts (a cache directory is a file anyone with access can change; the
// checksum only catches accidents). It must return an error or entries,
// never panic or allocate without bound.
func FuzzLayerFacts(f *testing.F) {
	s := parseSpec(f, `
layer RUN build
file /etc/passwd 0644
| root:x:0:0:root:/root:/bin/sh
dir /app 0755
link /app/current /app/v1
file /app/v1 0755 size=100
layer RUN clean
whiteout /app/v1
`)
	var captured []byte
	store := storeFunc{put: func(_ string, write func(io.Writer) error) error {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			return err
		}
		dec, err := zstd.NewReader(&b)
		if err != nil {
			return err
		}
		defer dec.Close()
		raw, err := io.ReadAll(dec)
		if captured == nil {
			captured = raw
		}
		return err
	}}
	archive := writeDockerArchive(f, s.build(f), "dockvet-test/fuzz:latest")
	img, err := Open(context.Background(), "docker-archive:"+archive, OpenOptions{})
	if err != nil {
		f.Fatal(err)
	}
	secretsEngine, _ := secrets.New(secrets.Options{})
	if _, _, err := Audit(context.Background(), img, AuditOptions{Walk: Options{Cache: store, LayerKey: "fuzz"}, Secrets: NewSecrets(secretsEngine)}); err != nil {
		f.Fatal(err)
	}
	img.Close()
	if captured == nil {
		f.Fatal("nothing stored")
	}
	f.Add(captured)
	f.Add([]byte(factsMagic))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzztest.Budget(t)()
		w := newWalker(context.Background(), &Image{}, Options{MaxEntries: 1000}, []Analyzer{newFacts(), NewSecrets(secretsEngine)})
		files, saved, _, _, _, _, err := w.decodeFacts(bufio.NewReader(bytes.NewReader(data)), &Layer{})
		if err != nil {
			return
		}
		for _, a := range w.analyzers {
			_ = a.(LayerAnalyzer).LoadLayer(files, saved[a.Name()])
		}
		w.view.apply(files)
		w.merge()
	})
}

// storeFunc is a LayerStore that only stores, through put.
type storeFunc struct {
	put func(key string, write func(io.Writer) error) error
}

func (s storeFunc) Get(string) ([]byte, bool)                         { return nil, false }
func (s storeFunc) Put(key string, write func(io.Writer) error) error { return s.put(key, write) }
