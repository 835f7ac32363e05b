package cli

import (
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"

	"github.com/dockvet/dockvet/internal/finding"
)

// skippedDirs are never descended into: version control data and installed
// dependencies are not the project's own files.
var skippedDirs = map[string]bool{".git": true, ".hg": true, ".svn": true, "node_modules": true, ".terraform": true, ".venv": true, "__pycache__": true}

// walkFiles calls fn for every regular file under root, in lexical order,
// without following symbolic links (so a link loop cannot trap it), leaving
// out excluded paths (config `exclude` and --exclude, relative to root).
// An entry below root that cannot be read (a directory without permission)
// is an input error in r: the run is incomplete, and says so.
func walkFiles(s *Shared, root string, extra []string, r *finding.Report, fn func(path string) error) error {
	patterns := append(append([]string{}, s.cfg.Exclude...), extra...)
	var pm *patternmatcher.PatternMatcher
	if len(patterns) > 0 {
		var err error
		if pm, err = patternmatcher.New(patterns); err != nil {
			return fail("exclude patterns: %v", err)
		}
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return fail("%s: %v", root, unwrap(err))
			}
			if !(d != nil && d.IsDir() && (skippedDirs[d.Name()] || pm != nil && excluded(pm, relTo(root, path)))) {
				r.Errors = append(r.Errors, finding.InputError{Target: path, Message: "not read: " + unwrap(err).Error()})
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if path != root && (skippedDirs[d.Name()] || pm != nil && excluded(pm, rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || pm != nil && excluded(pm, rel) {
			return nil
		}
		return fn(path)
	})
}

func excluded(pm *patternmatcher.PatternMatcher, rel string) bool {
	ok, err := pm.MatchesOrParentMatches(strings.TrimPrefix(rel, "./"))
	return err == nil && ok
}

func relTo(root, path string) string {
	rel, _ := filepath.Rel(root, path)
	return filepath.ToSlash(rel)
}
