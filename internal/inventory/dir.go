package inventory

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// virtualDirs are kernel filesystems a root filesystem mounts; scanning
// "/" must not descend into them.
var virtualDirs = map[string]bool{"proc": true, "sys": true, "dev": true}

// ScanDir takes the inventory of the directory tree at root, as if it
// were the root of a filesystem: package paths are relative to it.
// Symbolic links are not followed, so a link cannot lead outside root or
// into a loop. Entries that cannot be read are listed in Result.Errors;
// only a root that cannot be read, or a cancelled ctx, is an error.
func ScanDir(ctx context.Context, root string, extractors ...Extractor) (*Result, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("not a directory")
	}
	s := NewScanner(extractors...)
	var walkErrs []FileError
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if err != nil {
			if p == root {
				return err
			}
			walkErrs = append(walkErrs, FileError{Path: rel, Extractor: "walk", Err: unwrapPathError(err).Error()})
			return nil
		}
		if d.IsDir() {
			if p != root && filepath.Dir(rel) == "." && virtualDirs[rel] && isMountPoint(root, p) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed while walking
		}
		if !s.Wants(rel, info.Mode(), info.Size()) {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			walkErrs = append(walkErrs, FileError{Path: rel, Extractor: "walk", Err: unwrapPathError(err).Error()})
			return nil
		}
		defer f.Close()
		return s.File(ctx, NotALayer, Input{Path: rel, Reader: f, ReaderAt: f, Size: info.Size(), Mode: info.Mode()})
	})
	if err != nil {
		return nil, err
	}
	r := s.Result()
	r.Errors = append(r.Errors, walkErrs...)
	return r, nil
}

// isMountPoint reports whether dir is on another device than root: a
// mounted /proc or /sys, not a project directory that happens to be
// called "dev".
func isMountPoint(root, dir string) bool {
	a, err1 := os.Stat(root)
	b, err2 := os.Stat(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	return !os.SameFile(a, b) && deviceOf(a) != deviceOf(b)
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
