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

// TestEngineProgress: an image streamed from the Engine reports the
// Engine's layer count and size before the first byte, and the file
// content read reaches that size.
func TestEngineProgress(t *testing.T) {
	c := testenv.Docker(t)
	tag := testenv.Unique("dockvet-progress") + ":1"
	testenv.Load(t, c, testenv.Image(t, v1.Config{}, []v1.Layer{
		testenv.Layer(t, testenv.File{Path: "a", Body: make([]byte, 300<<10)}),
		testenv.Layer(t, testenv.File{Path: "b", Body: make([]byte, 500<<10)}, testenv.File{Path: "c", Body: []byte("hello")}),
	}), tag)
	im, err := Open(context.Background(), "docker:"+tag, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	var mu sync.Mutex
	var seen []Progress
	opts := DefaultOptions()
	opts.Progress = func(pr Progress) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, pr)
	}
	if _, err := Walk(context.Background(), im, opts); err != nil {
		t.Fatal(err)
	}
	first, last := seen[0], seen[len(seen)-1]
	if first.Layers != 2 || first.Total < 800<<10 || first.Done != 0 {
		t.Errorf("before reading: %+v", first)
	}
	// The Engine measures its own disk (file bytes and link targets), so
	// the two agree to within what a layer holds besides files.
	if last.Layer != 2 || last.Done != 800<<10+5 || last.Total != first.Total || last.Done < last.Total*9/10 {
		t.Errorf("at the end: %+v (the Engine's size %d)", last, first.Total)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Done < seen[i-1].Done {
			t.Errorf("progress went back: %+v after %+v", seen[i], seen[i-1])
		}
	}
}
