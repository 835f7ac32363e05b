package watch

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/testenv"
)

// TestImages pulls from a registry on loopback (outside the trusted list),
// by tag and by digest, renames the image into a trusted registry's name,
// and loads one from an archive, on the real Engine.
func TestImages(t *testing.T) {
	l := newLab(t)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	repo := u.Host + "/" + l.Prefix + "/app"
	img := testenv.TinyImage(t, v1.Config{Env: []string{"PULLED=1"}})
	tag, err := name.NewTag(repo+":1.0", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	trusted := l.Prefix + ".registry.example.com/app:1.0"
	pol := &policy.Policy{TrustedRegistries: []string{"*.registry.example.com"}}
	_, col := started(t, Options{Policy: pol})

	pull := func(ref string) {
		t.Helper()
		res, err := l.C.ImagePull(ctx(t), ref, client.ImagePullOptions{})
		if err != nil {
			t.Fatalf("pulling %s: %v", ref, err)
		}
		if err := res.Wait(ctx(t)); err != nil {
			t.Fatalf("pulling %s: %v", ref, err)
		}
		t.Cleanup(func() { l.C.ImageRemove(ctx(t), ref, client.ImageRemoveOptions{Force: true}) })
	}
	pull(repo + ":1.0")
	pull(repo + "@" + digest.String())
	if _, err := l.C.ImageTag(ctx(t), client.ImageTagOptions{Source: repo + ":1.0", Target: trusted}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.C.ImageRemove(ctx(t), trusted, client.ImageRemoveOptions{}) })
	// A local image (never pulled) tagged with a trusted name is a normal
	// build-and-push step, not a disguise.
	built := l.Prefix + ".registry.example.com/built:1"
	if _, err := l.C.ImageTag(ctx(t), client.ImageTagOptions{Source: l.Hardened, Target: built}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.C.ImageRemove(ctx(t), built, client.ImageRemoveOptions{}) })
	loaded := l.Prefix + "/loaded:1"
	testenv.Load(t, l.C, testenv.TinyImage(t, v1.Config{Env: []string{"LOADED=1"}}), loaded)

	recs := col.waitFor(t, "the image findings", func(rs []Record) bool {
		return has(rs, "DV5010", repo+":1.0", "pull") && has(rs, "DV5012", repo+":1.0", "pull") &&
			has(rs, "DV5010", repo+"@"+digest.String(), "pull") && has(rs, "DV5013", trusted, "tag") &&
			containsMessage(rs, "DV5014", loaded)
	})
	for _, r := range recs {
		switch {
		case r.Target == repo+"@"+digest.String() && r.RuleID != "DV5010":
			t.Errorf("a pull by digest reported %s: %s", r.RuleID, r.Message)
		case r.Target == built:
			t.Errorf("a local image tagged with a trusted name reported: %s %s", r.RuleID, r.Message)
		case r.RuleID == "DV5013" && !strings.Contains(r.Message, u.Host):
			t.Errorf("DV5013 does not name where the image came from: %s", r.Message)
		}
	}
}

func containsMessage(recs []Record, id, s string) bool {
	for _, r := range recs {
		if r.RuleID == id && strings.Contains(r.Message, s) {
			return true
		}
	}
	return false
}

// TestPlugin creates a plugin that asks for CAP_SYS_ADMIN and the host's
// network, as `docker plugin create` does, and one that asks for nothing.
func TestPlugin(t *testing.T) {
	l := newLab(t)
	_, col := started(t, Options{})
	create := func(name string, cfg map[string]any) string {
		t.Helper()
		cfg["description"], cfg["documentation"], cfg["entrypoint"] = "dockvet test plugin", "https://example.com", []string{"/app"}
		cfg["interface"] = map[string]any{"socket": "dv.sock", "types": []string{"docker.volumedriver/1.0"}}
		data, _ := json.Marshal(cfg)
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, f := range []struct {
			name string
			body []byte
			mode int64
		}{{"config.json", data, 0o644}, {"rootfs/app", testenv.StaticBinary(t), 0o755}, {"rootfs/name", []byte(name), 0o644}} {
			tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
			tw.Write(f.body)
		}
		tw.Close()
		ref := l.Prefix + "/" + name + ":1"
		if _, err := l.C.PluginCreate(ctx(t), &buf, client.PluginCreateOptions{RepoName: ref}); err != nil {
			t.Fatalf("creating plugin %s: %v", ref, err)
		}
		t.Cleanup(func() { l.C.PluginRemove(ctx(t), ref, client.PluginRemoveOptions{Force: true}) })
		return ref
	}
	priv := create("priv", map[string]any{"network": map[string]any{"type": "host"}, "linux": map[string]any{"capabilities": []string{"CAP_SYS_ADMIN"}}})
	plain := create("plain", map[string]any{"network": map[string]any{"type": "none"}})
	recs := col.waitFor(t, "the plugin findings", func(rs []Record) bool {
		return has(rs, "DV5020", priv, "create") && has(rs, "DV5021", plain, "create")
	})
	for _, r := range recs {
		if r.RuleID == "DV5020" && (!strings.Contains(r.Message, "SYS_ADMIN") || !strings.Contains(r.Message, "host network")) {
			t.Errorf("DV5020 does not list the privileges: %s", r.Message)
		}
		if r.Target == plain && r.RuleID != "DV5021" || r.Target == priv && r.RuleID != "DV5020" {
			t.Errorf("%s reported %s", r.Target, r.RuleID)
		}
	}
}
