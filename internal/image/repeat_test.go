package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/secrets"
)

// repeatedLayerArchive is a docker save archive whose manifest lists one
// layer n times.
func repeatedLayerArchive(t *testing.T, n int) string {
	t.Helper()
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	body := []byte(fakePrivateKey(t, "repeat") + strings.Repeat("filler line\n", 1000))
	tw.WriteHeader(&tar.Header{Name: "etc/app.conf", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	tw.Write(body)
	tw.Close()
	diff := sha256Of(layer.Bytes()).String()
	var layers, diffs []string
	for range n {
		layers = append(layers, "layer.tar")
		diffs = append(diffs, diff)
	}
	cfg, _ := json.Marshal(map[string]any{"os": "linux", "architecture": "amd64", "rootfs": map[string]any{"type": "layers", "diff_ids": diffs}})
	man, _ := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{"x/repeat:1"}, "Layers": layers}})
	p := filepath.Join(t.TempDir(), "repeat.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	aw := tar.NewWriter(f)
	for _, e := range []struct {
		name string
		b    []byte
	}{{"layer.tar", layer.Bytes()}, {"config.json", cfg}, {"manifest.json", man}} {
		aw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.b)), Typeflag: tar.TypeReg})
		aw.Write(e.b)
	}
	aw.Close()
	f.Close()
	return p
}

// One 1 GiB layer listed 80 times was inflated 64 times before the image
// cap stopped the walk: a layer is read once however often it is listed,
// its facts (files, secrets, packages) replayed at the other positions,
// and the repeat said.
func TestRepeatedLayerReadOnce(t *testing.T) {
	for _, n := range []int{1, 40} {
		img, err := Open(context.Background(), "docker-archive:"+repeatedLayerArchive(t, n), OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		opens := 0
		open := img.open
		img.open = func(i int) (blobReader, error) { opens++; return open(i) }
		fs, v, err := Audit(context.Background(), img, AuditOptions{Now: testNow, Secrets: NewSecrets(secrets.Default())})
		img.Close()
		if err != nil {
			t.Fatal(err)
		}
		if opens != 1 {
			t.Errorf("%d listings: the layer was read %d times, want once", n, opens)
		}
		repeats := 0
		for _, l := range v.Layers {
			if l.RepeatOf != nil {
				repeats++
			}
		}
		if repeats != n-1 {
			t.Errorf("%d listings: %d layers marked as repeats, want %d", n, repeats, n-1)
		}
		if f := v.Final("/etc/app.conf"); f == nil || f.Layer.Index != n-1 {
			t.Errorf("%d listings: /etc/app.conf is not the last layer's", n)
		}
		secret := 0
		for _, f := range fs {
			if f.RuleID == "DV7013" {
				secret++
			}
		}
		if secret == 0 {
			t.Errorf("%d listings: the key in the layer was not reported", n)
		}
	}
}
