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

// TestProgress: the walk tells its progress layer by layer, with the
// bytes read growing to the image's uncompressed size.
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
	var mu sync.Mutex
	var layers []int
	var last int64
	opts := DefaultOptions()
	opts.Progress = func(layer, total int, bytes int64) {
		mu.Lock()
		defer mu.Unlock()
		if total != 2 || bytes < last {
			t.Errorf("progress(%d, %d, %d) after %d bytes", layer, total, bytes, last)
		}
		if len(layers) == 0 || layers[len(layers)-1] != layer {
			layers = append(layers, layer)
		}
		last = bytes
	}
	if _, err := Walk(context.Background(), im, opts); err != nil {
		t.Fatal(err)
	}
	if len(layers) != 2 || layers[0] != 1 || layers[1] != 2 || last < 300<<10 {
		t.Errorf("layers %v, bytes %d", layers, last)
	}
}
