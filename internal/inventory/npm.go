package inventory

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// NpmPackage reads the package.json of every package installed under a
// node_modules directory.
type NpmPackage struct{}

// Name implements Extractor.
func (NpmPackage) Name() string { return "npm" }

// Required implements Extractor: node_modules/NAME/package.json and
// node_modules/@SCOPE/NAME/package.json, not the package.json files deeper
// inside a package (test fixtures, sub-entry points).
func (NpmPackage) Required(p string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() || size > maxMetadataSize || path.Base(p) != "package.json" {
		return false
	}
	return npmInstalledName(p) != ""
}

// npmInstalledName returns the package directory name a package.json
// under node_modules belongs to, or "" for any other package.json.
func npmInstalledName(p string) string {
	dir := path.Dir(p)
	parent, name := path.Split(dir)
	if strings.HasSuffix(parent, "node_modules/") && !strings.HasPrefix(name, "@") && !strings.HasPrefix(name, ".") {
		return name
	}
	scopeParent, scope := path.Split(strings.TrimSuffix(parent, "/"))
	if strings.HasPrefix(scope, "@") && strings.HasSuffix(scopeParent, "node_modules/") {
		return scope + "/" + name
	}
	return ""
}

// packageJSON is the part of package.json an inventory needs. license is
// a string (SPDX expression), or, in old packages, an object or a list of
// objects with a "type".
type packageJSON struct {
	Name     string          `json:"name"`
	Version  string          `json:"version"`
	License  json.RawMessage `json:"license"`
	Licenses json.RawMessage `json:"licenses"`
}

// Extract implements Extractor.
func (NpmPackage) Extract(ctx context.Context, in Input) ([]Package, error) {
	b, err := readAll(in.Reader, maxMetadataSize)
	if err != nil {
		return nil, err
	}
	p, err := parsePackageJSON(b)
	if err != nil || p == nil {
		return nil, err
	}
	return []Package{*p}, nil
}

// parsePackageJSON reads one installed package's manifest. A manifest
// without name or version (some packages ship partial ones) lists nothing.
func parsePackageJSON(b []byte) (*Package, error) {
	var pj packageJSON
	if err := json.Unmarshal(b, &pj); err != nil {
		return nil, fmt.Errorf("package.json: %v", err)
	}
	if pj.Name == "" || pj.Version == "" {
		return nil, nil
	}
	return &Package{Type: TypeNpm, Name: pj.Name, Version: pj.Version, Licenses: npmLicenses(pj.License, pj.Licenses)}, nil
}

func npmLicenses(license, licenses json.RawMessage) []string {
	var out []string
	add := func(raw json.RawMessage) {
		if len(raw) == 0 {
			return
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
			return
		}
		var obj struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(raw, &obj) == nil && obj.Type != "" {
			out = append(out, obj.Type)
			return
		}
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) == nil {
			for _, l := range list {
				var o struct {
					Type string `json:"type"`
				}
				if json.Unmarshal(l, &o) == nil && o.Type != "" {
					out = append(out, o.Type)
				} else if json.Unmarshal(l, &s) == nil && s != "" {
					out = append(out, s)
				}
			}
		}
	}
	add(license)
	add(licenses)
	return out
}

// NpmLockfile reads the packages an npm project pins: package-lock.json
// and npm-shrinkwrap.json (lockfile versions 1 to 3), yarn.lock (classic
// and Berry) and pnpm-lock.yaml. Development dependencies are left out: a
// lockfile lists them, but they are not installed in production.
type NpmLockfile struct{}

// Name implements Extractor.
func (NpmLockfile) Name() string { return "npm-lockfile" }

// npmLockfiles are the lockfile names the extractor reads.
var npmLockfiles = map[string]bool{"package-lock.json": true, "npm-shrinkwrap.json": true, "yarn.lock": true, "pnpm-lock.yaml": true}

// Required implements Extractor. node_modules/.package-lock.json (npm's
// hidden lockfile) is not read: node_modules' own package.json files are.
func (NpmLockfile) Required(p string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size <= maxMetadataSize && npmLockfiles[path.Base(p)] && !strings.Contains(p, "node_modules/")
}

// Extract implements Extractor.
func (NpmLockfile) Extract(ctx context.Context, in Input) ([]Package, error) {
	b, err := readAll(in.Reader, maxMetadataSize)
	if err != nil {
		return nil, err
	}
	switch path.Base(in.Path) {
	case "yarn.lock":
		return parseYarnLock(b)
	case "pnpm-lock.yaml":
		return parsePnpmLock(b)
	}
	return parsePackageLock(b)
}

type packageLock struct {
	LockfileVersion int                           `json:"lockfileVersion"`
	Packages        map[string]packageLockPackage `json:"packages"`
	Dependencies    map[string]packageLockDep     `json:"dependencies"`
}

// packageLockPackage is an entry of "packages" (lockfile 2 and 3); its
// "dependencies" are version ranges, not entries.
type packageLockPackage struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	Dev     bool            `json:"dev"`
	Link    bool            `json:"link"`
	License json.RawMessage `json:"license"`
}

// packageLockDep is an entry of "dependencies" (lockfile 1), nesting the
// dependencies installed below it.
type packageLockDep struct {
	Version      string                    `json:"version"`
	Dev          bool                      `json:"dev"`
	Dependencies map[string]packageLockDep `json:"dependencies"`
}

// parsePackageLock reads package-lock.json. Version 2 and 3 list every
// installed directory under "packages" ("node_modules/a/node_modules/b");
// version 1 nests "dependencies".
func parsePackageLock(b []byte) ([]Package, error) {
	var lock packageLock
	if err := json.Unmarshal(b, &lock); err != nil {
		return nil, fmt.Errorf("package-lock.json: %v", err)
	}
	var out []Package
	if len(lock.Packages) > 0 {
		for key, e := range lock.Packages {
			i := strings.LastIndex(key, "node_modules/")
			if i < 0 || e.Link || e.Dev {
				// "" is the project itself; links point at workspace
				// directories listed under their own key.
				continue
			}
			name := e.Name
			if name == "" {
				name = key[i+len("node_modules/"):]
			}
			// "node_modules/" (a key a lockfile never writes) names nothing.
			if name != "" && isRegistryVersion(e.Version) {
				out = append(out, Package{Type: TypeNpm, Name: name, Version: e.Version, Licenses: npmLicenses(e.License, nil)})
			}
		}
	} else {
		var walk func(map[string]packageLockDep)
		walk = func(deps map[string]packageLockDep) {
			for name, e := range deps {
				if e.Dev {
					continue
				}
				if name != "" && isRegistryVersion(e.Version) {
					out = append(out, Package{Type: TypeNpm, Name: name, Version: e.Version})
				}
				walk(e.Dependencies)
			}
		}
		walk(lock.Dependencies)
	}
	sortPackages(out)
	return out, nil
}

// isRegistryVersion leaves out dependencies installed from a URL, a git
// repository or a local path: their "version" is not a registry version.
func isRegistryVersion(v string) bool {
	return v != "" && !strings.ContainsAny(v, ":/") && !strings.HasPrefix(v, "file")
}

// parseYarnLock reads yarn.lock: blocks headed by the quoted specs that
// resolve to one version, then indented fields. Classic lockfiles write
// `version "1.2.3"`, Berry writes `version: 1.2.3`.
func parseYarnLock(b []byte) ([]Package, error) {
	var out []Package
	name := ""
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if line[0] != ' ' {
			name = yarnSpecName(strings.TrimSuffix(line, ":"))
			continue
		}
		if name == "" {
			continue
		}
		t := strings.TrimSpace(line)
		v, ok := strings.CutPrefix(t, "version")
		if !ok || v == "" || (v[0] != ' ' && v[0] != ':') {
			continue
		}
		v = strings.Trim(strings.TrimSpace(strings.TrimPrefix(v, ":")), `"'`)
		if strings.Contains(v, "use.local") || !isRegistryVersion(v) {
			// Workspace packages: the project's own code.
			name = ""
			continue
		}
		if key := name + "@" + v; !seen[key] {
			seen[key] = true
			out = append(out, Package{Type: TypeNpm, Name: name, Version: v})
		}
		name = ""
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("yarn.lock: %v", err)
	}
	sortPackages(out)
	return out, nil
}

// yarnSpecName takes the name out of a block header such as
// `"@babel/core@^7.0.0", "@babel/core@npm:^7.1.0"`.
func yarnSpecName(header string) string {
	first, _, _ := strings.Cut(header, ",")
	first = strings.Trim(strings.TrimSpace(first), `"`)
	if first == "__metadata" {
		return ""
	}
	at := strings.LastIndex(first, "@")
	if at <= 0 {
		return ""
	}
	name := first[:at]
	// Berry's "name@npm:range" puts the protocol after the last "@";
	// an alias "alias@npm:real@range" is resolved by its own resolution.
	if i := strings.Index(name, "@npm:"); i > 0 {
		name = name[:i]
	}
	if strings.Contains(first[at:], "workspace:") || strings.Contains(first[at:], "patch:") || strings.Contains(first[at:], "link:") || strings.Contains(first[at:], "file:") {
		return ""
	}
	return name
}

type pnpmLock struct {
	LockfileVersion any                    `yaml:"lockfileVersion"`
	Packages        map[string]pnpmPackage `yaml:"packages"`
}

type pnpmPackage struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
	Dev     bool   `yaml:"dev"`
}

// parsePnpmLock reads pnpm-lock.yaml. Package keys are "/name/1.2.3"
// (lockfile 5), "/name@1.2.3(peer@2)" (6) or "name@1.2.3" (9).
func parsePnpmLock(b []byte) ([]Package, error) {
	var lock pnpmLock
	if err := yaml.Unmarshal(b, &lock); err != nil {
		return nil, fmt.Errorf("pnpm-lock.yaml: %v", oneLineErr(err))
	}
	v5 := false
	switch v := lock.LockfileVersion.(type) {
	case int:
		v5 = v < 6
	case float64:
		v5 = v < 6
	case string:
		v5 = strings.HasPrefix(v, "5")
	}
	var out []Package
	for key, p := range lock.Packages {
		if p.Dev {
			continue
		}
		name, version := p.Name, p.Version
		k := strings.TrimPrefix(key, "/")
		if i := strings.IndexByte(k, '('); i > 0 {
			k = k[:i]
		}
		if name == "" || version == "" {
			var n, v string
			if v5 {
				i := strings.LastIndexByte(k, '/')
				if i <= 0 {
					continue
				}
				n, v = k[:i], k[i+1:]
				if j := strings.IndexByte(v, '_'); j > 0 {
					v = v[:j]
				}
			} else {
				i := strings.LastIndexByte(k, '@')
				if i <= 0 {
					continue
				}
				n, v = k[:i], k[i+1:]
			}
			if name == "" {
				name = n
			}
			if version == "" {
				version = v
			}
		}
		if name != "" && isRegistryVersion(version) {
			out = append(out, Package{Type: TypeNpm, Name: name, Version: version})
		}
	}
	sortPackages(out)
	return out, nil
}

func oneLineErr(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// sortPackages orders packages read from a map, so that output is stable.
func sortPackages(ps []Package) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Name != ps[j].Name {
			return ps[i].Name < ps[j].Name
		}
		return ps[i].Version < ps[j].Version
	})
}
