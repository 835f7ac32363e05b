package fleet

// This file is the fleet's one coupling to how an image is audited: the
// Scanner interface and the implementation that calls the image packages
// the way `dockvet image` does (internal/cli/image.go). When the image
// audit is factored into a function callable without cobra, ImageScanner
// calls it instead; nothing else in the fleet changes.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/inventory"
	"github.com/dockvet/dockvet/internal/secrets"
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
	img, err := image.Open(ctx, "registry:"+r.Name, image.OpenOptions{Insecure: req.Insecure, Keychain: req.Keychain, Platform: req.Platform})
	if err != nil {
		return nil, err
	}
	defer img.Close()
	settings := s.Settings
	if settings == (image.Settings{}) {
		settings = image.DefaultSettings()
	}
	walk := s.Walk
	walk.Layers, walk.LayerKey = req.Layers, req.LayerKey
	ao := image.AuditOptions{Walk: walk, Settings: settings, Policy: cfg.Policy(), Enabled: cfg.Enabled, Now: now(), Target: req.Ref}
	if !s.NoSecrets && cfg.Enabled(&finding.Rule{Practice: finding.PracticeSecrets}) {
		ao.Secrets = image.NewSecrets(secrets.Default())
	}
	pkgs := image.NewPackages(ctx)
	ao.Analyzers = append(ao.Analyzers, pkgs)
	findings, view, err := image.Audit(ctx, img, ao)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", req.Ref, err)
	}
	inv := pkgs.Result()
	// Stored as the inventory gives them (paths relative to the root):
	// matching makes the findings' paths absolute, as `dockvet image` does.
	packages := make([]inventory.Package, len(inv.Packages))
	copy(packages, inv.Packages)
	out := &ScanResult{
		Digest:       img.Digest.String(),
		ConfigDigest: img.ConfigDigest.String(),
		Repository:   r.Repository,
		Findings:     findings,
		Packages:     packages,
	}
	if img.Digest.Hex == "" {
		out.Digest = out.ConfigDigest
	}
	if c := img.Config; c != nil {
		out.Platform = c.OS + "/" + c.Architecture
		if c.Variant != "" {
			out.Platform += "/" + c.Variant
		}
		out.Created = c.Created.Time
		out.Facts = Facts{User: c.Config.User, Entrypoint: c.Config.Entrypoint, Cmd: c.Config.Cmd, Packages: len(packages)}
		for p := range c.Config.ExposedPorts {
			out.Facts.ExposedPorts = append(out.Facts.ExposedPorts, p)
		}
	}
	for _, l := range view.Layers {
		out.Layers = append(out.Layers, LayerInfo{DiffID: l.DiffID.String(), Size: l.Size, Reused: l.Reused})
		out.Size += l.Size
	}
	if inv.OS != nil {
		out.Distro = strings.TrimSpace(inv.OS.ID + " " + inv.OS.VersionID)
	}
	return out, nil
}
