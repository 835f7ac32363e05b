package testenv

import (
	"context"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestLoadAndInspect proves the whole chain the Engine tests rely on: a
// static program, an image assembled in Go, `docker load`, and the Engine
// seeing the configuration we wrote.
func TestLoadAndInspect(t *testing.T) {
	c := Docker(t)
	img := TinyImage(t, v1.Config{User: "10001", Env: []string{"MODE=test"}})
	Load(t, c, img, "dockvet-test/tiny:testenv")
	res, err := c.ImageInspect(context.Background(), "dockvet-test/tiny:testenv")
	if err != nil {
		t.Fatal(err)
	}
	if res.Config == nil || res.Config.User != "10001" {
		t.Fatalf("loaded image config = %+v", res.Config)
	}
}
