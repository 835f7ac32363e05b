package image

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/secrets"
)

// memLayers is a LayerStore in memory that keeps records as bytes (as a
// database does) and counts its hits.
type memLayers struct {
	mu   sync.Mutex
	recs map[string][]byte
	hits int
}

func (m *memLayers) Get(_ context.Context, diffID, key string) (*LayerRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.recs[diffID+" "+key]
	if !ok {
		return nil, nil
	}
	m.hits++
	var r LayerRecord
	return &r, json.Unmarshal(b, &r)
}

func (m *memLayers) Put(_ context.Context, diffID, key string, r *LayerRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[diffID+" "+key] = b
	return nil
}

// TestLayerRecordsReplay: every rules test image audited with its layers
// replayed from records gives the findings of a full read, byte for byte;
// and the records hold no secret.
func TestLayerRecordsReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/rules/*.img")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test images: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s := parseSpec(t, string(src))
			path := writeDockerArchive(t, s.build(t), "dockvet-test/rules:latest")
			store := &memLayers{recs: map[string][]byte{}}
			audit := func(layers LayerStore) ([]byte, *View, *Secrets) {
				img, err := Open(context.Background(), "docker-archive:"+path, OpenOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer img.Close()
				o := AuditOptions{Settings: s.settings, Now: testNow, Policy: &policy.Policy{TrustedRegistries: s.trusted}, Target: "t"}
				o.Walk.Layers, o.Walk.LayerKey = layers, "test"
				if !s.noSecrets {
					engine, err := secrets.New(secrets.Options{MaxBytes: s.secretCap})
					if err != nil {
						t.Fatal(err)
					}
					o.Secrets = NewSecrets(engine)
				}
				pkgs := NewPackages(context.Background())
				o.Analyzers = []Analyzer{pkgs}
				fs, v, err := Audit(context.Background(), img, o)
				if err != nil {
					t.Fatal(err)
				}
				inv, _ := json.Marshal(pkgs.Result())
				out, _ := json.Marshal(fs)
				return append(append(out, '\n'), inv...), v, o.Secrets
			}
			want, _, sWant := audit(nil)
			cold, v, _ := audit(store)
			for _, l := range v.Layers {
				if l.Reused {
					t.Fatalf("layer %d reused on the first walk", l.Index)
				}
			}
			warm, v, sWarm := audit(store)
			for _, l := range v.Layers {
				if !l.Reused {
					t.Errorf("layer %d read again on the second walk", l.Index)
				}
			}
			if !bytes.Equal(cold, want) || !bytes.Equal(warm, want) {
				t.Fatalf("findings and inventory differ:\nread:\n%s\nreplayed:\n%s", want, warm)
			}
			if sWant != nil && sWarm.Stats() != sWant.Stats() {
				t.Errorf("secret scan counts: %+v replayed, %+v read", sWarm.Stats(), sWant.Stats())
			}
			// No record holds a secret: the secrets the scan found are
			// in the read findings only as masks, and nowhere in the
			// records in full.
			if sWant != nil {
				// (The password hashes of /etc/shadow are the scan's too.)
				for _, ms := range sWant.found {
					for _, m := range ms {
						for _, rec := range store.recs {
							if len(m.Secret) >= 8 && strings.Contains(string(rec), m.Secret) {
								t.Errorf("a layer record holds a %s secret whole", m.Rule.ID)
							}
						}
					}
				}
			}
		})
	}
}
