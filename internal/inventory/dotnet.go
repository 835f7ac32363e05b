package inventory

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
)

// DotnetDeps reads the dependency manifest the .NET SDK writes next to
// every application it publishes: APP.deps.json.
type DotnetDeps struct{}

// Name implements Extractor.
func (DotnetDeps) Name() string { return "dotnet" }

// Required implements Extractor.
func (DotnetDeps) Required(p string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size <= maxMetadataSize && strings.HasSuffix(p, ".deps.json")
}

// Extract implements Extractor.
func (DotnetDeps) Extract(ctx context.Context, in Input) ([]Package, error) {
	b, err := readAll(in.Reader, maxMetadataSize)
	if err != nil {
		return nil, err
	}
	return parseDepsJSON(b)
}

// parseDepsJSON lists the "libraries" of type "package" (NuGet packages);
// "project" libraries are the application's own assemblies and "reference"
// ones come with the framework. Keys are "Name/Version".
func parseDepsJSON(b []byte) ([]Package, error) {
	var d struct {
		Libraries map[string]struct {
			Type string `json:"type"`
		} `json:"libraries"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("deps.json: %v", err)
	}
	var out []Package
	for key, lib := range d.Libraries {
		if !strings.EqualFold(lib.Type, "package") {
			continue
		}
		name, version, ok := strings.Cut(key, "/")
		if !ok || name == "" || version == "" {
			continue
		}
		out = append(out, Package{Type: TypeNuGet, Name: name, Version: version})
	}
	sortPackages(out)
	return out, nil
}
