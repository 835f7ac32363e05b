package image

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/dockvet/dockvet/internal/testenv"
)

// TestProgress: the walk tells its progress layer by layer, in stored
// bytes of the total the archive gives, and reaches that total.
func TestProgress(t *testing.T) {
	img := testenv.Image(t, v1.Config{}, []v1.Layer{
		testenv.Layer(t, testenv.File{Path: "a", Body: make([]byte, 100<<10)}),
		testenv.Layer(t, testenv.File{Path: "b", Body: make([]byte, 200<<10)}),
	})
	p := filepath.Join(t.TempDir(), "p.tar")
	if err := tarball.WriteToFile(p, name.MustParseReference("dockvet-test/progress:1"), img); err != nil {
		t.Fatal(err)
	}
	im, err := Open(context.Background(), "docker-archive:"+p, OpenOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	var stored int64
	ls, _ := img.Layers()
	for _, l := range ls {
		n, _ := l.Size()
		stored += n
	}
	var mu sync.Mutex
	var layers []int
	var last Progress
	opts := DefaultOptions()
	opts.Progress = func(pr Progress) {
		mu.Lock()
		defer mu.Unlock()
		if pr.Layers != 2 || pr.Total != stored || pr.Done < last.Done || pr.Done > pr.Total {
			t.Errorf("progress %+v after %+v (stored total %d)", pr, last, stored)
		}
		if pr.Layer > 0 && (len(layers) == 0 || layers[len(layers)-1] != pr.Layer) {
			layers = append(layers, pr.Layer)
		}
		last = pr
	}
	if _, err := Walk(context.Background(), im, opts); err != nil {
		t.Fatal(err)
	}
	if len(layers) != 2 || layers[0] != 1 || layers[1] != 2 || last.Done != stored {
		t.Errorf("layers %v, last %+v, want %d bytes", layers, last, stored)
	}
}
