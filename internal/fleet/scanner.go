package fleet

// This file is the fleet's one coupling to how an image is audited: the
// Scanner interface and the implementation that runs the image audit of
// `dockvet image` (internal/imageaudit), leaving the matching of the
// inventory to the fleet.

import (
	"cmp"
	"context"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/imageaudit"
	"github.com/dockvet/dockvet/internal/inventory"
)

// Scanner reads one image and returns everything the fleet stores of it.
type Scanner interface {
	Scan(ctx context.Context, req ScanRequest) (*ScanResult, error)
}

// ScanRequest is one image to read.
type ScanRequest struct {
	// Ref is the reference as it was asked for; findings name it as
	// their target, as `dockvet image REF` does.
	Ref string
	// Keychain gives the registry's credentials (nil: the Docker
	// configuration of the user running the worker).
	Keychain authn.Keychain
	// Insecure allows plain HTTP and unverified TLS beyond loopback.
	Insecure bool
	// Platform picks from a multi-platform index (nil: the host's).
	Platform *v1.Platform
	// Layers keeps what each layer yielded: a layer it holds is not
	// read again (nil: every layer is read).
	Layers image.LayerStore
	// LayerKey names the analyzers' version (the dockvet version).
	LayerKey string
}

// ScanResult is what one read of an image yields.
type ScanResult struct {
	// Digest is the manifest digest of the image read (for a
	// multi-platform index, the platform's manifest).
	Digest       string
	ConfigDigest string
	Repository   string
	Platform     string
	// Distro is the distribution the image is built on ("debian 12"),
	// when it says.
	Distro  string
	Created time.Time
	// Size is the uncompressed size of the layers' file content.
	Size   int64
	Layers []LayerInfo
	// Findings are every finding but vulnerabilities, unfiltered: the
	// configuration is applied when a report is made.
	Findings []finding.Finding
	// Packages are the inventory of the final filesystem: what matching,
	// and later re-matching, reads.
	Packages []inventory.Package
	// Facts are configuration facts shown on the image's page.
	Facts Facts
	// Identity is what the report records of the image read.
	Identity finding.ImageInfo
}

// LayerInfo is one layer of a scanned image.
type LayerInfo struct {
	DiffID string `json:"diffId"`
	Size   int64  `json:"size"`
	// Reused is set when the layer's results came from the store instead
	// of reading it.
	Reused bool `json:"reused,omitempty"`
}

// Facts are what an image's configuration says, for people.
type Facts struct {
	User         string   `json:"user,omitempty"`
	Entrypoint   []string `json:"entrypoint,omitempty"`
	Cmd          []string `json:"cmd,omitempty"`
	ExposedPorts []string `json:"exposedPorts,omitempty"`
	Packages     int      `json:"packages"`
	// Identity is the image's identity as the report records it (stored
	// here, with the facts, so that a stored image's report names it as
	// `dockvet image` does).
	Identity *finding.ImageInfo `json:"identity,omitempty"`
}

// ImageScanner audits images with the image packages, as `dockvet image`
// does: the rules, the secret scan and the package inventory in one walk.
type ImageScanner struct {
	// Config is the project configuration (rules enabled, policy).
	Config *config.Config
	// Settings are the thresholds of the image rules.
	Settings image.Settings
	// Walk bounds what reading one image may cost.
	Walk image.Options
	// NoSecrets turns the secret scan off (--no-secrets).
	NoSecrets bool
	// Now is the clock of the age rules (time.Now when nil).
	Now func() time.Time
}

// Scan implements Scanner. Only registry references are read: a service
// must not open files or an Engine on the word of a request.
func (s *ImageScanner) Scan(ctx context.Context, req ScanRequest) (*ScanResult, error) {
	cfg := s.Config
	if cfg == nil {
		cfg = config.Default()
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	r, err := ParseRef(req.Ref)
	if err != nil {
		return nil, err
	}
	settings := s.Settings
	if settings == (image.Settings{}) {
		settings = image.DefaultSettings()
	}
	walk := s.Walk
	walk.Layers, walk.LayerKey = req.Layers, req.LayerKey
	res, err := imageaudit.Audit(ctx, imageaudit.Options{
		Ref: "registry:" + r.Name, Target: req.Ref,
		Open: image.OpenOptions{Insecure: req.Insecure, Keychain: req.Keychain, Platform: req.Platform},
		Walk: walk, Settings: settings, Config: cfg, Now: now(), NoSecrets: s.NoSecrets,
		InventoryOnly: true,
	})
	if err != nil {
		return nil, err
	}
	inv := res.Inventory
	// Stored as the inventory gives them (paths relative to the root):
	// matching makes the findings' paths absolute, as `dockvet image` does.
	packages := make([]inventory.Package, len(inv.Packages))
	copy(packages, inv.Packages)
	id := res.Identity
	out := &ScanResult{
		Digest:       cmp.Or(id.ManifestDigest, id.ID),
		ConfigDigest: id.ID,
		Repository:   r.Repository,
		Platform:     id.Platform,
		Findings:     res.Report.Findings,
		Packages:     packages,
		Identity:     id,
		Size:         id.Size,
	}
	if c := res.Config; c != nil {
		out.Created = c.Created.Time
		out.Facts = Facts{User: c.Config.User, Entrypoint: c.Config.Entrypoint, Cmd: c.Config.Cmd, Packages: len(packages)}
		for p := range c.Config.ExposedPorts {
			out.Facts.ExposedPorts = append(out.Facts.ExposedPorts, p)
		}
	}
	out.Facts.Identity = &id
	for _, l := range res.View.Layers {
		out.Layers = append(out.Layers, LayerInfo{DiffID: l.DiffID.String(), Size: l.Size, Reused: l.Reused})
	}
	if inv.OS != nil {
		out.Distro = strings.TrimSpace(inv.OS.ID + " " + inv.OS.VersionID)
	}
	return out, nil
}
