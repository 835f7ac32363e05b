package sign

import (
	"context"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	containertypes "github.com/moby/moby/api/types/container"
	imagetypes "github.com/moby/moby/api/types/image"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/policy"
	st "github.com/dockvet/dockvet/internal/signtest"
)

// TestChecker: the trust policy's signature requirements become DV6501
// findings, for an image subject and for a live container, and only for
// the images a rule names.
func TestChecker(t *testing.T) {
	r := st.NewRegistry(t, true)
	k := st.NewKey(t, "p256")
	_, signed := r.PushImage("acme/app", "1", 1)
	r.AttachCosignTag(signed, "sig", k.SignCosign(t, st.CosignPayload(signed)))
	_, unsigned := r.PushImage("acme/tool", "1", 1)
	_, free := r.PushImage("other/app", "1", 1)
	pol := &policy.Policy{Rules: []policy.Rule{{Images: []string{r.Host + "/acme"}, Signatures: []policy.Signer{{Key: k.File}}}}}
	c := &Checker{Policy: pol, Loader: offline()}
	target := finding.Target{Kind: finding.SurfaceImage, Name: "t"}
	for _, tc := range []struct {
		name    string
		subject Subject
		want    string // "" for no finding
	}{
		{"signed", Subject{Name: signed.Context().Tag("1").String(), Digests: []string{signed.String()}}, ""},
		{"unsigned", Subject{Name: unsigned.Context().Tag("1").String(), Digests: []string{unsigned.String()}}, "is not signed by key " + k.File},
		{"no registry digest", Subject{Name: unsigned.Context().Tag("1").String()}, "has no registry digest"},
		{"no rule for it", Subject{Name: free.Context().Tag("1").String(), Digests: []string{free.String()}}, ""},
		{"an image ID", Subject{Name: "sha256:" + strings.Repeat("ab", 32)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.subject.Target, tc.subject.Who = target, "Image "+tc.subject.Name
			fs, err := c.Check(context.Background(), tc.subject)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && len(fs) != 0:
				t.Errorf("unexpected %+v", fs)
			case tc.want != "" && (len(fs) != 1 || fs[0].RuleID != "DV6501" || !strings.Contains(fs[0].Message, tc.want)):
				t.Errorf("findings %+v, want DV6501 with %q", fs, tc.want)
			}
		})
	}

	// A live container: the digest the Engine recorded when it pulled.
	lc := &live.Container{
		Inspect: containertypes.InspectResponse{ID: strings.Repeat("1", 64), Name: "/web",
			Config: &containertypes.Config{Image: unsigned.Context().Tag("1").String()}},
		Image: &imagetypes.InspectResponse{RepoDigests: []string{unsigned.String(), "docker.io/library/other@sha256:" + strings.Repeat("cd", 32)}},
	}
	fs, err := c.Container(context.Background(), lc, finding.Target{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Location.Container != "web" || fs[0].TargetKind != finding.SurfaceContainer ||
		!strings.HasPrefix(fs[0].Message, "Container web (111111111111) runs image "+unsigned.Context().Tag("1").String()+", which is not signed") {
		t.Errorf("container findings %+v", fs)
	}
	lc.Inspect.Config.Image, lc.Image.RepoDigests = signed.Context().Tag("1").String(), []string{signed.String()}
	if fs, err := c.Container(context.Background(), lc, finding.Target{}); err != nil || len(fs) != 0 {
		t.Errorf("a signed image: %v %+v", err, fs)
	}
	// A disabled rule checks nothing.
	off := &Checker{Policy: pol, Loader: offline(), Enabled: func(r *finding.Rule) bool { return r.ID != "DV6501" }}
	if fs, err := off.Check(context.Background(), Subject{Name: unsigned.String()}); err != nil || len(fs) != 0 {
		t.Errorf("disabled: %v %+v", err, fs)
	}
	// A key that cannot be read is an error, not a finding.
	broken := &Checker{Policy: &policy.Policy{Rules: []policy.Rule{{Images: []string{"*"}, Signatures: []policy.Signer{{Key: "/nonexistent.pub"}}}}}, Loader: offline()}
	if _, err := broken.Check(context.Background(), Subject{Name: unsigned.String(), Digests: []string{unsigned.String()}}); err == nil {
		t.Error("want an error for an unreadable key")
	}
}

func TestRepoDigests(t *testing.T) {
	d := "sha256:" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		ref  string
		rds  []string
		want string
	}{
		{"nginx:1.27", []string{"nginx@" + d, "ghcr.io/x/nginx@" + d}, "docker.io/library/nginx@" + d},
		{"docker.io/library/nginx@" + d, nil, "docker.io/library/nginx@" + d},
		{"ghcr.io/acme/app:1", []string{"nginx@" + d}, ""},
		{"Bad Ref", []string{"nginx@" + d}, ""},
	} {
		if got := strings.Join(RepoDigests(tc.ref, tc.rds), " "); got != tc.want {
			t.Errorf("RepoDigests(%s) = %q, want %q", tc.ref, got, tc.want)
		}
	}
}

// TestImageDigests: an audited platform image of a multi-platform index
// is verified by its own digest and by the index's, which is what is
// usually signed.
func TestImageDigests(t *testing.T) {
	r := st.NewRegistry(t, true)
	amd, arm := platformImage(t, "amd64"), platformImage(t, "arm64")
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	ref := r.Repo("multi").Tag("1")
	if err := remote.WriteIndex(ref, idx, remote.WithContext(context.Background())); err != nil {
		t.Fatal(err)
	}
	ih, _ := idx.Digest()
	k := st.NewKey(t, "p256")
	r.AttachCosignTag(r.Repo("multi").Digest(ih.String()), "sig", k.SignCosign(t, st.CosignPayload(r.Repo("multi").Digest(ih.String()))))

	img, err := image.Open(context.Background(), "registry:"+ref.String(), image.OpenOptions{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	ds, err := ImageDigests(context.Background(), img, Remote{})
	if err != nil {
		t.Fatal(err)
	}
	ah, _ := arm.Digest()
	if len(ds) != 2 || !strings.HasSuffix(ds[0], ah.String()) || !strings.HasSuffix(ds[1], ih.String()) {
		t.Fatalf("digests %q", ds)
	}
	pol := &policy.Policy{Rules: []policy.Rule{{Images: []string{"*"}, Signatures: []policy.Signer{{Key: k.File}}}}}
	c := &Checker{Policy: pol, Loader: offline()}
	fs, err := c.Check(context.Background(), Subject{Name: img.Name, Digests: ds, Who: "Image " + img.Name})
	if err != nil || len(fs) != 0 {
		t.Errorf("signed as an index: %v %+v", err, fs)
	}
}

func platformImage(t *testing.T, arch string) v1.Image {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
