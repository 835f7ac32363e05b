package image

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// countStore is a store in memory that counts the files opened.
type countStore struct {
	files map[string][]byte
	opens int
}

func (m *countStore) open(name string) (io.ReadCloser, int64, error) {
	m.opens++
	b, ok := m.files[name]
	if !ok {
		return nil, 0, io.ErrUnexpectedEOF
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
}

func (m *countStore) has(name string) bool { _, ok := m.files[name]; return ok }

// put stores a JSON document as a blob and returns its descriptor.
func (m *countStore) put(t *testing.T, mt types.MediaType, doc any) v1.Descriptor {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256Of(b)
	m.files["blobs/sha256/"+h.Hex] = b
	return v1.Descriptor{MediaType: mt, Digest: h, Size: int64(len(b))}
}

// fanOutLayout is a layout whose indexes each list the next one fan times,
// depth levels deep, above one image manifest (and its config).
func fanOutLayout(t *testing.T, fan, depth int) *countStore {
	st := &countStore{files: map[string][]byte{}}
	cfg := st.put(t, types.DockerConfigJSON, v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers"}})
	next := st.put(t, types.OCIManifestSchema1, v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: cfg})
	for range depth {
		idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
		for range fan {
			idx.Manifests = append(idx.Manifests, next)
		}
		next = st.put(t, types.OCIImageIndex, idx)
	}
	top := v1.IndexManifest{SchemaVersion: 2, Manifests: []v1.Descriptor{next}}
	b, _ := json.Marshal(top)
	st.files["index.json"] = b
	return st
}

// Indexes that each list the next one 30 times (40 KB) made 30^4 visits,
// 1.7 GB and 92 s of CPU: each index is read once however often it is
// listed.
func TestIndexFanOutVisitedOnce(t *testing.T) {
	st := fanOutLayout(t, 30, maxIndexDepth)
	res, err := resolveOCI(st, v1.Platform{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.config == nil {
		t.Fatal("no config resolved")
	}
	// index.json, four indexes, the manifest and its config.
	if st.opens > 1+maxIndexDepth+2 {
		t.Errorf("%d files opened for a chain of %d indexes, want each read once", st.opens, maxIndexDepth)
	}
}

// Budgets on breadth: more distinct indexes or image manifests than a
// layout holds are refused with the budget named.
func TestIndexBudgets(t *testing.T) {
	st := &countStore{files: map[string][]byte{}}
	cfg := st.put(t, types.DockerConfigJSON, v1.ConfigFile{OS: "linux", Architecture: "amd64"})
	top := v1.IndexManifest{SchemaVersion: 2}
	for i := range maxIndexManifests + 1 {
		m := st.put(t, types.OCIManifestSchema1, v1.Manifest{SchemaVersion: 2, Config: cfg, Annotations: map[string]string{"n": strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune(i))}})
		top.Manifests = append(top.Manifests, m)
	}
	b, _ := json.Marshal(top)
	st.files["index.json"] = b
	_, err := resolveOCI(st, v1.Platform{OS: "linux"}, true)
	if err == nil || !strings.Contains(err.Error(), "maxIndexManifests") {
		t.Errorf("err = %v, want a refusal naming maxIndexManifests", err)
	}
	if st.opens > 2 {
		t.Errorf("%d files opened before the refusal, want only the indexes", st.opens)
	}

	st = &countStore{files: map[string][]byte{}}
	top = v1.IndexManifest{SchemaVersion: 2}
	for i := range maxIndexes + 1 {
		child := st.put(t, types.OCIImageIndex, v1.IndexManifest{SchemaVersion: 2, Annotations: map[string]string{"n": string(rune('a' + i))}})
		top.Manifests = append(top.Manifests, child)
	}
	b, _ = json.Marshal(top)
	st.files["index.json"] = b
	_, err = resolveOCI(st, v1.Platform{}, false)
	if err == nil || !strings.Contains(err.Error(), "maxIndexes") {
		t.Errorf("err = %v, want a refusal naming maxIndexes", err)
	}
}
