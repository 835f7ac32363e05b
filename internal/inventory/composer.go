package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
)

// ComposerInstalled reads the packages Composer installed into a PHP
// project: vendor/composer/installed.json.
type ComposerInstalled struct{}

// Name implements Extractor.
func (ComposerInstalled) Name() string { return "composer" }

// Required implements Extractor.
func (ComposerInstalled) Required(p string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size <= maxMetadataSize &&
		(p == "vendor/composer/installed.json" || strings.HasSuffix(p, "/vendor/composer/installed.json"))
}

type composerPackage struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	License json.RawMessage `json:"license"`
}

// Extract implements Extractor.
func (ComposerInstalled) Extract(ctx context.Context, in Input) ([]Package, error) {
	b, err := readAll(in.Reader, maxMetadataSize)
	if err != nil {
		return nil, err
	}
	return parseComposerInstalled(b)
}

// parseComposerInstalled reads installed.json: a list of packages
// (Composer 1) or an object whose "packages" is that list (Composer 2).
// Versions are written as tagged ("v5.4.1"); the leading "v" is dropped,
// as Packagist advisories write versions without it.
func parseComposerInstalled(b []byte) ([]Package, error) {
	var list []composerPackage
	if err := json.Unmarshal(b, &list); err != nil {
		var v2 struct {
			Packages []composerPackage `json:"packages"`
		}
		if err2 := json.Unmarshal(b, &v2); err2 != nil {
			return nil, fmt.Errorf("installed.json: %v", err2)
		}
		list = v2.Packages
	}
	var out []Package
	for _, c := range list {
		version := strings.TrimPrefix(c.Version, "v")
		if c.Name == "" || version == "" || strings.HasPrefix(c.Version, "dev-") {
			// dev-BRANCH installs are commits, not releases.
			continue
		}
		p := Package{Type: TypeComposer, Name: c.Name, Version: version}
		var ls []string
		if json.Unmarshal(c.License, &ls) != nil {
			var s string
			if json.Unmarshal(c.License, &s) == nil && s != "" {
				ls = []string{s}
			}
		}
		p.Licenses = ls
		out = append(out, p)
	}
	return out, nil
}
